#include "k3sjoin/phase/agent_diagnosis.h"

#include <spdlog/spdlog.h>

#include "k3sjoin/log/log.h"
#include "k3sjoin/phase/node_scripts.h"
#include "k3sjoin/phase/remote_commands.h"

namespace k3sjoin::phase {

diagnose::Subject diagnosis_subject(const RunContext& context, const HostRun& host) {
  return diagnose::Subject{host.spec->name, host.spec->address, context.server_url,
                           context.inventory().path};
}

Result<std::vector<std::string>> read_agent_journal(RunContext& context, HostRun& host,
                                                    std::int64_t since, bool interruptible) {
  if (!host.session) {
    return Error{ErrorKind::connect, "no SSH session to " + host.label, ""};
  }
  ssh::Command command;
  command.line = as_root(host.spec->user, journal_script(since));
  command.timeout = kJournalReadTimeout;
  command.interruptible = interruptible;
  auto result = run_checked(host, "read the k3s-agent journal", command);
  if (!result) {
    return result.error();
  }
  std::vector<std::string> lines =
      diagnose::journal_lines(result->out, context.token.text().view());
  std::string joined;
  for (const auto& line : lines) {
    joined += "\n  " + line;
  }
  spdlog::debug("{}k3s-agent journal, {} lines:{}", log::host_prefix(host.label), lines.size(),
                joined);
  return lines;
}

report::Diagnosis diagnose_agent(RunContext& context, HostRun& host, const kube::Node* node) {
  diagnose::Subject subject = diagnosis_subject(context, host);
  auto lines = read_agent_journal(context, host, host.install_clock);
  if (!lines) {
    report::Diagnosis diagnosis = diagnose::from_node_state(node, {}, subject);
    diagnosis.lines.push_back("journal not read: " + lines.error().message);
    return diagnosis;
  }
  if (auto finding = diagnose::match_journal(*lines, subject)) {
    return finding->diagnosis;
  }
  return diagnose::from_node_state(node, *lines, subject);
}

std::optional<report::Diagnosis> find_permanent_failure(RunContext& context, HostRun& host) {
  auto lines = read_agent_journal(context, host, host.install_clock);
  if (!lines) {
    spdlog::debug("{}{}", log::host_prefix(host.label), lines.error().message);
    return std::nullopt;
  }
  auto finding = diagnose::match_journal(*lines, diagnosis_subject(context, host));
  if (!finding || !finding->permanent) {
    return std::nullopt;
  }
  return finding->diagnosis;
}

}  // namespace k3sjoin::phase
