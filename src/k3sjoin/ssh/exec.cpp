#include <libssh/libssh.h>
#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <string>

#include "handles.h"
#include "k3sjoin/log/log.h"
#include "k3sjoin/util/interrupt.h"
#include "session.h"

namespace k3sjoin::ssh {
namespace {

using Clock = std::chrono::steady_clock;

// Output beyond this many bytes per stream is read and dropped, so a runaway command
// cannot exhaust memory. The largest expected output, `kubectl get nodes -o json` on a
// large cluster, stays far below it.
constexpr std::size_t kMaxCapturedBytes = 4 * 1024 * 1024;

// Maximum wait of one libssh read call, so a timeout or stderr data is seen this late at most.
constexpr std::chrono::milliseconds kReadSlice{50};

// stdin is written in pieces so the deadline is checked between them.
constexpr std::size_t kWriteChunk = 32 * 1024;

std::string format_duration(std::chrono::milliseconds duration) {
  if (duration.count() % 1000 == 0) {
    return std::to_string(duration.count() / 1000) + "s";
  }
  return std::to_string(duration.count()) + "ms";
}

// Captured output of one stream. Output may carry a secret (a token read from the server),
// so when the buffer grows, the old buffer is overwritten before it is freed.
class Capture {
 public:
  void append(const char* data, std::size_t size) {
    const std::size_t kept = std::min(size, kMaxCapturedBytes - text_.size());
    dropped_ += size - kept;
    if (text_.size() + kept > text_.capacity()) {
      std::string grown;
      grown.reserve(std::max(text_.capacity() * 2, text_.size() + kept));
      grown.append(text_);
      OPENSSL_cleanse(text_.data(), text_.size());
      text_.swap(grown);
    }
    text_.append(data, kept);
  }
  std::size_t dropped() const { return dropped_; }
  std::string take() { return std::move(text_); }

 private:
  std::string text_;
  std::size_t dropped_ = 0;
};

// Wipes the read buffer on every exit path, because it may have held a secret.
struct ReadBuffer {
  std::array<char, 16 * 1024> bytes{};
  ~ReadBuffer() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
};

Error lost_connection(ssh_session session, const std::string& label, const char* step) {
  return Error{ErrorKind::connect,
               "connection to " + label + " failed while " + step + ": " + ssh_get_error(session),
               "check that the host is up and sshd is running, then retry"};
}

// Maps a libssh read result to a byte count: SSH_EOF and SSH_AGAIN mean nothing was read.
std::size_t received(int rc) {
  return rc > 0 ? static_cast<std::size_t>(rc) : 0;
}

int slice_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::clamp(left, std::chrono::milliseconds(1), kReadSlice).count());
}

}  // namespace

Result<CommandResult> LibsshSession::run(const Command& command) {
  const std::lock_guard lock(mutex_);
  const std::string prefix = log::host_prefix(label_);
  const auto started = Clock::now();
  const auto deadline = started + command.timeout;
  ssh_session session = session_.get();
  // Only the command line is logged; it never contains a secret, unlike `input`.
  spdlog::debug("{}run: {}", prefix, command.line);

  ChannelHandle channel(ssh_channel_new(session));
  if (!channel || ssh_channel_open_session(channel.get()) != SSH_OK) {
    return lost_connection(session, label_, "opening a channel");
  }
  if (ssh_channel_request_exec(channel.get(), command.line.c_str()) != SSH_OK) {
    if (ssh_is_connected(session) == 0) {
      return lost_connection(session, label_, "starting a command");
    }
    return Error{ErrorKind::remote_command,
                 "the server at " + label_ + " rejected the command: " + ssh_get_error(session),
                 "check the sshd configuration for ForceCommand or command restrictions"};
  }

  // The input is written straight from the caller's view, so no copy of it exists here.
  std::size_t written = 0;
  while (written < command.input.size() && Clock::now() < deadline) {
    const std::size_t chunk = std::min(kWriteChunk, command.input.size() - written);
    const int rc = ssh_channel_write(channel.get(), command.input.data() + written,
                                     static_cast<std::uint32_t>(chunk));
    if (rc == SSH_ERROR) {
      return lost_connection(session, label_, "writing the command's input");
    }
    written += static_cast<std::size_t>(rc);
  }
  if (written == command.input.size() && ssh_channel_send_eof(channel.get()) == SSH_ERROR) {
    return lost_connection(session, label_, "closing the command's input");
  }

  Capture out;
  Capture err;
  ReadBuffer buffer;
  bool timed_out = written < command.input.size();
  bool stopped = false;
  while (!timed_out && ssh_channel_is_eof(channel.get()) == 0) {
    if (Clock::now() >= deadline) {
      timed_out = true;
      break;
    }
    if (command.interruptible && interrupted()) {
      stopped = true;
      break;
    }
    const int out_bytes = ssh_channel_read_timeout(channel.get(), buffer.bytes.data(),
                                                   buffer.bytes.size(), 0, slice_ms(deadline));
    if (out_bytes == SSH_ERROR) {
      return lost_connection(session, label_, "reading the command's output");
    }
    out.append(buffer.bytes.data(), received(out_bytes));
    const int err_bytes =
        ssh_channel_read_nonblocking(channel.get(), buffer.bytes.data(), buffer.bytes.size(), 1);
    if (err_bytes == SSH_ERROR) {
      return lost_connection(session, label_, "reading the command's error output");
    }
    err.append(buffer.bytes.data(), received(err_bytes));
    // A server may close the channel without sending EOF first.
    if (received(out_bytes) == 0 && received(err_bytes) == 0 &&
        ssh_channel_is_closed(channel.get()) != 0) {
      break;
    }
  }

  if (timed_out || stopped) {
    // NOTE: sshd (OpenSSH 9.2) delivers the signal only to non-root sessions. For a root
    // login it rejects the request, and the command keeps running after the channel closes
    // until it ends or writes to its closed output. Callers that start long remote work
    // stop it themselves afterwards (see stop_install_script()).
    ssh_channel_request_send_signal(channel.get(), "TERM");
    ssh_channel_close(channel.get());
  }
  if (stopped) {
    spdlog::debug("{}interrupted: {}", prefix, command.line);
    return Error{ErrorKind::interrupted, "command stopped: k3sjoin was interrupted", ""};
  }
  if (timed_out) {
    spdlog::debug("{}timed out after {}: {}", prefix, format_duration(command.timeout),
                  command.line);
    return Error{ErrorKind::timeout, "command timed out after " + format_duration(command.timeout),
                 "the host may be overloaded or a download stalled; check it, or retry with a "
                 "longer timeout"};
  }

  // Blocks at most the session timeout; sshd sends the status right after EOF.
  CommandResult result;
  result.exit_status = ssh_channel_get_exit_status(channel.get());
  if (ssh_is_connected(session) == 0) {
    return lost_connection(session, label_, "waiting for the command's exit status");
  }
  ssh_channel_close(channel.get());

  const auto elapsed =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  if (out.dropped() > 0 || err.dropped() > 0) {
    spdlog::warn("{}output over {} bytes was dropped ({} bytes of stdout, {} of stderr)", prefix,
                 kMaxCapturedBytes, out.dropped(), err.dropped());
  }
  spdlog::debug("{}exit status {} after {}ms", prefix, result.exit_status, elapsed.count());
  result.out = out.take();
  result.err = err.take();
  return result;
}

}  // namespace k3sjoin::ssh
