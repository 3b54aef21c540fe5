#include "k3sjoin/preflight/findings.h"

#include <algorithm>
#include <array>
#include <iomanip>
#include <sstream>

#include "k3sjoin/report/report.h"

namespace k3sjoin::preflight {
namespace {

// The order of checks in reports: cheap local facts first, the network last.
constexpr std::array<std::string_view, 21> kCheckOrder = {
    check::kSsh,         check::kHostKey,    check::kSudo,   check::kServerK3s,
    check::kNodeName,    check::kHostname,   check::kNodeIp, check::kClusterNode,
    check::kArch,        check::kCpu,        check::kMemory, check::kDisk,
    check::kClock,       check::kDownloader, check::kPorts,  check::kK3sInstall,
    check::kVersionSkew, check::kApi,        check::kCaHash, check::kKubelet,
    check::kVxlan,
};

std::size_t check_rank(std::string_view id) {
  auto found = std::find(kCheckOrder.begin(), kCheckOrder.end(), id);
  return static_cast<std::size_t>(found - kCheckOrder.begin());
}

constexpr const char* kReset = "\033[0m";

const char* color_for(Status status) {
  switch (status) {
    case Status::pass:
      return "\033[32m";
    case Status::warn:
      return "\033[33m";
    case Status::fail:
      return "\033[31m";
    case Status::skipped:
      return "\033[36m";
  }
  return kReset;
}

std::string pad(std::string text, std::size_t width) {
  if (text.size() < width) {
    text.append(width - text.size(), ' ');
  }
  return text;
}

// The label printed in the table; failures are upper case so they stand out without colour.
std::string label_for(Status status) {
  switch (status) {
    case Status::pass:
      return "pass";
    case Status::warn:
      return "warn";
    case Status::fail:
      return "FAIL";
    case Status::skipped:
      return "skip";
  }
  return "?";
}

}  // namespace

const char* to_string(Status status) {
  switch (status) {
    case Status::pass:
      return "pass";
    case Status::warn:
      return "warn";
    case Status::fail:
      return "fail";
    case Status::skipped:
      return "skipped";
  }
  return "skipped";
}

bool is_blocking(const Finding& finding, bool strict) {
  return finding.status == Status::fail || (strict && finding.status == Status::warn);
}

bool PreflightReport::ok() const {
  if (interrupted) {
    return false;
  }
  return std::none_of(findings.begin(), findings.end(),
                      [this](const Finding& finding) { return is_blocking(finding, strict); });
}

std::size_t PreflightReport::count(Status status) const {
  return static_cast<std::size_t>(
      std::count_if(findings.begin(), findings.end(),
                    [status](const Finding& finding) { return finding.status == status; }));
}

void sort_findings(std::vector<Finding>& findings, const std::vector<ReportHost>& hosts) {
  auto host_rank = [&hosts](const std::string& name) {
    auto found = std::find_if(hosts.begin(), hosts.end(),
                              [&name](const ReportHost& host) { return host.name == name; });
    return static_cast<std::size_t>(found - hosts.begin());
  };
  std::stable_sort(findings.begin(), findings.end(), [&](const Finding& a, const Finding& b) {
    auto rank_a = std::make_pair(host_rank(a.host), check_rank(a.check));
    auto rank_b = std::make_pair(host_rank(b.host), check_rank(b.check));
    return rank_a < rank_b;
  });
}

void print_text(const PreflightReport& report, std::ostream& out, bool color) {
  std::size_t check_width = 4;
  for (const auto& finding : report.findings) {
    check_width = std::max(check_width, finding.check.size());
  }
  const std::string indent(2 + 4 + 2 + check_width + 2, ' ');
  for (const auto& host : report.hosts) {
    out << host.name << " (" << host.role << ", " << host.address << ")\n";
    for (const auto& finding : report.findings) {
      if (finding.host != host.name) {
        continue;
      }
      std::string label = pad(label_for(finding.status), 4);
      if (color) {
        label = std::string(color_for(finding.status)) + label + kReset;
      }
      out << "  " << label << "  " << pad(finding.check, check_width) << "  " << finding.message
          << '\n';
      if (finding.status == Status::pass) {
        continue;
      }
      if (!finding.evidence.empty()) {
        out << indent << "seen: " << finding.evidence << '\n';
      }
      if (!finding.fix.empty()) {
        out << indent << "fix: " << finding.fix << '\n';
      }
    }
  }
  out << report.count(Status::pass) << " passed, " << report.count(Status::warn) << " warnings, "
      << report.count(Status::fail) << " failed, " << report.count(Status::skipped)
      << " skipped on " << report.hosts.size() << " hosts in "
      << report::format_duration(report.duration);
  if (report.strict) {
    out << " (strict: warnings fail)";
  }
  if (report.interrupted) {
    out << " (interrupted)";
  }
  if (!report.ok() && !report.log_file.empty()) {
    out << "; log: " << report.log_file;
  }
  out << '\n';
}

nlohmann::json to_json(const PreflightReport& report) {
  nlohmann::json hosts = nlohmann::json::array();
  for (const auto& host : report.hosts) {
    bool host_ok =
        std::none_of(report.findings.begin(), report.findings.end(), [&](const Finding& finding) {
          return finding.host == host.name && is_blocking(finding, report.strict);
        });
    hosts.push_back(
        {{"name", host.name}, {"address", host.address}, {"role", host.role}, {"ok", host_ok}});
  }
  nlohmann::json findings = nlohmann::json::array();
  for (const auto& finding : report.findings) {
    findings.push_back({{"check", finding.check},
                        {"host", finding.host},
                        {"status", to_string(finding.status)},
                        {"message", finding.message},
                        {"evidence", finding.evidence},
                        {"fix", finding.fix}});
  }
  return {
      {"apiVersion", "k3sjoin/v1"},
      {"kind", "PreflightReport"},
      {"inventory", report.inventory},
      {"serverVersion",
       report.server_version.empty() ? nlohmann::json() : nlohmann::json(report.server_version)},
      {"ok", report.ok()},
      {"strict", report.strict},
      {"interrupted", report.interrupted},
      {"durationSeconds", static_cast<double>(report.duration.count()) / 1000.0},
      {"summary",
       {{"pass", report.count(Status::pass)},
        {"warn", report.count(Status::warn)},
        {"fail", report.count(Status::fail)},
        {"skipped", report.count(Status::skipped)}}},
      {"logFile", report.log_file.empty() ? nlohmann::json() : nlohmann::json(report.log_file)},
      {"hosts", std::move(hosts)},
      {"findings", std::move(findings)},
  };
}

}  // namespace k3sjoin::preflight
