#include "identity.h"

#include <libssh/libssh.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <map>
#include <mutex>
#include <optional>

#include "k3sjoin/util/secret.h"
#include "k3sjoin/util/terminal.h"

namespace k3sjoin::ssh {
namespace {

constexpr int kPassphraseTries = 3;

// Called by libssh when a key file is encrypted and no passphrase was passed: records the
// request and declines, so the import fails and the caller can ask for the passphrase.
int decline_passphrase(const char* /*prompt*/, char* /*buffer*/, std::size_t /*length*/,
                       int /*echo*/, int /*verify*/, void* userdata) {
  *static_cast<bool*>(userdata) = true;
  return -1;
}

// Passphrases entered during this run, by key file.
struct PassphraseCache {
  std::mutex mutex;
  std::map<std::string, Secret> passphrases;
};

PassphraseCache& cache() {
  static PassphraseCache instance;
  return instance;
}

// Imports `path` with `passphrase`; returns the key or an empty handle.
KeyHandle import_with(const std::string& path, const Secret& passphrase) {
  ssh_key raw_key = nullptr;
  // libssh needs a NUL-terminated passphrase; the copy lives in a Secret as well.
  std::string text(passphrase.view());
  Secret terminated(std::string_view(text.c_str(), text.size() + 1));
  wipe(text);
  bool requested = false;
  const int rc = ssh_pki_import_privkey_file(path.c_str(), terminated.view().data(),
                                             decline_passphrase, &requested, &raw_key);
  KeyHandle key(raw_key);
  return rc == SSH_OK ? std::move(key) : KeyHandle();
}

Result<KeyHandle> load_encrypted(const std::string& path) {
  PassphraseCache& passphrases = cache();
  // One lock for the whole exchange, so a second connection waits for the first prompt
  // and then uses its answer instead of asking again.
  const std::lock_guard lock(passphrases.mutex);
  if (auto it = passphrases.passphrases.find(path); it != passphrases.passphrases.end()) {
    if (KeyHandle key = import_with(path, it->second)) {
      return key;
    }
    passphrases.passphrases.erase(it);
  }
  if (!stdin_is_terminal()) {
    return Error{ErrorKind::auth,
                 "identity file " + path +
                     " is protected by a passphrase, and stdin is not a terminal to ask for it",
                 "load the key into ssh-agent with: ssh-add " + path +
                     " (and keep SSH_AUTH_SOCK set), or run k3sjoin from a terminal"};
  }
  for (int attempt = 0; attempt < kPassphraseTries; ++attempt) {
    std::optional<Secret> passphrase =
        read_secret_from_terminal("Enter passphrase for key '" + path + "': ");
    if (!passphrase) {
      break;
    }
    if (KeyHandle key = import_with(path, *passphrase)) {
      passphrases.passphrases.emplace(path, std::move(*passphrase));
      return key;
    }
    spdlog::warn("wrong passphrase for {}", path);
  }
  return Error{ErrorKind::auth, "no valid passphrase was entered for identity file " + path,
               "check the passphrase with: ssh-keygen -y -f " + path +
                   ", or load the key into ssh-agent with ssh-add"};
}

}  // namespace

KeyHandle load_public_key(const std::string& path) {
  ssh_key raw_key = nullptr;
  const std::string public_path = path + ".pub";
  if (access(public_path.c_str(), R_OK) == 0 &&
      ssh_pki_import_pubkey_file(public_path.c_str(), &raw_key) == SSH_OK) {
    return KeyHandle(raw_key);
  }
  raw_key = nullptr;
  if (ssh_pki_import_pubkey_file(path.c_str(), &raw_key) == SSH_OK) {
    return KeyHandle(raw_key);
  }
  return KeyHandle();
}

Result<KeyHandle> load_private_key(const std::string& path) {
  if (access(path.c_str(), R_OK) != 0) {
    return Error{ErrorKind::auth, "identity file " + path + " does not exist or is not readable",
                 "check the path given as the identity file and its permissions"};
  }
  ssh_key raw_key = nullptr;
  bool passphrase_requested = false;
  const int rc = ssh_pki_import_privkey_file(path.c_str(), nullptr, decline_passphrase,
                                             &passphrase_requested, &raw_key);
  KeyHandle key(raw_key);
  if (rc == SSH_OK) {
    return key;
  }
  if (passphrase_requested) {
    return load_encrypted(path);
  }
  return Error{ErrorKind::auth, "identity file " + path + " is not a supported private key",
               "use an OpenSSH or PEM private key (ed25519, ecdsa or rsa)"};
}

}  // namespace k3sjoin::ssh
