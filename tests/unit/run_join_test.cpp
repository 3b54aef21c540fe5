#include "k3sjoin/phase/run_join.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "fake_remote.h"
#include "k3sjoin/phase/node_identity.h"
#include "k3sjoin/util/interrupt.h"

namespace k3sjoin::phase {
namespace {

using ssh::CommandResult;
using ssh::FakeRemote;

constexpr const char* kVersion = "v1.31.4+k3s1";
constexpr const char* kToken =
    "K10aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa::server:"
    "0123456789abcdef0123456789abcdef";
// A k3s node password and its hash (scrypt, log2 N 15, r 8, p 1), as a Secret's base64.
constexpr const char* kNodePassword = "437fcbfaf01a7564d2153b1e6e8e6a6c";
constexpr const char* kNodePasswordHash =
    "$1:0011223344556677:15:8:1:821279ae2ea27f6e0427350803ec051bb901f764b7ca13670ab9a05928d03490";
constexpr const char* kNodePasswordSecret =
    "JDE6MDAxMTIyMzM0NDU1NjY3NzoxNTo4OjE6ODIxMjc5YWUyZWEyN2Y2ZTA0MjczNTA4MDNlYzA1MWJiOTAxZjc2NG"
    "I3Y2ExMzY3MGFiOWEwNTkyOGQwMzQ5MA==";
constexpr const char* kNodePasswordLine =
    "Dec 04 15:42:57 agent-01 k3s[20193]: time=\"2026-12-04T15:42:57Z\" level=info "
    "msg=\"Waiting to retrieve agent configuration; server is not ready: "
    "https://127.0.0.1:6444/v1-k3s/serving-kubelet.crt: Node password rejected, duplicate "
    "hostname or contents of '/etc/rancher/node/password' may not match server node-passwd "
    "entry, try enabling a unique node name with the --with-node-id flag\"";

class Forwarding final : public ssh::RemoteSession {
 public:
  explicit Forwarding(std::shared_ptr<FakeRemote> target) : target_(std::move(target)) {}
  Result<CommandResult> run(const ssh::Command& command) override { return target_->run(command); }
  std::string label() const override { return target_->label(); }

 private:
  std::shared_ptr<FakeRemote> target_;
};

nlohmann::json node(const std::string& name, const std::string& ready, const std::string& ip) {
  return {{"metadata", {{"name", name}}},
          {"status",
           {{"nodeInfo", {{"kubeletVersion", kVersion}}},
            {"addresses", {{{"type", "InternalIP"}, {"address", ip}}}},
            {"conditions", {{{"type", "Ready"}, {"status", ready}, {"reason", "KubeletReady"}}}}}}};
}

std::string agent_state(const std::string& password, const std::string& version = "",
                        const std::string& active = "no") {
  std::string url = version.empty() ? "" : "https://10.246.10.50:6443";
  std::string version_line = version.empty() ? "" : "k3s version " + version + " (abc)";
  return "active=" + active + "\nurl=" + url + "\nversion=" + version_line +
         "\nserver=no\npassword=" + password + "\nclock=1796400000\n";
}

class RunJoinTest : public ::testing::Test {
 protected:
  void SetUp() override {
    reset_interrupt();
    inventory_.path = "inventory.json";
    inventory_.server = spec("k3s-server-01", "10.246.10.50");
    inventory_.agents = {spec("agent-01", "10.246.10.51"), spec("agent-02", "10.246.10.52")};
    server_ = std::make_shared<FakeRemote>("10.246.10.50:22");
    agent_ = std::make_shared<FakeRemote>("10.246.10.51:22");
    options_.timeout = std::chrono::seconds(20);
    options_.poll_interval = std::chrono::seconds(1);
    options_.preflight = false;

    server_->on("k3s --version", 0, std::string("k3s version ") + kVersion + " (abc)\n");
    server_->on("agent-token", 0, std::string(kToken) + "\n");
    server_->on("delete node", [this](const ssh::Command&) -> Result<CommandResult> {
      deleted_ = true;
      return CommandResult{0, "node \"agent-01\" deleted\n", ""};
    });
    server_->on("get nodes -o json", [this](const ssh::Command&) -> Result<CommandResult> {
      std::vector<nlohmann::json> nodes = {node("k3s-server-01", "True", "10.246.10.50")};
      if (installed_ || (old_node_ && !deleted_)) {
        nodes.push_back(node("agent-01", installed_ ? "True" : "True", "10.246.10.51"));
      }
      if (never_ready_ && installed_) {
        nodes.pop_back();
      }
      return CommandResult{0, nlohmann::json{{"kind", "List"}, {"items", nodes}}.dump(), ""};
    });
    agent_->on("install.sh", [this](const ssh::Command&) -> Result<CommandResult> {
      installed_ = true;
      return CommandResult{0, "", ""};
    });
  }

  static config::HostSpec spec(const std::string& name, const std::string& address) {
    config::HostSpec host;
    host.name = name;
    host.address = address;
    host.user = "ops";
    return host;
  }

  report::RunReport run() {
    Connector connector =
        [this](const config::HostSpec& host) -> Result<std::unique_ptr<ssh::RemoteSession>> {
      return std::unique_ptr<ssh::RemoteSession>(
          std::make_unique<Forwarding>(host.name == "agent-01" ? agent_ : server_));
    };
    return run_join(inventory_, "agent-01", options_, connector);
  }

  config::Inventory inventory_;
  RunOptions options_;
  std::shared_ptr<FakeRemote> server_;
  std::shared_ptr<FakeRemote> agent_;
  std::atomic<bool> installed_{false};
  std::atomic<bool> deleted_{false};
  bool old_node_ = false;
  bool never_ready_ = false;
};

TEST(NodePasswordTest, VerifiesK3sHash) {
  EXPECT_TRUE(verify_node_password(kNodePassword, kNodePasswordHash));
  EXPECT_TRUE(verify_node_password(std::string(kNodePassword) + "\n", kNodePasswordHash));
  EXPECT_FALSE(verify_node_password("0000fcbfaf01a7564d2153b1e6e8e6a6c", kNodePasswordHash));
  EXPECT_FALSE(verify_node_password(kNodePassword, "$1:zz:15:8:1:00"));
  EXPECT_FALSE(verify_node_password(kNodePassword, "$1:0011:40:8:1:00"));
  EXPECT_FALSE(verify_node_password(kNodePassword, ""));
}

TEST_F(RunJoinTest, JoinsOnlyTheNamedAgent) {
  agent_->on("echo password=yes", 0, agent_state("no"));
  report::RunReport report = run();
  ASSERT_EQ(report.hosts.size(), 2U);
  EXPECT_EQ(report.command, "join");
  EXPECT_EQ(report.hosts[1].name, "agent-01");
  EXPECT_EQ(report.hosts[1].outcome, report::Outcome::joined) << report.hosts[1].detail;
}

TEST_F(RunJoinTest, WipedHostStopsWithNodePasswordCause) {
  old_node_ = true;
  agent_->on("echo password=yes", 0, agent_state("no"));
  report::RunReport report = run();
  const auto& agent = report.hosts[1];
  EXPECT_EQ(agent.outcome, report::Outcome::failed);
  ASSERT_TRUE(agent.diagnosis.has_value());
  EXPECT_EQ(agent.diagnosis->code, "node-name-taken");
  EXPECT_NE(agent.diagnosis->cause.find("another node password"), std::string::npos);
  EXPECT_NE(agent.diagnosis->fix.find("k3sjoin join inventory.json --node agent-01 --replace"),
            std::string::npos);
  EXPECT_FALSE(agent_->ran("install.sh"));
  EXPECT_FALSE(server_->ran("delete node"));
}

TEST_F(RunJoinTest, ReplaceDeletesOldNodeThenJoins) {
  old_node_ = true;
  options_.replace_node = true;
  std::string asked;
  options_.confirm = [&](const std::string& question) {
    asked = question;
    return true;
  };
  agent_->on("echo password=yes", 0, agent_state("no"));
  report::RunReport report = run();
  EXPECT_EQ(report.hosts[1].outcome, report::Outcome::joined) << report.hosts[1].detail;
  EXPECT_NE(asked.find("Delete node agent-01 and secret kube-system/agent-01.node-password.k3s"),
            std::string::npos)
      << asked;
  EXPECT_TRUE(server_->ran("delete secret -n kube-system .*agent-01.node-password.k3s"));
}

TEST_F(RunJoinTest, DeclinedReplaceChangesNothing) {
  old_node_ = true;
  options_.replace_node = true;
  options_.confirm = [](const std::string&) { return false; };
  agent_->on("echo password=yes", 0, agent_state("no"));
  report::RunReport report = run();
  EXPECT_EQ(report.hosts[1].outcome, report::Outcome::failed);
  EXPECT_NE(report.hosts[1].detail.find("declined"), std::string::npos);
  EXPECT_FALSE(server_->ran("delete node"));
  EXPECT_FALSE(agent_->ran("install.sh"));
}

TEST_F(RunJoinTest, MatchingPasswordRejoinsWithoutReplace) {
  old_node_ = true;
  server_->on("node-password.k3s.* --ignore-not-found -o", 0, kNodePasswordSecret);
  agent_->on("echo password=yes", 0, agent_state("yes"));
  agent_->on("cat .*/etc/rancher/node/password", 0, std::string(kNodePassword) + "\n");
  report::RunReport report = run();
  EXPECT_EQ(report.hosts[1].outcome, report::Outcome::joined) << report.hosts[1].detail;
  EXPECT_FALSE(server_->ran("delete node"));
  for (const auto& command : agent_->commands()) {
    EXPECT_EQ(command.line.find(kNodePassword), std::string::npos);
  }
}

TEST_F(RunJoinTest, VersionDriftNeedsOption) {
  old_node_ = true;
  server_->on("node-password.k3s.* --ignore-not-found -o", 0, "");
  agent_->on("echo password=yes", 0, agent_state("yes", "v1.30.8+k3s1", "yes"));
  report::RunReport report = run();
  EXPECT_EQ(report.hosts[1].outcome, report::Outcome::failed);
  ASSERT_TRUE(report.hosts[1].error.has_value());
  EXPECT_NE(report.hosts[1].error->hint.find("--allow-version-change"), std::string::npos);
  EXPECT_FALSE(agent_->ran("install.sh"));

  options_.allow_version_change = true;
  report = run();
  EXPECT_TRUE(agent_->ran("install.sh"));
  EXPECT_EQ(report.hosts[1].outcome, report::Outcome::joined) << report.hosts[1].detail;
}

TEST_F(RunJoinTest, PermanentFailureEndsWaitEarly) {
  never_ready_ = true;
  agent_->on("echo password=yes", 0, agent_state("no"));
  agent_->on("journalctl -u k3s-agent -n 200 --no-pager --since @1796400000", 0,
             std::string(kNodePasswordLine) + "\n");
  auto started = std::chrono::steady_clock::now();
  report::RunReport report = run();
  auto took = std::chrono::steady_clock::now() - started;
  const auto& agent = report.hosts[1];
  EXPECT_EQ(agent.outcome, report::Outcome::failed);
  ASSERT_TRUE(agent.diagnosis.has_value());
  EXPECT_EQ(agent.diagnosis->code, "node-password-rejected");
  EXPECT_EQ(agent.diagnosis->lines.size(), 1U);
  EXPECT_LT(took, std::chrono::seconds(15));
}

TEST_F(RunJoinTest, DeadlineGivesDiagnosis) {
  never_ready_ = true;
  options_.timeout = std::chrono::seconds(3);
  agent_->on("echo password=yes", 0, agent_state("no"));
  agent_->on("journalctl", 0, "-- No entries --\n");
  report::RunReport report = run();
  const auto& agent = report.hosts[1];
  EXPECT_EQ(agent.outcome, report::Outcome::failed);
  ASSERT_TRUE(agent.diagnosis.has_value());
  EXPECT_EQ(agent.diagnosis->code, "not-registered");
}

TEST_F(RunJoinTest, InterruptedInstallIsStoppedAndReported) {
  agent_ = std::make_shared<FakeRemote>("10.246.10.51:22");
  agent_->on("/bin/kill -s TERM", 0, "k3s=no\nactive=no\n");
  agent_->on("echo password=yes", 0, agent_state("no"));
  agent_->on("install.sh", [](const ssh::Command&) -> Result<CommandResult> {
    request_interrupt();
    return Error{ErrorKind::interrupted, "command stopped: k3sjoin was interrupted", ""};
  });
  report::RunReport report = run();
  reset_interrupt();
  const auto& agent = report.hosts[1];
  EXPECT_TRUE(report.interrupted);
  EXPECT_EQ(agent.outcome, report::Outcome::install_started);
  EXPECT_NE(agent.detail.find("k3s not installed"), std::string::npos) << agent.detail;
  auto commands = agent_->commands();
  ASSERT_FALSE(commands.empty());
  EXPECT_NE(commands.back().line.find("/bin/kill -s TERM"), std::string::npos);
}

TEST_F(RunJoinTest, ServerLostReportsUnknown) {
  never_ready_ = true;
  options_.timeout = std::chrono::seconds(4);
  agent_->on("echo password=yes", 0, agent_state("no"));
  agent_->on("journalctl", 0, "");
  std::atomic<int> lists{0};
  auto lost = std::make_shared<FakeRemote>("10.246.10.50:22");
  lost->on("k3s --version", 0, std::string("k3s version ") + kVersion + " (abc)\n");
  lost->on("agent-token", 0, std::string(kToken) + "\n");
  lost->on("get nodes -o json", [&](const ssh::Command&) -> Result<CommandResult> {
    if (++lists == 1) {
      return CommandResult{0, R"({"kind":"List","items":[]})", ""};
    }
    return FakeRemote::connect_error();
  });
  server_ = lost;
  report::RunReport report = run();
  EXPECT_EQ(report.hosts[1].outcome, report::Outcome::unknown) << report.hosts[1].detail;
}

}  // namespace
}  // namespace k3sjoin::phase
