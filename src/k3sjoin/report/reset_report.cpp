#include "k3sjoin/report/reset_report.h"

#include <algorithm>

#include "k3sjoin/report/report.h"

namespace k3sjoin::report {
namespace {

std::string pad(std::string text, std::size_t width) {
  if (text.size() < width) {
    text.append(width - text.size(), ' ');
  }
  return text;
}

}  // namespace

const char* to_string(StepResult result) {
  switch (result) {
    case StepResult::done:
      return "done";
    case StepResult::skipped:
      return "skipped";
    case StepResult::failed:
      return "failed";
    case StepResult::not_run:
      return "not-run";
  }
  return "not-run";
}

bool ResetReport::ok() const {
  return !interrupted && std::all_of(steps.begin(), steps.end(), [](const StepReport& step) {
    return step.result == StepResult::done || step.result == StepResult::skipped;
  });
}

void print_reset(const ResetReport& report, std::ostream& out, bool color) {
  std::size_t host_width = 4;
  std::size_t step_width = 4;
  for (const auto& step : report.steps) {
    host_width = std::max(host_width, step.host.size());
    step_width = std::max(step_width, step.step.size());
  }
  out << pad("HOST", host_width) << "  " << pad("STEP", step_width) << "  " << pad("RESULT", 7)
      << "  " << pad("TIME", 7) << "  DETAIL\n";
  for (const auto& step : report.steps) {
    std::string result = pad(to_string(step.result), 7);
    if (color) {
      bool good = step.result == StepResult::done || step.result == StepResult::skipped;
      result = (good ? "\033[32m" : "\033[31m") + result + "\033[0m";
    }
    out << pad(step.host, host_width) << "  " << pad(step.step, step_width) << "  " << result
        << "  " << pad(format_duration(step.duration), 7) << "  " << step.detail << '\n';
    if (step.error && !step.error->hint.empty()) {
      out << pad("", host_width) << "  fix: " << step.error->hint << '\n';
    }
  }
  out << "reset of node " << report.node << (report.ok() ? " complete" : " incomplete");
  if (report.interrupted) {
    out << " (interrupted)";
  }
  out << " in " << format_duration(report.duration);
  if (!report.ok() && !report.log_file.empty()) {
    out << "; log: " << report.log_file;
  }
  out << '\n';
}

nlohmann::json reset_to_json(const ResetReport& report) {
  nlohmann::json steps = nlohmann::json::array();
  for (const auto& step : report.steps) {
    nlohmann::json error;
    if (step.error) {
      error = {{"kind", k3sjoin::to_string(step.error->kind)},
               {"message", step.error->message},
               {"fix", step.error->hint}};
    }
    steps.push_back({{"host", step.host},
                     {"step", step.step},
                     {"result", to_string(step.result)},
                     {"detail", step.detail},
                     {"durationSeconds", static_cast<double>(step.duration.count()) / 1000.0},
                     {"error", error}});
  }
  return {
      {"apiVersion", "k3sjoin/v1"},
      {"kind", "ResetReport"},
      {"inventory", report.inventory},
      {"node", report.node},
      {"ok", report.ok()},
      {"interrupted", report.interrupted},
      {"durationSeconds", static_cast<double>(report.duration.count()) / 1000.0},
      {"logFile", report.log_file.empty() ? nlohmann::json() : nlohmann::json(report.log_file)},
      {"steps", std::move(steps)},
  };
}

}  // namespace k3sjoin::report
