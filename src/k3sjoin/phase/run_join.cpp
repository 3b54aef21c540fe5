#include "k3sjoin/phase/run_join.h"

#include <algorithm>

#include "k3sjoin/phase/bootstrap_token.h"
#include "k3sjoin/phase/node_identity.h"
#include "k3sjoin/phase/phases.h"
#include "k3sjoin/phase/remote_commands.h"
#include "k3sjoin/util/interrupt.h"

namespace k3sjoin::phase {
namespace {

// Deletes a node of the agent's name that is not this host's, before the preflight checks
// run, because their cluster-node check would otherwise stop the replacement the operator
// asked for. Agents joined to another server are left to join_agents(), which rejects them.
void replace_taken_node(RunContext& context, HostRun& agent) {
  const kube::Node* node = kube::find_node(context.nodes_at_start, agent.spec->name);
  if (agent.failed() || node == nullptr) {
    return;
  }
  auto command = context.command(as_root(agent.spec->user, inspect_agent_script()),
                                 context.options().command_timeout);
  auto result = run_checked(agent, "inspect the existing k3s install", command);
  if (!result) {
    if (result.error().kind != ErrorKind::interrupted) {
      context.fail(agent, result.error());
    }
    return;
  }
  AgentState state = parse_agent_state(result->out);
  if (state.is_server || (!state.server_url.empty() && state.server_url != context.server_url)) {
    return;
  }
  bool replaced = false;
  if (settle_existing_node(context, agent, state, *node, replaced) && replaced) {
    std::erase_if(context.nodes_at_start,
                  [&](const kube::Node& other) { return other.name == agent.spec->name; });
  }
}

}  // namespace

report::RunReport run_join(const config::Inventory& inventory, const std::string& node_name,
                           const RunOptions& options, const Connector& connector) {
  config::Inventory single = inventory;
  single.agents.clear();
  if (const config::HostSpec* agent = config::find_agent(inventory, node_name)) {
    single.agents.push_back(*agent);
  }
  RunContext context(single, options, connector);
  BootstrapTokenGuard bootstrap_token_guard(context);

  connect_hosts(context);
  bool server_ok = !interrupted() && prepare_server(context);
  if (server_ok && !interrupted() && options.replace_node) {
    for (HostRun* agent : context.agents()) {
      replace_taken_node(context, *agent);
    }
  }
  if (server_ok && !interrupted()) {
    run_preflight_gate(context);
  }
  if (server_ok && !interrupted()) {
    join_agents(context);
  }
  return finish_run(context, server_ok, "join");
}

}  // namespace k3sjoin::phase
