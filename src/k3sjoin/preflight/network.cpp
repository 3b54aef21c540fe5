// Turns the network round's results into net.* findings (see network.h).
#include "k3sjoin/preflight/network.h"

#include <algorithm>
#include <map>

#include "k3sjoin/ssh/remote.h"

namespace k3sjoin::preflight {
namespace {

enum class PairStatus { pass, fail, skipped };

// One direction between two hosts, for one protocol.
struct PairResult {
  std::size_t source = 0;
  std::size_t target = 0;
  PairStatus status = PairStatus::skipped;
  std::string reason;  // why it failed or was skipped
};

std::string arrow(const std::vector<NetworkHost>& hosts, const PairResult& pair) {
  return hosts[pair.source].name + " -> " + hosts[pair.target].name;
}

std::string tcp_failure(const TcpProbe& probe) {
  if (probe.status == 124) {
    return "no answer within " + std::to_string(kProbeTimeout.count()) + " s (dropped)";
  }
  return "refused or unreachable (" + probe.tool + " exit " + std::to_string(probe.status) + ")";
}

// Explains why `host` cannot receive datagrams in the round. Returns an empty string when
// its listener was bound.
std::string udp_listener_problem(const NetworkHost& host) {
  if (!host.skip_reason.empty()) {
    return host.skip_reason;
  }
  if (!host.error.empty()) {
    return "the round failed on " + host.name + ": " + host.error;
  }
  if (host.result && host.result->udp_listening) {
    return {};
  }
  if (host.facts != nullptr) {
    if (const Socket* socket = host.facts->socket_on("udp", kVxlanPort)) {
      std::string owner =
          socket->process.empty() ? std::string("another process") : socket->process;
      if (socket->process == "k3s" || socket->process == "flanneld") {
        owner += " (flannel)";
      }
      return owner + " already binds " + std::to_string(kVxlanPort) + "/udp on " + host.name +
             ", so no listener was placed there";
    }
  }
  if (host.result && !host.result->udp_bind_error.empty()) {
    return "binding " + std::to_string(kVxlanPort) + "/udp on " + host.name +
           " failed: " + host.result->udp_bind_error;
  }
  return "no tool on " + host.name + " can listen (python3 is needed for the listener)";
}

PairResult udp_pair(const std::vector<NetworkHost>& hosts, std::size_t source, std::size_t target) {
  PairResult pair{source, target, PairStatus::skipped, ""};
  const NetworkHost& from = hosts[source];
  const NetworkHost& to = hosts[target];
  if (std::string problem = udp_listener_problem(to); !problem.empty()) {
    pair.reason = problem;
    return pair;
  }
  if (!from.skip_reason.empty() || !from.error.empty() || !from.result) {
    pair.reason = from.name + " took no part in the round";
    return pair;
  }
  if (from.result->udp_sender_tool == "none") {
    pair.reason = "no tool on " + from.name + " can send datagrams (bash, python3 or nc)";
    return pair;
  }
  if (to.result->udp_from.count(source) > 0) {
    pair.status = PairStatus::pass;
    return pair;
  }
  pair.status = PairStatus::fail;
  pair.reason = "none of the 3 datagrams arrived";
  return pair;
}

PairResult tcp_pair(const std::vector<NetworkHost>& hosts, std::size_t source, std::size_t target) {
  PairResult pair{source, target, PairStatus::skipped, ""};
  const NetworkHost& from = hosts[source];
  const NetworkHost& to = hosts[target];
  if (!to.skip_reason.empty()) {
    pair.reason = to.skip_reason;
    return pair;
  }
  if (!from.skip_reason.empty() || !from.error.empty() || !from.result) {
    pair.reason = from.name + " took no part in the round";
    return pair;
  }
  auto found = from.result->tcp_to.find(target);
  if (found == from.result->tcp_to.end()) {
    pair.reason = "no probe result from " + from.name;
    return pair;
  }
  const TcpProbe& probe = found->second;
  if (probe.status == 0) {
    pair.status = PairStatus::pass;
    return pair;
  }
  if (probe.status == 127) {
    pair.reason = "no tool on " + from.name + " can open a TCP connection (bash, python3 or nc)";
    return pair;
  }
  bool something_listens = to.result && to.result->tcp_listening;
  if (to.facts != nullptr && to.facts->socket_on("tcp", kKubeletPort) != nullptr) {
    something_listens = true;
  }
  if (!something_listens && probe.status != 124) {
    pair.reason = "nothing listened on " + to.name + ":" + std::to_string(kKubeletPort) +
                  " (no tool could start a listener), so a refusal proves nothing";
    return pair;
  }
  pair.status = PairStatus::fail;
  pair.reason = tcp_failure(probe);
  return pair;
}

// Lists paths as "a -> b, c -> b (reason); a -> c (other reason)": paths that share a
// reason are named together, in the order of their first appearance.
std::string join_pairs(const std::vector<NetworkHost>& hosts, const std::vector<PairResult>& pairs,
                       bool with_reason) {
  std::vector<std::pair<std::string, std::string>> groups;  // reason, paths
  for (const auto& pair : pairs) {
    std::string reason = with_reason ? pair.reason : std::string();
    auto group = std::find_if(groups.begin(), groups.end(),
                              [&reason](const auto& entry) { return entry.first == reason; });
    if (group == groups.end()) {
      groups.emplace_back(reason, arrow(hosts, pair));
    } else {
      group->second += ", " + arrow(hosts, pair);
    }
  }
  std::string text;
  for (const auto& [reason, paths] : groups) {
    text += text.empty() ? "" : "; ";
    text += paths;
    if (!reason.empty()) {
      text += " (" + reason + ")";
    }
  }
  return text;
}

// One finding per owning host: fail if any of its paths failed, skipped if any could not be
// verified, pass only when every path was seen working.
Finding summarize(std::string_view id, const std::string& host,
                  const std::vector<NetworkHost>& hosts, const std::vector<PairResult>& pairs,
                  const std::string& what, const std::string& evidence, const std::string& fix) {
  std::vector<PairResult> passed;
  std::vector<PairResult> failed;
  std::vector<PairResult> skipped;
  for (const auto& pair : pairs) {
    (pair.status == PairStatus::pass   ? passed
     : pair.status == PairStatus::fail ? failed
                                       : skipped)
        .push_back(pair);
  }
  Finding finding{std::string(id), host, Status::pass, "", evidence, ""};
  std::string verified = passed.empty() ? "" : "; open: " + join_pairs(hosts, passed, false);
  if (!failed.empty()) {
    finding.status = Status::fail;
    finding.message = what + " blocked: " + join_pairs(hosts, failed, true);
    finding.fix = fix;
  } else if (!skipped.empty()) {
    finding.status = Status::skipped;
    finding.message = what + " not verified: " + join_pairs(hosts, skipped, true);
  } else {
    finding.message = what + " open: " + join_pairs(hosts, passed, false);
    return finding;
  }
  finding.evidence += verified;
  return finding;
}

Finding api_finding(const NetworkHost& agent, const std::string& server_address) {
  Finding finding{std::string(check::kApi), agent.name, Status::pass, "", "", ""};
  const std::string endpoint = ssh::format_endpoint(server_address, kApiPort);
  if (!agent.skip_reason.empty() || !agent.error.empty() || !agent.result || !agent.result->api) {
    finding.status = Status::skipped;
    finding.message =
        "not checked: " + (agent.skip_reason.empty()
                               ? (agent.error.empty() ? std::string("no result") : agent.error)
                               : agent.skip_reason);
    return finding;
  }
  const TcpProbe& probe = agent.result->api->tcp;
  finding.evidence = "TCP connect from " + agent.name + " with " + probe.tool + ", timeout " +
                     std::to_string(kProbeTimeout.count()) + " s";
  if (probe.status == 0) {
    finding.message = agent.name + " reaches " + endpoint;
  } else if (probe.status == 127) {
    finding.status = Status::skipped;
    finding.message = "no tool on " + agent.name + " can open a TCP connection";
  } else {
    finding.status = Status::fail;
    finding.message = agent.name + " cannot reach " + endpoint + ": " + tcp_failure(probe);
    finding.fix = "allow TCP 6443 from " + agent.name +
                  " to the server (host firewall, cloud "
                  "security group); agents connect to the server on this port";
  }
  return finding;
}

Finding ca_hash_finding(const NetworkHost& agent, const std::string& server_address,
                        std::string_view ca_hash) {
  Finding finding{std::string(check::kCaHash), agent.name, Status::pass, "", "", ""};
  const std::string url = "https://" + ssh::format_endpoint(server_address, kApiPort) + "/cacerts";
  if (ca_hash.empty()) {
    finding.status = Status::skipped;
    finding.message = "not checked: the join token could not be read (see server.k3s)";
    return finding;
  }
  if (!agent.result || !agent.result->api) {
    finding.status = Status::skipped;
    finding.message = "not checked: no probe result from " + agent.name;
    return finding;
  }
  const ApiProbe& api = *agent.result->api;
  if (api.tcp.status != 0 && api.tcp.status != 127) {
    finding.status = Status::skipped;
    finding.message = "not checked: " + agent.name + " cannot reach the server (see net.api)";
    return finding;
  }
  finding.evidence = api.cacerts_tool + " on " + agent.name + " downloaded " + url +
                     " without certificate checks and sha256sum hashed it";
  if (api.cacerts_tool == "none") {
    finding.status = Status::skipped;
    finding.message = "no tool on " + agent.name +
                      " can download over HTTPS "
                      "(curl, wget, python3 or openssl)";
    return finding;
  }
  if (api.cacerts_status != 0 || api.cacerts_bytes == 0) {
    finding.status = Status::fail;
    finding.message = "downloading " + url + " failed (" + api.cacerts_tool + " exit " +
                      std::to_string(api.cacerts_status) + ")";
    finding.fix = "check that the k3s server serves HTTPS on " + server_address +
                  ":6443 and "
                  "that nothing between " +
                  agent.name + " and it intercepts TLS";
    return finding;
  }
  finding.evidence += ": " + api.cacerts_sha256;
  if (api.cacerts_sha256 == ca_hash) {
    finding.message = "/cacerts matches the token's CA hash " + std::string(ca_hash.substr(0, 12)) +
                      "...; " + agent.name + " reaches this cluster's server";
    return finding;
  }
  finding.status = Status::fail;
  finding.message = "the CA served at " + url + " to " + agent.name + " hashes to " +
                    api.cacerts_sha256.substr(0, 12) + "..., not the token's CA hash " +
                    std::string(ca_hash.substr(0, 12)) + "...";
  finding.fix = agent.name + " reaches a different TLS service at " + server_address +
                ":6443 (a proxy, NAT rule, DNS entry or another cluster's server); make " +
                server_address + " reach this server from " + agent.name +
                ", or correct the server address in the inventory";
  return finding;
}

}  // namespace

std::vector<Finding> evaluate_network(const std::vector<NetworkHost>& hosts,
                                      std::string_view ca_hash) {
  std::vector<Finding> findings;
  std::string server_address;
  for (const auto& host : hosts) {
    if (host.is_server) {
      server_address = host.address;
    }
  }
  std::map<std::size_t, std::vector<PairResult>> udp_by_owner;
  std::map<std::size_t, std::vector<PairResult>> tcp_by_owner;
  for (std::size_t source = 0; source < hosts.size(); ++source) {
    for (std::size_t target = 0; target < hosts.size(); ++target) {
      if (source == target) {
        continue;
      }
      std::size_t owner = hosts[target].is_server ? source : target;
      udp_by_owner[owner].push_back(udp_pair(hosts, source, target));
      if (!hosts[target].is_server) {
        tcp_by_owner[owner].push_back(tcp_pair(hosts, source, target));
      }
    }
  }
  const std::string window = "nonce datagrams, 3 per path, seen by the listener on the target";
  for (std::size_t index = 0; index < hosts.size(); ++index) {
    const NetworkHost& host = hosts[index];
    if (host.is_server) {
      continue;
    }
    findings.push_back(api_finding(host, server_address));
    findings.push_back(ca_hash_finding(host, server_address, ca_hash));
    std::string kubelet_evidence =
        "TCP connect to " + host.address + ":10250, timeout " +
        std::to_string(kProbeTimeout.count()) + " s, to " +
        (host.result && host.result->tcp_listening
             ? std::string("a short-lived listener")
             : std::string("the process that already listens there (see host.ports)"));
    findings.push_back(summarize(
        check::kKubelet, host.name, hosts, tcp_by_owner[index], "TCP 10250", kubelet_evidence,
        "allow TCP 10250 to " + host.name +
            " from every node (host firewall, cloud security "
            "group); the server reaches kubelets there for logs, exec and metrics"));
    std::string vxlan_fix =
        "allow UDP 8472 between all nodes in both directions (host firewall, "
        "cloud security group, hypervisor); check with tcpdump -ni any udp "
        "port 8472 on the receiving node";
    Finding vxlan = summarize(check::kVxlan, host.name, hosts, udp_by_owner[index], "UDP 8472",
                              window, vxlan_fix);
    if (vxlan.status == Status::skipped) {
      vxlan.evidence +=
          "; verified instead: that a process binds 8472/udp on the target "
          "(ss) and that the same hosts reach each other over TCP (net.api, "
          "net.kubelet)";
      vxlan.fix =
          "check UDP 8472 by hand on the paths listed, e.g. with tcpdump -ni any udp "
          "port 8472 on the receiver while the nodes run";
    }
    findings.push_back(std::move(vxlan));
  }
  return findings;
}

}  // namespace k3sjoin::preflight
