#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "fake_remote.h"
#include "k3sjoin/phase/run_reset.h"
#include "k3sjoin/phase/run_status.h"
#include "k3sjoin/util/interrupt.h"

namespace k3sjoin::phase {
namespace {

using ssh::CommandResult;
using ssh::FakeRemote;

constexpr const char* kVersion = "v1.31.4+k3s1";

class Forwarding final : public ssh::RemoteSession {
 public:
  explicit Forwarding(std::shared_ptr<FakeRemote> target) : target_(std::move(target)) {}
  Result<CommandResult> run(const ssh::Command& command) override { return target_->run(command); }
  std::string label() const override { return target_->label(); }

 private:
  std::shared_ptr<FakeRemote> target_;
};

nlohmann::json node(const std::string& name, const std::string& ready) {
  return {{"metadata", {{"name", name}}},
          {"status",
           {{"nodeInfo", {{"kubeletVersion", kVersion}}},
            {"conditions", {{{"type", "Ready"}, {"status", ready}}}}}}};
}

std::string joined_agent() {
  return std::string("active=yes\nurl=https://10.246.10.50:6443\nversion=k3s version ") + kVersion +
         " (abc)\nserver=no\npassword=yes\nclock=1796400000\n";
}

class StatusResetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    reset_interrupt();
    inventory_.path = "inventory.json";
    inventory_.server = spec("k3s-server-01", "10.246.10.50");
    inventory_.agents = {spec("agent-01", "10.246.10.51"), spec("agent-02", "10.246.10.52")};
    for (const char* name : {"k3s-server-01", "agent-01", "agent-02"}) {
      remotes_[name] = std::make_shared<FakeRemote>();
    }
    server().on("k3s --version", 0, std::string("k3s version ") + kVersion + " (abc)\n");
    server().on("is-active --quiet .*k3s", 0, "active=yes\n");
    server().on("get nodes -o json", 0,
                nlohmann::json{{"kind", "List"},
                               {"items",
                                {node("k3s-server-01", "True"), node("agent-01", "True"),
                                 node("old-agent", "Unknown")}}}
                    .dump());
  }

  static config::HostSpec spec(const std::string& name, const std::string& address) {
    config::HostSpec host;
    host.name = name;
    host.address = address;
    host.user = "ops";
    return host;
  }

  FakeRemote& server() { return *remotes_["k3s-server-01"]; }
  FakeRemote& agent(const std::string& name) { return *remotes_[name]; }

  Connector connector() {
    return [this](const config::HostSpec& host) -> Result<std::unique_ptr<ssh::RemoteSession>> {
      if (host.name == unreachable_) {
        return Error{ErrorKind::connect, "connect to " + host.address + ":22 failed", ""};
      }
      return std::unique_ptr<ssh::RemoteSession>(std::make_unique<Forwarding>(remotes_[host.name]));
    };
  }

  config::Inventory inventory_;
  std::map<std::string, std::shared_ptr<FakeRemote>> remotes_;
  std::string unreachable_;
};

TEST_F(StatusResetTest, StatusRowsAndExtraNode) {
  agent("agent-01").on("echo password=yes", 0, joined_agent());
  agent("agent-02").on("echo password=yes", 0, "active=no\nurl=\nversion=\nserver=no\n");
  report::StatusReport report = run_status(inventory_, RunOptions{}, connector());
  ASSERT_EQ(report.rows.size(), 4U);
  EXPECT_TRUE(report.rows[0].matches) << report.rows[0].detail;
  EXPECT_TRUE(report.rows[1].matches) << report.rows[1].detail;
  EXPECT_FALSE(report.rows[2].matches);
  EXPECT_EQ(report.rows[2].detail, "k3s not installed");
  EXPECT_EQ(report.rows[2].node_status, "absent");
  EXPECT_EQ(report.rows[3].name, "old-agent");
  EXPECT_FALSE(report.rows[3].in_inventory);
  EXPECT_EQ(report.rows[3].node_status, "Unknown");
  EXPECT_FALSE(report.ok());
  EXPECT_EQ(report.target_version, kVersion);
  nlohmann::json json = report::status_to_json(report);
  EXPECT_EQ(json["kind"], "StatusReport");
  EXPECT_EQ(json["hosts"][3]["inInventory"], false);
  EXPECT_TRUE(json["hosts"][3]["address"].is_null());
}

TEST_F(StatusResetTest, StatusDiagnosesNotReadyAgent) {
  agent("agent-01").on("echo password=yes", 0, joined_agent());
  agent("agent-02").on("echo password=yes", 0, joined_agent());
  agent("agent-02")
      .on("journalctl -u k3s-agent -n 200 --no-pager --since @1796399400", 0,
          "level=error msg=\"token CA hash does not match the Cluster CA "
          "certificate hash: aa != bb\"\n");
  report::StatusReport report = run_status(inventory_, RunOptions{}, connector());
  ASSERT_GE(report.rows.size(), 3U);
  EXPECT_EQ(report.rows[2].detail, "no node agent-02 in the cluster");
  ASSERT_TRUE(report.rows[2].diagnosis.has_value());
  EXPECT_EQ(report.rows[2].diagnosis->code, "token-ca-hash-mismatch");
}

TEST_F(StatusResetTest, StatusNeverReadsToken) {
  agent("agent-01").on("echo password=yes", 0, joined_agent());
  agent("agent-02").on("echo password=yes", 0, joined_agent());
  agent("agent-02").on("journalctl", 0, "");
  run_status(inventory_, RunOptions{}, connector());
  EXPECT_FALSE(server().ran("token"));
}

TEST_F(StatusResetTest, ResetUninstallsThenDeletesNode) {
  agent("agent-01").on("echo password=yes", 0, joined_agent());
  agent("agent-01").on("k3s-agent-uninstall.sh", 0, "uninstalled\n");
  server().on("delete node", 0,
              "node \"agent-01\" deleted\nsecret \"agent-01.node-password.k3s\" deleted\n");
  report::ResetReport report = run_reset(inventory_, "agent-01", RunOptions{}, connector());
  ASSERT_EQ(report.steps.size(), 2U);
  EXPECT_EQ(report.steps[0].result, report::StepResult::done) << report.steps[0].detail;
  EXPECT_EQ(report.steps[1].result, report::StepResult::done) << report.steps[1].detail;
  EXPECT_EQ(report.steps[1].detail,
            "node \"agent-01\" deleted; secret \"agent-01.node-password.k3s\" deleted");
  EXPECT_TRUE(report.ok());
  auto commands = agent("agent-01").commands();
  ASSERT_FALSE(commands.empty());
  EXPECT_FALSE(commands.back().line.empty());
}

TEST_F(StatusResetTest, ResetLeavesOtherServersAgent) {
  agent("agent-01")
      .on("echo password=yes", 0,
          "active=yes\nurl=https://10.9.9.9:6443\nversion=k3s version v1.31.4+k3s1"
          "\nserver=no\n");
  report::ResetReport report = run_reset(inventory_, "agent-01", RunOptions{}, connector());
  EXPECT_EQ(report.steps[0].result, report::StepResult::failed);
  EXPECT_NE(report.steps[0].detail.find("https://10.9.9.9:6443"), std::string::npos);
  EXPECT_EQ(report.steps[1].result, report::StepResult::not_run);
  EXPECT_FALSE(agent("agent-01").ran("uninstall"));
  EXPECT_FALSE(server().ran("delete node"));
}

TEST_F(StatusResetTest, ResetDeletesNodeOfDeadHost) {
  unreachable_ = "agent-01";
  server().on("delete node", 0, "");
  report::ResetReport report = run_reset(inventory_, "agent-01", RunOptions{}, connector());
  EXPECT_EQ(report.steps[0].result, report::StepResult::failed);
  EXPECT_EQ(report.steps[1].result, report::StepResult::skipped);
  EXPECT_FALSE(report.ok());
  EXPECT_TRUE(server().ran("delete node"));
}

}  // namespace
}  // namespace k3sjoin::phase
