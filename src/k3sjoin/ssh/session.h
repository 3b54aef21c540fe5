#pragma once

// Internals shared by the libssh-backed implementation of RemoteSession.

#include <mutex>
#include <string>

#include "handles.h"
#include "jump.h"
#include "k3sjoin/ssh/remote.h"
#include "k3sjoin/util/result.h"

namespace k3sjoin::ssh {

// A connected, authenticated libssh session. run() holds mutex_ for the whole command
// because a libssh session must not be used from two threads at once.
class LibsshSession final : public RemoteSession {
 public:
  // `jumps` carries the hops the session runs through; it may be empty.
  LibsshSession(std::unique_ptr<JumpChain> jumps, SessionHandle session, std::string label);

  Result<CommandResult> run(const Command& command) override;
  std::string label() const override { return label_; }

 private:
  std::mutex mutex_;
  // Declared before session_ so it is destroyed after it: the session's disconnect message
  // still needs the hops.
  std::unique_ptr<JumpChain> jumps_;
  SessionHandle session_;
  std::string label_;
};

// Checks the server's host key against known_hosts and the pinned fingerprint, and records
// an unknown key when the policy is accept_new. A pinned fingerprint that matches
// replaces a known_hosts entry, but a known_hosts entry that lists a different key still fails.
Status verify_host_key(ssh_session session, const ConnectOptions& options,
                       const std::string& label);

// Authenticates with ssh-agent (unless identities_only), then the identity files, or the
// default keys when none are given. Errors: auth, and connect when the connection broke.
Status authenticate(ssh_session session, const ConnectOptions& options, const std::string& label);

// The known_hosts file that connect() writes to: options.known_hosts, or ~/.ssh/known_hosts.
std::string known_hosts_path(const ConnectOptions& options);

}  // namespace k3sjoin::ssh
