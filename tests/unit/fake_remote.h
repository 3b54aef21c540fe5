#pragma once

// A scripted RemoteSession for unit tests: rules map command lines to results, and every
// command is recorded with its input so tests can check that a secret went to stdin and
// not into the command line.

#include <chrono>
#include <functional>
#include <mutex>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "k3sjoin/ssh/remote.h"
#include "k3sjoin/util/result.h"

namespace k3sjoin::ssh {

// One command that FakeRemote received. `input` is a copy of the bytes sent to stdin.
struct RecordedCommand {
  std::string line;
  std::string input;
  std::chrono::milliseconds timeout{};
};

class FakeRemote final : public RemoteSession {
 public:
  using Handler = std::function<Result<CommandResult>(const Command&)>;

  explicit FakeRemote(std::string label = "10.246.10.51:22") : label_(std::move(label)) {}

  // Adds a rule. Rules are tried in the order they were added; the first whose ECMAScript
  // regex is found in the command line (std::regex_search) returns the result.
  FakeRemote& on(const std::string& pattern, Handler handler) {
    const std::lock_guard lock(mutex_);
    rules_.push_back({std::regex(pattern), std::move(handler)});
    return *this;
  }

  FakeRemote& on(const std::string& pattern, int exit_status, std::string out = {},
                 std::string err = {}) {
    CommandResult result{exit_status, std::move(out), std::move(err)};
    return on(pattern, [result](const Command&) -> Result<CommandResult> { return result; });
  }

  // Makes matching commands fail with `error`, such as timeout_error() or connect_error().
  FakeRemote& fail(const std::string& pattern, Error error) {
    return on(pattern, [error](const Command&) -> Result<CommandResult> { return error; });
  }

  static Error timeout_error() {
    return Error{ErrorKind::timeout, "command timed out after 30s", ""};
  }
  static Error connect_error() {
    return Error{ErrorKind::connect, "connection to 10.246.10.51:22 failed", ""};
  }

  // Records the command, then returns the result of the first matching rule. A command that no
  // rule matches fails with an internal error naming the line, so a missing rule is obvious.
  Result<CommandResult> run(const Command& command) override {
    Handler handler;
    {
      const std::lock_guard lock(mutex_);
      commands_.push_back({command.line, std::string(command.input), command.timeout});
      for (const Rule& rule : rules_) {
        if (std::regex_search(command.line, rule.pattern)) {
          handler = rule.handler;
          break;
        }
      }
    }
    if (!handler) {
      return Error{ErrorKind::internal,
                   "FakeRemote " + label_ + " has no rule for: " + command.line, ""};
    }
    return handler(command);
  }

  std::string label() const override { return label_; }

  std::vector<RecordedCommand> commands() const {
    const std::lock_guard lock(mutex_);
    return commands_;
  }

  // Counts recorded commands whose line contains a match of `pattern`.
  std::size_t count(const std::string& pattern) const {
    const std::regex regex(pattern);
    const std::lock_guard lock(mutex_);
    std::size_t matches = 0;
    for (const RecordedCommand& command : commands_) {
      matches += std::regex_search(command.line, regex) ? 1U : 0U;
    }
    return matches;
  }

  bool ran(const std::string& pattern) const { return count(pattern) > 0; }

 private:
  struct Rule {
    std::regex pattern;
    Handler handler;
  };

  mutable std::mutex mutex_;
  std::string label_;
  std::vector<Rule> rules_;
  std::vector<RecordedCommand> commands_;
};

}  // namespace k3sjoin::ssh
