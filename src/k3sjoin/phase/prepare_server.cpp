#include <spdlog/spdlog.h>

#include "k3sjoin/log/log.h"
#include "k3sjoin/phase/bootstrap_token.h"
#include "k3sjoin/phase/phases.h"
#include "k3sjoin/phase/remote_commands.h"

namespace k3sjoin::phase {
namespace {

Status read_server_version(RunContext& context) {
  HostRun& server = context.server();
  auto command = context.command(as_root(server.spec->user, k3s_version_script()),
                                 context.options().command_timeout);
  auto result = run_checked(server, "read the k3s version", command);
  if (!result) {
    Error error = result.error();
    if (error.kind == ErrorKind::remote_command) {
      error.hint = "check that k3s is installed and running on " + server.spec->name +
                   " (k3s --version, systemctl status k3s)";
    }
    return error;
  }
  auto version = parse_k3s_version(result->out);
  if (!version) {
    return Error{ErrorKind::remote_command,
                 "k3s --version printed no version: \"" + result->out.substr(0, 200) + "\"",
                 "check the k3s binary on " + server.spec->name};
  }
  context.server_version = *version;
  context.target_version = context.inventory().k3s_version.value_or(*version);
  server.report.node_version = *version;
  spdlog::info("{}k3s {} is running; agents get {}", log::host_prefix(server.label), *version,
               context.target_version);
  return ok_status();
}

Status read_token(RunContext& context) {
  HostRun& server = context.server();
  auto command = context.command(as_root(server.spec->user, read_token_script()),
                                 context.options().command_timeout);
  auto result = run_checked(server, "read the node token", command);
  if (!result) {
    Error error = result.error();
    if (error.kind == ErrorKind::remote_command) {
      error.hint = "check that " + std::string(kServerTokenPath) + " exists on " +
                   server.spec->name + " (the server writes it when it starts)";
    }
    return error;
  }
  auto token = config::parse_token(result->out);
  wipe(result->out);
  if (!token) {
    Error error = token.error();
    error.message = std::string(kServerTokenPath) + " on " + server.spec->name + ": " +
                    error.message;
    return error;
  }
  context.token = std::move(token).value();
  log::register_secret(context.token.text().view());
  // Tools print the password alone, for example in an env file line, so it is redacted too.
  log::register_secret(context.token.secret_part());
  // k3s writes user "node" only into a separate agent token, which cannot join servers.
  // User "server" means that agent-token is the default link to the server token.
  spdlog::info("{}read the join token: {} (CA hash {}...)", log::host_prefix(server.label),
               context.token.username() == "node" ? "the agent token" : "the server token",
               context.token.ca_hash().substr(0, 12));
  return ok_status();
}

Status read_nodes(RunContext& context) {
  HostRun& server = context.server();
  auto command = context.command(as_root(server.spec->user, get_nodes_script()),
                                 context.options().command_timeout);
  auto result = run_checked(server, "list the cluster nodes", command);
  if (!result) {
    return result.error();
  }
  auto nodes = kube::parse_node_list(result->out);
  if (!nodes) {
    return nodes.error();
  }
  context.nodes_at_start = std::move(nodes).value();
  spdlog::debug("{}cluster has {} nodes", log::host_prefix(server.label),
                context.nodes_at_start.size());
  return ok_status();
}

}  // namespace

bool prepare_server(RunContext& context) {
  HostRun& server = context.server();
  if (server.failed()) {
    return false;
  }
  context.server_url = server_url(server.spec->address);
  // With a bootstrap token the long-lived token never leaves the server.
  auto join_token = context.options().bootstrap_token_ttl ? create_bootstrap_token : read_token;
  for (auto step : {read_server_version, join_token, read_nodes}) {
    if (auto status = step(context); !status) {
      context.fail(server, status.error());
      return false;
    }
  }
  context.finish(server, report::Outcome::ready,
                 "k3s " + context.server_version + " serving at " + context.server_url);
  return true;
}

}  // namespace k3sjoin::phase
