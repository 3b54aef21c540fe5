#pragma once

#include "k3sjoin/phase/run_context.h"
#include "k3sjoin/report/report.h"

namespace k3sjoin::phase {

// Opens one SSH session per host, in parallel. A host that cannot be reached or
// authenticated is marked failed; the others go on.
void connect_hosts(RunContext& context);

// Reads the server's k3s version, the join token and the current node list. Returns false
// (with the server marked failed) when any of them cannot be read; no agent is touched then.
bool prepare_server(RunContext& context);

// Inspects every connected agent, skips those already joined to this server and installs
// the others, in parallel. Installed agents go to the readiness watcher, which polls the
// server until each node is Ready or the deadline passes.
void join_agents(RunContext& context);

// Runs the whole `up` command: connect, prepare the server, join the agents.
report::RunReport run_up(const config::Inventory& inventory, const RunOptions& options,
                         const Connector& connector);

// Runs the preflight checks (unless RunOptions::preflight is off) and marks the agents
// whose checks failed, so join_agents() leaves them unchanged.
void run_preflight_gate(RunContext& context);

// Ends a run: gives agents that no phase reached an outcome (untouched, install-started
// after an interrupt, or failed when the server step failed), builds the report for
// `command` with the token redacted from every text, and forgets the token.
report::RunReport finish_run(RunContext& context, bool server_ok, std::string command);

}  // namespace k3sjoin::phase
