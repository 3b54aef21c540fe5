#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "k3sjoin/phase/run_context.h"
#include "k3sjoin/util/result.h"

namespace k3sjoin::phase {

// The description k3sjoin gives its bootstrap tokens; `k3s token list` shows it, so an
// operator can tell a token that a killed run left behind.
inline constexpr std::string_view kBootstrapTokenDescription = "k3sjoin join token for one run";

// `k3s token create --ttl <seconds>s --description ...`: prints K10<hash>::<id>.<secret>.
std::string create_bootstrap_token_script(std::chrono::seconds ttl);

// `k3s token delete ID`. `id` must be a bootstrap token id ([a-z0-9]{6}).
std::string delete_bootstrap_token_script(std::string_view id);

// Creates a bootstrap token on the server with RunOptions::bootstrap_token_ttl and makes it
// the run's join token: it is parsed into context.token, registered with log redaction and
// its id stored in context.bootstrap_token_id. The printed token is wiped from the command
// output. Errors: the command's (auth when sudo wants a password, remote_command when k3s
// fails, for example a release from before 2023 without `k3s token create`), or remote_command
// when the output is not a bootstrap token.
Status create_bootstrap_token(RunContext& context);

// Deletes the run's bootstrap token, if it created one, and clears the id, so a second call
// does nothing. Runs after an interrupt and past the run's deadline too, with its own
// timeout. A failure marks the server failed with the id and the command to delete it by
// hand, because a token left behind stays valid until its TTL ends.
void delete_bootstrap_token(RunContext& context);

// Deletes the run's bootstrap token when destroyed, so the token is deleted on every path
// out of a run, exceptions included. The normal path calls delete_bootstrap_token() before
// it builds the report, so that a failed delete is in the report, and the guard does nothing.
class BootstrapTokenGuard {
 public:
  explicit BootstrapTokenGuard(RunContext& context) : context_(context) {}
  BootstrapTokenGuard(const BootstrapTokenGuard&) = delete;
  BootstrapTokenGuard& operator=(const BootstrapTokenGuard&) = delete;
  ~BootstrapTokenGuard();

 private:
  RunContext& context_;
};

}  // namespace k3sjoin::phase
