#include <spdlog/spdlog.h>

#include "k3sjoin/log/log.h"
#include "k3sjoin/phase/bootstrap_token.h"
#include "k3sjoin/phase/phases.h"
#include "k3sjoin/preflight/runner.h"
#include "k3sjoin/util/interrupt.h"

namespace k3sjoin::phase {
namespace {

// Agents that never got past an earlier phase get an outcome that gives the reason.
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
        agent->report.outcome = report::Outcome::install_started;
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

// Removes the token from every text of the report. Messages built from remote output could
// in principle carry it, and the report goes to stdout and JSON without the log's filter.
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
    if (host.diagnosis) {
      for (std::string* text : {&host.diagnosis->cause, &host.diagnosis->fix}) {
        *text = redact(*text, {token});
      }
      for (auto& line : host.diagnosis->lines) {
        line = redact(line, {token});
      }
    }
  }
}

}  // namespace

void run_preflight_gate(RunContext& context) {
  if (!context.options().preflight) {
    spdlog::warn("preflight skipped (--skip-preflight): hosts are changed without checks");
    return;
  }
  preflight::PreflightOptions options;
  options.strict = context.options().strict_preflight;
  options.host_key_policy = context.options().host_key_policy;
  preflight::gate_agents(context, options);
}

report::RunReport run_up(const config::Inventory& inventory, const RunOptions& options,
                         const Connector& connector) {
  RunContext context(inventory, options, connector);
  BootstrapTokenGuard bootstrap_token_guard(context);

  connect_hosts(context);
  bool server_ok = !interrupted() && prepare_server(context);
  if (server_ok && !interrupted()) {
    run_preflight_gate(context);
  }
  if (server_ok && !interrupted()) {
    join_agents(context);
  }
  return finish_run(context, server_ok, "up");
}

report::RunReport finish_run(RunContext& context, bool server_ok, std::string command) {
  // Before the report is built, so a failed delete is part of it.
  delete_bootstrap_token(context);
  explain_untouched_agents(context, server_ok);

  report::RunReport report;
  report.command = std::move(command);
  report.inventory = context.inventory().path;
  report.server_version = context.server_version;
  report.interrupted = interrupted();
  report.duration = context.elapsed();
  for (auto& host : context.hosts()) {
    report.hosts.push_back(host.report);
  }
  redact_report(report, context.token.text().view());
  redact_report(report, context.token.secret_part());
  log::forget_secret(context.token.text().view());
  return report;
}

}  // namespace k3sjoin::phase
