#pragma once

#include "k3sjoin/config/inventory.h"
#include "k3sjoin/phase/run_context.h"
#include "k3sjoin/report/status_report.h"

namespace k3sjoin::phase {

// Runs the `status` command, which reads and changes nothing. It connects to every host and
// reads the server's k3s version, service state and node list, but never its token. Then it
// inspects each agent's install and compares each host with the inventory. An agent
// matches when it runs k3s-agent at the target version, joined to this server, and its node
// is Ready at that version. Agents whose node is not Ready get a diagnosis from their
// journal of the last 10 minutes. Cluster nodes that the inventory lacks are extra rows,
// which do not match.
report::StatusReport run_status(const config::Inventory& inventory, const RunOptions& options,
                                const Connector& connector);

}  // namespace k3sjoin::phase
