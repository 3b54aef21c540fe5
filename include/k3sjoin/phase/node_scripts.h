#pragma once

#include <cstdint>
#include <string>
#include <string_view>

// Shell scripts for diagnosis, node replacement, reset and interrupted installs. Each one
// is meant to run through as_root(); none prints a token or a node password except
// read_node_password_script(), whose output callers keep in a Secret.

namespace k3sjoin::phase {

inline constexpr std::string_view kNodePasswordPath = "/etc/rancher/node/password";
inline constexpr std::string_view kAgentUninstallPath = "/usr/local/bin/k3s-agent-uninstall.sh";

// Prints the last 200 lines of the k3s-agent journal, from `since` (Unix seconds on the
// host's clock) when it is not 0. Exits 0 also when journalctl fails, whose error then is
// the output.
std::string journal_script(std::int64_t since);

// Prints /etc/rancher/node/password.
std::string read_node_password_script();

// Prints the scrypt hash in secret kube-system/NODE.node-password.k3s, nothing when the
// secret does not exist. Runs on the server.
std::string node_password_hash_script(std::string_view node_name);

// Deletes node NODE and its node-password secret; either may be absent. Prints kubectl's
// "... deleted" lines. Runs on the server.
std::string delete_node_script(std::string_view node_name);

// Runs k3s-agent-uninstall.sh when it exists. The last line is "uninstalled" or "absent".
std::string uninstall_agent_script();

// Stops the install started with `run_id` (see install_agent_script()): sends SIGTERM to
// its process group, SIGKILL after 5 s, and removes its temporary directory. Looks twice,
// a second apart, in case the install had not made its directory yet. Then prints
// "k3s=yes|no" (binary installed) and "active=yes|no" (k3s-agent running).
std::string stop_install_script(std::string_view run_id);

// Prints "active=yes" or "active=no" for a systemd unit.
std::string service_active_script(std::string_view unit);

}  // namespace k3sjoin::phase
