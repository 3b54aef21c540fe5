#include "k3sjoin/phase/run_status.h"

#include <spdlog/spdlog.h>

#include "k3sjoin/log/log.h"
#include "k3sjoin/phase/agent_diagnosis.h"
#include "k3sjoin/phase/node_scripts.h"
#include "k3sjoin/phase/phases.h"
#include "k3sjoin/phase/remote_commands.h"
#include "k3sjoin/util/interrupt.h"
#include "k3sjoin/util/worker_pool.h"

namespace k3sjoin::phase {
namespace {

// How far back status reads an agent's journal; older lines may describe a problem that
// is already fixed.
constexpr std::chrono::minutes kJournalWindow{10};

struct ServerFacts {
  std::optional<std::vector<kube::Node>> nodes;
};

std::string node_status(const kube::Node* node) {
  if (node == nullptr) {
    return "absent";
  }
  const kube::NodeCondition* ready = node->ready_condition();
  if (ready == nullptr || ready->status == "False") {
    return "NotReady";
  }
  return ready->status == "True" ? "Ready" : "Unknown";
}

Result<ssh::CommandResult> run_on(RunContext& context, HostRun& host,
                                  const std::string& description, const std::string& script) {
  auto command =
      context.command(as_root(host.spec->user, script), context.options().command_timeout);
  return run_checked(host, description, command);
}

void read_server(RunContext& context, report::StatusRow& row, ServerFacts& facts) {
  HostRun& server = context.server();
  if (auto version = run_on(context, server, "read the k3s version", k3s_version_script())) {
    row.k3s_version = parse_k3s_version(version->out).value_or("");
  }
  if (auto active =
          run_on(context, server, "read the k3s service state", service_active_script("k3s"))) {
    row.service_active = active->out.find("active=yes") != std::string::npos;
  }
  auto nodes = run_on(context, server, "list the cluster nodes", get_nodes_script());
  if (!nodes) {
    row.detail = nodes.error().message;
    return;
  }
  auto parsed = kube::parse_node_list(nodes->out);
  if (!parsed) {
    row.detail = parsed.error().message;
    return;
  }
  facts.nodes = std::move(parsed).value();
  const kube::Node* node = kube::find_node(*facts.nodes, server.spec->name);
  row.node_status = node_status(node);
  row.node_version = node == nullptr ? "" : node->kubelet_version;
  row.matches = row.service_active.value_or(false) && row.node_status == "Ready";
  if (!row.matches) {
    row.detail = !row.service_active.value_or(false) ? "k3s service not active"
                                                     : "server node is " + row.node_status;
  }
}

// The first way in which an agent differs from the inventory; empty when it matches.
std::string agent_mismatch(const RunContext& context, const report::StatusRow& row,
                           const AgentState& state, const kube::Node* node, bool nodes_read) {
  if (state.is_server) {
    return "runs a k3s server, not an agent";
  }
  if (state.version.empty()) {
    return "k3s not installed";
  }
  if (!state.server_url.empty() && state.server_url != context.server_url) {
    return "agent of another server, " + state.server_url;
  }
  if (!row.service_active.value_or(false)) {
    return "k3s-agent service not active";
  }
  if (state.version != context.target_version) {
    return "k3s " + state.version + " installed, target " + context.target_version;
  }
  if (!nodes_read) {
    return "node state unknown: the server's node list could not be read";
  }
  if (node == nullptr) {
    return "no node " + row.name + " in the cluster";
  }
  if (row.node_status != "Ready") {
    return "node is " + row.node_status;
  }
  if (node->kubelet_version != context.target_version) {
    return "node at " + node->kubelet_version + ", target " + context.target_version;
  }
  return {};
}

void read_agent(RunContext& context, HostRun& host, report::StatusRow& row,
                const ServerFacts& facts) {
  auto inspected = run_on(context, host, "inspect the k3s install", inspect_agent_script());
  if (!inspected) {
    row.detail = inspected.error().message;
    return;
  }
  AgentState state = parse_agent_state(inspected->out);
  row.k3s_version = state.version;
  row.service_active = state.service_active;
  row.server_url = state.server_url;
  const kube::Node* node = facts.nodes ? kube::find_node(*facts.nodes, row.name) : nullptr;
  if (facts.nodes) {
    row.node_status = node_status(node);
    row.node_version = node == nullptr ? "" : node->kubelet_version;
  }
  row.detail = agent_mismatch(context, row, state, node, facts.nodes.has_value());
  row.matches = row.detail.empty();
  bool joining_here = !state.version.empty() && !state.is_server &&
                      (state.server_url.empty() || state.server_url == context.server_url);
  if (!row.matches && joining_here && facts.nodes && row.node_status != "Ready") {
    std::int64_t since =
        state.host_clock > 0 ? state.host_clock - kJournalWindow / std::chrono::seconds(1) : 0;
    host.install_clock = since;
    row.diagnosis = diagnose_agent(context, host, node);
  }
}

report::StatusRow inventory_row(const HostRun& host) {
  report::StatusRow row;
  row.name = host.spec->name;
  row.address = host.spec->address;
  row.role = host.is_server ? "server" : "agent";
  row.reachable = host.session != nullptr;
  if (!host.session && host.report.error) {
    row.detail = host.report.error->message;
  }
  return row;
}

}  // namespace

report::StatusReport run_status(const config::Inventory& inventory, const RunOptions& options,
                                const Connector& connector) {
  RunContext context(inventory, options, connector);
  context.server_url = server_url(inventory.server.address);
  connect_hosts(context);

  std::vector<report::StatusRow> rows;
  for (const HostRun& host : context.hosts()) {
    rows.push_back(inventory_row(host));
  }
  ServerFacts facts;
  if (context.server().session && !interrupted()) {
    read_server(context, rows.front(), facts);
  }
  context.server_version = rows.front().k3s_version;
  context.target_version = inventory.k3s_version.value_or(context.server_version);

  auto& hosts = context.hosts();
  run_parallel(
      hosts.size() - 1, options.parallel,
      [&](std::size_t index) {
        HostRun& host = hosts[index + 1];
        if (host.session) {
          read_agent(context, host, rows[index + 1], facts);
          return;
        }
        // The node list comes from the server, so an agent that cannot be reached still
        // has a known node state.
        if (facts.nodes) {
          report::StatusRow& row = rows[index + 1];
          const kube::Node* node = kube::find_node(*facts.nodes, row.name);
          row.node_status = node_status(node);
          row.node_version = node == nullptr ? "" : node->kubelet_version;
        }
      },
      [] { return interrupted(); });

  if (facts.nodes) {
    for (const kube::Node& node : *facts.nodes) {
      bool listed = std::any_of(hosts.begin(), hosts.end(),
                                [&](const HostRun& host) { return host.spec->name == node.name; });
      if (listed) {
        continue;
      }
      report::StatusRow row;
      row.name = node.name;
      row.role = "-";
      row.in_inventory = false;
      row.node_status = node_status(&node);
      row.node_version = node.kubelet_version;
      row.detail = "cluster node not in the inventory";
      rows.push_back(std::move(row));
    }
  }

  report::StatusReport report;
  report.inventory = inventory.path;
  report.server_version = context.server_version;
  report.target_version = context.target_version;
  report.interrupted = interrupted();
  report.duration = context.elapsed();
  report.rows = std::move(rows);
  return report;
}

}  // namespace k3sjoin::phase
