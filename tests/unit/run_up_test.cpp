#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "fake_remote.h"
#include "k3sjoin/phase/phases.h"
#include "k3sjoin/util/interrupt.h"

namespace k3sjoin::phase {
namespace {

using ssh::CommandResult;
using ssh::FakeRemote;

constexpr const char* kVersion = "v1.31.4+k3s1";
constexpr const char* kToken =
    "K10aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa::server:"
    "0123456789abcdef0123456789abcdef";

// Forwards to a FakeRemote that the test keeps, so the test can inspect it after the run.
class ForwardingSession final : public ssh::RemoteSession {
 public:
  explicit ForwardingSession(std::shared_ptr<FakeRemote> target) : target_(std::move(target)) {}
  Result<CommandResult> run(const ssh::Command& command) override { return target_->run(command); }
  std::string label() const override { return target_->label(); }

 private:
  std::shared_ptr<FakeRemote> target_;
};

nlohmann::json node_json(const std::string& name, const std::string& ready,
                         const std::string& version) {
  return {{"metadata", {{"name", name}, {"creationTimestamp", "2026-12-04T10:00:00Z"}}},
          {"status",
           {{"nodeInfo", {{"kubeletVersion", version}}},
            {"addresses", nlohmann::json::array()},
            {"conditions",
             {{{"type", "Ready"}, {"status", ready}, {"reason", "KubeletReady"},
               {"message", "kubelet is posting ready status"}}}}}}};
}

std::string node_list(const std::vector<nlohmann::json>& nodes) {
  return nlohmann::json{{"apiVersion", "v1"}, {"kind", "List"}, {"items", nodes}}.dump();
}

config::HostSpec host(const std::string& name, const std::string& address, const char* pointer) {
  config::HostSpec spec;
  spec.name = name;
  spec.address = address;
  spec.node_ip = address;
  spec.user = "ops";
  spec.pointer = pointer;
  return spec;
}

class RunUpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    reset_interrupt();
    inventory_.path = "inventory.json";
    inventory_.server = host("k3s-server-01", "10.246.10.50", "/server");
    inventory_.agents = {host("agent-01", "10.246.10.51", "/agents/0"),
                         host("agent-02", "10.246.10.52", "/agents/1")};
    remotes_["k3s-server-01"] = std::make_shared<FakeRemote>("10.246.10.50:22");
    remotes_["agent-01"] = std::make_shared<FakeRemote>("10.246.10.51:22");
    remotes_["agent-02"] = std::make_shared<FakeRemote>("10.246.10.52:22");
    options_.timeout = std::chrono::seconds(20);
    options_.poll_interval = std::chrono::seconds(1);
    options_.preflight = false;  // preflight_gate_test.cpp covers up with preflight

    server().on("k3s --version", 0, std::string("k3s version ") + kVersion + " (abc)\n");
    server().on("agent-token", 0, std::string(kToken) + "\n");
    // The first node list has only the server; later ones show the agents Ready once
    // both installs have run.
    server().on("get nodes -o json", [this](const ssh::Command&) -> Result<CommandResult> {
      std::vector<nlohmann::json> nodes = {node_json("k3s-server-01", "True", kVersion)};
      if (installs_.load() >= 2) {
        nodes.push_back(node_json("agent-01", "True", kVersion));
        nodes.push_back(node_json("agent-02", "True", kVersion));
      }
      return CommandResult{0, node_list(nodes), ""};
    });
    for (const char* name : {"agent-01", "agent-02"}) {
      agent(name).on("is-active", 0, "active=no\nurl=\nversion=\nserver=no\n");
      agent(name).on("install.sh", [this](const ssh::Command&) -> Result<CommandResult> {
        ++installs_;
        return CommandResult{0, "[INFO]  Using v1.31.4+k3s1 as release\n", ""};
      });
    }
  }

  FakeRemote& server() { return *remotes_["k3s-server-01"]; }
  FakeRemote& agent(const std::string& name) { return *remotes_[name]; }

  report::RunReport run() {
    Connector connector = [this](const config::HostSpec& spec)
        -> Result<std::unique_ptr<ssh::RemoteSession>> {
      if (unreachable_ == spec.name) {
        return Error{ErrorKind::connect, "connect to " + spec.address + ":22 failed: refused",
                     "check that sshd is running"};
      }
      return std::unique_ptr<ssh::RemoteSession>(
          std::make_unique<ForwardingSession>(remotes_[spec.name]));
    };
    return run_up(inventory_, options_, connector);
  }

  config::Inventory inventory_;
  RunOptions options_;
  std::map<std::string, std::shared_ptr<FakeRemote>> remotes_;
  std::atomic<int> installs_{0};
  std::string unreachable_;
};

TEST_F(RunUpTest, JoinsBothAgents) {
  report::RunReport report = run();
  ASSERT_EQ(report.hosts.size(), 3U);
  EXPECT_EQ(report.hosts[0].outcome, report::Outcome::ready);
  EXPECT_EQ(report.hosts[1].outcome, report::Outcome::joined) << report.hosts[1].detail;
  EXPECT_EQ(report.hosts[2].outcome, report::Outcome::joined) << report.hosts[2].detail;
  EXPECT_EQ(report.hosts[1].node_version, kVersion);
  EXPECT_TRUE(report.all_ok());
  EXPECT_EQ(report.server_version, kVersion);
}

TEST_F(RunUpTest, TokenOnlyOnInstallStdin) {
  run();
  for (const char* name : {"k3s-server-01", "agent-01", "agent-02"}) {
    for (const auto& command : remotes_[name]->commands()) {
      EXPECT_EQ(command.line.find(kToken), std::string::npos) << command.line;
      EXPECT_EQ(command.line.find("0123456789abcdef"), std::string::npos) << command.line;
      if (command.line.find("install.sh") != std::string::npos) {
        EXPECT_EQ(command.input, std::string(kToken) + "\n");
      } else {
        EXPECT_EQ(command.input, "");
      }
    }
  }
}

TEST_F(RunUpTest, OneNodeListPerPollForAllAgents) {
  run();
  // One list before the agents, then one per poll interval; never one per agent per poll.
  std::size_t lists = server().count("get nodes -o json");
  EXPECT_GE(lists, 2U);
  EXPECT_LE(lists, 4U);
}

TEST_F(RunUpTest, UnreachableAgentFailsAlone) {
  unreachable_ = "agent-02";
  installs_ = 1;  // only agent-01 installs; the node list shows both Ready after it
  report::RunReport report = run();
  EXPECT_EQ(report.hosts[1].outcome, report::Outcome::joined);
  EXPECT_EQ(report.hosts[2].outcome, report::Outcome::failed);
  ASSERT_TRUE(report.hosts[2].error.has_value());
  EXPECT_EQ(report.hosts[2].error->kind, ErrorKind::connect);
  EXPECT_FALSE(report.all_ok());
  EXPECT_FALSE(agent("agent-02").ran("install.sh"));
}

TEST_F(RunUpTest, AlreadyJoinedAgentIsNotChanged) {
  installs_ = 2;  // the node list shows both agents Ready from the start
  // Rules match in order, so the agents are re-created with only the joined reply.
  for (const char* name : {"agent-01", "agent-02"}) {
    remotes_[name] = std::make_shared<FakeRemote>();
    remotes_[name]->on("is-active", 0,
                       "active=yes\nurl=https://10.246.10.50:6443\nversion=k3s version "
                       "v1.31.4+k3s1 (abc)\nserver=no\npassword=yes\n");
  }
  // No node-password secrets: k3s then accepts the agents' passwords, so the nodes are theirs.
  server().on("node-password.k3s", 0, "");
  report::RunReport report = run();
  EXPECT_EQ(report.hosts[1].outcome, report::Outcome::already_joined);
  EXPECT_EQ(report.hosts[2].outcome, report::Outcome::already_joined);
  EXPECT_FALSE(report.hosts[1].changed);
  EXPECT_FALSE(agent("agent-01").ran("install.sh"));
  EXPECT_TRUE(report.all_ok());
}

TEST_F(RunUpTest, AgentOfOtherServerIsNotMoved) {
  remotes_["agent-02"] = std::make_shared<FakeRemote>();
  agent("agent-02").on("is-active", 0,
                       "active=yes\nurl=https://10.9.9.9:6443\nversion=k3s version "
                       "v1.31.4+k3s1 (abc)\nserver=no\n");
  installs_ = 1;
  report::RunReport report = run();
  EXPECT_EQ(report.hosts[2].outcome, report::Outcome::failed);
  EXPECT_NE(report.hosts[2].detail.find("https://10.9.9.9:6443"), std::string::npos);
  EXPECT_FALSE(agent("agent-02").ran("install.sh"));
}

TEST_F(RunUpTest, NodeNeverReadyFailsAtDeadline) {
  installs_ = -100;  // the node list never shows the agents
  options_.timeout = std::chrono::seconds(3);
  report::RunReport report = run();
  EXPECT_EQ(report.hosts[1].outcome, report::Outcome::failed);
  ASSERT_TRUE(report.hosts[1].error.has_value());
  EXPECT_EQ(report.hosts[1].error->kind, ErrorKind::not_ready);
  EXPECT_NE(report.hosts[1].detail.find("not registered"), std::string::npos)
      << report.hosts[1].detail;
}

TEST_F(RunUpTest, ServerTokenMissingTouchesNoAgent) {
  remotes_["k3s-server-01"] = std::make_shared<FakeRemote>("10.246.10.50:22");
  server().on("k3s --version", 0, std::string("k3s version ") + kVersion + " (abc)\n");
  server().on("agent-token", 1, "", "cat: /var/lib/rancher/k3s/server/node-token: No such file");
  report::RunReport report = run();
  EXPECT_EQ(report.hosts[0].outcome, report::Outcome::failed);
  EXPECT_EQ(report.hosts[1].outcome, report::Outcome::failed);
  EXPECT_FALSE(report.hosts[1].changed);
  EXPECT_FALSE(agent("agent-01").ran("install.sh"));
}

TEST_F(RunUpTest, SudoPasswordPromptIsAuthError) {
  remotes_["agent-01"] = std::make_shared<FakeRemote>("10.246.10.51:22");
  agent("agent-01").on("is-active", 1, "", "sudo: a password is required\n");
  installs_ = 1;
  report::RunReport report = run();
  EXPECT_EQ(report.hosts[1].outcome, report::Outcome::failed);
  ASSERT_TRUE(report.hosts[1].error.has_value());
  EXPECT_EQ(report.hosts[1].error->kind, ErrorKind::auth);
  EXPECT_NE(report.hosts[1].error->hint.find("NOPASSWD"), std::string::npos);
}

}  // namespace
}  // namespace k3sjoin::phase
