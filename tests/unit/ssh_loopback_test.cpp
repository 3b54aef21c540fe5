// Runs the libssh client against a real OpenSSH sshd that the test starts on 127.0.0.1
// with its own host key, authorized_keys and config. Needs root (sshd must switch to the
// login user) and /usr/sbin/sshd; the tests skip otherwise.

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "k3sjoin/ssh/remote.h"
#include "sshd_fixture.h"

namespace k3sjoin::ssh {
namespace {

using namespace testing_sshd;  // NOLINT(google-build-using-namespace)
using namespace std::chrono_literals;
namespace fs = std::filesystem;

TEST_F(SshLoopback, EchoExitsZero) {
  auto session = connect_ok(options());
  ASSERT_NE(session, nullptr);
  EXPECT_EQ(session->label(), label());
  Result<CommandResult> result = session->run({"echo hi", ""});
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->exit_status, 0);
  EXPECT_EQ(result->out, "hi\n");
  EXPECT_EQ(result->err, "");
}

TEST_F(SshLoopback, ExitStatusPropagates) {
  auto session = connect_ok(options());
  ASSERT_NE(session, nullptr);
  Result<CommandResult> result = session->run({"exit 3", ""});
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->exit_status, 3);
}

TEST_F(SshLoopback, StderrCaptured) {
  auto session = connect_ok(options());
  ASSERT_NE(session, nullptr);
  Result<CommandResult> result = session->run({"echo out; echo oops >&2", ""});
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->out, "out\n");
  EXPECT_EQ(result->err, "oops\n");
}

TEST_F(SshLoopback, InputGoesToStdinNotArgv) {
  auto session = connect_ok(options());
  ASSERT_NE(session, nullptr);
  const std::string secret = "K10token::server:s3cret";
  Result<CommandResult> echo = session->run({"cat", secret});
  ASSERT_TRUE(echo.ok()) << echo.error().message;
  EXPECT_EQ(echo->out, secret);

  // The shell prints its own argv and then compares what it read from stdin.
  Result<CommandResult> check =
      session->run({"read -r value; tr '\\0' ' ' </proc/$$/cmdline; echo; "
                    "[ \"$value\" = 'K10token::server:s3cret' ] && echo match",
                    secret + "\n"});
  ASSERT_TRUE(check.ok()) << check.error().message;
  EXPECT_EQ(check->exit_status, 0);
  EXPECT_NE(check->out.find("read -r value"), std::string::npos);
  EXPECT_NE(check->out.find("match"), std::string::npos);
  EXPECT_EQ(check->out.find("s3cret\n"), std::string::npos);
}

TEST_F(SshLoopback, LargeOutputIsCapped) {
  auto session = connect_ok(options());
  ASSERT_NE(session, nullptr);
  Result<CommandResult> result = session->run({"head -c 5000000 /dev/zero", ""});
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->exit_status, 0);
  EXPECT_EQ(result->out.size(), 4U * 1024 * 1024);
}

TEST_F(SshLoopback, TimeoutStopsCommand) {
  auto session = connect_ok(options());
  ASSERT_NE(session, nullptr);
  // The duration includes the pid so that the remote sleep process can be found in /proc.
  const std::string sleep_line = "sleep 30." + std::to_string(getpid());
  const auto started = std::chrono::steady_clock::now();
  Result<CommandResult> result = session->run({sleep_line, "", 1s});
  const auto elapsed = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().kind, ErrorKind::timeout);
  EXPECT_EQ(result.error().message, "command timed out after 1s");
  EXPECT_LT(elapsed, 2s);

  // sshd (OpenSSH 9.2) rejects signal requests on root sessions ("session signalling
  // requires privilege separation"), so the remote sleep outlives the channel; end it here.
  for (int i = 0; i < 20; ++i) {
    if (const pid_t pid = find_process(sleep_line); pid > 0) {
      kill(pid, SIGTERM);
      break;
    }
    std::this_thread::sleep_for(50ms);
  }

  // The connection stays usable after a timed-out channel.
  Result<CommandResult> after = session->run({"echo after", ""});
  ASSERT_TRUE(after.ok()) << after.error().message;
  EXPECT_EQ(after->out, "after\n");
}

TEST_F(SshLoopback, UnknownHostKeyStrictFails) {
  ConnectOptions opts = options();
  opts.known_hosts = (dir_ / "empty_known_hosts").string();
  Result<std::unique_ptr<RemoteSession>> session = connect(opts);
  ASSERT_FALSE(session.ok());
  EXPECT_EQ(session.error().kind, ErrorKind::host_key);
  EXPECT_EQ(session.error().message, "host key for " + label() + " is not in " + opts.known_hosts +
                                         ": the server offered " + host_fingerprint_ +
                                         " (ssh-ed25519)");
  EXPECT_NE(session.error().hint.find("accept-new"), std::string::npos);
  EXPECT_FALSE(fs::exists(opts.known_hosts));
}

TEST_F(SshLoopback, AcceptNewRecordsKey) {
  ConnectOptions opts = options();
  opts.known_hosts = (dir_ / "accept_new" / "known_hosts").string();
  opts.host_key_policy = HostKeyPolicy::accept_new;
  ASSERT_NE(connect_ok(opts), nullptr);
  EXPECT_NE(read_file(opts.known_hosts).find("[127.0.0.1]:" + std::to_string(port_)),
            std::string::npos);

  opts.host_key_policy = HostKeyPolicy::strict;
  auto session = connect_ok(opts);
  ASSERT_NE(session, nullptr);
  EXPECT_TRUE(session->run({"true", ""}).ok());
}

TEST_F(SshLoopback, ChangedKeyNamesFileAndLine) {
  ConnectOptions opts = options();
  opts.known_hosts = (dir_ / "changed_known_hosts").string();
  std::ofstream(opts.known_hosts) << "# old entry\n[127.0.0.1]:" << port_ << " "
                                  << read_file(dir_ / "other_host.pub");
  opts.host_key_policy = HostKeyPolicy::accept_new;  // must not override a changed key
  Result<std::unique_ptr<RemoteSession>> session = connect(opts);
  ASSERT_FALSE(session.ok());
  EXPECT_EQ(session.error().kind, ErrorKind::host_key);
  const std::string& message = session.error().message;
  EXPECT_NE(message.find("host key for " + label() + " has changed: the server offered " +
                         host_fingerprint_ + " (ssh-ed25519)"),
            std::string::npos)
      << message;
  // Both fingerprints appear: the offered one above, the recorded one with its file and line.
  EXPECT_NE(message.find("but known_hosts lists a different key: " +
                         keygen_fingerprint(dir_ / "other_host.pub") + " (ssh-ed25519) at " +
                         opts.known_hosts + ":2"),
            std::string::npos)
      << message;
  EXPECT_NE(session.error().hint.find("ssh-keygen -R '[127.0.0.1]:" + std::to_string(port_) +
                                      "' -f " + opts.known_hosts),
            std::string::npos)
      << session.error().hint;
}

TEST_F(SshLoopback, HashedKnownHostsEntries) {
  ConnectOptions opts = options();
  opts.known_hosts = (dir_ / "hashed_known_hosts").string();
  fs::copy_file(dir_ / "known_hosts", opts.known_hosts);
  ASSERT_TRUE(run_tool("ssh-keygen -q -H -f '" + opts.known_hosts + "' >/dev/null 2>&1"));
  ASSERT_EQ(read_file(opts.known_hosts).rfind("|1|", 0), 0U);
  EXPECT_NE(connect_ok(opts), nullptr);

  std::ofstream(opts.known_hosts) << "[127.0.0.1]:" << port_ << " "
                                  << read_file(dir_ / "other_host.pub");
  ASSERT_TRUE(run_tool("ssh-keygen -q -H -f '" + opts.known_hosts + "' >/dev/null 2>&1"));
  Result<std::unique_ptr<RemoteSession>> changed = connect(opts);
  ASSERT_FALSE(changed.ok());
  EXPECT_EQ(changed.error().kind, ErrorKind::host_key);
  EXPECT_NE(changed.error().message.find(opts.known_hosts + ":1"), std::string::npos)
      << changed.error().message;
}

TEST_F(SshLoopback, PinnedFingerprint) {
  ConnectOptions opts = options();
  opts.known_hosts = (dir_ / "pinned_known_hosts").string();
  opts.pinned_fingerprint = host_fingerprint_;
  EXPECT_NE(connect_ok(opts), nullptr);

  opts.pinned_fingerprint = keygen_fingerprint(dir_ / "other_host.pub");
  Result<std::unique_ptr<RemoteSession>> session = connect(opts);
  ASSERT_FALSE(session.ok());
  EXPECT_EQ(session.error().kind, ErrorKind::host_key);
  EXPECT_NE(session.error().message.find(host_fingerprint_), std::string::npos);
  EXPECT_NE(session.error().message.find(*opts.pinned_fingerprint), std::string::npos);
}

TEST_F(SshLoopback, WrongKeyFailsAuth) {
  ConnectOptions opts = options();
  opts.identity = (dir_ / "wrong").string();
  Result<std::unique_ptr<RemoteSession>> session = connect(opts);
  ASSERT_FALSE(session.ok());
  EXPECT_EQ(session.error().kind, ErrorKind::auth);
  EXPECT_EQ(session.error().message,
            "authentication as root@" + label() +
                " failed: the server accepted none of the offered keys (ssh-agent: not used, "
                "SSH_AUTH_SOCK is unset, identity " +
                *opts.identity + ")");
}

TEST_F(SshLoopback, PassphraseKeyFailsClearly) {
  if (isatty(STDIN_FILENO) == 1) {
    GTEST_SKIP() << "stdin is a terminal, so the client would ask for the passphrase";
  }
  ConnectOptions opts = options();
  opts.identity = (dir_ / "locked").string();
  Result<std::unique_ptr<RemoteSession>> session = connect(opts);
  ASSERT_FALSE(session.ok());
  EXPECT_EQ(session.error().kind, ErrorKind::auth);
  EXPECT_EQ(session.error().message,
            "identity file " + *opts.identity +
                " is protected by a passphrase, and stdin is not a terminal to ask for it");
  EXPECT_NE(session.error().hint.find("ssh-add " + *opts.identity), std::string::npos);
}

TEST_F(SshLoopback, MissingIdentityFails) {
  ConnectOptions opts = options();
  opts.identity = (dir_ / "no_such_key").string();
  Result<std::unique_ptr<RemoteSession>> session = connect(opts);
  ASSERT_FALSE(session.ok());
  EXPECT_EQ(session.error().kind, ErrorKind::auth);
  EXPECT_NE(session.error().message.find("does not exist"), std::string::npos);
}

TEST_F(SshLoopback, ClosedPortRefused) {
  ConnectOptions opts = options();
  opts.port = free_port();
  Result<std::unique_ptr<RemoteSession>> session = connect(opts);
  ASSERT_FALSE(session.ok());
  EXPECT_EQ(session.error().kind, ErrorKind::connect);
  EXPECT_NE(session.error().message.find("cannot connect to 127.0.0.1:" +
                                         std::to_string(opts.port) + ": connection refused"),
            std::string::npos)
      << session.error().message;
  EXPECT_FALSE(session.error().hint.empty());
}

TEST_F(SshLoopback, SilentServerTimesOut) {
  // A listener that never accepts: the TCP handshake completes in the kernel backlog, but
  // no SSH banner ever arrives.
  const int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(listen(listener, 4), 0);
  getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);

  ConnectOptions opts = options();
  opts.port = ntohs(address.sin_port);
  opts.connect_timeout = 1s;
  const auto started = std::chrono::steady_clock::now();
  Result<std::unique_ptr<RemoteSession>> session = connect(opts);
  const auto elapsed = std::chrono::steady_clock::now() - started;
  close(listener);
  ASSERT_FALSE(session.ok());
  EXPECT_EQ(session.error().kind, ErrorKind::connect);
  EXPECT_NE(session.error().message.find("connection timed out"), std::string::npos)
      << session.error().message;
  EXPECT_LT(elapsed, 3s);
}

TEST_F(SshLoopback, ParallelSessions) {
  constexpr int kThreads = 4;
  std::vector<std::string> outputs(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&outputs, i] {
      Result<std::unique_ptr<RemoteSession>> session = connect(options());
      if (!session.ok()) {
        outputs[static_cast<std::size_t>(i)] = session.error().message;
        return;
      }
      for (int round = 0; round < 5; ++round) {
        Result<CommandResult> result = (*session)->run({"echo " + std::to_string(i), ""});
        outputs[static_cast<std::size_t>(i)] += result.ok() ? result->out : "error\n";
      }
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  for (int i = 0; i < kThreads; ++i) {
    std::string expected;
    for (int round = 0; round < 5; ++round) {
      expected += std::to_string(i) + "\n";
    }
    EXPECT_EQ(outputs[static_cast<std::size_t>(i)], expected);
  }
}

TEST_F(SshLoopback, SharedSessionSerializesRuns) {
  auto session = connect_ok(options());
  ASSERT_NE(session, nullptr);
  std::vector<int> passed(4, 0);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < passed.size(); ++i) {
    threads.emplace_back([&session, &passed, i] {
      for (int round = 0; round < 5; ++round) {
        Result<CommandResult> result = session->run({"echo shared", ""});
        passed[i] += result.ok() && result->out == "shared\n" ? 1 : 0;
      }
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  for (int count : passed) {
    EXPECT_EQ(count, 5);
  }
}

}  // namespace
}  // namespace k3sjoin::ssh
