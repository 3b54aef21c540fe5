#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "k3sjoin/util/result.h"

namespace k3sjoin::report {

// The final state of one host after a run. Every host of the inventory gets exactly one.
enum class Outcome {
  joined,          // agent installed by this run and its node is Ready
  already_joined,  // agent was joined to this server and Ready; nothing was changed
  ready,           // the server, reachable and serving
  failed,          // a step failed; `error` names the step and the cause
  untouched,       // nothing was changed on the host because the run stopped first
  install_started, // the run was interrupted after it began to install; not known to be joined
  unknown,         // the host's state could not be read (for example the server was lost)
};

const char* to_string(Outcome outcome);

// Why an agent did not join, read from its k3s-agent journal and its node's conditions.
struct Diagnosis {
  std::string code;                // stable id, e.g. "node-password-rejected"; docs/output.md
  std::string cause;               // one sentence naming what failed
  std::string fix;                 // one sentence: what to run or change
  std::vector<std::string> lines;  // journal lines behind the cause, token redacted
};

struct HostReport {
  std::string name;
  std::string address;
  std::string role;  // "server" or "agent"
  Outcome outcome = Outcome::untouched;
  std::string node_version;              // kubelet version of the node; empty when unknown
  std::string detail;                    // one line: what happened
  std::optional<Error> error;            // set when outcome is failed or unknown
  bool changed = false;                  // true when this run changed the host
  std::chrono::milliseconds duration{0};
  std::optional<Diagnosis> diagnosis;    // set for agents that failed to join, when read
};

struct RunReport {
  std::string command;  // "up" or "join"
  std::string inventory;
  std::string server_version;
  bool interrupted = false;
  std::chrono::milliseconds duration{0};
  std::vector<HostReport> hosts;  // in inventory order: server first, then agents
  std::string log_file;

  bool all_ok() const;
};

// Writes one line per host with its outcome, node version, duration and detail; a host
// with a diagnosis gets a second line with its cause and fix, other failed hosts one with
// the fix.
void print_text(const RunReport& report, std::ostream& out, bool color);

// The JSON document described in docs/output.md.
nlohmann::json to_json(const RunReport& report);

// "4.2s", "1m05s".
std::string format_duration(std::chrono::milliseconds duration);

}  // namespace k3sjoin::report
