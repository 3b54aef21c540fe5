#include <gtest/gtest.h>

#include "k3sjoin/preflight/network.h"

namespace k3sjoin::preflight {
namespace {

const std::string kHash(64, 'a');

const Finding& find(const std::vector<Finding>& findings, std::string_view check,
                    const std::string& host) {
  for (const auto& finding : findings) {
    if (finding.check == check && finding.host == host) {
      return finding;
    }
  }
  static const Finding missing{"missing", "", Status::skipped, "no such finding", "", ""};
  return missing;
}

// A round on server (index 0) and two agents in which every probe worked.
class EvaluateNetworkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* names[] = {"k3s-server-01", "agent-01", "agent-02"};
    facts_.resize(3);
    hosts_.resize(3);
    for (std::size_t i = 0; i < 3; ++i) {
      NetworkHost& host = hosts_[i];
      host.name = names[i];
      host.is_server = i == 0;
      host.address = "10.246.10." + std::to_string(50 + i);
      host.facts = &facts_[i];
      NetworkResult result;
      result.listener_tool = "python3";
      result.udp_listening = true;
      result.tcp_listening = i != 0;
      result.udp_sender_tool = "bash";
      for (std::size_t j = 0; j < 3; ++j) {
        if (j != i) {
          result.udp_from.insert(j);
          if (j != 0) {
            result.tcp_to[j] = TcpProbe{"bash", 0};
          }
        }
      }
      if (i != 0) {
        result.api = ApiProbe{TcpProbe{"bash", 0}, "curl", 0, kHash, 570};
      }
      host.result = result;
    }
  }

  std::vector<Finding> evaluate() { return evaluate_network(hosts_, kHash); }

  std::vector<HostFacts> facts_;
  std::vector<NetworkHost> hosts_;
};

TEST_F(EvaluateNetworkTest, AllPathsOpenPass) {
  auto findings = evaluate();
  EXPECT_EQ(findings.size(), 8U);
  for (const auto& finding : findings) {
    EXPECT_EQ(finding.status, Status::pass) << finding.check << " " << finding.message;
  }
  EXPECT_EQ(find(findings, check::kVxlan, "agent-01").message,
            "UDP 8472 open: k3s-server-01 -> agent-01, agent-01 -> k3s-server-01, "
            "agent-02 -> agent-01");
}

TEST_F(EvaluateNetworkTest, MissingDatagramFailsTargetAgent) {
  hosts_[2].result->udp_from = {1};  // nothing from the server
  auto findings = evaluate();
  const Finding& finding = find(findings, check::kVxlan, "agent-02");
  EXPECT_EQ(finding.status, Status::fail);
  EXPECT_EQ(finding.message,
            "UDP 8472 blocked: k3s-server-01 -> agent-02 (none of the 3 datagrams arrived)");
  EXPECT_EQ(find(findings, check::kVxlan, "agent-01").status, Status::pass);
}

TEST_F(EvaluateNetworkTest, ServerInboundFailureBelongsToSourceAgent) {
  hosts_[0].result->udp_from = {2};  // agent-01's datagrams never reached the server
  auto findings = evaluate();
  EXPECT_EQ(find(findings, check::kVxlan, "agent-01").status, Status::fail);
  EXPECT_EQ(find(findings, check::kVxlan, "agent-02").status, Status::pass);
}

TEST_F(EvaluateNetworkTest, OccupiedPortIsNeverPass) {
  hosts_[0].result->udp_listening = false;
  hosts_[0].result->udp_from.clear();
  facts_[0].sockets.push_back({"udp", "0.0.0.0", kVxlanPort, "k3s"});
  auto findings = evaluate();
  const Finding& finding = find(findings, check::kVxlan, "agent-01");
  EXPECT_EQ(finding.status, Status::skipped);
  EXPECT_NE(finding.message.find("k3s (flannel) already binds 8472/udp on k3s-server-01"),
            std::string::npos)
      << finding.message;
  EXPECT_NE(finding.evidence.find("verified instead"), std::string::npos);
}

TEST_F(EvaluateNetworkTest, NoListenerToolIsSkipped) {
  hosts_[1].result->udp_listening = false;
  hosts_[1].result->listener_tool = "none";
  hosts_[1].result->udp_from.clear();
  const Finding finding = find(evaluate(), check::kVxlan, "agent-01");
  EXPECT_EQ(finding.status, Status::skipped);
  EXPECT_NE(finding.message.find("no tool on agent-01 can listen"), std::string::npos);
}

TEST_F(EvaluateNetworkTest, KubeletTimeoutFails) {
  hosts_[0].result->tcp_to[2] = TcpProbe{"bash", 124};
  const Finding finding = find(evaluate(), check::kKubelet, "agent-02");
  EXPECT_EQ(finding.status, Status::fail);
  EXPECT_EQ(finding.message,
            "TCP 10250 blocked: k3s-server-01 -> agent-02 (no answer within 3 s (dropped))");
}

TEST_F(EvaluateNetworkTest, ApiTimeoutSkipsCaHash) {
  hosts_[1].result->api->tcp = TcpProbe{"bash", 124};
  hosts_[1].result->api->cacerts_status = 28;
  auto findings = evaluate();
  EXPECT_EQ(find(findings, check::kApi, "agent-01").status, Status::fail);
  EXPECT_EQ(find(findings, check::kCaHash, "agent-01").status, Status::skipped);
}

TEST_F(EvaluateNetworkTest, ForeignCaFails) {
  hosts_[2].result->api->cacerts_sha256 = std::string(64, 'b');
  const Finding finding = find(evaluate(), check::kCaHash, "agent-02");
  EXPECT_EQ(finding.status, Status::fail);
  EXPECT_EQ(finding.message,
            "the CA served at https://10.246.10.50:6443/cacerts to agent-02 hashes to "
            "bbbbbbbbbbbb..., not the token's CA hash aaaaaaaaaaaa...");
}

TEST_F(EvaluateNetworkTest, UnreachableHostSkipsItsPaths) {
  hosts_[2].result.reset();
  hosts_[2].skip_reason = "agent-02 has no SSH session";
  auto findings = evaluate();
  EXPECT_EQ(find(findings, check::kVxlan, "agent-02").status, Status::skipped);
  EXPECT_EQ(find(findings, check::kApi, "agent-02").status, Status::skipped);
  EXPECT_EQ(find(findings, check::kVxlan, "agent-01").status, Status::skipped);
}

TEST(NetworkOutputTest, ParsesEveryLine) {
  NetworkResult result = parse_network_output(
      "listener python3\n"
      "api_tcp bash 0\n"
      "cacerts curl 0 " +
          kHash +
          " 570\n"
          "udp_tool bash\n"
          "tcp 2 bash 124\n"
          "listening udp\n"
          "bind_error tcp Address already in use\n"
          "udp_from 0 10.246.10.50\n"
          "udp_from 2 ::ffff:10.246.10.52\n"
          "tcp_from 10.246.10.50\n"
          "done\n",
      "nonce");
  EXPECT_EQ(result.listener_tool, "python3");
  EXPECT_TRUE(result.udp_listening);
  EXPECT_FALSE(result.tcp_listening);
  EXPECT_EQ(result.tcp_bind_error, "Address already in use");
  EXPECT_EQ(result.udp_from, (std::set<std::size_t>{0, 2}));
  EXPECT_EQ(result.udp_sender_tool, "bash");
  ASSERT_EQ(result.tcp_to.count(2), 1U);
  EXPECT_EQ(result.tcp_to[2].status, 124);
  ASSERT_TRUE(result.api.has_value());
  EXPECT_EQ(result.api->tcp.status, 0);
  EXPECT_EQ(result.api->cacerts_tool, "curl");
  EXPECT_EQ(result.api->cacerts_sha256, kHash);
  EXPECT_EQ(result.api->cacerts_bytes, 570U);
}

TEST(NetworkScriptTest, CleansUpAndBoundsEveryProbe) {
  NetworkPlan plan;
  plan.index = 1;
  plan.nonce = "k3sjoin-0123456789abcdef";
  plan.listen_udp = true;
  plan.listen_tcp = true;
  plan.api_address = "10.246.10.50";
  plan.targets = {{0, "10.246.10.50", true, false}, {2, "10.246.10.52", true, true}};
  plan.window = network_window(2);
  std::string script = network_script(plan);
  EXPECT_EQ(script.rfind("timeout -k 2 11 sh -c ", 0), 0U) << script.substr(0, 40);
  for (const char* part : {"mktemp -d", "trap cleanup EXIT", "rm -rf", "timeout -k 1 6 python3",
                           "probe_peer 2 ", "probe_api ", "fetch_cacerts "}) {
    EXPECT_NE(script.find(part), std::string::npos) << part;
  }
}

TEST(NetworkScriptTest, WindowGrowsPerBatch) {
  EXPECT_EQ(network_window(2), std::chrono::seconds(6));
  EXPECT_EQ(network_window(15), std::chrono::seconds(6));
  EXPECT_EQ(network_window(16), std::chrono::seconds(9));
  EXPECT_EQ(network_window(99), std::chrono::seconds(24));
}

}  // namespace
}  // namespace k3sjoin::preflight
