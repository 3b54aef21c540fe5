#include "k3sjoin/log/log.h"

#include <fcntl.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>

namespace k3sjoin::log {
namespace {

std::mutex secrets_mutex;
std::vector<std::string_view> secrets;

// Replaces registered secrets in `text`; returns true when something was replaced.
bool redact_in_place(std::string& text) {
  std::lock_guard lock(secrets_mutex);
  bool replaced = false;
  for (std::string_view secret : secrets) {
    if (secret.empty()) {
      continue;
    }
    for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at)) {
      text.replace(at, secret.size(), "<redacted>");
      replaced = true;
    }
  }
  return replaced;
}

// A sink that redacts registered secrets from the message, then forwards to the real sink.
class RedactingSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit RedactingSink(spdlog::sink_ptr target) : target_(std::move(target)) {
    set_level(target_->level());
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& message) override {
    if (!target_->should_log(message.level)) {
      return;
    }
    std::string text(message.payload.data(), message.payload.size());
    if (!redact_in_place(text)) {
      target_->log(message);
      return;
    }
    spdlog::details::log_msg copy = message;
    copy.payload = text;
    target_->log(copy);
    std::fill(text.begin(), text.end(), '\0');
  }

  void flush_() override { target_->flush(); }

 private:
  spdlog::sink_ptr target_;
};

spdlog::level::level_enum level_for(int verbosity) {
  if (verbosity <= 0) {
    return spdlog::level::info;
  }
  return verbosity == 1 ? spdlog::level::debug : spdlog::level::trace;
}

// Creates or truncates the log file with mode 0600 before spdlog opens it, so the file is
// never readable by others, not even for a moment.
std::optional<std::string> prepare_log_file(const std::filesystem::path& path) {
  std::error_code error;
  if (path.has_parent_path()) {
    std::filesystem::create_directories(path.parent_path(), error);
    if (error) {
      return "cannot create log directory " + path.parent_path().string() + ": " +
             error.message();
    }
  }
  // O_NOFOLLOW rejects a symbolic link planted at the path, and O_NONBLOCK makes a FIFO
  // fail instead of blocking. Truncation waits until the file is known to be ours.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
  if (fd < 0) {
    return "cannot open log file " + path.string() + ": " + std::strerror(errno);
  }

  struct stat status {};
  if (::fstat(fd, &status) != 0 || !S_ISREG(status.st_mode) || status.st_uid != ::geteuid()) {
    ::close(fd);
    // The owner of another user's file can read it and change its mode back, and root may
    // open any file, so such a file is rejected instead of truncated.
    return "log file " + path.string() +
           " is not a regular file owned by the current user; remove it or choose another "
           "--log-file";
  }

  int result = ::ftruncate(fd, 0);
  if (result == 0) {
    result = ::fchmod(fd, 0600);
  }
  int saved_errno = errno;
  ::close(fd);
  if (result != 0) {
    return "cannot truncate or set mode 0600 on log file " + path.string() + ": " +
           std::strerror(saved_errno);
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> setup(const LogOptions& options) {
  std::vector<spdlog::sink_ptr> sinks;

  spdlog::sink_ptr console;
  if (options.color) {
    console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>(spdlog::color_mode::always);
  } else {
    console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>(spdlog::color_mode::never);
  }
  console->set_level(level_for(options.verbosity));
  console->set_pattern(options.verbosity > 0 ? "%H:%M:%S.%e %^%l%$ %v" : "%^%l%$: %v");
  sinks.push_back(std::make_shared<RedactingSink>(console));

  if (options.log_file) {
    if (auto error = prepare_log_file(*options.log_file)) {
      return error;
    }
    auto file = std::make_shared<spdlog::sinks::basic_file_sink_mt>(options.log_file->string());
    file->set_level(std::min(level_for(options.verbosity), spdlog::level::debug));
    file->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z [%t] %l %v");
    sinks.push_back(std::make_shared<RedactingSink>(file));
  }

  auto logger = std::make_shared<spdlog::logger>("k3sjoin", sinks.begin(), sinks.end());
  logger->set_level(spdlog::level::trace);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
  return std::nullopt;
}

std::filesystem::path default_log_file() {
  const char* state_home = std::getenv("XDG_STATE_HOME");
  if (state_home != nullptr && state_home[0] == '/') {
    return std::filesystem::path(state_home) / "k3sjoin" / "k3sjoin.log";
  }
  const char* home = std::getenv("HOME");
  std::filesystem::path base = (home != nullptr && home[0] != '\0') ? home : "/tmp";
  return base / ".local" / "state" / "k3sjoin" / "k3sjoin.log";
}

void register_secret(std::string_view secret) {
  std::lock_guard lock(secrets_mutex);
  secrets.push_back(secret);
}

void forget_secret(std::string_view secret) {
  std::lock_guard lock(secrets_mutex);
  // Compares addresses, not contents: parts registered from the same buffer (a token and
  // its password) go with it, and an equal string registered elsewhere stays.
  const auto begin = reinterpret_cast<std::uintptr_t>(secret.data());
  const auto end = begin + secret.size();
  std::erase_if(secrets, [&](std::string_view entry) {
    const auto address = reinterpret_cast<std::uintptr_t>(entry.data());
    return entry.data() == secret.data() || (address >= begin && address + entry.size() <= end);
  });
}

void flush() {
  if (auto logger = spdlog::default_logger()) {
    logger->flush();
  }
}

std::string host_prefix(std::string_view endpoint_label) {
  std::string prefix = "[ssh] ";
  prefix += endpoint_label;
  prefix += ": ";
  return prefix;
}

}  // namespace k3sjoin::log
