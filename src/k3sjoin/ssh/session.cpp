#include "session.h"

#include <libssh/libssh.h>
#include <pwd.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdlib>
#include <mutex>
#include <string>
#include <utility>

#include "k3sjoin/log/log.h"
#include "k3sjoin/ssh/remote.h"
#include "k3sjoin/ssh/ssh_config.h"

namespace k3sjoin::ssh {
namespace {

// libssh 0.10 initializes itself from a library constructor, and since 0.8 it needs no
// thread callbacks. The explicit ssh_init() only matters for a static libssh, and
// ssh_finalize() is never called because sessions may still run in other threads at exit.
void init_libssh_once() {
  static std::once_flag flag;
  std::call_once(flag, [] { ssh_init(); });
}

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

// Maps libssh's connect failure text (socket.c and client.c in 0.10) to an operator message.
Error connect_error(std::string_view label, std::string_view detail) {
  std::string failure;
  std::string hint;
  if (contains(detail, "refused")) {
    failure = "connection refused";
    hint =
        "check that sshd is running on the host and listens on this port, and that the port "
        "is right";
  } else if (contains(detail, "Timeout") || contains(detail, "timed out")) {
    failure = "connection timed out";
    hint = "check that the host is up and that no firewall drops traffic to this port";
  } else if (contains(detail, "unreachable") || contains(detail, "No route")) {
    failure = "host unreachable";
    hint = "check the address and the network route to the host";
  } else if (contains(detail, "resolve")) {
    failure = "address could not be resolved";
    hint = "check the address, or use an IP address";
  } else {
    failure = "SSH handshake failed";
    hint = "check that the port belongs to an SSH server and that sshd accepts connections";
  }
  return Error{
      ErrorKind::connect,
      "cannot connect to " + std::string(label) + ": " + failure + " (" + std::string(detail) + ")",
      hint};
}

Status set_options(ssh_session session, const ConnectOptions& options, int fd) {
  const long timeout_ms = static_cast<long>(options.connect_timeout.count());
  const long timeout_s = timeout_ms / 1000;
  const long timeout_us = (timeout_ms % 1000) * 1000;
  // libssh's own reading of ~/.ssh/config is off: the CLI has already applied the config
  // (ssh_config.cpp) with the inventory's values taking precedence.
  const bool process_config = false;
  // Commands are small request/response exchanges; Nagle's algorithm would delay each one.
  const int no_delay = 1;
  const std::string known_hosts = known_hosts_path(options);

  // SSH_OPTIONS_STRICTHOSTKEYCHECK keeps its default (on): ssh_connect never checks the host
  // key itself, and with the option off, libssh 0.10's ssh_session_is_known_server reports
  // unknown keys as known, which would defeat verify_host_key.
  bool ok = ssh_options_set(session, SSH_OPTIONS_HOST, options.address.c_str()) == SSH_OK &&
            ssh_options_set(session, SSH_OPTIONS_PORT, &options.port) == SSH_OK &&
            ssh_options_set(session, SSH_OPTIONS_TIMEOUT, &timeout_s) == SSH_OK &&
            ssh_options_set(session, SSH_OPTIONS_TIMEOUT_USEC, &timeout_us) == SSH_OK &&
            ssh_options_set(session, SSH_OPTIONS_KNOWNHOSTS, known_hosts.c_str()) == SSH_OK &&
            ssh_options_set(session, SSH_OPTIONS_NODELAY, &no_delay) == SSH_OK &&
            ssh_options_set(session, SSH_OPTIONS_PROCESS_CONFIG, &process_config) == SSH_OK;
  if (ok && !options.user.empty()) {
    ok = ssh_options_set(session, SSH_OPTIONS_USER, options.user.c_str()) == SSH_OK;
  }
  if (ok && fd >= 0) {
    // The host name then only names the host for the known_hosts lookup.
    socket_t socket = fd;
    ok = ssh_options_set(session, SSH_OPTIONS_FD, &socket) == SSH_OK;
  }
  if (!ok) {
    return Error{ErrorKind::config,
                 "invalid SSH options for " + format_endpoint(options.address, options.port) +
                     ": " + ssh_get_error(session),
                 ""};
  }
  return ok_status();
}

}  // namespace

std::string format_endpoint(std::string_view address, int port) {
  std::string endpoint;
  const bool ipv6 = contains(address, ":") && !address.starts_with("[");
  if (ipv6) {
    endpoint += '[';
  }
  endpoint += address;
  if (ipv6) {
    endpoint += ']';
  }
  endpoint += ':';
  endpoint += std::to_string(port);
  return endpoint;
}

std::string known_hosts_path(const ConnectOptions& options) {
  if (!options.known_hosts.empty()) {
    return options.known_hosts;
  }
  return user_home_directory() + "/.ssh/known_hosts";
}

LibsshSession::LibsshSession(std::unique_ptr<JumpChain> jumps, SessionHandle session,
                             std::string label)
    : jumps_(std::move(jumps)), session_(std::move(session)), label_(std::move(label)) {}

namespace {

// Opens one authenticated session, over `fd` when it is not -1. The JumpChain that made
// `fd` closes it.
Result<SessionHandle> open_session(const ConnectOptions& options, int fd,
                                   const std::string& label) {
  const std::string prefix = log::host_prefix(label);
  SessionHandle session(ssh_new());
  Status configured =
      session ? set_options(session.get(), options, fd)
              : Status(Error{ErrorKind::internal, "cannot create an SSH session for " + label, ""});
  if (!configured) {
    return configured.error();
  }

  // The session timeout set above bounds ssh_connect and every later blocking libssh call.
  spdlog::debug("{}connecting as {}", prefix, options.user.empty() ? "<local user>" : options.user);
  if (ssh_connect(session.get()) != SSH_OK) {
    Error error = connect_error(label, ssh_get_error(session.get()));
    spdlog::debug("{}{}", prefix, error.message);
    return error;
  }
  if (Status status = verify_host_key(session.get(), options, label); !status) {
    return status.error();
  }
  if (Status status = authenticate(session.get(), options, label); !status) {
    return status.error();
  }
  spdlog::debug("{}connected and authenticated", prefix);
  return session;
}

// Prefixes an error at a jump host with the hop and the host it leads to.
Error hop_error(Error error, std::size_t hop, std::size_t hops, const std::string& target) {
  error.message = "via jump host " + std::to_string(hop + 1) + " of " + std::to_string(hops) +
                  " to " + target + ": " + error.message;
  return error;
}

}  // namespace

Result<std::unique_ptr<RemoteSession>> connect(const ConnectOptions& options) {
  init_libssh_once();
  const std::string label = format_endpoint(options.address, options.port);
  auto chain = std::make_unique<JumpChain>();
  int fd = -1;
  for (std::size_t i = 0; i < options.jumps.size(); ++i) {
    const ConnectOptions& hop = options.jumps[i];
    const std::string hop_label = format_endpoint(hop.address, hop.port);
    Result<SessionHandle> session = open_session(hop, fd, hop_label);
    if (!session) {
      return hop_error(session.error(), i, options.jumps.size(), label);
    }
    const ConnectOptions& next = i + 1 < options.jumps.size() ? options.jumps[i + 1] : options;
    Result<int> forwarded =
        chain->forward(std::move(session).value(), hop_label, next.address, next.port);
    if (!forwarded) {
      return hop_error(forwarded.error(), i, options.jumps.size(), label);
    }
    fd = *forwarded;
  }
  Result<SessionHandle> session = open_session(options, fd, label);
  if (!session) {
    return session.error();
  }
  return std::unique_ptr<RemoteSession>(
      std::make_unique<LibsshSession>(std::move(chain), std::move(session).value(), label));
}

}  // namespace k3sjoin::ssh
