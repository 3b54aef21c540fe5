#include <libssh/libssh.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "handles.h"
#include "identity.h"
#include "k3sjoin/log/log.h"
#include "k3sjoin/ssh/ssh_config.h"
#include "session.h"

namespace k3sjoin::ssh {
namespace {

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd_ >= 0) {
      close(fd_);
    }
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

bool transfer_all(int fd, unsigned char* data, std::size_t size, bool sending) {
  while (size > 0) {
    const ssize_t done = sending ? write(fd, data, size) : read(fd, data, size);
    if (done <= 0) {
      return false;
    }
    data += done;
    size -= static_cast<std::size_t>(done);
  }
  return true;
}

// Asks the agent how many keys it holds, for the auth error message. libssh 0.10 has no
// public call for this, so this sends SSH2_AGENTC_REQUEST_IDENTITIES (11) itself and
// reads the count from SSH2_AGENT_IDENTITIES_ANSWER (12), as in the ssh-agent protocol
// draft (draft-miller-ssh-agent). Returns nullopt when the agent does not reply.
std::optional<std::uint32_t> count_agent_keys(const std::string& socket_path) {
  sockaddr_un address{};
  if (socket_path.size() >= sizeof(address.sun_path)) {
    return std::nullopt;
  }
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, socket_path.c_str(), socket_path.size() + 1);
  FileDescriptor fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) {
    return std::nullopt;
  }
  const timeval limit{2, 0};
  setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
  setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof(limit));
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    return std::nullopt;
  }
  std::array<unsigned char, 5> request{0, 0, 0, 1, 11};
  std::array<unsigned char, 9> answer{};  // length, type, key count
  if (!transfer_all(fd.get(), request.data(), request.size(), true) ||
      !transfer_all(fd.get(), answer.data(), answer.size(), false) || answer[4] != 12) {
    return std::nullopt;
  }
  return (std::uint32_t{answer[5]} << 24) | (std::uint32_t{answer[6]} << 16) |
         (std::uint32_t{answer[7]} << 8) | std::uint32_t{answer[8]};
}

std::string join(const std::vector<std::string>& parts) {
  std::string text;
  for (const std::string& part : parts) {
    text += text.empty() ? "" : ", ";
    text += part;
  }
  return text;
}

std::string describe_methods(unsigned methods) {
  std::vector<std::string> names;
  if ((methods & SSH_AUTH_METHOD_PASSWORD) != 0) {
    names.emplace_back("password");
  }
  if ((methods & SSH_AUTH_METHOD_INTERACTIVE) != 0) {
    names.emplace_back("keyboard-interactive");
  }
  if ((methods & SSH_AUTH_METHOD_GSSAPI_MIC) != 0) {
    names.emplace_back("gssapi-with-mic");
  }
  if ((methods & SSH_AUTH_METHOD_HOSTBASED) != 0) {
    names.emplace_back("hostbased");
  }
  return names.empty() ? "none" : join(names);
}

Error lost_connection(ssh_session session, const std::string& label) {
  return Error{
      ErrorKind::connect,
      "connection to " + label + " failed during authentication: " + ssh_get_error(session),
      "check that sshd on the host is healthy and retry"};
}

// Key files that OpenSSH 9.2 tries when no IdentityFile is given, in its order, limited to
// the types libssh 0.10 can load (no security-key or DSA keys).
std::vector<std::string> default_identities() {
  std::vector<std::string> files;
  const std::string directory = user_home_directory() + "/.ssh/";
  for (const char* name : {"id_rsa", "id_ecdsa", "id_ed25519"}) {
    if (access((directory + name).c_str(), F_OK) == 0) {
      files.push_back(directory + name);
    }
  }
  return files;
}

enum class Outcome { accepted, partial, rejected, lost };

// Offers one identity file: its public key first, so a passphrase is asked for only when
// the server would accept the key, as OpenSSH does. A file that cannot be loaded sets
// `problem` and counts as rejected.
Outcome offer_identity(ssh_session session, const std::string& path,
                       std::optional<Error>& problem) {
  if (KeyHandle public_key = load_public_key(path)) {
    const int rc = ssh_userauth_try_publickey(session, nullptr, public_key.get());
    if (rc == SSH_AUTH_ERROR) {
      return Outcome::lost;
    }
    if (rc != SSH_AUTH_SUCCESS) {
      return Outcome::rejected;
    }
  }
  Result<KeyHandle> key = load_private_key(path);
  if (!key) {
    if (!problem) {
      problem = key.error();
    }
    return Outcome::rejected;
  }
  switch (ssh_userauth_publickey(session, nullptr, key->get())) {
    case SSH_AUTH_SUCCESS:
      return Outcome::accepted;
    case SSH_AUTH_PARTIAL:
      return Outcome::partial;
    case SSH_AUTH_ERROR:
      return Outcome::lost;
    default:
      return Outcome::rejected;
  }
}

}  // namespace

Status authenticate(ssh_session session, const ConnectOptions& options, const std::string& label) {
  const std::string prefix = log::host_prefix(label);
  char* user = nullptr;
  ssh_options_get(session, SSH_OPTIONS_USER, &user);
  const CharHandle user_text(user);
  const std::string account = (user != nullptr ? std::string(user) : options.user) + "@" + label;

  int rc = ssh_userauth_none(session, nullptr);
  if (rc == SSH_AUTH_SUCCESS) {
    return ok_status();
  }
  if (rc == SSH_AUTH_ERROR) {
    return lost_connection(session, label);
  }
  const auto methods = static_cast<unsigned>(ssh_userauth_list(session, nullptr));
  if ((methods & SSH_AUTH_METHOD_PUBLICKEY) == 0) {
    return Error{ErrorKind::auth,
                 "authentication as " + account +
                     " failed: the server does not accept public keys (it offers: " +
                     describe_methods(methods) + ")",
                 "enable PubkeyAuthentication in the host's sshd_config"};
  }

  std::vector<std::string> tried;
  const char* agent_socket = std::getenv("SSH_AUTH_SOCK");
  if (options.identities_only) {
    tried.emplace_back("ssh-agent: not used, IdentitiesOnly is set");
  } else if (agent_socket != nullptr && *agent_socket != '\0') {
    const std::optional<std::uint32_t> keys = count_agent_keys(agent_socket);
    rc = ssh_userauth_agent(session, nullptr);
    if (rc == SSH_AUTH_SUCCESS) {
      spdlog::debug("{}authenticated with a key from ssh-agent", prefix);
      return ok_status();
    }
    if (rc == SSH_AUTH_ERROR) {
      return lost_connection(session, label);
    }
    tried.push_back(keys ? "ssh-agent: " + std::to_string(*keys) + " keys"
                         : "ssh-agent: no answer on " + std::string(agent_socket));
  } else {
    tried.emplace_back("ssh-agent: not used, SSH_AUTH_SOCK is unset");
  }

  std::vector<std::string> files = options.identity_files;
  if (options.identity) {
    files.insert(files.begin(), *options.identity);
  }
  const bool defaults = files.empty();
  if (defaults) {
    files = default_identities();
  }
  std::optional<Error> problem;
  bool partial = false;
  for (const std::string& file : files) {
    const Outcome outcome = offer_identity(session, file, problem);
    if (outcome == Outcome::accepted) {
      spdlog::debug("{}authenticated with identity {}", prefix, file);
      return ok_status();
    }
    if (outcome == Outcome::lost) {
      return lost_connection(session, label);
    }
    partial = partial || outcome == Outcome::partial;
    tried.push_back("identity " + file);
  }
  if (defaults && files.empty()) {
    tried.emplace_back("no default key in ~/.ssh (id_rsa, id_ecdsa, id_ed25519)");
  }
  // A key that could not be loaded (a passphrase without a terminal, a missing file) is the
  // likeliest cause, so its message wins over the generic one.
  if (problem) {
    return *problem;
  }
  const std::string reason = partial || rc == SSH_AUTH_PARTIAL
                                 ? "a key was accepted but the server requires further methods"
                                 : "the server accepted none of the offered keys";
  return Error{ErrorKind::auth,
               "authentication as " + account + " failed: " + reason + " (" + join(tried) + ")",
               "check that the public key is in the user's ~/.ssh/authorized_keys on the host "
               "and that the user name is right; ssh-add -l lists the agent's keys"};
}

}  // namespace k3sjoin::ssh
