#include "k3sjoin/cli/app.h"

#include <CLI/CLI.hpp>

#include "k3sjoin/cli/commands.h"
#include "k3sjoin/util/duration.h"
#include "k3sjoin/util/interrupt.h"

namespace k3sjoin::cli {

const CLI::Validator kDurationValidator(
    [](std::string& text) -> std::string {
      if (parse_duration(text)) {
        return {};
      }
      return "invalid duration \"" + text +
             "\": use a number of seconds or a value such as 90s, 5m or 1h";
    },
    "DURATION");

namespace {

void add_global_options(CLI::App& app, GlobalOptions& options) {
  app.add_flag("-v,--verbose", options.verbosity,
               "Log more: -v adds debug lines (remote commands), -vv adds trace lines");
  app.add_option("--log-file", options.log_file,
                 "Write a debug log to this file, mode 0600 "
                 "(default: ~/.local/state/k3sjoin/k3sjoin.log)");
  app.add_option("-o,--output", options.output, "Report format on stdout")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  app.add_flag("--no-color", options.no_color,
               "Print no colours (also when NO_COLOR is set or output is not a terminal)");
  app.add_option("--known-hosts", options.known_hosts,
                 "known_hosts file for host key checks (default: ~/.ssh/known_hosts)");
  app.add_option("--host-key-policy", options.host_key_policy,
                 "strict: unknown or changed host keys fail; accept-new: record unknown keys, "
                 "fail on changed ones")
      ->check(CLI::IsMember({"strict", "accept-new"}))
      ->capture_default_str();
  app.add_option("--connect-timeout", options.connect_timeout_text,
                 "Timeout for TCP connect and SSH handshake, per host")
      ->check(kDurationValidator)
      ->capture_default_str();
  add_ssh_access_options(app, options);
}

}  // namespace

int run(int argc, char** argv) {
  install_interrupt_handlers();

  CLI::App app{"k3sjoin joins k3s agent nodes to an existing k3s server over SSH.", "k3sjoin"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("k3sjoin ") + K3SJOIN_VERSION);

  GlobalOptions global;
  add_global_options(app, global);
  CommandAction action;
  add_up_command(app, global, action);
  add_preflight_command(app, global, action);
  add_join_command(app, global, action);
  add_status_command(app, global, action);
  add_reset_command(app, global, action);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    int code = app.exit(error);
    return code == 0 ? kExitOk : kExitUsage;
  }
  global.connect_timeout = *parse_duration(global.connect_timeout_text);
  record_explicit_options(app, global);
  return action ? action() : kExitUsage;
}

}  // namespace k3sjoin::cli
