#include <libssh/libssh.h>
#include <spdlog/spdlog.h>

#include <span>
#include <string>
#include <vector>

#include "handles.h"
#include "k3sjoin/log/log.h"
#include "k3sjoin/ssh/known_hosts.h"
#include "session.h"

namespace k3sjoin::ssh {
namespace {

// libssh 0.10 also consults this system-wide file, as OpenSSH does.
constexpr const char* kGlobalKnownHosts = "/etc/ssh/ssh_known_hosts";

struct ServerKey {
  std::string fingerprint;  // "SHA256:..."
  std::string type;         // "ssh-ed25519"

  std::string describe() const { return fingerprint + " (" + type + ")"; }
};

Result<ServerKey> read_server_key(ssh_session session, const std::string& label) {
  ssh_key raw_key = nullptr;
  if (ssh_get_server_publickey(session, &raw_key) != SSH_OK) {
    return Error{ErrorKind::connect,
                 "cannot read the host key of " + label + ": " + ssh_get_error(session), ""};
  }
  KeyHandle key(raw_key);
  unsigned char* raw_hash = nullptr;
  std::size_t hash_length = 0;
  if (ssh_get_publickey_hash(key.get(), SSH_PUBLICKEY_HASH_SHA256, &raw_hash, &hash_length) != 0) {
    return Error{ErrorKind::internal, "cannot hash the host key of " + label, ""};
  }
  HashHandle hash(raw_hash);
  const char* type = ssh_key_type_to_char(ssh_key_type(key.get()));
  return ServerKey{format_sha256_fingerprint(std::span(hash.get(), hash_length)),
                   type != nullptr ? type : "unknown"};
}

// Maps an SSH key type to the name ssh-keyscan -t and the host key file names use.
std::string keyscan_type(std::string_view type) {
  if (type.starts_with("ssh-ed25519")) {
    return "ed25519";
  }
  if (type.starts_with("ecdsa")) {
    return "ecdsa";
  }
  if (type.starts_with("ssh-rsa") || type.starts_with("rsa")) {
    return "rsa";
  }
  return std::string(type);
}

std::string shell_word(const std::string& word) {
  return word.find_first_of("[]:* ") == std::string::npos ? word : "'" + word + "'";
}

// Every known_hosts file checked for `options`: the written one first, then the others.
std::vector<std::string> known_hosts_files(const ConnectOptions& options) {
  std::vector<std::string> files{known_hosts_path(options)};
  files.insert(files.end(), options.other_known_hosts.begin(), options.other_known_hosts.end());
  return files;
}

Error changed_key_error(const ConnectOptions& options, const std::string& label,
                        const ServerKey& key, bool other_type) {
  const std::string name = known_hosts_name(options.address, options.port);
  std::vector<KnownHostsEntry> entries;
  std::vector<std::string> files = known_hosts_files(options);
  files.emplace_back(kGlobalKnownHosts);
  for (const std::string& file : files) {
    for (KnownHostsEntry& entry : find_known_hosts_entries(file, name)) {
      entries.push_back(std::move(entry));
    }
  }

  std::string message = "host key for " + label + " has changed: the server offered " +
                        key.describe() + ", but known_hosts lists " +
                        (other_type ? "only keys of another type" : "a different key");
  if (!entries.empty()) {
    message += ": " + describe_entries(entries);
  }
  const std::string file = entries.empty() ? files.front() : entries.front().file.string();
  std::string hint = "if the host was reinstalled, remove the old key with: ssh-keygen -R " +
                     shell_word(name) + " -f " + shell_word(file) +
                     ", then verify the new fingerprint out of band and reconnect";
  return Error{ErrorKind::host_key, std::move(message), std::move(hint)};
}

// Checks the key against each known_hosts file, as OpenSSH reads all of them: a file that
// lists the key wins over one that lists another key for the host.
ssh_known_hosts_e check_known_hosts(ssh_session session, const ConnectOptions& options) {
  const std::vector<std::string> files = known_hosts_files(options);
  ssh_known_hosts_e result = SSH_KNOWN_HOSTS_NOT_FOUND;
  for (const std::string& file : files) {
    if (ssh_options_set(session, SSH_OPTIONS_KNOWNHOSTS, file.c_str()) != SSH_OK) {
      return SSH_KNOWN_HOSTS_ERROR;
    }
    const ssh_known_hosts_e state = ssh_session_is_known_server(session);
    if (state == SSH_KNOWN_HOSTS_OK || state == SSH_KNOWN_HOSTS_ERROR) {
      result = state;
      break;
    }
    if (state == SSH_KNOWN_HOSTS_CHANGED ||
        (state == SSH_KNOWN_HOSTS_OTHER && result != SSH_KNOWN_HOSTS_CHANGED)) {
      result = state;
    }
  }
  // accept_new writes to the first file, so libssh must point at it again.
  ssh_options_set(session, SSH_OPTIONS_KNOWNHOSTS, files.front().c_str());
  return result;
}

Error unknown_key_error(const ConnectOptions& options, const std::string& label,
                        const ServerKey& key, const std::string& known_hosts) {
  const std::string type = keyscan_type(key.type);
  std::string message = "host key for " + label + " is not in " + known_hosts +
                        ": the server offered " + key.describe();
  std::string hint = "compare the fingerprint with 'ssh-keygen -lf /etc/ssh/ssh_host_" + type +
                     "_key.pub' run on the host's console, then add the key with: ssh-keyscan -p " +
                     std::to_string(options.port) + " -t " + type + " " + options.address + " >> " +
                     shell_word(known_hosts) +
                     "; or rerun with --host-key-policy accept-new to record it on first use";
  return Error{ErrorKind::host_key, std::move(message), std::move(hint)};
}

}  // namespace

Status verify_host_key(ssh_session session, const ConnectOptions& options,
                       const std::string& label) {
  const std::string prefix = log::host_prefix(label);
  const std::string known_hosts = known_hosts_path(options);
  Result<ServerKey> key = read_server_key(session, label);
  if (!key) {
    return key.error();
  }
  spdlog::debug("{}host key {}", prefix, key->describe());

  bool pinned = false;
  if (options.pinned_fingerprint) {
    if (!same_fingerprint(*options.pinned_fingerprint, key->fingerprint)) {
      return Error{ErrorKind::host_key,
                   "host key for " + label +
                       " does not match the pinned fingerprint: the server "
                       "offered " +
                       key->describe() + ", the pin is " + *options.pinned_fingerprint,
                   "check the pin against 'ssh-keygen -lf' of the host key file on the host; a "
                   "pin must be written as SHA256:<base64>, as ssh-keygen -l prints it"};
    }
    pinned = true;
  }

  switch (check_known_hosts(session, options)) {
    case SSH_KNOWN_HOSTS_OK:
      return ok_status();
    case SSH_KNOWN_HOSTS_CHANGED:
      return changed_key_error(options, label, *key, false);
    case SSH_KNOWN_HOSTS_OTHER:
      return changed_key_error(options, label, *key, true);
    case SSH_KNOWN_HOSTS_NOT_FOUND:
    case SSH_KNOWN_HOSTS_UNKNOWN:
      break;
    case SSH_KNOWN_HOSTS_ERROR:
    default:
      return Error{ErrorKind::host_key,
                   "cannot check the host key for " + label + " against " + known_hosts + ": " +
                       ssh_get_error(session),
                   "check that " + known_hosts + " is readable and well-formed"};
  }

  // The key is unknown. A matching pin is an out-of-band check, so it trusts the key; only
  // accept_new writes to known_hosts.
  if (options.host_key_policy == HostKeyPolicy::accept_new) {
    if (ssh_session_update_known_hosts(session) != SSH_OK) {
      return Error{ErrorKind::host_key,
                   "cannot record the host key for " + label + " in " + known_hosts + ": " +
                       ssh_get_error(session),
                   "check that " + known_hosts + " and its directory are writable"};
    }
    spdlog::warn("{}recorded new host key {} in {} (host key policy accept-new)", prefix,
                 key->describe(), known_hosts);
    return ok_status();
  }
  if (pinned) {
    spdlog::info("{}host key {} is not in {} but matches the pinned fingerprint", prefix,
                 key->describe(), known_hosts);
    return ok_status();
  }
  return unknown_key_error(options, label, *key, known_hosts);
}

}  // namespace k3sjoin::ssh
