#include "k3sjoin/cli/common.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "k3sjoin/cli/app.h"
#include "k3sjoin/log/log.h"

namespace k3sjoin::cli {

Result<std::string> setup_logging(const GlobalOptions& options) {
  log::LogOptions log_options;
  log_options.verbosity = options.verbosity;
  log_options.color = use_color(options, STDERR_FILENO);
  std::filesystem::path path =
      options.log_file.empty() ? log::default_log_file() : std::filesystem::path(options.log_file);
  log_options.log_file = path;
  if (auto error = log::setup(log_options)) {
    return Error{ErrorKind::usage, *error, "pass a writable path with --log-file"};
  }
  return path.string();
}

bool use_color(const GlobalOptions& options, int fd) {
  if (options.no_color || options.output == "json") {
    return false;
  }
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color != nullptr && no_color[0] != '\0') {
    return false;
  }
  return ::isatty(fd) == 1;
}

std::optional<config::Inventory> load_inventory_or_report(const std::string& path) {
  auto inventory = config::load_inventory(path);
  if (!inventory) {
    std::cerr << "error: " << inventory.error().message << '\n';
    if (!inventory.error().hint.empty()) {
      std::cerr << "fix: " << inventory.error().hint << '\n';
    }
    return std::nullopt;
  }
  return std::move(inventory).value();
}

int emit_report(const report::RunReport& report, const GlobalOptions& options) {
  if (options.output == "json") {
    std::cout << report::to_json(report).dump(2) << '\n';
  } else {
    std::cout << '\n';
    report::print_text(report, std::cout, use_color(options, STDOUT_FILENO));
  }
  std::cout.flush();
  log::flush();
  if (report.interrupted) {
    return kExitInterrupted;
  }
  return report.all_ok() ? kExitOk : kExitFailed;
}

std::optional<CommandStart> start_command(const GlobalOptions& global,
                                          const std::string& inventory_path) {
  auto inventory = load_inventory_or_report(inventory_path);
  if (!inventory) {
    return std::nullopt;
  }
  auto log_file = setup_logging(global);
  if (!log_file) {
    std::cerr << "error: " << log_file.error().message << '\n';
    return std::nullopt;
  }
  auto connector = make_ssh_connector(global, *inventory);
  if (!connector) {
    return std::nullopt;
  }
  return CommandStart{std::move(*inventory), std::move(log_file).value(), std::move(*connector)};
}

}  // namespace k3sjoin::cli
