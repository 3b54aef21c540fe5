#include "k3sjoin/phase/bootstrap_token.h"

#include <spdlog/spdlog.h>

#include <utility>

#include "k3sjoin/log/log.h"
#include "k3sjoin/phase/remote_commands.h"
#include "k3sjoin/util/secret.h"
#include "k3sjoin/util/shell.h"

namespace k3sjoin::phase {

std::string create_bootstrap_token_script(std::chrono::seconds ttl) {
  // Go's time.ParseDuration, which k3s uses for --ttl, takes plain seconds such as "900s".
  return "k3s token create --ttl " + std::to_string(ttl.count()) + "s --description " +
         shell_quote(kBootstrapTokenDescription);
}

std::string delete_bootstrap_token_script(std::string_view id) {
  return "k3s token delete " + shell_quote(id);
}

Status create_bootstrap_token(RunContext& context) {
  HostRun& server = context.server();
  const std::chrono::seconds ttl =
      context.options().bootstrap_token_ttl.value_or(std::chrono::seconds(0));
  auto command = context.command(as_root(server.spec->user, create_bootstrap_token_script(ttl)),
                                 context.options().command_timeout);

  auto result = run_checked(server, "create a bootstrap token", command);
  if (!result) {
    Error error = result.error();
    if (error.kind == ErrorKind::remote_command) {
      error.hint = "check that k3s on " + server.spec->name +
                   " has the `k3s token` command (k3s releases since early 2023 have it) and "
                   "`k3s token list` there for a token described as \"" +
                   std::string(kBootstrapTokenDescription) +
                   "\", or run without --bootstrap-token-ttl";
    }
    return error;
  }

  auto token = config::parse_token(result->out);
  wipe(result->out);
  if (!token || !token->bootstrap()) {
    // The output is not quoted here: whatever k3s printed may hold a credential.
    return Error{ErrorKind::remote_command,
                 "k3s token create on " + server.spec->name +
                     " printed no bootstrap token of the form K10<hash>::<id>.<secret>",
                 "delete the token it may have created: find it with `k3s token list` on " +
                     server.spec->name + " (description \"" +
                     std::string(kBootstrapTokenDescription) + "\") and run `k3s token delete ID`"};
  }

  context.token = std::move(token).value();
  context.bootstrap_token_id = std::string(context.token.bootstrap_id());
  log::register_secret(context.token.text().view());
  // k3s and kubectl print a bootstrap token as <id>.<secret> without the K10 prefix, so the
  // secret alone is redacted too.
  log::register_secret(context.token.secret_part());
  spdlog::info(
      "{}created bootstrap token {} (CA hash {}...), valid for {}s or until the run "
      "ends and deletes it",
      log::host_prefix(server.label), context.bootstrap_token_id,
      context.token.ca_hash().substr(0, 12), ttl.count());
  return ok_status();
}

void delete_bootstrap_token(RunContext& context) {
  if (context.bootstrap_token_id.empty()) {
    return;
  }
  const std::string id = std::exchange(context.bootstrap_token_id, std::string());
  HostRun& server = context.server();
  const std::string manual = "delete it on " + server.spec->name + " with: sudo k3s token delete " +
                             id + " (it stops working by itself when its TTL ends)";
  if (!server.session) {
    context.fail(server, Error{ErrorKind::connect,
                               "bootstrap token " + id + " not deleted: no SSH session", manual});
    return;
  }
  // Not capped by the run's deadline, unlike context.command(): the delete must also run
  // after a timeout or an interrupt ended the run.
  ssh::Command command;
  command.line = as_root(server.spec->user, delete_bootstrap_token_script(id));
  command.timeout = context.options().command_timeout;
  auto result = run_checked(server, "delete bootstrap token " + id, command);
  if (!result) {
    Error error = result.error();
    error.message = "bootstrap token " + id + " not deleted: " + error.message;
    error.hint = manual;
    context.fail(server, std::move(error));
    return;
  }
  spdlog::info("{}deleted bootstrap token {}", log::host_prefix(server.label), id);
}

BootstrapTokenGuard::~BootstrapTokenGuard() {
  const std::string id = context_.bootstrap_token_id;
  try {
    delete_bootstrap_token(context_);
  } catch (...) {
    // A destructor must not throw, so the token is left to expire when its TTL ends.
    spdlog::error("bootstrap token {} not deleted: unexpected error", id);
  }
}

}  // namespace k3sjoin::phase
