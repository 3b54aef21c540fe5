#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "k3sjoin/util/result.h"

namespace k3sjoin::report {

enum class StepResult {
  done,     // the step changed what it should
  skipped,  // nothing to do, e.g. k3s was not installed
  failed,   // `error` contains the reason
  not_run,  // an earlier failure or an interrupt stopped the run first
};

// "done", "skipped", "failed" or "not-run".
const char* to_string(StepResult result);

// One step of `k3sjoin reset`.
struct StepReport {
  std::string host;  // inventory name of the host the step ran on
  std::string step;  // what the step does, e.g. "uninstall the k3s agent"
  StepResult result = StepResult::not_run;
  std::string detail;  // one line: what happened
  std::optional<Error> error;
  std::chrono::milliseconds duration{0};
};

struct ResetReport {
  std::string inventory;
  std::string node;
  bool interrupted = false;
  std::chrono::milliseconds duration{0};
  std::vector<StepReport> steps;  // in the order they ran
  std::string log_file;

  // True when no step failed or was left out, and the run was not interrupted.
  bool ok() const;
};

// Writes one line per step and, under failed steps, the fix.
void print_reset(const ResetReport& report, std::ostream& out, bool color);

// The JSON document described in docs/output.md (kind ResetReport).
nlohmann::json reset_to_json(const ResetReport& report);

}  // namespace k3sjoin::report
