#pragma once

#include <string>

#include "k3sjoin/config/inventory.h"
#include "k3sjoin/phase/run_context.h"
#include "k3sjoin/report/report.h"

namespace k3sjoin::phase {

// Runs the `join` command for one agent of the inventory. It connects to the server and the
// agent and prepares the server. It replaces a node of the same name when
// RunOptions::replace_node allows it, runs the agent's preflight checks, then joins it as
// `up` does. `node_name` must
// name an agent of `inventory`. The report lists the server and that agent.
report::RunReport run_join(const config::Inventory& inventory, const std::string& node_name,
                           const RunOptions& options, const Connector& connector);

}  // namespace k3sjoin::phase
