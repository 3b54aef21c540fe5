#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "k3sjoin/preflight/facts.h"
#include "k3sjoin/preflight/findings.h"

namespace k3sjoin::preflight {

// Ports from the k3s inbound rules (docs.k3s.io/installation/requirements).
inline constexpr int kApiPort = 6443;       // agents to servers: supervisor and API server
inline constexpr int kKubeletPort = 10250;  // all nodes to all nodes: kubelet
inline constexpr int kVxlanPort = 8472;     // all nodes to all nodes: flannel VXLAN (UDP)
inline constexpr int kAgentLbPort = 6444;   // the agent's local load balancer (loopback)

// Every TCP connect and /cacerts download on a host is cut off after this long.
inline constexpr std::chrono::seconds kProbeTimeout{3};
// Probes that one source host runs at once; further targets wait for the next batch.
inline constexpr std::size_t kProbeConcurrency = 16;
// Time between the start of the network round and the first probe, so that every
// listener is bound before any source sends. SSH commands start within milliseconds of
// each other because the sessions are already open.
inline constexpr std::chrono::milliseconds kStartDelay{1500};

// One peer that a host probes in the network round.
struct NetworkTarget {
  std::size_t index = 0;  // the peer's position in the round
  std::string address;    // the peer's node IP
  bool udp = false;       // send VXLAN datagrams with the nonce
  bool tcp = false;       // connect to the kubelet port
};

// What one host does in the network round: listen, then probe its peers.
struct NetworkPlan {
  std::size_t index = 0;
  std::string nonce;        // random per run; datagrams carry "<nonce> <source index>"
  bool listen_udp = false;  // bind 0.0.0.0:8472/udp
  bool listen_tcp = false;  // bind 0.0.0.0:10250/tcp
  std::vector<NetworkTarget> targets;
  std::string api_address;         // agents: the server address for the 6443 and /cacerts probe
  std::chrono::seconds window{0};  // listener lifetime; see network_window()
};

// The listener lifetime for a round in which a source probes `targets` peers: the start
// delay, one probe timeout per batch of kProbeConcurrency, and one second of margin.
std::chrono::seconds network_window(std::size_t targets);

// The round's shell script. Temporary files live in a `mktemp -d` directory that an EXIT
// trap removes; the listener runs under `timeout`, so it ends after `window` even when the
// SSH channel or k3sjoin dies. The script prints result lines for parse_network_output().
std::string network_script(const NetworkPlan& plan);

// Outcome of one TCP connect: the tool used and its exit status (0 connected, 124 timed
// out, 127 no tool, anything else refused or unreachable).
struct TcpProbe {
  std::string tool;
  int status = 127;
};

struct ApiProbe {
  TcpProbe tcp;
  std::string cacerts_tool;    // curl, wget, python3, openssl or none
  int cacerts_status = 127;    // the download's exit status
  std::string cacerts_sha256;  // hex digest of the downloaded bytes
  std::size_t cacerts_bytes = 0;
};

// What parse_network_output() read from one host's round.
struct NetworkResult {
  std::string listener_tool;   // python3, or "none" when no tool could listen
  std::string udp_bind_error;  // non-empty when 8472/udp could not be bound
  std::string tcp_bind_error;  // non-empty when 10250/tcp could not be bound
  bool udp_listening = false;
  bool tcp_listening = false;
  std::set<std::size_t> udp_from;          // source indexes whose datagram carried the nonce
  std::string udp_sender_tool;             // tool this host used to send datagrams
  std::map<std::size_t, TcpProbe> tcp_to;  // target index -> kubelet connect result
  std::optional<ApiProbe> api;
};

NetworkResult parse_network_output(std::string_view output, std::string_view nonce);

// One host's part in the round, as evaluate_network() needs it.
struct NetworkHost {
  std::string name;
  bool is_server = false;
  std::string address;               // node IP used as the probe target
  const HostFacts* facts = nullptr;  // null when the facts could not be read
  std::string skip_reason;           // non-empty when the host took no part in the round
  const NetworkPlan* plan = nullptr;
  std::optional<NetworkResult> result;
  std::string error;  // the round's command failed on this host
};

// net.api and net.ca-hash for every agent, net.kubelet for every agent as a target, and
// net.vxlan. A pair's finding belongs to the agent in it: the target when the target is an
// agent, else the source. `ca_hash` is the token's CA hash; empty when unknown.
std::vector<Finding> evaluate_network(const std::vector<NetworkHost>& hosts,
                                      std::string_view ca_hash);

}  // namespace k3sjoin::preflight
