#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "k3sjoin/util/result.h"

namespace k3sjoin::phase {

// Paths that k3s itself uses; see docs.k3s.io and the k3s install script.
inline constexpr std::string_view kServerTokenPath = "/var/lib/rancher/k3s/server/node-token";
inline constexpr std::string_view kAgentTokenPath = "/var/lib/rancher/k3s/server/agent-token";
inline constexpr std::string_view kAgentEnvFile = "/etc/systemd/system/k3s-agent.service.env";
inline constexpr std::string_view kAgentService = "k3s-agent";
inline constexpr std::string_view kInstallStepPrefix = "k3sjoin step: ";

// Wraps a shell script so it runs as root: as it is for the root user, otherwise through
// `sudo -n`, which fails at once instead of prompting when sudo wants a password.
std::string as_root(std::string_view login_user, std::string_view script);

// Prints the installed k3s version line ("k3s version v1.31.4+k3s1 (...)").
std::string k3s_version_script();

// Prints the agent token (the server token when no separate agent token exists) on stdout.
std::string read_token_script();

// Prints `kubectl get nodes -o json` on the server.
std::string get_nodes_script();

// Prints key=value lines describing an existing k3s install on a host: service state,
// configured server URL, installed version, whether the host is a k3s server, whether it
// has a node password file and the host's clock. The token line of the env file and the
// node password are never printed.
std::string inspect_agent_script();

// State of an existing k3s install, parsed from inspect_agent_script() output.
struct AgentState {
  bool service_active = false;
  std::string server_url;       // K3S_URL from the agent's env file; empty when absent
  std::string version;          // installed k3s version, empty when k3s is absent
  bool is_server = false;       // /var/lib/rancher/k3s/server exists
  bool has_node_password = false;  // /etc/rancher/node/password exists
  std::int64_t host_clock = 0;     // the host's time in Unix seconds; 0 when unknown
};
AgentState parse_agent_state(std::string_view output);

// Extracts "v1.31.4+k3s1" from `k3s --version` output; nullopt when it does not match.
std::optional<std::string> parse_k3s_version(std::string_view output);

struct InstallRequest {
  std::string server_url;       // https://SERVER:6443
  std::string version;          // INSTALL_K3S_VERSION
  std::string install_url;      // URL of install.sh
  std::string node_name;
  std::optional<std::string> node_ip;
  std::vector<std::string> extra_args;
  std::chrono::seconds timeout{240};  // enforced on the host with coreutils timeout
  std::string run_id;           // names the temporary directory; see stop_install_script()
};

// Builds the install script. It reads the token from the first line of stdin into
// K3S_TOKEN (a shell variable exported to install.sh, never an argument), downloads the
// installer into a private temporary directory /tmp/k3sjoin-RUN_ID.XXXXXXXX that is removed
// on exit, runs it with INSTALL_K3S_SKIP_START=true and then starts k3s-agent without
// waiting, because the installer's own start blocks until the agent is up and a failing
// join would hang it. The directory holds the process group id of the install, and each
// step writes a line starting with kInstallStepPrefix to stderr.
std::string install_agent_script(const InstallRequest& request);

// The K3S_URL for a server address: https://ADDRESS:6443, with brackets for IPv6.
std::string server_url(std::string_view address);

}  // namespace k3sjoin::phase
