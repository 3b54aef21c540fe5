#include <spdlog/spdlog.h>

#include <iostream>
#include <memory>

#include "k3sjoin/cli/app.h"
#include "k3sjoin/cli/commands.h"
#include "k3sjoin/cli/confirm.h"
#include "k3sjoin/phase/run_join.h"
#include "k3sjoin/util/duration.h"

namespace k3sjoin::cli {
namespace {

struct JoinArguments {
  std::string inventory;
  std::string node;
  std::string timeout = "5m";
  std::string install_timeout = "4m";
  std::string poll_interval = "2s";
  bool replace = false;
  bool yes = false;
  bool allow_version_change = false;
  bool skip_preflight = false;
  bool strict = false;
};

std::string agent_names(const config::Inventory& inventory) {
  std::string names;
  for (const auto& agent : inventory.agents) {
    names += (names.empty() ? "" : ", ") + agent.name;
  }
  return names.empty() ? "none" : names;
}

int run_join_command(const GlobalOptions& global, const JoinArguments& arguments) {
  auto inventory = load_inventory_or_report(arguments.inventory);
  if (!inventory) {
    return kExitUsage;
  }
  if (config::find_agent(*inventory, arguments.node) == nullptr) {
    std::cerr << "error: --node " << arguments.node << ": no agent of that name in "
              << inventory->path << "\nfix: use one of: " << agent_names(*inventory) << '\n';
    return kExitUsage;
  }
  if (arguments.replace && !arguments.yes && !can_prompt()) {
    std::cerr << "error: --replace may delete node " << arguments.node
              << " from the cluster, and stdin is not a terminal to confirm it\n"
                 "fix: add --yes to replace without asking\n";
    return kExitUsage;
  }
  auto log_file = setup_logging(global);
  if (!log_file) {
    std::cerr << "error: " << log_file.error().message << '\n';
    return kExitUsage;
  }
  auto connector = make_ssh_connector(global, *inventory);
  if (!connector) {
    return kExitUsage;
  }
  phase::RunOptions options;
  options.parallel = 1;
  options.timeout = *parse_duration(arguments.timeout);
  options.install_timeout = *parse_duration(arguments.install_timeout);
  options.poll_interval = *parse_duration(arguments.poll_interval);
  options.preflight = !arguments.skip_preflight;
  options.strict_preflight = arguments.strict;
  options.host_key_policy = global.host_key_policy;
  options.allow_version_change = arguments.allow_version_change;
  options.replace_node = arguments.replace;
  if (arguments.yes) {
    options.confirm = [](const std::string&) { return true; };
  } else {
    options.confirm = ask_yes_no;
  }
  spdlog::info("joining {} to {} ({}), deadline {}s", arguments.node, inventory->server.name,
               inventory->server.address, options.timeout.count());
  report::RunReport report = phase::run_join(*inventory, arguments.node, options, *connector);
  report.log_file = *log_file;
  return emit_report(report, global);
}

}  // namespace

void add_join_command(CLI::App& app, const GlobalOptions& global, CommandAction& action) {
  auto arguments = std::make_shared<JoinArguments>();
  CLI::App* command = app.add_subcommand(
      "join",
      "Join one agent of the inventory, with its preflight checks, and wait until its "
      "node is Ready");
  command->fallthrough();
  command
      ->add_option("inventory", arguments->inventory,
                   "Inventory file (JSON, see docs/inventory.md)")
      ->required();
  command->add_option("--node", arguments->node, "Name of the agent to join, as in the inventory")
      ->required();
  command->add_flag("--replace", arguments->replace,
                    "If a node of that name exists in the cluster for another machine or node "
                    "password, delete it and its node-password secret first (asks on a "
                    "terminal; needs --yes otherwise)");
  command->add_flag("-y,--yes", arguments->yes, "Answer yes to the --replace question");
  command->add_flag("--allow-version-change", arguments->allow_version_change,
                    "Reinstall the agent when it is joined at another k3s version than the "
                    "target");
  command->add_option("--timeout", arguments->timeout, "Deadline for the whole run")
      ->check(kDurationValidator)
      ->capture_default_str();
  command
      ->add_option("--install-timeout", arguments->install_timeout, "Deadline for the install step")
      ->check(kDurationValidator)
      ->capture_default_str();
  command
      ->add_option("--poll-interval", arguments->poll_interval,
                   "Time between readiness checks on the server")
      ->check(kDurationValidator)
      ->capture_default_str();
  command->add_flag("--skip-preflight", arguments->skip_preflight,
                    "Join without running the preflight checks first");
  command->add_flag("--strict", arguments->strict,
                    "Treat preflight warnings as failures: the agent is then not changed");
  command->callback([&global, &action, arguments] {
    action = [&global, arguments] { return run_join_command(global, *arguments); };
  });
}

}  // namespace k3sjoin::cli
