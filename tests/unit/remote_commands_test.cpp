#include "k3sjoin/phase/remote_commands.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <string>

namespace k3sjoin::phase {
namespace {

constexpr std::string_view kToken =
    "K10aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa::server:"
    "0123456789abcdef0123456789abcdef";

InstallRequest sample_request() {
  InstallRequest request;
  request.server_url = "https://10.246.10.50:6443";
  request.version = "v1.31.4+k3s1";
  request.install_url = "https://get.k3s.io";
  request.node_name = "agent-01";
  request.node_ip = "10.246.10.51";
  request.extra_args = {"--node-label=zone=a b", "--kubelet-arg=max-pods=50"};
  request.timeout = std::chrono::seconds(240);
  return request;
}

TEST(InstallScriptTest, HasNoTokenAndReadsItFromStdin) {
  std::string script = install_agent_script(sample_request());
  EXPECT_EQ(script.find(kToken), std::string::npos);
  EXPECT_EQ(script.find("K10"), std::string::npos);
  EXPECT_NE(script.find("read -r K3S_TOKEN"), std::string::npos);
  EXPECT_EQ(script.find("K3S_TOKEN="), std::string::npos);
}

// install.sh copies environment lines that start with K3S_ into the agent's env file, and
// sudo's SUDO_COMMAND variable carries the whole script, one line per line.
TEST(InstallScriptTest, NoLineStartsWithK3sPrefix) {
  std::string script = as_root("ops", install_agent_script(sample_request()));
  std::size_t start = 0;
  while (start < script.size()) {
    std::size_t end = script.find('\n', start);
    std::string line = script.substr(start, end - start);
    EXPECT_NE(line.rfind("K3S_", 0), 0U) << line;
    EXPECT_NE(line.rfind("CONTAINERD_", 0), 0U) << line;
    if (end == std::string::npos) {
      break;
    }
    start = end + 1;
  }
}

TEST(InstallScriptTest, StartsWithoutBlockingAndHasTimeout) {
  std::string script = install_agent_script(sample_request());
  EXPECT_EQ(script.rfind("timeout -k 10 240 sh -c ", 0), 0U);
  EXPECT_NE(script.find("INSTALL_K3S_SKIP_START=true"), std::string::npos);
  EXPECT_NE(script.find("systemctl restart --no-block k3s-agent"), std::string::npos);
}

TEST(InstallScriptTest, PassesNodeArguments) {
  std::string script = install_agent_script(sample_request());
  // The inner script is quoted once more by the outer sh -c, so single quotes appear
  // escaped as '\''.
  EXPECT_NE(script.find("agent"), std::string::npos);
  EXPECT_NE(script.find("--node-name"), std::string::npos);
  EXPECT_NE(script.find("agent-01"), std::string::npos);
  EXPECT_NE(script.find("--node-ip"), std::string::npos);
  EXPECT_NE(script.find("10.246.10.51"), std::string::npos);
  EXPECT_NE(script.find("zone=a b"), std::string::npos);
}

TEST(AsRootTest, UsesSudoUnlessRoot) {
  EXPECT_EQ(as_root("root", "true").rfind("sh -c ", 0), 0U);
  EXPECT_EQ(as_root("ops", "true").rfind("sudo -n -- sh -c ", 0), 0U);
}

// Runs a command line through /bin/sh and returns its stdout.
std::string run_shell(const std::string& line) {
  std::string output;
  FILE* pipe = popen(line.c_str(), "r");
  if (pipe == nullptr) {
    return output;
  }
  std::array<char, 256> buffer{};
  while (fgets(buffer.data(), buffer.size(), pipe) != nullptr) {
    output += buffer.data();
  }
  pclose(pipe);
  return output;
}

TEST(AsRootTest, RootScriptRunsUnchanged) {
  std::string line = as_root("root", "printf '%s|' \"it's\" '$HOME' `echo x`");
  EXPECT_EQ(run_shell(line), "it's|$HOME|x|");
}

TEST(ServerUrlTest, BracketsIpv6) {
  EXPECT_EQ(server_url("10.246.10.50"), "https://10.246.10.50:6443");
  EXPECT_EQ(server_url("fd00:246::50"), "https://[fd00:246::50]:6443");
}

TEST(K3sVersionTest, ParsesVersionLine) {
  EXPECT_EQ(parse_k3s_version("k3s version v1.31.4+k3s1 (a1b2c3d4)\ngo version go1.22.9\n"),
            "v1.31.4+k3s1");
  EXPECT_FALSE(parse_k3s_version("command not found").has_value());
}

TEST(AgentStateTest, ParsesInspectOutput) {
  AgentState state = parse_agent_state(
      "active=yes\nurl=https://10.246.10.50:6443\nversion=k3s version v1.31.4+k3s1 (abc)\n"
      "server=no\n");
  EXPECT_TRUE(state.service_active);
  EXPECT_EQ(state.server_url, "https://10.246.10.50:6443");
  EXPECT_EQ(state.version, "v1.31.4+k3s1");
  EXPECT_FALSE(state.is_server);
}

TEST(AgentStateTest, EmptyOnFreshHost) {
  AgentState state = parse_agent_state("active=no\nurl=\nversion=\nserver=no\n");
  EXPECT_FALSE(state.service_active);
  EXPECT_EQ(state.server_url, "");
  EXPECT_EQ(state.version, "");
}

TEST(InspectScriptTest, NeverPrintsTokenLine) {
  std::string script = inspect_agent_script();
  EXPECT_EQ(script.find("K3S_TOKEN"), std::string::npos);
  EXPECT_NE(script.find("s/^K3S_URL=//p"), std::string::npos);
}

}  // namespace
}  // namespace k3sjoin::phase
