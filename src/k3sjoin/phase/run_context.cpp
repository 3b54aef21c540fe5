#include "k3sjoin/phase/run_context.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>

#include "k3sjoin/log/log.h"

namespace k3sjoin::phase {
namespace {

// The last non-empty line of a command's stderr, for one-line error messages.
std::string last_line(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.remove_suffix(1);
  }
  auto start = text.rfind('\n');
  std::string_view line = start == std::string_view::npos ? text : text.substr(start + 1);
  constexpr std::size_t kMaxLength = 300;
  if (line.size() > kMaxLength) {
    return std::string(line.substr(0, kMaxLength)) + "...";
  }
  return std::string(line);
}

}  // namespace

RunContext::RunContext(const config::Inventory& inventory, RunOptions options,
                       Connector connector)
    : inventory_(inventory),
      options_(options),
      connector_(std::move(connector)),
      started_(Clock::now()),
      deadline_(started_ + options.timeout) {
  auto add = [&](const config::HostSpec& spec, bool is_server) {
    HostRun host;
    host.spec = &spec;
    host.is_server = is_server;
    host.label = ssh::format_endpoint(spec.address, spec.port);
    host.report.name = spec.name;
    host.report.address = spec.address;
    host.report.role = is_server ? "server" : "agent";
    host.report.outcome = report::Outcome::untouched;
    host.report.detail = "not started";
    hosts_.push_back(std::move(host));
  };
  std::random_device random;
  constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 12; ++i) {
    run_id.push_back(kHex[random() % 16]);
  }
  hosts_.reserve(inventory.agents.size() + 1);
  add(inventory.server, true);
  for (const auto& agent : inventory.agents) {
    add(agent, false);
  }
}

std::vector<HostRun*> RunContext::agents() {
  std::vector<HostRun*> result;
  for (std::size_t i = 1; i < hosts_.size(); ++i) {
    result.push_back(&hosts_[i]);
  }
  return result;
}

std::chrono::milliseconds RunContext::remaining() const {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now());
  return std::max(left, std::chrono::milliseconds(0));
}

std::chrono::milliseconds RunContext::elapsed() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started_);
}

ssh::Command RunContext::command(std::string line, std::chrono::seconds timeout) const {
  ssh::Command result;
  result.line = std::move(line);
  // A command always gets at least one second, so a step started just before the deadline
  // fails with a timeout instead of not running at all.
  result.timeout = std::clamp<std::chrono::milliseconds>(remaining(), std::chrono::seconds(1),
                                                         timeout);
  return result;
}

void RunContext::fail(HostRun& host, Error error) {
  std::lock_guard lock(report_mutex_);
  spdlog::error("{}{}", log::host_prefix(host.label), error.message);
  if (host.report.outcome == report::Outcome::failed) {
    return;
  }
  host.report.outcome = report::Outcome::failed;
  host.report.detail = error.message;
  host.report.error = std::move(error);
  host.report.duration = elapsed();
}

void RunContext::finish(HostRun& host, report::Outcome outcome, std::string detail) {
  std::lock_guard lock(report_mutex_);
  spdlog::info("{}{}", log::host_prefix(host.label), detail);
  host.report.outcome = outcome;
  host.report.detail = std::move(detail);
  host.report.duration = elapsed();
}

Result<ssh::CommandResult> run_checked(HostRun& host, const std::string& description,
                                       const ssh::Command& command) {
  spdlog::debug("{}{}", log::host_prefix(host.label), description);
  auto result = host.session->run(command);
  if (!result) {
    Error error = result.error();
    error.message = description + ": " + error.message;
    return error;
  }
  if (result->exit_status == 0) {
    return result;
  }
  const std::string& err = result->err;
  if (err.find("a password is required") != std::string::npos ||
      err.find("a terminal is required") != std::string::npos) {
    return Error{ErrorKind::auth,
                 description + ": sudo asks " + host.spec->user + " for a password",
                 "pass --ask-become-pass or set \"become\": {\"passwordEnv\": ...} in the "
                 "inventory, allow passwordless sudo for " +
                     host.spec->user + " (NOPASSWD in /etc/sudoers.d), or log in as root"};
  }
  if (err.find("incorrect password") != std::string::npos ||
      err.find("Sorry, try again") != std::string::npos) {
    return Error{ErrorKind::auth,
                 description + ": sudo rejected the become password for " + host.spec->user,
                 "check the sudo password given with --ask-become-pass or become.passwordEnv"};
  }
  std::string message = description + " failed with exit status " +
                        std::to_string(result->exit_status);
  if (std::string line = last_line(err); !line.empty()) {
    message += ": " + line;
  }
  return Error{ErrorKind::remote_command, message, ""};
}

}  // namespace k3sjoin::phase
