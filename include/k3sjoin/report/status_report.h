#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "k3sjoin/report/report.h"

namespace k3sjoin::report {

// One row of `k3sjoin status`: an inventory host, or a cluster node the inventory lacks.
struct StatusRow {
  std::string name;
  std::string address;  // empty for a node that is not in the inventory
  std::string role;     // "server", "agent", or "-" for such a node
  bool in_inventory = true;
  std::optional<bool> reachable;       // SSH login worked; absent when not tried
  std::string k3s_version;             // installed k3s; empty when absent or unknown
  std::optional<bool> service_active;  // k3s on the server, k3s-agent on agents
  std::string server_url;              // agents: K3S_URL of the install; empty when none
  std::string node_status;             // Ready, NotReady, Unknown or absent; empty: not read
  std::string node_version;            // kubelet version of the node
  bool matches = false;                // the host is as the inventory describes it
  std::string detail;                  // why it does not match; empty when it matches
  std::optional<Diagnosis> diagnosis;  // for agents whose node is not Ready
};

struct StatusReport {
  std::string inventory;
  std::string server_version;
  std::string target_version;  // version the agents should run
  bool interrupted = false;
  std::chrono::milliseconds duration{0};
  std::vector<StatusRow> rows;  // inventory order, server first, then nodes not in it
  std::string log_file;

  // True when every row matches and the run was not interrupted.
  bool ok() const;
};

// Writes a table with one line per row, a cause-and-fix line under rows with a diagnosis,
// and a summary line.
void print_status(const StatusReport& report, std::ostream& out, bool color);

// The JSON document described in docs/output.md (kind StatusReport).
nlohmann::json status_to_json(const StatusReport& report);

}  // namespace k3sjoin::report
