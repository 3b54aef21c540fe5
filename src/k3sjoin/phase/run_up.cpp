#include <spdlog/spdlog.h>

#include "k3sjoin/log/log.h"
#include "k3sjoin/phase/phases.h"
#include "k3sjoin/util/interrupt.h"

namespace k3sjoin::phase {
namespace {

// Agents that never got past an earlier phase get an outcome that says why.
void explain_untouched_agents(RunContext& context, bool server_ok) {
  for (HostRun* agent : context.agents()) {
    if (agent->report.outcome != report::Outcome::untouched) {
      continue;
    }
    agent->report.duration = context.elapsed();
    if (interrupted()) {
      agent->report.detail = agent->report.changed ? "interrupted during install"
                                                   : "not changed: interrupted";
      agent->report.error = Error{ErrorKind::interrupted, agent->report.detail, ""};
      if (agent->report.changed) {
        agent->report.outcome = report::Outcome::unknown;
      }
      continue;
    }
    if (!server_ok) {
      agent->report.outcome = report::Outcome::failed;
      agent->report.detail = "not changed: the server step failed";
      agent->report.error = Error{ErrorKind::remote_command, agent->report.detail,
                                  "fix the server error above, then run k3sjoin up again"};
    }
  }
}

// Removes the token from every text of the report; messages built from remote output
// could in principle carry it, and the report goes to stdout and JSON unfiltered.
void redact_report(report::RunReport& report, std::string_view token) {
  if (token.empty()) {
    return;
  }
  for (auto& host : report.hosts) {
    host.detail = redact(host.detail, {token});
    if (host.error) {
      host.error->message = redact(host.error->message, {token});
      host.error->hint = redact(host.error->hint, {token});
    }
  }
}

}  // namespace

report::RunReport run_up(const config::Inventory& inventory, const RunOptions& options,
                         const Connector& connector) {
  RunContext context(inventory, options, connector);

  connect_hosts(context);
  bool server_ok = !interrupted() && prepare_server(context);
  if (server_ok && !interrupted()) {
    join_agents(context);
  }
  explain_untouched_agents(context, server_ok);

  report::RunReport report;
  report.command = "up";
  report.inventory = inventory.path;
  report.server_version = context.server_version;
  report.interrupted = interrupted();
  report.duration = context.elapsed();
  for (auto& host : context.hosts()) {
    report.hosts.push_back(host.report);
  }
  redact_report(report, context.token.text().view());
  log::forget_secret(context.token.text().view());
  return report;
}

}  // namespace k3sjoin::phase
