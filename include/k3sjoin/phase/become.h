#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "k3sjoin/ssh/remote.h"
#include "k3sjoin/util/result.h"
#include "k3sjoin/util/secret.h"

// Running sudo with a password ("become password"). Commands that need root start with
// "sudo -n " (see as_root()). For a host with a become password, BecomeSession rewrites them
// so sudo reads the password from the first line of stdin. The password never appears in a
// command line, and the session never logs the input.

namespace k3sjoin::phase {

// The second line of stdin after the password. The root shell skips lines up to it, so the
// command's own input starts after it whether or not sudo read the password: sudo reads
// nothing when a NOPASSWD rule or a cached timestamp lets the user in.
inline constexpr std::string_view kBecomeMarker = "k3sjoin-sudo-password-end";

// Rewrites "sudo -n [--] WORDS" into a command line that runs WORDS as root through
// `sudo -S -p ''` behind the marker check. Returns nullopt for lines that do not start with
// "sudo -n ", which are run unchanged.
std::optional<std::string> sudo_with_password(std::string_view line);

// The stdin of a rewritten command: the password, the marker, then `input`.
Secret sudo_password_input(std::string_view password, std::string_view input);

// Checks the password with `sudo -S -p '' -- true` fed the password alone, so a wrong
// password fails here, before any command gets input that sudo could read as a further
// password attempt. On success, returns `session` wrapped so that every "sudo -n" command
// gets the password. Errors (kind auth) name the user and `source`, which names where the
// password came from ("the environment variable X").
Result<std::unique_ptr<ssh::RemoteSession>> with_become_password(
    std::unique_ptr<ssh::RemoteSession> session, std::shared_ptr<const Secret> password,
    const std::string& user, const std::string& source);

}  // namespace k3sjoin::phase
