#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "k3sjoin/util/result.h"

namespace k3sjoin::ssh {

// A command for one remote host. `line` is passed to the remote user's shell as it is, so
// every argument in it must already be quoted with shell_quote. `input` is written to the
// command's stdin and then stdin is closed; secrets travel only this way, never in `line`.
struct Command {
  std::string line;
  std::string_view input;
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
  // When true, run() ends the command once k3sjoin::interrupted() is set. Cleanup steps
  // that must still run after Ctrl-C set it to false and rely on `timeout` alone.
  bool interruptible = true;
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

  // Runs a command. Errors: `timeout` when the command outlived its timeout, `interrupted`
  // when the run was interrupted while an interruptible command ran (in both cases the
  // command is sent SIGTERM and its channel is closed, within about 50 ms), `connect` when
  // the connection broke. A non-zero exit status is not an error.
  virtual Result<CommandResult> run(const Command& command) = 0;

  // "address:port" as used in log prefixes; IPv6 addresses in brackets.
  virtual std::string label() const = 0;
};

// How to treat a host key that known_hosts does not list.
enum class HostKeyPolicy {
  strict,      // unknown and changed keys fail
  accept_new,  // unknown keys are recorded in known_hosts, changed keys fail
};

// How to reach and log in to one host. The CLI fills it from the inventory, the SSH client
// configuration and the command line (see docs/ssh.md for the precedence).
struct ConnectOptions {
  std::string address;  // what to connect to: IPv4, IPv6 (no brackets) or DNS name
  int port = 22;
  std::string user;
  std::optional<std::string> identity;      // private key file from the inventory, tried first
  std::vector<std::string> identity_files;  // more key files (IdentityFile), in order
  // Offer only the identity files: no ssh-agent keys and no default key names.
  bool identities_only = false;
  std::string known_hosts;  // known_hosts file that accept_new writes to; empty: ~/.ssh/known_hosts
  std::vector<std::string> other_known_hosts;  // further files checked, never written
  HostKeyPolicy host_key_policy = HostKeyPolicy::strict;
  std::optional<std::string> pinned_fingerprint;  // "SHA256:..." that the host key must match
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};
  // ProxyJump hops in connection order, each with its own options (its `jumps` are unused).
  // The host key of each hop is checked under the hop's own address.
  std::vector<ConnectOptions> jumps;
};

// Connects (through the jump hosts, if any), verifies the host key and authenticates with
// ssh-agent, then the identity files, or the default keys when there are none. An
// encrypted key asks for its passphrase on the terminal when stdin is one. Errors: connect,
// host_key (message has the fingerprints and the fix), auth, timeout; an error at a jump
// host names that hop.
Result<std::unique_ptr<RemoteSession>> connect(const ConnectOptions& options);

// Formats "address:port", with brackets around IPv6 addresses.
std::string format_endpoint(std::string_view address, int port);

}  // namespace k3sjoin::ssh
