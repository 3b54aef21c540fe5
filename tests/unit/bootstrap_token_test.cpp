#include "k3sjoin/phase/bootstrap_token.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "fake_remote.h"
#include "k3sjoin/log/log.h"
#include "k3sjoin/phase/phases.h"
#include "k3sjoin/util/interrupt.h"

namespace k3sjoin::phase {
namespace {

using ssh::CommandResult;
using ssh::FakeRemote;

constexpr const char* kVersion = "v1.31.4+k3s1";
constexpr const char* kHash = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
constexpr const char* kBootstrapSecret = "0123456789abcdef";
const std::string kBootstrapToken = std::string("K10") + kHash + "::k3sjab." + kBootstrapSecret;

class ForwardingSession final : public ssh::RemoteSession {
 public:
  explicit ForwardingSession(std::shared_ptr<FakeRemote> target) : target_(std::move(target)) {}
  Result<CommandResult> run(const ssh::Command& command) override { return target_->run(command); }
  std::string label() const override { return target_->label(); }

 private:
  std::shared_ptr<FakeRemote> target_;
};

config::HostSpec host(const std::string& name, const std::string& address) {
  config::HostSpec spec;
  spec.name = name;
  spec.address = address;
  spec.user = "ops";
  return spec;
}

std::string nodes_json(bool agents_ready) {
  auto node = [](const std::string& name) {
    return nlohmann::json{
        {"metadata", {{"name", name}, {"creationTimestamp", "2026-12-04T10:00:00Z"}}},
        {"status",
         {{"nodeInfo", {{"kubeletVersion", kVersion}}},
          {"addresses", nlohmann::json::array()},
          {"conditions", {{{"type", "Ready"}, {"status", "True"}, {"reason", "KubeletReady"}}}}}}};
  };
  // json::array, because a braced list of one object is an array for g++ but the object
  // itself for clang.
  nlohmann::json items = nlohmann::json::array({node("k3s-server-01")});
  if (agents_ready) {
    items.push_back(node("agent-01"));
  }
  return nlohmann::json{{"apiVersion", "v1"}, {"kind", "List"}, {"items", items}}.dump();
}

class BootstrapTokenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    reset_interrupt();
    inventory_.path = "inventory.json";
    inventory_.server = host("k3s-server-01", "10.246.10.50");
    inventory_.agents = {host("agent-01", "10.246.10.51")};
    server_ = std::make_shared<FakeRemote>("10.246.10.50:22");
    agent_ = std::make_shared<FakeRemote>("10.246.10.51:22");
    options_.timeout = std::chrono::seconds(20);
    options_.poll_interval = std::chrono::seconds(1);
    options_.preflight = false;
    options_.bootstrap_token_ttl = std::chrono::seconds(900);

    server_->on("k3s --version", 0, std::string("k3s version ") + kVersion + " (abc)\n");
    server_->on("k3s token create", 0, kBootstrapToken + "\n");
    server_->on("k3s token delete", 0, "bootstrap token k3sjab deleted\n");
    server_->on("get nodes -o json", [this](const ssh::Command&) -> Result<CommandResult> {
      return CommandResult{0, nodes_json(installs_.load() > 0), ""};
    });
    agent_->on("is-active", 0, "active=no\nurl=\nversion=\nserver=no\n");
    agent_->on("install.sh", [this](const ssh::Command& command) -> Result<CommandResult> {
      ++installs_;
      // The token must still exist while an agent installs.
      EXPECT_FALSE(server_->ran("k3s token delete"));
      install_input_ = std::string(command.input);
      return CommandResult{0, "", ""};
    });
  }

  report::RunReport run() {
    Connector connector =
        [this](const config::HostSpec& spec) -> Result<std::unique_ptr<ssh::RemoteSession>> {
      return std::unique_ptr<ssh::RemoteSession>(
          std::make_unique<ForwardingSession>(spec.name == "k3s-server-01" ? server_ : agent_));
    };
    return run_up(inventory_, options_, connector);
  }

  config::Inventory inventory_;
  RunOptions options_;
  std::shared_ptr<FakeRemote> server_;
  std::shared_ptr<FakeRemote> agent_;
  std::atomic<int> installs_{0};
  std::string install_input_;
};

TEST(BootstrapTokenScripts, CreateGivesTtlInSecondsAndDescription) {
  EXPECT_EQ(create_bootstrap_token_script(std::chrono::seconds(900)),
            "k3s token create --ttl 900s --description 'k3sjoin join token for one run'");
}

TEST(BootstrapTokenScripts, DeleteQuotesId) {
  EXPECT_EQ(delete_bootstrap_token_script("k3sjab"), "k3s token delete 'k3sjab'");
}

TEST_F(BootstrapTokenTest, AgentJoinsThenTokenDeleted) {
  report::RunReport report = run();
  EXPECT_TRUE(report.all_ok()) << report.hosts[0].detail << " / " << report.hosts[1].detail;
  EXPECT_EQ(report.hosts[1].outcome, report::Outcome::joined);
  EXPECT_EQ(install_input_, kBootstrapToken + "\n");
  EXPECT_FALSE(server_->ran("agent-token"));  // the long-lived token is never read
  EXPECT_EQ(server_->count("k3s token delete .*k3sjab"), 1U);
}

TEST_F(BootstrapTokenTest, SecretNeverInCommandLines) {
  run();
  for (const auto& remote : {server_, agent_}) {
    for (const auto& command : remote->commands()) {
      EXPECT_EQ(command.line.find(kBootstrapSecret), std::string::npos) << command.line;
    }
  }
}

TEST_F(BootstrapTokenTest, DeletedWhenServerStepFailsAfterCreate) {
  server_ = std::make_shared<FakeRemote>("10.246.10.50:22");
  server_->on("k3s --version", 0, std::string("k3s version ") + kVersion + " (abc)\n");
  server_->on("k3s token create", 0, kBootstrapToken + "\n");
  server_->on("k3s token delete", 0, "");
  server_->on("get nodes -o json", 1, "", "The connection to the server was refused\n");
  report::RunReport report = run();
  EXPECT_EQ(report.hosts[0].outcome, report::Outcome::failed);
  EXPECT_EQ(installs_.load(), 0);
  EXPECT_EQ(server_->count("k3s token delete"), 1U);
}

TEST_F(BootstrapTokenTest, DeletedAfterInterrupt) {
  agent_ = std::make_shared<FakeRemote>("10.246.10.51:22");
  agent_->on("is-active", [](const ssh::Command&) -> Result<CommandResult> {
    request_interrupt();
    return CommandResult{0, "active=no\nurl=\nversion=\nserver=no\n", ""};
  });
  report::RunReport report = run();
  reset_interrupt();
  EXPECT_TRUE(report.interrupted);
  EXPECT_EQ(server_->count("k3s token delete"), 1U);
}

TEST_F(BootstrapTokenTest, FailedDeleteFailsServerWithManualCommand) {
  server_ = std::make_shared<FakeRemote>("10.246.10.50:22");
  server_->on("k3s --version", 0, std::string("k3s version ") + kVersion + " (abc)\n");
  server_->on("k3s token create", 0, kBootstrapToken + "\n");
  server_->on("k3s token delete", 1, "", "Error: bootstrap token \"k3sjab\" not found\n");
  server_->on("get nodes -o json", [this](const ssh::Command&) -> Result<CommandResult> {
    return CommandResult{0, nodes_json(installs_.load() > 0), ""};
  });
  report::RunReport report = run();
  EXPECT_EQ(report.hosts[1].outcome, report::Outcome::joined);
  EXPECT_EQ(report.hosts[0].outcome, report::Outcome::failed);
  EXPECT_FALSE(report.all_ok());
  ASSERT_TRUE(report.hosts[0].error.has_value());
  EXPECT_NE(report.hosts[0].error->message.find("bootstrap token k3sjab not deleted"),
            std::string::npos)
      << report.hosts[0].error->message;
  EXPECT_NE(report.hosts[0].error->hint.find("sudo k3s token delete k3sjab"), std::string::npos);
}

TEST_F(BootstrapTokenTest, UnexpectedOutputFailsUnquoted) {
  server_ = std::make_shared<FakeRemote>("10.246.10.50:22");
  server_->on("k3s --version", 0, std::string("k3s version ") + kVersion + " (abc)\n");
  server_->on("k3s token create", 0, std::string("K10") + kHash + "::server:secretpassword\n");
  report::RunReport report = run();
  EXPECT_EQ(report.hosts[0].outcome, report::Outcome::failed);
  ASSERT_TRUE(report.hosts[0].error.has_value());
  EXPECT_EQ(report.hosts[0].error->message.find("secretpassword"), std::string::npos);
  EXPECT_FALSE(server_->ran("k3s token delete"));
  EXPECT_EQ(installs_.load(), 0);
}

TEST_F(BootstrapTokenTest, GuardDeletesWhenRunEndsEarly) {
  RunContext context(inventory_, options_, Connector());
  context.server().session = server_;
  {
    BootstrapTokenGuard guard(context);
    ASSERT_TRUE(create_bootstrap_token(context).ok());
    EXPECT_EQ(context.bootstrap_token_id, "k3sjab");
    EXPECT_EQ(context.token.secret_part(), kBootstrapSecret);
  }
  EXPECT_EQ(context.bootstrap_token_id, "");
  EXPECT_EQ(server_->count("k3s token delete .*k3sjab"), 1U);
  delete_bootstrap_token(context);  // a second delete does nothing
  EXPECT_EQ(server_->count("k3s token delete"), 1U);
  // The redaction filter keeps views into the token, which is freed with the context.
  log::forget_secret(context.token.text().view());
}

}  // namespace
}  // namespace k3sjoin::phase
