#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "fake_remote.h"
#include "k3sjoin/phase/phases.h"
#include "k3sjoin/preflight/runner.h"
#include "k3sjoin/util/interrupt.h"

namespace k3sjoin::preflight {
namespace {

using ssh::CommandResult;
using ssh::FakeRemote;

constexpr const char* kVersion = "v1.31.4+k3s1";
const std::string kHash(64, 'a');
const std::string kToken = "K10" + kHash + "::server:0123456789abcdef0123456789abcdef";

class ForwardingSession final : public ssh::RemoteSession {
 public:
  explicit ForwardingSession(std::shared_ptr<FakeRemote> target) : target_(std::move(target)) {}
  Result<CommandResult> run(const ssh::Command& command) override { return target_->run(command); }
  std::string label() const override { return target_->label(); }

 private:
  std::shared_ptr<FakeRemote> target_;
};

std::string facts(const std::string& hostname, const std::string& address,
                  std::uint64_t memory_kb) {
  return "arch=x86_64\nhostname=" + hostname +
         "\ncpus=4\nmemtotal_kb=" + std::to_string(memory_kb) +
         "\ndisk_path=/var/lib\ndisk=/dev/vda1 102400000 81920000 /\n"
         "tool=curl /usr/bin/curl\naddr=" +
         address + "/24\nsockets=yes\nactive=no\nurl=\nversion=\nserver=no\n";
}

// The round's output of a host on which every probe worked: datagrams from all three
// hosts, kubelet connects to both agents and the server's real /cacerts.
std::string round_output() {
  return "listener python3\nlistening udp\nlistening tcp\nudp_tool bash\n"
         "udp_from 0 a\nudp_from 1 b\nudp_from 2 c\ntcp 1 bash 0\ntcp 2 bash 0\n"
         "api_tcp bash 0\ncacerts curl 0 " +
         kHash + " 570\ndone\n";
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

class PreflightGateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    reset_interrupt();
    inventory_.path = "inventory.json";
    inventory_.server = host("k3s-server-01", "10.246.10.50", "/server");
    inventory_.agents = {host("agent-01", "10.246.10.51", "/agents/0"),
                         host("agent-02", "10.246.10.52", "/agents/1")};
    options_.timeout = std::chrono::seconds(20);
    options_.poll_interval = std::chrono::seconds(1);
    remotes_["k3s-server-01"] = std::make_shared<FakeRemote>("10.246.10.50:22");
    remotes_["agent-01"] = std::make_shared<FakeRemote>("10.246.10.51:22");
    remotes_["agent-02"] = std::make_shared<FakeRemote>("10.246.10.52:22");

    // The facts script contains "k3s --version" too, so its rule comes first.
    for (const auto& [name, address] :
         std::map<std::string, std::string>{{"k3s-server-01", "10.246.10.50"},
                                            {"agent-01", "10.246.10.51"},
                                            {"agent-02", "10.246.10.52"}}) {
      remote(name).on("^sudo -n true$", 0);
      remote(name).on(
          "uname -m",
          [this, name = name, address = address](const ssh::Command&) -> Result<CommandResult> {
            std::uint64_t memory = name == small_host_ ? 100'000 : 8'000'000;
            return CommandResult{0, facts(name, address, memory), ""};
          });
      remote(name).on("^date \\+%s$", [](const ssh::Command&) -> Result<CommandResult> {
        auto now = std::chrono::system_clock::now().time_since_epoch();
        return CommandResult{
            0, std::to_string(std::chrono::duration_cast<std::chrono::seconds>(now).count()), ""};
      });
      remote(name).on("k3sjoin-preflight", 0, round_output());
      remote(name).on("is-active", 0, "active=no\nurl=\nversion=\nserver=no\n");
      remote(name).on("install.sh", [this](const ssh::Command&) -> Result<CommandResult> {
        ++installs_;
        return CommandResult{0, "", ""};
      });
    }
    server().on("k3s --version", 0, std::string("k3s version ") + kVersion + " (abc)\n");
    server().on("agent-token", 0, kToken + "\n");
    server().on("get nodes -o json", [this](const ssh::Command&) -> Result<CommandResult> {
      nlohmann::json items = nlohmann::json::array();
      if (installs_.load() > 0) {
        items.push_back({{"metadata", {{"name", "agent-01"}}},
                         {"status",
                          {{"nodeInfo", {{"kubeletVersion", kVersion}}},
                           {"conditions", {{{"type", "Ready"}, {"status", "True"}}}}}}});
      }
      return CommandResult{0, nlohmann::json{{"kind", "List"}, {"items", items}}.dump(), ""};
    });
  }

  FakeRemote& remote(const std::string& name) { return *remotes_[name]; }
  FakeRemote& server() { return remote("k3s-server-01"); }

  phase::Connector connector() {
    return [this](const config::HostSpec& spec) -> Result<std::unique_ptr<ssh::RemoteSession>> {
      return std::unique_ptr<ssh::RemoteSession>(
          std::make_unique<ForwardingSession>(remotes_[spec.name]));
    };
  }

  config::Inventory inventory_;
  phase::RunOptions options_;
  std::map<std::string, std::shared_ptr<FakeRemote>> remotes_;
  std::atomic<int> installs_{0};
  std::string small_host_;
};

TEST_F(PreflightGateTest, CleanHostsPass) {
  PreflightReport report = run_preflight(inventory_, options_, connector(), {});
  EXPECT_TRUE(report.ok());
  EXPECT_EQ(report.count(Status::fail), 0U);
  EXPECT_EQ(report.count(Status::skipped), 0U);
  for (const auto& finding : report.findings) {
    EXPECT_EQ(finding.status, Status::pass)
        << finding.check << " on " << finding.host << ": " << finding.message;
  }
  EXPECT_EQ(report.server_version, kVersion);
  EXPECT_EQ(report.findings.front().host, "k3s-server-01");
  EXPECT_EQ(report.findings.back().host, "agent-02");
}

TEST_F(PreflightGateTest, TokenNeverLeavesTheServer) {
  run_preflight(inventory_, options_, connector(), {});
  for (const auto& [name, remote] : remotes_) {
    for (const auto& command : remote->commands()) {
      EXPECT_EQ(command.line.find("0123456789abcdef0123"), std::string::npos) << command.line;
      EXPECT_EQ(command.input, "") << command.line;
    }
  }
}

TEST_F(PreflightGateTest, PreflightChangesNothing) {
  run_preflight(inventory_, options_, connector(), {});
  EXPECT_FALSE(remote("agent-01").ran("install.sh"));
  EXPECT_FALSE(remote("agent-01").ran("systemctl (start|restart|stop)"));
}

TEST_F(PreflightGateTest, UpSkipsFailingAgentOnly) {
  small_host_ = "agent-02";
  report::RunReport report = phase::run_up(inventory_, options_, connector());
  ASSERT_EQ(report.hosts.size(), 3U);
  EXPECT_EQ(report.hosts[1].outcome, report::Outcome::joined) << report.hosts[1].detail;
  EXPECT_EQ(report.hosts[2].outcome, report::Outcome::failed);
  EXPECT_EQ(report.hosts[2].detail.rfind("not changed: preflight failed (host.memory)", 0), 0U)
      << report.hosts[2].detail;
  EXPECT_FALSE(report.hosts[2].changed);
  EXPECT_FALSE(remote("agent-02").ran("install.sh"));
  // The facts script inspects the install too; join_agents() never ran its own inspection.
  EXPECT_EQ(remote("agent-02").count("is-active"), 1U);
}

TEST_F(PreflightGateTest, SkipPreflightRunsNoCheck) {
  small_host_ = "agent-02";
  options_.preflight = false;
  options_.timeout = std::chrono::seconds(2);  // agent-02 never turns Ready here
  phase::run_up(inventory_, options_, connector());
  EXPECT_FALSE(remote("agent-02").ran("k3sjoin-preflight"));
  EXPECT_TRUE(remote("agent-02").ran("install.sh"));
}

TEST_F(PreflightGateTest, StrictBlocksWarnings) {
  options_.strict_preflight = true;
  options_.timeout = std::chrono::seconds(2);
  // 1.5 GB is above the minimum and below the recommendation: a warning.
  remotes_["agent-01"] = std::make_shared<FakeRemote>("10.246.10.51:22");
  remote("agent-01").on("^sudo -n true$", 0);
  remote("agent-01").on("uname -m", 0, facts("agent-01", "10.246.10.51", 1'500'000));
  remote("agent-01").on("^date \\+%s$", [](const ssh::Command&) -> Result<CommandResult> {
    auto now = std::chrono::system_clock::now().time_since_epoch();
    return CommandResult{
        0, std::to_string(std::chrono::duration_cast<std::chrono::seconds>(now).count()), ""};
  });
  remote("agent-01").on("k3sjoin-preflight", 0, round_output());
  report::RunReport report = phase::run_up(inventory_, options_, connector());
  EXPECT_EQ(report.hosts[1].outcome, report::Outcome::failed);
  EXPECT_FALSE(remote("agent-01").ran("install.sh"));
}

}  // namespace
}  // namespace k3sjoin::preflight
