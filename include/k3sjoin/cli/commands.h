#pragma once

#include <CLI/CLI.hpp>
#include <functional>

#include "k3sjoin/cli/common.h"

namespace k3sjoin::cli {

// The command chosen on the command line; set by the subcommand's parse callback and run
// by cli::run() after parsing. Returns the process exit code.
using CommandAction = std::function<int()>;

// Each command lives in its own file and registers itself here: it adds its subcommand and
// options to `app` and, when the subcommand is parsed, stores what to run in `action`.
// `global` is filled by parsing and stays valid until the action has run.
void add_up_command(CLI::App& app, const GlobalOptions& global, CommandAction& action);
void add_preflight_command(CLI::App& app, const GlobalOptions& global, CommandAction& action);
void add_join_command(CLI::App& app, const GlobalOptions& global, CommandAction& action);
void add_status_command(CLI::App& app, const GlobalOptions& global, CommandAction& action);
void add_reset_command(CLI::App& app, const GlobalOptions& global, CommandAction& action);

// A CLI11 validator for durations such as "90s" or "5m".
extern const CLI::Validator kDurationValidator;

}  // namespace k3sjoin::cli
