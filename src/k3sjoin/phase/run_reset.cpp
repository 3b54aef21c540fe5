#include "k3sjoin/phase/run_reset.h"

#include <spdlog/spdlog.h>

#include "k3sjoin/log/log.h"
#include "k3sjoin/phase/node_identity.h"
#include "k3sjoin/phase/node_scripts.h"
#include "k3sjoin/phase/phases.h"
#include "k3sjoin/phase/remote_commands.h"
#include "k3sjoin/util/interrupt.h"

namespace k3sjoin::phase {
namespace {

// The uninstall script stops k3s and removes its files; on a slow disk that takes a while.
constexpr std::chrono::seconds kUninstallTimeout{120};

constexpr const char* kUninstallStep = "uninstall the k3s agent";

report::StepReport start_step(const HostRun& host, std::string step) {
  report::StepReport report;
  report.host = host.spec->name;
  report.step = std::move(step);
  return report;
}

void fail_step(RunContext& context, report::StepReport& step, Error error) {
  spdlog::error("{}: {}", step.host, error.message);
  step.result = report::StepResult::failed;
  step.detail = error.message;
  step.error = std::move(error);
  step.duration = context.elapsed();
}

// Returns false when the node must not be deleted, because the host is not an agent of this
// server or it responded but could not be trusted or logged in to.
bool uninstall_agent(RunContext& context, HostRun& agent, report::StepReport& step) {
  if (!agent.session) {
    Error error = agent.report.error.value_or(Error{ErrorKind::connect, "not connected", ""});
    // Only a machine that is gone may lose its node without an uninstall. A changed host
    // key or a failed login means a host responded, and k3s may still run there.
    bool unreachable = error.kind == ErrorKind::connect || error.kind == ErrorKind::timeout;
    if (unreachable) {
      error.hint = "k3s stays installed on " + agent.spec->address + "; run " +
                   std::string(kAgentUninstallPath) + " there once it is reachable";
    } else {
      error.hint += (error.hint.empty() ? "" : "; ") + std::string("the node was not deleted");
    }
    fail_step(context, step, error);
    return unreachable;
  }
  auto inspect = context.command(as_root(agent.spec->user, inspect_agent_script()),
                                 context.options().command_timeout);
  auto inspected = run_checked(agent, "inspect the k3s install", inspect);
  if (!inspected) {
    fail_step(context, step, inspected.error());
    return inspected.error().kind != ErrorKind::interrupted;
  }
  AgentState state = parse_agent_state(inspected->out);
  if (state.is_server) {
    fail_step(
        context, step,
        Error{ErrorKind::config, agent.spec->name + " runs a k3s server; reset removes agents only",
              "check the inventory: " + agent.spec->name + " is listed as an agent"});
    return false;
  }
  if (!state.server_url.empty() && state.server_url != context.server_url) {
    fail_step(context, step,
              Error{ErrorKind::config,
                    agent.spec->name + " is an agent of another server, " + state.server_url +
                        "; reset leaves it and the node alone",
                    "check the inventory, or uninstall it on that host yourself"});
    return false;
  }
  ssh::Command command;
  command.line = as_root(agent.spec->user, uninstall_agent_script());
  command.timeout = kUninstallTimeout;
  // Stopping the uninstall script halfway would leave k3s half removed.
  command.interruptible = false;
  spdlog::info("{}running {}", log::host_prefix(agent.label), kAgentUninstallPath);
  auto result = run_checked(agent, kUninstallStep, command);
  if (!result) {
    fail_step(context, step, result.error());
    return true;
  }
  spdlog::debug("{}uninstall output:\n{}{}", log::host_prefix(agent.label), result->out,
                result->err);
  bool absent = result->out.ends_with("absent\n");
  step.result = absent ? report::StepResult::skipped : report::StepResult::done;
  step.detail = absent ? "k3s agent not installed (no " + std::string(kAgentUninstallPath) + ")"
                       : "ran " + std::string(kAgentUninstallPath);
  step.duration = context.elapsed();
  spdlog::info("{}{}", log::host_prefix(agent.label), step.detail);
  return true;
}

void delete_cluster_node(RunContext& context, report::StepReport& step, const std::string& name) {
  if (!context.server().session) {
    fail_step(
        context, step,
        context.server().report.error.value_or(Error{ErrorKind::connect, "not connected", ""}));
    return;
  }
  auto deleted = delete_node(context, name);
  if (!deleted) {
    fail_step(context, step, deleted.error());
    return;
  }
  step.result = deleted->empty() ? report::StepResult::skipped : report::StepResult::done;
  step.detail = deleted->empty() ? "no node " + name + " in the cluster" : *deleted;
  step.duration = context.elapsed();
}

}  // namespace

report::ResetReport run_reset(const config::Inventory& inventory, const std::string& node_name,
                              const RunOptions& options, const Connector& connector) {
  config::Inventory single = inventory;
  single.agents.clear();
  if (const config::HostSpec* agent = config::find_agent(inventory, node_name)) {
    single.agents.push_back(*agent);
  }
  RunContext context(single, options, connector);
  context.server_url = server_url(inventory.server.address);
  connect_hosts(context);

  report::ResetReport report;
  report.inventory = inventory.path;
  report.node = node_name;
  HostRun& agent = *context.agents().front();
  report::StepReport uninstall = start_step(agent, kUninstallStep);
  report::StepReport remove = start_step(context.server(), "delete node " + node_name);
  remove.detail = "not run";
  bool may_delete = true;
  if (interrupted()) {
    uninstall.detail = "not run: interrupted";
    may_delete = false;
  } else {
    may_delete = uninstall_agent(context, agent, uninstall);
  }
  if (may_delete && !interrupted()) {
    delete_cluster_node(context, remove, node_name);
  } else if (interrupted()) {
    remove.detail = "not run: interrupted";
  } else {
    remove.detail = "not run: " + agent.spec->name + " is not an agent of this server";
  }
  report.steps = {uninstall, remove};
  report.interrupted = interrupted();
  report.duration = context.elapsed();
  return report;
}

}  // namespace k3sjoin::phase
