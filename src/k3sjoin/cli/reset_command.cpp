#include <spdlog/spdlog.h>
#include <unistd.h>

#include <iostream>
#include <memory>

#include "k3sjoin/cli/app.h"
#include "k3sjoin/cli/commands.h"
#include "k3sjoin/cli/confirm.h"
#include "k3sjoin/log/log.h"
#include "k3sjoin/phase/run_reset.h"
#include "k3sjoin/util/duration.h"

namespace k3sjoin::cli {
namespace {

struct ResetArguments {
  std::string inventory;
  std::string node;
  bool yes = false;
};

int run_reset_command(const GlobalOptions& global, const ResetArguments& arguments) {
  auto inventory = load_inventory_or_report(arguments.inventory);
  if (!inventory) {
    return kExitUsage;
  }
  const config::HostSpec* agent = config::find_agent(*inventory, arguments.node);
  if (agent == nullptr) {
    std::cerr << "error: --node " << arguments.node << ": no agent of that name in "
              << inventory->path << "\nfix: reset takes an agent of the inventory\n";
    return kExitUsage;
  }
  if (!arguments.yes) {
    if (!can_prompt()) {
      std::cerr << "error: reset uninstalls k3s from " << agent->address << " and deletes node "
                << arguments.node
                << ", and stdin is not a terminal to confirm it\n"
                   "fix: add --yes to reset without asking\n";
      return kExitUsage;
    }
    if (!ask_yes_no("Uninstall k3s from " + agent->address + " and delete node " + arguments.node +
                    " from the cluster (pods are not drained)?")) {
      std::cerr << "reset cancelled; nothing was changed\n";
      return kExitFailed;
    }
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
  spdlog::info("resetting {} ({})", arguments.node, agent->address);
  report::ResetReport report =
      phase::run_reset(*inventory, arguments.node, phase::RunOptions{}, *connector);
  report.log_file = *log_file;
  if (global.output == "json") {
    std::cout << report::reset_to_json(report).dump(2) << '\n';
  } else {
    std::cout << '\n';
    report::print_reset(report, std::cout, use_color(global, STDOUT_FILENO));
  }
  std::cout.flush();
  log::flush();
  if (report.interrupted) {
    return kExitInterrupted;
  }
  return report.ok() ? kExitOk : kExitFailed;
}

}  // namespace

void add_reset_command(CLI::App& app, const GlobalOptions& global, CommandAction& action) {
  auto arguments = std::make_shared<ResetArguments>();
  CLI::App* command = app.add_subcommand(
      "reset",
      "Remove one agent: run k3s-agent-uninstall.sh on its host, then delete its node and "
      "node-password secret from the cluster. It does not drain the node: pods on it stop "
      "without being moved first (run kubectl drain before, if they matter)");
  command->fallthrough();
  command
      ->add_option("inventory", arguments->inventory,
                   "Inventory file (JSON, see docs/inventory.md)")
      ->required();
  command->add_option("--node", arguments->node, "Name of the agent to reset, as in the inventory")
      ->required();
  command->add_flag("-y,--yes", arguments->yes,
                    "Reset without asking (needed when stdin is not a terminal)");
  command->callback([&global, &action, arguments] {
    action = [&global, arguments] { return run_reset_command(global, *arguments); };
  });
}

}  // namespace k3sjoin::cli
