#include <spdlog/spdlog.h>
#include <unistd.h>

#include <iostream>
#include <memory>

#include "k3sjoin/cli/app.h"
#include "k3sjoin/cli/commands.h"
#include "k3sjoin/log/log.h"
#include "k3sjoin/phase/run_status.h"
#include "k3sjoin/util/duration.h"

namespace k3sjoin::cli {
namespace {

struct StatusArguments {
  std::string inventory;
  std::size_t parallel = 10;
  std::string timeout = "1m";
};

int run_status_command(const GlobalOptions& global, const StatusArguments& arguments) {
  auto session = start_command(global, arguments.inventory);
  if (!session) {
    return kExitUsage;
  }
  const auto& inventory = session->inventory;
  const auto& log_file = session->log_file;
  const auto& connector = session->connector;
  phase::RunOptions options;
  options.parallel = arguments.parallel;
  options.timeout = *parse_duration(arguments.timeout);
  report::StatusReport report = phase::run_status(inventory, options, connector);
  report.log_file = log_file;
  if (global.output == "json") {
    std::cout << report::status_to_json(report).dump(2) << '\n';
  } else {
    std::cout << '\n';
    report::print_status(report, std::cout, use_color(global, STDOUT_FILENO));
  }
  std::cout.flush();
  log::flush();
  if (report.interrupted) {
    return kExitInterrupted;
  }
  return report.ok() ? kExitOk : kExitFailed;
}

}  // namespace

void add_status_command(CLI::App& app, const GlobalOptions& global, CommandAction& action) {
  auto arguments = std::make_shared<StatusArguments>();
  CLI::App* command = app.add_subcommand(
      "status",
      "Show each inventory host (reachable, k3s version, service, node Ready, matches the "
      "inventory) and cluster nodes the inventory lacks; changes nothing. Exits 0 only when "
      "everything matches");
  command->fallthrough();
  command
      ->add_option("inventory", arguments->inventory,
                   "Inventory file (JSON, see docs/inventory.md)")
      ->required();
  command->add_option("-p,--parallel", arguments->parallel, "Hosts read at once")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  command->add_option("--timeout", arguments->timeout, "Deadline for the whole run")
      ->check(kDurationValidator)
      ->capture_default_str();
  command->callback([&global, &action, arguments] {
    action = [&global, arguments] { return run_status_command(global, *arguments); };
  });
}

}  // namespace k3sjoin::cli
