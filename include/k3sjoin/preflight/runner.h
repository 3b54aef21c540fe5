#pragma once

#include <string>

#include "k3sjoin/config/inventory.h"
#include "k3sjoin/phase/run_context.h"
#include "k3sjoin/preflight/findings.h"

namespace k3sjoin::preflight {

struct PreflightOptions {
  std::string host_key_policy = "strict";  // as given with --host-key-policy, for evidence
  bool strict = false;                     // warnings block like failures
};

// Runs every check on the hosts of `context` after connect_hosts() and prepare_server()
// (which may have failed: the checks that need the server are then skipped). Changes
// nothing on any host: the probes only read, and the network round's listeners and
// temporary files are removed before it returns. Hosts are checked in parallel.
std::vector<Finding> run_checks(phase::RunContext& context, const PreflightOptions& options);

// The `preflight` command: connects, reads the server, runs the checks and reports.
PreflightReport run_preflight(const config::Inventory& inventory,
                              const phase::RunOptions& run_options,
                              const phase::Connector& connector, const PreflightOptions& options);

// For `up`, between prepare_server() and join_agents(): runs the checks and marks every
// agent with a blocking finding failed, with the failed check ids in its detail and
// changed=false, so join_agents() leaves it alone. Other agents go on.
void gate_agents(phase::RunContext& context, const PreflightOptions& options);

}  // namespace k3sjoin::preflight
