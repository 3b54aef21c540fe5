#pragma once

#include <string>

#include "k3sjoin/config/inventory.h"
#include "k3sjoin/phase/run_context.h"
#include "k3sjoin/report/reset_report.h"

namespace k3sjoin::phase {

// Runs the `reset` command for one agent: runs k3s-agent-uninstall.sh on the host, then
// deletes the node and its node-password secret from the cluster. The node is not drained.
// A host that runs a k3s server or is an agent of another server is left alone and its node
// is not deleted. An unreachable host does not stop the node's deletion, so a dead machine
// can be removed. `node_name` must name an agent of `inventory`.
report::ResetReport run_reset(const config::Inventory& inventory, const std::string& node_name,
                              const RunOptions& options, const Connector& connector);

}  // namespace k3sjoin::phase
