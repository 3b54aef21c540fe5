#include <spdlog/spdlog.h>

#include <thread>

#include "k3sjoin/log/log.h"
#include "k3sjoin/phase/phases.h"
#include "k3sjoin/phase/ready_watcher.h"
#include "k3sjoin/phase/remote_commands.h"
#include "k3sjoin/util/interrupt.h"
#include "k3sjoin/util/secret.h"
#include "k3sjoin/util/worker_pool.h"

namespace k3sjoin::phase {
namespace {

Result<AgentState> inspect_agent(RunContext& context, HostRun& host) {
  auto command = context.command(as_root(host.spec->user, inspect_agent_script()),
                                 context.options().command_timeout);
  auto result = run_checked(host, "inspect the existing k3s install", command);
  if (!result) {
    return result.error();
  }
  return parse_agent_state(result->out);
}

// Decides from the inspection whether the agent needs no install (returns true after
// recording the outcome), must not be touched (marks it failed) or needs an install.
bool settled_without_install(RunContext& context, HostRun& host, const AgentState& state) {
  const std::string& name = host.spec->name;
  if (state.is_server) {
    context.fail(host, Error{ErrorKind::config,
                             name + " runs a k3s server (/var/lib/rancher/k3s/server exists)",
                             "list only agent hosts under \"agents\" in the inventory"});
    return true;
  }
  if (!state.server_url.empty() && state.server_url != context.server_url) {
    context.fail(host, Error{ErrorKind::config,
                             name + " is an agent of another server, " + state.server_url +
                                 ", not " + context.server_url + "; k3sjoin does not move it",
                             "to move it, run /usr/local/bin/k3s-agent-uninstall.sh on " + name +
                                 " first, then run k3sjoin again"});
    return true;
  }
  const kube::Node* node = kube::find_node(context.nodes_at_start, name);
  if (state.version.empty() && node != nullptr) {
    context.fail(host,
                 Error{ErrorKind::config,
                       "a node named " + name + " already exists in the cluster (" +
                           node->internal_ip + "), but k3s is not installed on " +
                           host.spec->address +
                           "; the server would reject this host's new node password",
                       "if the old node is gone, delete it on the server with: k3s kubectl "
                       "delete node " +
                           name + " (this also removes its node-password secret)"});
    return true;
  }
  bool joined_here = state.service_active && state.server_url == context.server_url &&
                     node != nullptr && node->is_ready();
  if (joined_here && state.version != context.target_version) {
    context.fail(host, Error{ErrorKind::config,
                             name + " is joined at k3s " + state.version + ", but the target is " +
                                 context.target_version + "; k3sjoin does not change versions",
                             "upgrade agents with the k3s upgrade procedure, or set "
                             "\"k3s\": {\"version\": \"" +
                                 state.version + "\"} in the inventory"});
    return true;
  }
  if (joined_here && node->kubelet_version == context.target_version) {
    host.report.node_version = node->kubelet_version;
    context.finish(host, report::Outcome::already_joined,
                   "already joined; node Ready at " + node->kubelet_version + ", no change");
    return true;
  }
  return false;
}

Status install_agent(RunContext& context, HostRun& host) {
  InstallRequest request;
  request.server_url = context.server_url;
  request.version = context.target_version;
  request.install_url = context.inventory().install_url;
  request.node_name = host.spec->name;
  request.node_ip = host.spec->node_ip;
  request.extra_args = host.spec->extra_args;
  auto timeout = std::min<std::chrono::seconds>(
      context.options().install_timeout,
      std::chrono::duration_cast<std::chrono::seconds>(context.remaining()));
  request.timeout = std::max(timeout, std::chrono::seconds(1));

  // The token reaches the host only as the first line of the command's stdin.
  std::string line{context.token.text().view()};
  line += '\n';
  Secret input(line);
  wipe(line);

  ssh::Command command = context.command(as_root(host.spec->user, install_agent_script(request)),
                                         request.timeout + std::chrono::seconds(15));
  command.input = input.view();
  host.report.changed = true;
  host.report.detail = "install started";
  spdlog::info("{}installing k3s {} agent", log::host_prefix(host.label), request.version);
  auto result = run_checked(host, "install the k3s agent", command);
  if (!result) {
    Error error = result.error();
    if (error.kind == ErrorKind::remote_command && error.message.find("exit status 124") !=
                                                       std::string::npos) {
      error.kind = ErrorKind::timeout;
      error.message = "install the k3s agent: timed out after " +
                      std::to_string(request.timeout.count()) + "s";
    }
    if (error.hint.empty()) {
      error.hint = "check that " + host.spec->name + " can download " + request.install_url +
                   " and read the installer output in the log (-v)";
    }
    return error;
  }
  spdlog::debug("{}installer output:\n{}", log::host_prefix(host.label), result->out);
  return ok_status();
}

void join_agent(RunContext& context, HostRun& host, ReadyWatcher& watcher) {
  if (host.failed()) {
    return;
  }
  auto state = inspect_agent(context, host);
  if (!state) {
    context.fail(host, state.error());
    return;
  }
  if (settled_without_install(context, host, *state)) {
    return;
  }
  if (interrupted()) {
    host.report.detail = "not started: interrupted";
    return;
  }
  if (auto status = install_agent(context, host); !status) {
    context.fail(host, status.error());
    return;
  }
  host.report.detail = "installed; waiting for Ready";
  watcher.add(host);
}

}  // namespace

void join_agents(RunContext& context) {
  std::vector<HostRun*> agents = context.agents();
  ReadyWatcher watcher(context);
  std::jthread poller([&] { watcher.run(); });
  run_parallel(
      agents.size(), context.options().parallel,
      [&](std::size_t index) { join_agent(context, *agents[index], watcher); },
      [] { return interrupted(); });
  watcher.close();
}

}  // namespace k3sjoin::phase
