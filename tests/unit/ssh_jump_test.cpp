// ProxyJump, known_hosts lists and identity lists of the libssh client, against the sshd of
// sshd_fixture.h. The jump tests hop through that same sshd to itself.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "k3sjoin/ssh/remote.h"
#include "sshd_fixture.h"

namespace k3sjoin::ssh {
namespace {

using namespace testing_sshd;  // NOLINT(google-build-using-namespace)
namespace fs = std::filesystem;

// Lists the open descriptors with their targets, such as "5 -> socket:[1234]".
std::set<std::string> open_descriptors() {
  std::set<std::string> descriptors;
  for (const fs::directory_entry& entry : fs::directory_iterator("/proc/self/fd")) {
    std::error_code error;
    const fs::path target = fs::read_symlink(entry.path(), error);
    // The directory iterator's own descriptor is gone again by the time it is compared.
    if (!error && target.string().rfind("/proc/", 0) != 0) {
      descriptors.insert(entry.path().filename().string() + " -> " + target.string());
    }
  }
  return descriptors;
}

int thread_count() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Threads:", 0) == 0) {
      return std::stoi(line.substr(8));
    }
  }
  return -1;
}

class SshJump : public SshLoopback {};

TEST_F(SshJump, TwoHopsCarryCommandsAndData) {
  const std::set<std::string> descriptors = open_descriptors();
  const int threads = thread_count();
  {
    ConnectOptions opts = options();
    opts.jumps = {options(), options()};
    auto session = connect_ok(opts);
    ASSERT_NE(session, nullptr);
    EXPECT_EQ(session->label(), label());
    EXPECT_EQ(thread_count(), threads + 2);

    Result<CommandResult> echo = session->run({"echo through", ""});
    ASSERT_TRUE(echo.ok()) << echo.error().message;
    EXPECT_EQ(echo->out, "through\n");

    // More than the SSH window and the socket buffers in both directions.
    const std::string input(3 * 1024 * 1024, 'x');
    Result<CommandResult> copy = session->run({"cat", input});
    ASSERT_TRUE(copy.ok()) << copy.error().message;
    EXPECT_EQ(copy->out.size(), input.size());
    EXPECT_EQ(copy->out, input);
  }
  // Tearing the session down stops both pumps and closes every socket.
  EXPECT_EQ(thread_count(), threads);
  EXPECT_EQ(open_descriptors(), descriptors);
}

TEST_F(SshJump, ClosedTargetPortNamesHop) {
  const std::set<std::string> descriptors = open_descriptors();
  ConnectOptions opts = options();
  opts.port = free_port();
  opts.jumps = {options()};
  Result<std::unique_ptr<RemoteSession>> session = connect(opts);
  ASSERT_FALSE(session.ok());
  EXPECT_EQ(session.error().kind, ErrorKind::connect);
  const std::string target = "127.0.0.1:" + std::to_string(opts.port);
  EXPECT_EQ(session.error().message.rfind("via jump host 1 of 1 to " + target + ": jump host " +
                                              label() + " cannot open a connection to " + target,
                                          0),
            0U)
      << session.error().message;
  EXPECT_NE(session.error().hint.find("AllowTcpForwarding"), std::string::npos);
  EXPECT_EQ(open_descriptors(), descriptors);
}

TEST_F(SshJump, HopHostKeyChecked) {
  const std::set<std::string> descriptors = open_descriptors();
  const int threads = thread_count();
  ConnectOptions opts = options();
  ConnectOptions hop = options();
  hop.known_hosts = (dir_ / "jump_empty_known_hosts").string();
  opts.jumps = {options(), hop};
  Result<std::unique_ptr<RemoteSession>> session = connect(opts);
  ASSERT_FALSE(session.ok());
  EXPECT_EQ(session.error().kind, ErrorKind::host_key);
  EXPECT_EQ(
      session.error().message.rfind(
          "via jump host 2 of 2 to " + label() + ": host key for " + label() + " is not in ", 0),
      0U)
      << session.error().message;
  EXPECT_EQ(open_descriptors(), descriptors);
  EXPECT_EQ(thread_count(), threads);
}

TEST_F(SshJump, TargetHostKeyCheckedBehindHop) {
  ConnectOptions opts = options();
  opts.known_hosts = (dir_ / "target_changed_known_hosts").string();
  std::ofstream(opts.known_hosts) << "[127.0.0.1]:" << port_ << " "
                                  << read_file(dir_ / "other_host.pub");
  opts.jumps = {options()};
  Result<std::unique_ptr<RemoteSession>> session = connect(opts);
  ASSERT_FALSE(session.ok());
  EXPECT_EQ(session.error().kind, ErrorKind::host_key);
  EXPECT_EQ(session.error().message.rfind("host key for " + label() + " has changed", 0), 0U)
      << session.error().message;
}

TEST_F(SshJump, SecondKnownHostsFileIsRead) {
  ConnectOptions opts = options();
  opts.known_hosts = (dir_ / "first_known_hosts_missing").string();
  opts.other_known_hosts = {(dir_ / "known_hosts").string()};
  EXPECT_NE(connect_ok(opts), nullptr);
  EXPECT_FALSE(fs::exists(opts.known_hosts));
}

TEST_F(SshJump, IdentityFilesTriedInOrder) {
  ConnectOptions opts = options();
  opts.identity.reset();
  opts.identity_files = {(dir_ / "wrong").string(), (dir_ / "client").string()};
  opts.identities_only = true;
  EXPECT_NE(connect_ok(opts), nullptr);

  opts.identity_files = {(dir_ / "wrong").string()};
  Result<std::unique_ptr<RemoteSession>> session = connect(opts);
  ASSERT_FALSE(session.ok());
  EXPECT_EQ(session.error().message,
            "authentication as root@" + label() +
                " failed: the server accepted none of the offered keys (ssh-agent: not used, "
                "IdentitiesOnly is set, identity " +
                (dir_ / "wrong").string() + ")");
}

}  // namespace
}  // namespace k3sjoin::ssh
