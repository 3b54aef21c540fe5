#pragma once

// Loading of identity files (private keys) for public key authentication.

#include <string>

#include "handles.h"
#include "k3sjoin/util/result.h"

namespace k3sjoin::ssh {

// Loads the public half of an identity: PATH.pub when it exists, else the public key that
// an OpenSSH-format private key stores unencrypted. Returns an empty handle when neither
// can be read, so the caller loads the private key to learn it.
KeyHandle load_public_key(const std::string& path);

// Loads a private key. An encrypted key asks for its passphrase on the terminal when stdin
// is one (three tries, as OpenSSH's NumberOfPasswordPrompts default) and the passphrase is
// kept for the rest of the run, so parallel connections ask once per file. Errors (kind
// auth): missing or unreadable file, no terminal for the passphrase (the hint suggests
// ssh-add), wrong passphrase, unsupported format.
Result<KeyHandle> load_private_key(const std::string& path);

}  // namespace k3sjoin::ssh
