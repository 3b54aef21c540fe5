#include <spdlog/spdlog.h>

#include <iostream>
#include <memory>

#include "k3sjoin/cli/app.h"
#include "k3sjoin/cli/commands.h"
#include "k3sjoin/phase/phases.h"
#include "k3sjoin/util/duration.h"

namespace k3sjoin::cli {
namespace {

struct UpArguments {
  std::string inventory;
  std::size_t parallel = 10;
  std::string timeout = "5m";
  std::string install_timeout = "4m";
  std::string poll_interval = "2s";
};

int run_up_command(const GlobalOptions& global, const UpArguments& arguments) {
  auto inventory = load_inventory_or_report(arguments.inventory);
  if (!inventory) {
    return kExitUsage;
  }
  auto log_file = setup_logging(global);
  if (!log_file) {
    std::cerr << "error: " << log_file.error().message << '\n';
    return kExitUsage;
  }
  phase::RunOptions options;
  options.parallel = arguments.parallel;
  options.timeout = *parse_duration(arguments.timeout);
  options.install_timeout = *parse_duration(arguments.install_timeout);
  options.poll_interval = *parse_duration(arguments.poll_interval);
  spdlog::info("joining {} agents to {} ({}), deadline {}s", inventory->agents.size(),
               inventory->server.name, inventory->server.address, options.timeout.count());
  report::RunReport report = phase::run_up(*inventory, options, make_ssh_connector(global));
  report.log_file = *log_file;
  return emit_report(report, global);
}

}  // namespace

void add_up_command(CLI::App& app, const GlobalOptions& global, CommandAction& action) {
  auto arguments = std::make_shared<UpArguments>();
  CLI::App* command = app.add_subcommand(
      "up", "Join every agent of the inventory to its server and wait until each node is Ready");
  command->fallthrough();
  command->add_option("inventory", arguments->inventory,
                      "Inventory file (JSON, see docs/inventory.md)")
      ->required();
  command->add_option("-p,--parallel", arguments->parallel, "Hosts worked on at once")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  command->add_option("--timeout", arguments->timeout, "Deadline for the whole run")
      ->check(kDurationValidator)
      ->capture_default_str();
  command->add_option("--install-timeout", arguments->install_timeout,
                      "Deadline for the install step of one agent")
      ->check(kDurationValidator)
      ->capture_default_str();
  command->add_option("--poll-interval", arguments->poll_interval,
                      "Time between readiness checks on the server")
      ->check(kDurationValidator)
      ->capture_default_str();
  command->callback([&global, &action, arguments] {
    action = [&global, arguments] { return run_up_command(global, *arguments); };
  });
}

}  // namespace k3sjoin::cli
