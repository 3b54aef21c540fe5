#include "k3sjoin/report/status_report.h"

#include <algorithm>

namespace k3sjoin::report {
namespace {

std::string pad(std::string text, std::size_t width) {
  if (text.size() < width) {
    text.append(width - text.size(), ' ');
  }
  return text;
}

std::string yes_no(const std::optional<bool>& value, const char* yes, const char* no) {
  if (!value) {
    return "-";
  }
  return *value ? yes : no;
}

std::string or_dash(const std::string& text) {
  return text.empty() ? "-" : text;
}

nlohmann::json optional_bool(const std::optional<bool>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json();
}

nlohmann::json string_or_null(const std::string& text) {
  return text.empty() ? nlohmann::json() : nlohmann::json(text);
}

}  // namespace

bool StatusReport::ok() const {
  return !interrupted &&
         std::all_of(rows.begin(), rows.end(), [](const StatusRow& row) { return row.matches; });
}

void print_status(const StatusReport& report, std::ostream& out, bool color) {
  std::size_t name_width = 4;
  for (const auto& row : report.rows) {
    name_width = std::max(name_width, row.name.size());
  }
  out << pad("HOST", name_width) << "  " << pad("ROLE", 6) << "  " << pad("SSH", 3) << "  "
      << pad("K3S", 14) << "  " << pad("SERVICE", 8) << "  " << pad("NODE", 8) << "  "
      << pad("MATCH", 5) << "  DETAIL\n";
  std::size_t matching = 0;
  for (const auto& row : report.rows) {
    matching += row.matches ? 1 : 0;
    std::string match = pad(row.matches ? "yes" : "no", 5);
    if (color) {
      match = (row.matches ? "\033[32m" : "\033[31m") + match + "\033[0m";
    }
    out << pad(row.name, name_width) << "  " << pad(row.role, 6) << "  "
        << pad(yes_no(row.reachable, "yes", "no"), 3) << "  " << pad(or_dash(row.k3s_version), 14)
        << "  " << pad(yes_no(row.service_active, "active", "inactive"), 8) << "  "
        << pad(or_dash(row.node_status), 8) << "  " << match << "  " << row.detail << '\n';
    if (row.diagnosis) {
      out << pad("", name_width) << "  cause: " << row.diagnosis->cause
          << "; fix: " << row.diagnosis->fix << '\n';
    }
  }
  out << matching << " of " << report.rows.size() << " rows match the inventory";
  if (!report.target_version.empty()) {
    out << " (target " << report.target_version << ")";
  }
  if (report.interrupted) {
    out << " (interrupted)";
  }
  if (!report.ok() && !report.log_file.empty()) {
    out << "; log: " << report.log_file;
  }
  out << '\n';
}

nlohmann::json status_to_json(const StatusReport& report) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& row : report.rows) {
    nlohmann::json diagnosis;
    if (row.diagnosis) {
      diagnosis = {{"code", row.diagnosis->code},
                   {"cause", row.diagnosis->cause},
                   {"fix", row.diagnosis->fix},
                   {"lines", row.diagnosis->lines}};
    }
    rows.push_back({
        {"name", row.name},
        {"address", string_or_null(row.address)},
        {"role", row.role},
        {"inInventory", row.in_inventory},
        {"reachable", optional_bool(row.reachable)},
        {"k3sVersion", string_or_null(row.k3s_version)},
        {"serviceActive", optional_bool(row.service_active)},
        {"serverURL", string_or_null(row.server_url)},
        {"nodeStatus", string_or_null(row.node_status)},
        {"nodeVersion", string_or_null(row.node_version)},
        {"matches", row.matches},
        {"detail", row.detail},
        {"diagnosis", diagnosis},
    });
  }
  return {
      {"apiVersion", "k3sjoin/v1"},
      {"kind", "StatusReport"},
      {"inventory", report.inventory},
      {"serverVersion", string_or_null(report.server_version)},
      {"targetVersion", string_or_null(report.target_version)},
      {"ok", report.ok()},
      {"interrupted", report.interrupted},
      {"durationSeconds", static_cast<double>(report.duration.count()) / 1000.0},
      {"logFile", string_or_null(report.log_file)},
      {"hosts", std::move(rows)},
  };
}

}  // namespace k3sjoin::report
