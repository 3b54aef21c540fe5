#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "k3sjoin/util/result.h"

namespace k3sjoin::ssh {

// A command for one remote host. `line` is passed to the remote user's shell as it is, so
// every argument in it must already be quoted with shell_quote. `input` is written to the
// command's stdin and then stdin is closed; secrets travel only this way, never in `line`.
struct Command {
  std::string line;
  std::string_view input;
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
};

struct CommandResult {
  int exit_status = -1;  // remote exit status; -1 when the remote side sent none (signal)
  std::string out;
  std::string err;
};

// An authenticated connection to one host. run() calls are serialized by the
// implementation, so a session may be shared between threads. Each run() opens a new
// channel on the same connection.
class RemoteSession {
 public:
  virtual ~RemoteSession() = default;

  // Runs a command. Errors: `timeout` when the command outlived its timeout (the channel
  // is closed), `connect` when the connection broke. A non-zero exit status is not an error.
  virtual Result<CommandResult> run(const Command& command) = 0;

  // "address:port" as used in log prefixes; IPv6 addresses in brackets.
  virtual std::string label() const = 0;
};

// How to treat a host key that known_hosts does not list.
enum class HostKeyPolicy {
  strict,      // unknown and changed keys fail
  accept_new,  // unknown keys are recorded in known_hosts, changed keys fail
};

struct ConnectOptions {
  std::string address;
  int port = 22;
  std::string user;
  std::optional<std::string> identity;  // private key file; ssh-agent and default keys otherwise
  std::string known_hosts;              // path to known_hosts; empty: ~/.ssh/known_hosts
  HostKeyPolicy host_key_policy = HostKeyPolicy::strict;
  std::optional<std::string> pinned_fingerprint;  // "SHA256:..." that the host key must match
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};
};

// Connects, verifies the host key and authenticates (ssh-agent, then the identity file or
// the default keys). Errors: connect, host_key (message has the fingerprint and the fix),
// auth, timeout.
Result<std::unique_ptr<RemoteSession>> connect(const ConnectOptions& options);

// Formats "address:port", with brackets around IPv6 addresses.
std::string format_endpoint(std::string_view address, int port);

}  // namespace k3sjoin::ssh
