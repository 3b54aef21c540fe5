#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "k3sjoin/diagnose/diagnose.h"
#include "k3sjoin/phase/run_context.h"

namespace k3sjoin::phase {

// Time allowed to read an agent's journal; it is read also after the run's deadline.
inline constexpr std::chrono::seconds kJournalReadTimeout{10};

// The names the diagnosis sentences use for `host`.
diagnose::Subject diagnosis_subject(const RunContext& context, const HostRun& host);

// Reads the k3s-agent journal of `host` from `since` (host clock, Unix seconds; 0: the last
// 200 lines) and returns its lines with every token removed. The lines are logged at debug
// level. `interruptible` is false for reads after Ctrl-C.
Result<std::vector<std::string>> read_agent_journal(RunContext& context, HostRun& host,
                                                    std::int64_t since, bool interruptible = true);

// Reads the journal from host.install_clock and diagnoses the agent: a known k3s failure
// when its journal shows one, otherwise the state of `node` (null: not registered). When the
// journal cannot be read, the diagnosis comes from the node state and its lines contain the read
// error.
report::Diagnosis diagnose_agent(RunContext& context, HostRun& host, const kube::Node* node);

// Like diagnose_agent() for a join that may still succeed: returns a diagnosis only when
// the journal shows a failure that retrying cannot fix.
std::optional<report::Diagnosis> find_permanent_failure(RunContext& context, HostRun& host);

}  // namespace k3sjoin::phase
