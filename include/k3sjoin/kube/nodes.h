#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "k3sjoin/util/result.h"

namespace k3sjoin::kube {

// One entry of a node's status.conditions.
struct NodeCondition {
  std::string type;    // Ready, MemoryPressure, ...
  std::string status;  // True, False or Unknown
  std::string reason;  // KubeletReady, KubeletNotReady, NodeStatusUnknown, ...
  std::string message;
};

// The facts k3sjoin reads from a Node object.
struct Node {
  std::string name;
  std::string kubelet_version;     // status.nodeInfo.kubeletVersion, e.g. v1.31.4+k3s1
  std::string internal_ip;         // first InternalIP address, empty when absent
  std::vector<std::string> roles;  // from node-role.kubernetes.io/<role> labels, sorted
  std::string creation_timestamp;  // RFC 3339, as the API returns it
  std::map<std::string, std::string> annotations;
  std::vector<NodeCondition> conditions;

  // The Ready condition, if the node reports one.
  const NodeCondition* ready_condition() const;
  bool is_ready() const;
};

// Parses `kubectl get nodes -o json` output (a v1 List or NodeList, or the single Node that
// `kubectl get node NAME -o json` prints). Errors have kind remote_command and name the JSON
// pointer of the malformed field.
Result<std::vector<Node>> parse_node_list(std::string_view json);

// Finds a node by name; nullptr when absent.
const Node* find_node(const std::vector<Node>& nodes, std::string_view name);

}  // namespace k3sjoin::kube
