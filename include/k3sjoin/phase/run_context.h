#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "k3sjoin/config/inventory.h"
#include "k3sjoin/config/token.h"
#include "k3sjoin/kube/nodes.h"
#include "k3sjoin/report/report.h"
#include "k3sjoin/ssh/remote.h"
#include "k3sjoin/util/result.h"

namespace k3sjoin::phase {

using Clock = std::chrono::steady_clock;

struct RunOptions {
  std::size_t parallel = 10;                          // hosts worked on at once
  std::chrono::seconds timeout{300};                  // deadline for the whole run
  std::chrono::seconds poll_interval{2};              // between readiness polls
  std::chrono::seconds command_timeout{30};           // default for one remote command
  std::chrono::seconds install_timeout{240};          // for the install step of one agent
  // When set, agents join with a bootstrap token of this TTL that the run creates on the
  // server and deletes at its end, instead of the server's long-lived agent token.
  std::optional<std::chrono::seconds> bootstrap_token_ttl;
  bool preflight = true;         // `up` runs the preflight checks before changing any host
  bool strict_preflight = false;  // preflight warnings block an agent like failures
  std::string host_key_policy = "strict";  // as given on the command line, for preflight
  // Reinstall agents that are joined to this server at another k3s version.
  bool allow_version_change = false;
  // Delete a node of the same name that belongs to another machine or node password
  // before joining (join --replace), after `confirm` returned true.
  bool replace_node = false;
  // Asks the operator a yes/no question; returns false to decline. Unset: always declines.
  std::function<bool(const std::string& question)> confirm;
};

// Opens an authenticated session to a host; replaced by a fake in unit tests.
using Connector =
    std::function<Result<std::unique_ptr<ssh::RemoteSession>>(const config::HostSpec&)>;

// The state of one inventory host during a run.
struct HostRun {
  const config::HostSpec* spec = nullptr;
  bool is_server = false;
  std::shared_ptr<ssh::RemoteSession> session;
  report::HostReport report;
  std::string label;  // "address:port" for log prefixes
  std::int64_t install_clock = 0;  // host clock (Unix seconds) just before the install

  bool failed() const { return report.outcome == report::Outcome::failed; }
};

// Everything the phases of one run share. Hosts are in inventory order, server first.
class RunContext {
 public:
  RunContext(const config::Inventory& inventory, RunOptions options, Connector connector);

  const config::Inventory& inventory() const { return inventory_; }
  const RunOptions& options() const { return options_; }
  const Connector& connector() const { return connector_; }

  HostRun& server() { return hosts_.front(); }
  std::vector<HostRun>& hosts() { return hosts_; }
  std::vector<HostRun*> agents();

  // Time left until the run's deadline; zero when it has passed.
  std::chrono::milliseconds remaining() const;
  bool past_deadline() const { return remaining().count() == 0; }
  std::chrono::milliseconds elapsed() const;

  // A command whose timeout is `timeout` capped by the time left in the run.
  ssh::Command command(std::string line, std::chrono::seconds timeout) const;

  // Marks a host failed, logs the error with the host prefix and records the duration.
  // The first failure of a host wins; later ones are only logged.
  void fail(HostRun& host, Error error);

  // Records a final outcome that is not a failure.
  void finish(HostRun& host, report::Outcome outcome, std::string detail);

  // Facts gathered from the server.
  std::string server_version;  // version k3s reports on the server
  std::string target_version;  // version agents get: inventory k3s.version or server_version
  std::string server_url;      // K3S_URL for the agents
  config::JoinToken token;
  // Id of the bootstrap token this run created; empty when there is none or it was deleted.
  std::string bootstrap_token_id;
  std::vector<kube::Node> nodes_at_start;
  // Random hex that names this run's temporary directories on the hosts, so an interrupted
  // install can be found and stopped without touching another run's.
  std::string run_id;

 private:
  const config::Inventory& inventory_;
  RunOptions options_;
  Connector connector_;
  Clock::time_point started_;
  Clock::time_point deadline_;
  std::vector<HostRun> hosts_;
  std::mutex report_mutex_;
};

// Runs `command` on a host with debug logging. A non-zero exit status becomes an Error of
// kind remote_command whose message has `description`, the status and the last stderr line;
// sudo asking for a password becomes an `auth` error with the fix.
Result<ssh::CommandResult> run_checked(HostRun& host, const std::string& description,
                                       const ssh::Command& command);

}  // namespace k3sjoin::phase
