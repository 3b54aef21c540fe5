#include <spdlog/spdlog.h>
#include <unistd.h>

#include <iostream>
#include <memory>

#include "k3sjoin/cli/app.h"
#include "k3sjoin/cli/commands.h"
#include "k3sjoin/log/log.h"
#include "k3sjoin/preflight/runner.h"
#include "k3sjoin/util/duration.h"

namespace k3sjoin::cli {
namespace {

struct PreflightArguments {
  std::string inventory;
  std::size_t parallel = 10;
  std::string timeout = "2m";
  bool strict = false;
};

int run_preflight_command(const GlobalOptions& global, const PreflightArguments& arguments) {
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
  preflight::PreflightOptions preflight_options;
  preflight_options.host_key_policy = global.host_key_policy;
  preflight_options.strict = arguments.strict;
  spdlog::info("preflight of {} agents and server {} ({})", inventory.agents.size(),
               inventory.server.name, inventory.server.address);
  preflight::PreflightReport report =
      preflight::run_preflight(inventory, options, connector, preflight_options);
  report.log_file = log_file;

  if (global.output == "json") {
    std::cout << preflight::to_json(report).dump(2) << '\n';
  } else {
    std::cout << '\n';
    preflight::print_text(report, std::cout, use_color(global, STDOUT_FILENO));
  }
  std::cout.flush();
  log::flush();
  if (report.interrupted) {
    return kExitInterrupted;
  }
  return report.ok() ? kExitOk : kExitFailed;
}

}  // namespace

void add_preflight_command(CLI::App& app, const GlobalOptions& global, CommandAction& action) {
  auto arguments = std::make_shared<PreflightArguments>();
  CLI::App* command = app.add_subcommand(
      "preflight",
      "Check every host of the inventory for what a join needs, changing nothing on any host");
  command->fallthrough();
  command
      ->add_option("inventory", arguments->inventory,
                   "Inventory file (JSON, see docs/inventory.md)")
      ->required();
  command
      ->add_option("-p,--parallel", arguments->parallel,
                   "Hosts checked at once (the network round always runs on all hosts)")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  command->add_option("--timeout", arguments->timeout, "Deadline for the whole check")
      ->check(kDurationValidator)
      ->capture_default_str();
  command->add_flag("--strict", arguments->strict, "Count warnings as failures for the exit code");
  command->callback([&global, &action, arguments] {
    action = [&global, arguments] { return run_preflight_command(global, *arguments); };
  });
}

}  // namespace k3sjoin::cli
