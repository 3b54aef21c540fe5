#include <algorithm>
#include <cctype>
#include <map>

#include "k3sjoin/preflight/checks.h"

namespace k3sjoin::preflight {
namespace {

constexpr const char* kNoFacts = "not checked: the host's facts could not be read";

Finding make(std::string_view id, const HostProbe& host, Status status, std::string message,
             std::string evidence = {}, std::string fix = {}) {
  return Finding{std::string(id),    host.spec->name,     status,
                 std::move(message), std::move(evidence), std::move(fix)};
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string join(const std::vector<std::string>& items, std::string_view separator = ", ") {
  std::string text;
  for (const auto& item : items) {
    if (!text.empty()) {
      text += separator;
    }
    text += item;
  }
  return text;
}

bool has_address(const HostFacts& facts, std::string_view address) {
  return std::find(facts.addresses.begin(), facts.addresses.end(), address) !=
         facts.addresses.end();
}

// Global addresses only: loopback and IPv6 link-local addresses do not identify a machine.
std::vector<std::string> global_addresses(const HostFacts& facts) {
  std::vector<std::string> result;
  for (const auto& address : facts.addresses) {
    if (address.rfind("127.", 0) == 0 || address == "::1" || address.rfind("fe80:", 0) == 0) {
      continue;
    }
    result.push_back(address);
  }
  return result;
}

Finding node_name_finding(const HostProbe& host, const std::vector<HostProbe>& hosts) {
  const std::string& name = host.spec->name;
  if (!config::is_valid_node_name(name)) {
    return make(check::kNodeName, host, Status::fail,
                "\"" + name + "\" is not a valid Kubernetes node name", "name " + name,
                "use a lower-case RFC 1123 name: letters, digits, \"-\" and \".\", at most 253 "
                "characters, each label starting and ending with a letter or digit");
  }
  for (const auto& other : hosts) {
    if (&other != &host && other.spec->name == name) {
      return make(check::kNodeName, host, Status::fail,
                  "node name " + name + " is used by more than one inventory host",
                  "also used by " + other.spec->address,
                  "give every host of the inventory its own name");
    }
  }
  return make(check::kNodeName, host, Status::pass,
              "node name " + name + " is valid and unique in the inventory");
}

Finding hostname_finding(const HostProbe& host, const std::vector<HostProbe>& hosts) {
  if (!host.facts) {
    return make(check::kHostname, host, Status::skipped, kNoFacts);
  }
  const std::string hostname = lower(host.facts->hostname);
  std::vector<std::string> same;
  for (const auto& other : hosts) {
    if (&other != &host && other.facts && lower(other.facts->hostname) == hostname) {
      same.push_back(other.spec->name + " (" + other.spec->address + ")");
    }
  }
  if (!same.empty()) {
    return make(check::kHostname, host, Status::fail,
                "hostname " + host.facts->hostname + " is also the hostname of " + join(same),
                "uname -n on " + host.spec->address + " printed " + host.facts->hostname,
                "give each machine its own hostname (hostnamectl set-hostname NAME), because k3s "
                "requires unique hostnames; if two inventory entries reach the same machine, "
                "remove one");
  }
  std::string evidence = "uname -n printed " + host.facts->hostname;
  if (hostname != host.spec->name) {
    evidence += "; the node is registered as " + host.spec->name + " (--node-name)";
  }
  return make(check::kHostname, host, Status::pass,
              "hostname " + host.facts->hostname + " is unique in the inventory", evidence);
}

Finding node_ip_finding(const HostProbe& host) {
  if (!host.facts) {
    return make(check::kNodeIp, host, Status::skipped, kNoFacts);
  }
  std::vector<std::string> addresses = global_addresses(*host.facts);
  std::string evidence =
      "ip -o addr: " + (addresses.empty() ? "no global address" : join(addresses));
  if (!host.spec->node_ip) {
    return make(check::kNodeIp, host, Status::pass,
                "no nodeIP configured; k3s picks the address of the default route", evidence);
  }
  const std::string& node_ip = *host.spec->node_ip;
  if (has_address(*host.facts, node_ip)) {
    return make(check::kNodeIp, host, Status::pass, "node IP " + node_ip + " is present", evidence);
  }
  return make(check::kNodeIp, host, Status::fail,
              "node IP " + node_ip + " is not an address of " + host.spec->name, evidence,
              "set \"nodeIP\" of " + host.spec->name +
                  " in the inventory to one of its "
                  "addresses, or add " +
                  node_ip +
                  " to the host; k3s fails to start with a "
                  "node IP the host lacks");
}

Finding cluster_node_finding(const HostProbe& host, const std::vector<kube::Node>* nodes) {
  if (nodes == nullptr) {
    return make(check::kClusterNode, host, Status::skipped,
                "not checked: the server's node list could not be read (see server.k3s)");
  }
  if (!host.facts) {
    return make(check::kClusterNode, host, Status::skipped, kNoFacts);
  }
  const std::string& name = host.spec->name;
  const kube::Node* node = kube::find_node(*nodes, name);
  if (node != nullptr) {
    std::string hostname_annotation;
    if (auto found = node->annotations.find("k3s.io/hostname"); found != node->annotations.end()) {
      hostname_annotation = found->second;
    }
    std::string evidence = "node " + name + ": internal IP " +
                           (node->internal_ip.empty() ? "unknown" : node->internal_ip) +
                           (hostname_annotation.empty() ? "" : ", hostname " + hostname_annotation);
    if (!node->internal_ip.empty() && has_address(*host.facts, node->internal_ip)) {
      return make(check::kClusterNode, host, Status::pass,
                  "node " + name + " already exists for this machine", evidence);
    }
    return make(
        check::kClusterNode, host, Status::fail,
        "node " + name + " already exists in the cluster for another machine",
        evidence + "; " + host.spec->address + " has " + join(global_addresses(*host.facts)),
        "if that machine is gone, delete the node on the server (k3s kubectl delete node " + name +
            ", which also removes its node password); otherwise give " + host.spec->address +
            " another name in the inventory");
  }
  for (const auto& other : *nodes) {
    if (!other.internal_ip.empty() && has_address(*host.facts, other.internal_ip)) {
      return make(check::kClusterNode, host, Status::warn,
                  "this machine is already node " + other.name + " (internal IP " +
                      other.internal_ip + "); joining it as " + name + " adds a second node",
                  "node " + other.name + " has internal IP " + other.internal_ip,
                  "name the host " + other.name + " in the inventory, or delete node " +
                      other.name + " on the server first");
    }
  }
  return make(check::kClusterNode, host, Status::pass, "no node named " + name + " in the cluster",
              std::to_string(nodes->size()) + " nodes listed");
}

}  // namespace

std::vector<Finding> check_identity(const std::vector<HostProbe>& hosts,
                                    const std::vector<kube::Node>* nodes) {
  std::vector<Finding> findings;
  for (const auto& host : hosts) {
    findings.push_back(node_name_finding(host, hosts));
    if (!host.connected()) {
      for (auto id : {check::kHostname, check::kNodeIp}) {
        findings.push_back(make(id, host, Status::skipped, "not checked: no SSH session"));
      }
      if (!host.is_server) {
        findings.push_back(
            make(check::kClusterNode, host, Status::skipped, "not checked: no SSH session"));
      }
      continue;
    }
    findings.push_back(hostname_finding(host, hosts));
    findings.push_back(node_ip_finding(host));
    if (!host.is_server) {
      findings.push_back(cluster_node_finding(host, nodes));
    }
  }
  return findings;
}

}  // namespace k3sjoin::preflight
