#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace k3sjoin::log {

struct LogOptions {
  int verbosity = 0;                              // 0: info on stderr, 1: debug, 2+: trace
  std::optional<std::filesystem::path> log_file;  // always written at debug or finer, mode 0600
  bool color = false;                             // ANSI colours on stderr
};

// Installs the default spdlog logger: stderr at the level from `verbosity` and, when
// `log_file` is set, a file that always records debug. The file is created with mode 0600
// (an existing file is truncated and its mode set to 0600). A symbolic link, a FIFO or
// another non-regular file, or a file owned by another user at that path is an error.
// Every sink passes through the redaction filter below. Returns an error message when the
// log file cannot be opened.
std::optional<std::string> setup(const LogOptions& options);

// Default log file: $XDG_STATE_HOME/k3sjoin/k3sjoin.log, or ~/.local/state/k3sjoin/k3sjoin.log.
std::filesystem::path default_log_file();

// Adds a secret to the redaction filter: any log line that contains it has it replaced by
// "<redacted>" before it reaches a sink. The view must stay valid until forget_secret().
// This is a second line of defence; code must not pass secrets to the logger at all.
void register_secret(std::string_view secret);

// Removes from the filter every registered view that lies within the bytes of `secret`, so
// a password registered from inside a token is removed with the token.
void forget_secret(std::string_view secret);

// Flushes all sinks; called before exit.
void flush();

// The log prefix for a host: "[ssh] 10.246.10.51:22: ".
std::string host_prefix(std::string_view endpoint_label);

}  // namespace k3sjoin::log
