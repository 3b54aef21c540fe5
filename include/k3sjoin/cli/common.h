#pragma once

#include <chrono>
#include <string>

#include "k3sjoin/config/inventory.h"
#include "k3sjoin/phase/run_context.h"
#include "k3sjoin/report/report.h"
#include "k3sjoin/ssh/remote.h"

namespace k3sjoin::cli {

// Options shared by every command.
struct GlobalOptions {
  int verbosity = 0;
  std::string log_file;        // empty: log::default_log_file()
  std::string output = "text";  // "text" or "json"
  bool no_color = false;
  std::string known_hosts;                  // empty: ~/.ssh/known_hosts
  std::string host_key_policy = "strict";   // "strict" or "accept-new"
  std::string connect_timeout_text = "10s";  // as given on the command line
  std::chrono::seconds connect_timeout{10};
};

// Sets up logging from the global options; returns the log file path, or an error message.
Result<std::string> setup_logging(const GlobalOptions& options);

// True when stdout/stderr colour should be used: a terminal, NO_COLOR unset, no --no-color.
bool use_color(const GlobalOptions& options, int fd);

// A connector that opens real SSH sessions with the global options.
phase::Connector make_ssh_connector(const GlobalOptions& options);

// Loads the inventory and prints its error to stderr; nullopt on error.
std::optional<config::Inventory> load_inventory_or_report(const std::string& path);

// Prints the report as text or JSON on stdout and returns the exit code for it.
int emit_report(const report::RunReport& report, const GlobalOptions& options);

}  // namespace k3sjoin::cli
