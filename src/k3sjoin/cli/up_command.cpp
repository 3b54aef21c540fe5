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
  bool skip_preflight = false;
  bool strict = false;
  bool allow_version_change = false;
  std::string bootstrap_token_ttl;  // empty: join with the server's agent token
};

int run_up_command(const GlobalOptions& global, const UpArguments& arguments) {
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
  options.install_timeout = *parse_duration(arguments.install_timeout);
  options.poll_interval = *parse_duration(arguments.poll_interval);
  options.preflight = !arguments.skip_preflight;
  options.strict_preflight = arguments.strict;
  options.host_key_policy = global.host_key_policy;
  options.allow_version_change = arguments.allow_version_change;
  if (!arguments.bootstrap_token_ttl.empty()) {
    options.bootstrap_token_ttl = *parse_duration(arguments.bootstrap_token_ttl);
    if (*options.bootstrap_token_ttl < options.timeout) {
      // An agent's first start needs the token; one installed after it expired cannot join.
      spdlog::warn(
          "--bootstrap-token-ttl {}s is shorter than --timeout {}s: agents installed "
          "after the token expires cannot join",
          options.bootstrap_token_ttl->count(), options.timeout.count());
    }
  }
  spdlog::info("joining {} agents to {} ({}), deadline {}s", inventory.agents.size(),
               inventory.server.name, inventory.server.address, options.timeout.count());
  report::RunReport report = phase::run_up(inventory, options, connector);
  report.log_file = log_file;
  return emit_report(report, global);
}

}  // namespace

void add_up_command(CLI::App& app, const GlobalOptions& global, CommandAction& action) {
  auto arguments = std::make_shared<UpArguments>();
  CLI::App* command = app.add_subcommand(
      "up", "Join every agent of the inventory to its server and wait until each node is Ready");
  command->fallthrough();
  command
      ->add_option("inventory", arguments->inventory,
                   "Inventory file (JSON, see docs/inventory.md)")
      ->required();
  command->add_option("-p,--parallel", arguments->parallel, "Hosts worked on at once")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  command->add_option("--timeout", arguments->timeout, "Deadline for the whole run")
      ->check(kDurationValidator)
      ->capture_default_str();
  command
      ->add_option("--install-timeout", arguments->install_timeout,
                   "Deadline for the install step of one agent")
      ->check(kDurationValidator)
      ->capture_default_str();
  command
      ->add_option("--poll-interval", arguments->poll_interval,
                   "Time between readiness checks on the server")
      ->check(kDurationValidator)
      ->capture_default_str();
  command
      ->add_option("--bootstrap-token-ttl", arguments->bootstrap_token_ttl,
                   "Join agents with a bootstrap token that expires after this time, "
                   "created on the server for this run and deleted when it ends, instead of "
                   "the server's long-lived agent token (needs `k3s token create` on the "
                   "server)")
      ->check(kDurationValidator)
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            auto ttl = parse_duration(text);
            return !ttl || *ttl > std::chrono::seconds(0)
                       ? std::string()
                       : "a TTL of 0 would make the token never expire; give a duration";
          },
          ""));
  command->add_flag("--allow-version-change", arguments->allow_version_change,
                    "Reinstall agents that are joined at another k3s version than the target");
  command->add_flag("--skip-preflight", arguments->skip_preflight,
                    "Join without running the preflight checks first");
  command->add_flag("--strict", arguments->strict,
                    "Treat preflight warnings as failures: such agents are not changed");
  command->callback([&global, &action, arguments] {
    action = [&global, arguments] { return run_up_command(global, *arguments); };
  });
}

}  // namespace k3sjoin::cli
