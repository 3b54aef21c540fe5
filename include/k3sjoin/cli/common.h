#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <optional>
#include <string>

#include "k3sjoin/config/inventory.h"
#include "k3sjoin/phase/run_context.h"
#include "k3sjoin/report/report.h"
#include "k3sjoin/ssh/remote.h"
#include "k3sjoin/ssh/ssh_config.h"

namespace k3sjoin::cli {

// Options shared by every command.
struct GlobalOptions {
  int verbosity = 0;
  std::string log_file;         // empty: log::default_log_file()
  std::string output = "text";  // "text" or "json"
  bool no_color = false;
  std::string known_hosts;                   // empty: ~/.ssh/known_hosts
  std::string host_key_policy = "strict";    // "strict" or "accept-new"
  std::string connect_timeout_text = "10s";  // as given on the command line
  std::chrono::seconds connect_timeout{10};
  std::string ssh_config;        // --ssh-config; empty: ~/.ssh/config and /etc/ssh/ssh_config
  bool ask_become_pass = false;  // --ask-become-pass
  // Whether the option was given; if not, the SSH client configuration may set the value.
  bool host_key_policy_set = false;
  bool connect_timeout_set = false;
};

// Sets up logging from the global options; returns the log file path, or an error message.
Result<std::string> setup_logging(const GlobalOptions& options);

// True when stdout/stderr colour should be used: a terminal, NO_COLOR unset, no --no-color.
bool use_color(const GlobalOptions& options, int fd);

// Adds --ssh-config and --ask-become-pass, which every command that logs in to hosts uses.
void add_ssh_access_options(CLI::App& app, GlobalOptions& options);

// Marks the options given on the command line (after app.parse()), so that values from the
// SSH client configuration apply only where the command line is silent.
void record_explicit_options(const CLI::App& app, GlobalOptions& options);

// The options for connecting to `spec`: the inventory's values, then the SSH client
// configuration `config` (looked up by the host's address), then the built-in defaults;
// the command line's --known-hosts, --host-key-policy and --connect-timeout win over the
// configuration. ProxyJump hosts are resolved through their own configuration.
Result<ssh::ConnectOptions> resolve_connect_options(const GlobalOptions& options,
                                                    const ssh::SshConfig& config,
                                                    const config::HostSpec& spec);

// Prepares SSH access for a command that logs in to the inventory's hosts, once, after
// the inventory is loaded: reads the SSH client configuration, sets each host's final user,
// port and connect address in `inventory`, and reads the become passwords (prompting once
// with --ask-become-pass). Returns a connector that opens sessions with all of it, or prints
// the error to stderr and returns nullopt (exit with kExitUsage then).
std::optional<phase::Connector> make_ssh_connector(const GlobalOptions& options,
                                                   config::Inventory& inventory);

// Loads the inventory and prints its error to stderr; nullopt on error.
std::optional<config::Inventory> load_inventory_or_report(const std::string& path);

// Inventory, log file and SSH connector that every command logging in to hosts needs.
struct CommandStart {
  config::Inventory inventory;
  std::string log_file;
  phase::Connector connector;
};

// Loads the inventory, sets up logging and builds the SSH connector, printing any error to
// stderr. Returns nullopt on error, which is a usage or inventory error (exit code 2).
std::optional<CommandStart> start_command(const GlobalOptions& global,
                                          const std::string& inventory_path);

// Prints the report as text or JSON on stdout and returns the exit code for it.
int emit_report(const report::RunReport& report, const GlobalOptions& options);

}  // namespace k3sjoin::cli
