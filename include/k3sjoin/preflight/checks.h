#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "k3sjoin/config/inventory.h"
#include "k3sjoin/kube/nodes.h"
#include "k3sjoin/preflight/facts.h"
#include "k3sjoin/preflight/findings.h"
#include "k3sjoin/util/result.h"

namespace k3sjoin::preflight {

// Agent minimums (below: fail) and recommendations (below: warn). The memory and disk
// figures are the k3s agent requirements (docs.k3s.io/installation/requirements: 1 core,
// 512 MB) and the disk sizes k3sjoin asks for, because images and logs fill
// /var/lib/rancher.
inline constexpr int kMinCpus = 1;
inline constexpr int kRecommendedCpus = 2;
inline constexpr std::uint64_t kMinMemoryMiB = 512;
inline constexpr std::uint64_t kRecommendedMemoryMiB = 2048;
// MemTotal is below the installed RAM because the kernel reserves memory at boot (about 3
// to 8 percent on common VMs), so memory thresholds allow 10 percent less.
inline constexpr std::uint64_t kMemoryAllowancePercent = 10;
inline constexpr std::uint64_t kMinDiskBytes = 20'000'000'000;
inline constexpr std::uint64_t kRecommendedDiskBytes = 40'000'000'000;
// Clock offset from the server. NTP keeps clocks within milliseconds, so a few seconds
// already mean broken time sync; beyond the failure limit, certificates that the server
// has just issued may not yet be valid on the agent.
inline constexpr std::chrono::seconds kClockWarnOffset{5};
inline constexpr std::chrono::seconds kClockFailOffset{30};

// What preflight learned about one host before the network round.
struct HostProbe {
  const config::HostSpec* spec = nullptr;
  bool is_server = false;
  std::optional<Error> connect_error;  // set when no SSH session could be opened
  std::optional<bool> sudo_ok;         // absent for root logins and unreachable hosts
  std::string sudo_detail;             // sudo's last stderr line when it failed
  std::optional<HostFacts> facts;
  std::string facts_error;
  std::optional<std::chrono::milliseconds> clock_offset;  // from the operator's clock
  std::string clock_error;

  bool connected() const { return !connect_error.has_value(); }
};

// access.ssh, access.host-key and access.sudo for one host.
std::vector<Finding> check_access(const HostProbe& host, std::string_view host_key_policy);

// identity.node-name, identity.hostname, identity.node-ip for every host and
// identity.cluster-node for the agents. `nodes` is null when the server could not be read.
std::vector<Finding> check_identity(const std::vector<HostProbe>& hosts,
                                    const std::vector<kube::Node>* nodes);

// host.* for one agent. `server_clock_offset` is the server's offset from the operator,
// absent when it could not be read; `server_url` is the agents' K3S_URL.
std::vector<Finding> check_host(const HostProbe& agent,
                                std::optional<std::chrono::milliseconds> server_clock_offset,
                                std::string_view server_url);

// The classification of an existing k3s install on an agent.
enum class InstallKind { none, agent_of_this_server, agent_of_other_server, server, binary_only };
InstallKind classify_install(const phase::AgentState& state, std::string_view server_url);

// A k3s version split into numbers; nullopt for text that is not v<major>.<minor>.<patch>
// with an optional +k3s<n> suffix.
struct Version {
  int major = 0;
  int minor = 0;
  int patch = 0;
  int k3s = 0;  // the n of +k3s<n>; 0 when absent
};
std::optional<Version> parse_version(std::string_view text);

// version.skew for one agent: `agent` is the version that would be installed.
Finding check_version_skew(const std::string& host, std::string_view agent,
                           std::string_view server);

// Formats a byte count as "19.8 GB" (decimal units, as df -H and disk vendors use).
std::string format_bytes(std::uint64_t bytes);

}  // namespace k3sjoin::preflight
