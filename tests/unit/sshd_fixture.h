#pragma once

// An OpenSSH sshd on 127.0.0.1 for tests of the libssh client, started once per test suite
// with its own host key, authorized_keys and config. Needs root (sshd must switch to the
// login user) and /usr/sbin/sshd; the tests skip otherwise.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "k3sjoin/ssh/remote.h"

namespace k3sjoin::ssh::testing_sshd {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr const char* kSshd = "/usr/sbin/sshd";

inline std::string read_file(const fs::path& path) {
  std::ifstream stream(path);
  std::stringstream text;
  text << stream.rdbuf();
  return text.str();
}

inline bool run_tool(const std::string& command) {
  return std::system(command.c_str()) == 0;
}

inline bool make_key(const fs::path& path, const std::string& passphrase = "") {
  return run_tool("ssh-keygen -q -t ed25519 -N '" + passphrase + "' -C k3sjoin-test -f '" +
                  path.string() + "' </dev/null >/dev/null");
}

// The fingerprint that ssh-keygen -l prints for a public key file: "SHA256:...".
inline std::string keygen_fingerprint(const fs::path& public_key) {
  const std::string output_file = public_key.string() + ".fp";
  run_tool("ssh-keygen -lf '" + public_key.string() + "' > '" + output_file + "'");
  std::istringstream words(read_file(output_file));
  std::string bits;
  std::string fingerprint;
  words >> bits >> fingerprint;
  return fingerprint;
}

// Returns a port on 127.0.0.1 that was free a moment ago.
inline int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

inline bool port_accepts(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  close(fd);
  return ok;
}

// Returns the pid of a process whose command line, with spaces for NUL bytes, equals
// `line`, or -1.
inline pid_t find_process(const std::string& line) {
  for (const fs::directory_entry& entry : fs::directory_iterator("/proc")) {
    std::string cmdline = read_file(entry.path() / "cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline == line + " ") {
      return static_cast<pid_t>(std::stoi(entry.path().filename().string()));
    }
  }
  return -1;
}

class SshLoopback : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (geteuid() != 0 || access(kSshd, X_OK) != 0) {
      skip_reason_ = "needs root and /usr/sbin/sshd";
      return;
    }
    // Keep the tests away from any ssh-agent of the user running them.
    unsetenv("SSH_AUTH_SOCK");
    char pattern[] = "/tmp/k3sjoin-sshd-XXXXXX";
    if (mkdtemp(pattern) == nullptr) {
      skip_reason_ = "mkdtemp failed";
      return;
    }
    dir_ = pattern;
    if (!make_key(dir_ / "host") || !make_key(dir_ / "other_host") || !make_key(dir_ / "client") ||
        !make_key(dir_ / "wrong") || !make_key(dir_ / "locked", "passphrase")) {
      skip_reason_ = "ssh-keygen failed";
      return;
    }
    fs::copy_file(dir_ / "client.pub", dir_ / "authorized_keys");
    // The passphrase key is authorised too, so the server accepts its public key and the
    // client gets as far as needing the passphrase.
    std::ofstream(dir_ / "authorized_keys", std::ios::app) << read_file(dir_ / "locked.pub");
    // Debian's sshd refuses to start without its privilege separation directory.
    mkdir("/run/sshd", 0755);

    port_ = free_port();
    std::ofstream(dir_ / "sshd_config")
        << "HostKey " << (dir_ / "host").string() << "\n"
        << "PidFile none\n"
        << "AuthorizedKeysFile " << (dir_ / "authorized_keys").string() << "\n"
        << "StrictModes no\nPermitRootLogin prohibit-password\nPasswordAuthentication no\n"
        << "KbdInteractiveAuthentication no\nUsePAM no\nLogLevel ERROR\n";
    start_sshd();
    for (int i = 0; i < 100 && sshd_pid_ > 0 && !port_accepts(port_); ++i) {
      std::this_thread::sleep_for(50ms);
    }
    if (sshd_pid_ <= 0 || !port_accepts(port_)) {
      skip_reason_ = "sshd did not start: " + read_file(dir_ / "sshd.log");
      return;
    }
    host_fingerprint_ = keygen_fingerprint(dir_ / "host.pub");
    std::ofstream(dir_ / "known_hosts")
        << "[127.0.0.1]:" << port_ << " " << read_file(dir_ / "host.pub");
  }

  static void TearDownTestSuite() {
    if (sshd_pid_ > 0) {
      kill(sshd_pid_, SIGTERM);
      waitpid(sshd_pid_, nullptr, 0);
      sshd_pid_ = -1;
    }
    if (!dir_.empty()) {
      std::error_code ignored;
      fs::remove_all(dir_, ignored);
    }
  }

  void SetUp() override {
    if (!skip_reason_.empty()) {
      GTEST_SKIP() << skip_reason_;
    }
  }

  static void start_sshd() {
    const std::string config = (dir_ / "sshd_config").string();
    const std::string log = (dir_ / "sshd.log").string();
    const std::string port = std::to_string(port_);
    sshd_pid_ = fork();
    if (sshd_pid_ == 0) {
      // sshd must not outlive a test binary that crashes or is killed by a timeout, and it
      // must not hold the test's stdout open.
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
      execl(kSshd, kSshd, "-D", "-e", "-f", config.c_str(), "-p", port.c_str(), "-o",
            "ListenAddress=127.0.0.1", static_cast<char*>(nullptr));
      _exit(127);
    }
  }

  static ConnectOptions options() {
    ConnectOptions result;
    result.address = "127.0.0.1";
    result.port = port_;
    result.user = "root";
    result.identity = (dir_ / "client").string();
    result.known_hosts = (dir_ / "known_hosts").string();
    result.connect_timeout = 5s;
    return result;
  }

  static std::unique_ptr<RemoteSession> connect_ok(const ConnectOptions& opts) {
    Result<std::unique_ptr<RemoteSession>> session = connect(opts);
    EXPECT_TRUE(session.ok()) << (session.ok() ? "" : session.error().message);
    return session.ok() ? std::move(*session) : nullptr;
  }

  static std::string label() { return "127.0.0.1:" + std::to_string(port_); }

  static inline fs::path dir_;
  static inline int port_ = 0;
  static inline pid_t sshd_pid_ = -1;
  static inline std::string skip_reason_;
  static inline std::string host_fingerprint_;
};

}  // namespace k3sjoin::ssh::testing_sshd
