#include "k3sjoin/util/terminal.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <mutex>

namespace k3sjoin {
namespace {

// Longest accepted line; sudo and OpenSSH cap their passwords lower than this.
constexpr std::size_t kMaxLine = 1024;

std::mutex& prompt_mutex() {
  static std::mutex mutex;
  return mutex;
}

void write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t done = write(fd, text.data(), text.size());
    if (done < 0 && errno == EINTR) {
      continue;
    }
    if (done <= 0) {
      return;
    }
    text.remove_prefix(static_cast<std::size_t>(done));
  }
}

}  // namespace

bool stdin_is_terminal() {
  return isatty(STDIN_FILENO) == 1;
}

std::optional<Secret> read_secret_from_terminal(std::string_view prompt) {
  if (!stdin_is_terminal()) {
    return std::nullopt;
  }
  const std::lock_guard lock(prompt_mutex());
  const int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    return std::nullopt;
  }
  termios saved{};
  const bool have_termios = tcgetattr(fd, &saved) == 0;
  if (have_termios) {
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;
    tcsetattr(fd, TCSAFLUSH, &quiet);
  }
  write_all(fd, prompt);

  // The line is read byte by byte into a Secret-sized buffer, so no growing std::string
  // leaves copies of it on the heap.
  std::array<char, kMaxLine> line{};
  std::size_t size = 0;
  bool complete = false;
  while (size < line.size()) {
    char c = 0;
    const ssize_t done = read(fd, &c, 1);
    if (done < 0 && errno == EINTR) {
      continue;
    }
    if (done <= 0) {
      break;
    }
    if (c == '\n' || c == '\r') {
      complete = true;
      break;
    }
    line[size++] = c;
  }
  if (have_termios) {
    tcsetattr(fd, TCSAFLUSH, &saved);
  }
  close(fd);
  std::optional<Secret> secret;
  if (complete) {
    secret.emplace(std::string_view(line.data(), size));
  }
  OPENSSL_cleanse(line.data(), line.size());
  return secret;
}

}  // namespace k3sjoin
