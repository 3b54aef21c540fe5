#include "k3sjoin/report/report.h"

#include <algorithm>
#include <cstdio>

namespace k3sjoin::report {
namespace {

// JSON null for an empty string, so consumers can tell "unknown" from a value.
nlohmann::json string_or_null(const std::string& text) {
  return text.empty() ? nlohmann::json() : nlohmann::json(text);
}

nlohmann::json diagnosis_json(const std::optional<Diagnosis>& diagnosis) {
  if (!diagnosis) {
    return nullptr;
  }
  return {{"code", diagnosis->code},
          {"cause", diagnosis->cause},
          {"fix", diagnosis->fix},
          {"lines", diagnosis->lines}};
}

constexpr const char* kReset = "\033[0m";
constexpr const char* kGreen = "\033[32m";
constexpr const char* kRed = "\033[31m";
constexpr const char* kYellow = "\033[33m";

const char* color_for(Outcome outcome) {
  switch (outcome) {
    case Outcome::joined:
    case Outcome::already_joined:
    case Outcome::ready:
      return kGreen;
    case Outcome::failed:
      return kRed;
    case Outcome::untouched:
    case Outcome::install_started:
    case Outcome::unknown:
      return kYellow;
  }
  return kReset;
}

std::string pad(std::string text, std::size_t width) {
  if (text.size() < width) {
    text.append(width - text.size(), ' ');
  }
  return text;
}

}  // namespace

const char* to_string(Outcome outcome) {
  switch (outcome) {
    case Outcome::joined:
      return "joined";
    case Outcome::already_joined:
      return "already-joined";
    case Outcome::ready:
      return "ready";
    case Outcome::failed:
      return "failed";
    case Outcome::untouched:
      return "untouched";
    case Outcome::install_started:
      return "install-started";
    case Outcome::unknown:
      return "unknown";
  }
  return "unknown";
}

bool RunReport::all_ok() const {
  if (interrupted) {
    return false;
  }
  return std::all_of(hosts.begin(), hosts.end(), [](const HostReport& host) {
    return host.outcome == Outcome::joined || host.outcome == Outcome::already_joined ||
           host.outcome == Outcome::ready;
  });
}

std::string format_duration(std::chrono::milliseconds duration) {
  auto tenths = duration.count() / 100;
  char buffer[32];
  if (tenths < 600) {
    std::snprintf(buffer, sizeof buffer, "%lld.%llds", static_cast<long long>(tenths / 10),
                  static_cast<long long>(tenths % 10));
  } else {
    auto seconds = duration.count() / 1000;
    std::snprintf(buffer, sizeof buffer, "%lldm%02llds", static_cast<long long>(seconds / 60),
                  static_cast<long long>(seconds % 60));
  }
  return buffer;
}

void print_text(const RunReport& report, std::ostream& out, bool color) {
  std::size_t name_width = 4;
  for (const auto& host : report.hosts) {
    name_width = std::max(name_width, host.name.size());
  }
  out << pad("HOST", name_width) << "  " << pad("ROLE", 6) << "  " << pad("RESULT", 15) << "  "
      << pad("VERSION", 14) << "  " << pad("TIME", 7) << "  DETAIL\n";
  for (const auto& host : report.hosts) {
    std::string result = pad(to_string(host.outcome), 15);
    if (color) {
      result = std::string(color_for(host.outcome)) + result + kReset;
    }
    std::string version = host.node_version.empty() ? "-" : host.node_version;
    out << pad(host.name, name_width) << "  " << pad(host.role, 6) << "  " << result << "  "
        << pad(version, 14) << "  " << pad(format_duration(host.duration), 7) << "  "
        << host.detail << '\n';
    if (host.diagnosis) {
      out << pad("", name_width) << "  cause: " << host.diagnosis->cause
          << "; fix: " << host.diagnosis->fix << '\n';
    } else if (host.error && !host.error->hint.empty()) {
      out << pad("", name_width) << "  fix: " << host.error->hint << '\n';
    }
  }
  std::size_t good = 0;
  for (const auto& host : report.hosts) {
    good += (host.outcome == Outcome::joined || host.outcome == Outcome::already_joined ||
             host.outcome == Outcome::ready)
                ? 1
                : 0;
  }
  out << good << " of " << report.hosts.size() << " hosts ok";
  if (report.interrupted) {
    out << " (interrupted)";
  }
  out << " in " << format_duration(report.duration);
  if (!report.all_ok() && !report.log_file.empty()) {
    out << "; log: " << report.log_file;
  }
  out << '\n';
}

nlohmann::json to_json(const RunReport& report) {
  nlohmann::json hosts = nlohmann::json::array();
  for (const auto& host : report.hosts) {
    nlohmann::json entry = {
        {"name", host.name},
        {"address", host.address},
        {"role", host.role},
        {"outcome", to_string(host.outcome)},
        {"nodeVersion", string_or_null(host.node_version)},
        {"changed", host.changed},
        {"durationSeconds", static_cast<double>(host.duration.count()) / 1000.0},
        {"detail", host.detail},
    };
    if (host.error) {
      entry["error"] = {{"kind", k3sjoin::to_string(host.error->kind)},
                        {"message", host.error->message},
                        {"fix", host.error->hint}};
    } else {
      entry["error"] = nullptr;
    }
    entry["diagnosis"] = diagnosis_json(host.diagnosis);
    hosts.push_back(std::move(entry));
  }
  return {
      {"apiVersion", "k3sjoin/v1"},
      {"kind", "RunReport"},
      {"command", report.command},
      {"inventory", report.inventory},
      {"serverVersion", string_or_null(report.server_version)},
      {"ok", report.all_ok()},
      {"interrupted", report.interrupted},
      {"durationSeconds", static_cast<double>(report.duration.count()) / 1000.0},
      {"logFile", string_or_null(report.log_file)},
      {"hosts", std::move(hosts)},
  };
}

}  // namespace k3sjoin::report
