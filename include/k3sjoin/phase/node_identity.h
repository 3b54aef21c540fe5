#pragma once

#include <string>
#include <string_view>

#include "k3sjoin/kube/nodes.h"
#include "k3sjoin/phase/remote_commands.h"
#include "k3sjoin/phase/run_context.h"
#include "k3sjoin/util/result.h"

namespace k3sjoin::phase {

// Whose node an existing cluster node of the agent's name is.
enum class NodeOwner {
  this_host,       // same node IP and node password: rejoining is safe
  other_password,  // the host has no or another node password (wiped, reinstalled, renamed)
  other_machine,   // the node's internal IP is not the agent's node IP
};

struct NodeOwnership {
  NodeOwner owner = NodeOwner::this_host;
  std::string reason;  // one clause, e.g. "agent-01 has no /etc/rancher/node/password"
};

// Decides whether `node` belongs to the agent `host`. The node IP is compared when the
// inventory sets one. Then the host's /etc/rancher/node/password is checked against the
// scrypt hash in the server's NODE.node-password.k3s secret, which is the check k3s itself
// makes at join. A node without that secret counts as this host's, because k3s then accepts
// any password. Errors: the password or the secret could not be read.
Result<NodeOwnership> check_node_owner(RunContext& context, HostRun& host, const AgentState& state,
                                       const kube::Node& node);

// True when `password` matches a k3s node password hash "$1:<salt hex>:<log2 N>:<r>:<p>:<key
// hex>" (scrypt). Surrounding white space of `password` is ignored, as k3s ignores it.
// Malformed hashes do not match.
bool verify_node_password(std::string_view password, std::string_view hash);

// Deletes node `node_name` and its node-password secret on the server. Either may be
// absent. Returns kubectl's "... deleted" lines, joined with "; ".
Result<std::string> delete_node(RunContext& context, const std::string& node_name);

// Handles a cluster node that has the agent's name. Returns true when the join may go on:
// the node is this host's, or it was replaced (then `replaced` is set). Replacing needs
// RunOptions::replace_node and a yes from RunOptions::confirm. Otherwise marks the host
// failed with the reason and the fix (and a node-name-taken diagnosis) and returns false.
bool settle_existing_node(RunContext& context, HostRun& host, const AgentState& state,
                          const kube::Node& node, bool& replaced);

}  // namespace k3sjoin::phase
