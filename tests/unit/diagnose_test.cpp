#include "k3sjoin/diagnose/diagnose.h"

#include <gtest/gtest.h>

namespace k3sjoin::diagnose {
namespace {

// Journal lines as k3s v1.28-v1.32 writes them; the messages are k3s's own.
constexpr const char* kNodePasswordLine =
    "Dec 04 15:42:57 agent-01 k3s[20193]: time=\"2026-12-04T15:42:57Z\" level=info "
    "msg=\"Waiting to retrieve agent configuration; server is not ready: "
    "https://127.0.0.1:6444/v1-k3s/serving-kubelet.crt: Node password rejected, duplicate "
    "hostname or contents of '/etc/rancher/node/password' may not match server node-passwd "
    "entry, try enabling a unique node name with the --with-node-id flag\"";
constexpr const char* kCaHashLine =
    "Dec 04 15:42:57 agent-01 k3s[20193]: time=\"2026-12-04T15:42:57Z\" level=error "
    "msg=\"Failed to validate connection to cluster at https://10.246.10.50:6443: token CA "
    "hash does not match the Cluster CA certificate hash: "
    "0a1b2c3d4e5f00000000000000000000000000000000000000000000000000ff != "
    "9f8e7d6c5b4a00000000000000000000000000000000000000000000000000aa\"";
constexpr const char* kCredentialsLine =
    "Dec 04 15:42:57 agent-01 k3s[20193]: time=\"2026-12-04T15:42:57Z\" level=info "
    "msg=\"Waiting to retrieve agent configuration; server is not ready: failed to retrieve "
    "configuration from server: https://127.0.0.1:6444/v1-k3s/config: 401 Unauthorized\"";
constexpr const char* kUnreachableLine =
    "Dec 04 15:42:57 agent-01 k3s[20193]: time=\"2026-12-04T15:42:57Z\" level=error "
    "msg=\"failed to get CA certs: Get \\\"https://127.0.0.1:6444/cacerts\\\": read tcp "
    "127.0.0.1:47166->127.0.0.1:6444: read: connection reset by peer\"";
constexpr const char* kNotYetValidLine =
    "Dec 04 15:42:57 agent-01 k3s[20193]: time=\"2020-01-01T00:00:37Z\" level=error "
    "msg=\"failed to get CA certs: Get \\\"https://127.0.0.1:6444/cacerts\\\": x509: "
    "certificate has expired or is not yet valid: current time 2020-01-01T00:00:37Z is before "
    "2026-12-04T15:00:00Z\"";
constexpr const char* kCgroupLine =
    "Dec 04 15:42:57 agent-01 k3s[20193]: time=\"2026-12-04T15:42:57Z\" level=fatal "
    "msg=\"failed to find memory cgroup (v2)\"";
constexpr const char* kAddressInUseLine =
    "Dec 04 15:42:57 agent-01 k3s[20193]: time=\"2026-12-04T15:42:57Z\" level=fatal "
    "msg=\"listen tcp 127.0.0.1:6444: bind: address already in use\"";
constexpr const char* kStartLine =
    "Dec 04 15:42:55 agent-01 k3s[20193]: time=\"2026-12-04T15:42:55Z\" level=info "
    "msg=\"Starting k3s agent v1.31.4+k3s1 (52a7fc12)\"";

constexpr const char* kToken =
    "K10aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa::server:"
    "0123456789abcdef0123456789abcdef";

Subject subject() {
  return Subject{"agent-01", "10.246.10.51", "https://10.246.10.50:6443", "inventory.json"};
}

std::optional<Finding> match(std::vector<std::string> lines) {
  return match_journal(lines, subject());
}

TEST(DiagnoseTest, NodePasswordRejected) {
  auto finding = match({kStartLine, kNodePasswordLine});
  ASSERT_TRUE(finding.has_value());
  EXPECT_EQ(finding->diagnosis.code, code::kNodePasswordRejected);
  EXPECT_TRUE(finding->permanent);
  EXPECT_NE(finding->diagnosis.cause.find("node password of agent-01"), std::string::npos);
  EXPECT_NE(finding->diagnosis.fix.find("k3sjoin join inventory.json --node agent-01 --replace"),
            std::string::npos);
  ASSERT_EQ(finding->diagnosis.lines.size(), 1U);
  EXPECT_EQ(finding->diagnosis.lines[0], kNodePasswordLine);
}

TEST(DiagnoseTest, TokenCaHashMismatch) {
  auto finding = match({kCaHashLine});
  ASSERT_TRUE(finding.has_value());
  EXPECT_EQ(finding->diagnosis.code, code::kTokenCaHashMismatch);
  EXPECT_TRUE(finding->permanent);
  EXPECT_NE(finding->diagnosis.cause.find("token 0a1b2c3d4e5f..., server 9f8e7d6c5b4a..."),
            std::string::npos)
      << finding->diagnosis.cause;
}

TEST(DiagnoseTest, CredentialsRejected) {
  auto finding = match({kCredentialsLine});
  ASSERT_TRUE(finding.has_value());
  EXPECT_EQ(finding->diagnosis.code, code::kCredentialsRejected);
  EXPECT_TRUE(finding->permanent);
}

TEST(DiagnoseTest, NewerCredentialsMessage) {
  auto finding =
      match({"level=info msg=\"Waiting to retrieve agent configuration; server is "
             "not ready: failed to retrieve configuration from server: not "
             "authorized\""});
  ASSERT_TRUE(finding.has_value());
  EXPECT_EQ(finding->diagnosis.code, code::kCredentialsRejected);
}

TEST(DiagnoseTest, ServerUnreachableIsTransient) {
  auto finding = match({kUnreachableLine});
  ASSERT_TRUE(finding.has_value());
  EXPECT_EQ(finding->diagnosis.code, code::kServerUnreachable);
  EXPECT_FALSE(finding->permanent);
  EXPECT_NE(finding->diagnosis.cause.find("127.0.0.1:6444 (connection reset by peer)"),
            std::string::npos);
  EXPECT_NE(finding->diagnosis.fix.find("6443/tcp"), std::string::npos);
}

TEST(DiagnoseTest, NotYetValidBeatsUnreachable) {
  auto finding = match({kNotYetValidLine});
  ASSERT_TRUE(finding.has_value());
  EXPECT_EQ(finding->diagnosis.code, code::kCertificateNotYetValid);
  EXPECT_NE(finding->diagnosis.fix.find("NTP"), std::string::npos);
}

TEST(DiagnoseTest, MemoryCgroupMissing) {
  auto finding = match({kCgroupLine});
  ASSERT_TRUE(finding.has_value());
  EXPECT_EQ(finding->diagnosis.code, code::kMemoryCgroupMissing);
  EXPECT_NE(finding->diagnosis.fix.find("cgroup_memory=1 cgroup_enable=memory"), std::string::npos);
}

TEST(DiagnoseTest, AddressInUseNamesPort) {
  auto finding = match({kAddressInUseLine});
  ASSERT_TRUE(finding.has_value());
  EXPECT_EQ(finding->diagnosis.code, code::kAddressInUse);
  EXPECT_NE(finding->diagnosis.cause.find("127.0.0.1:6444"), std::string::npos);
  EXPECT_NE(finding->diagnosis.fix.find("sport = :6444"), std::string::npos);
}

TEST(DiagnoseTest, NewestCauseWins) {
  auto finding = match({kUnreachableLine, kNodePasswordLine, kStartLine});
  ASSERT_TRUE(finding.has_value());
  EXPECT_EQ(finding->diagnosis.code, code::kNodePasswordRejected);
}

TEST(DiagnoseTest, KeepsAtMostFiveLines) {
  std::vector<std::string> lines(8, kCaHashLine);
  auto finding = match(lines);
  ASSERT_TRUE(finding.has_value());
  EXPECT_EQ(finding->diagnosis.lines.size(), kMaxDiagnosisLines);
}

TEST(DiagnoseTest, NoKnownMessage) {
  EXPECT_FALSE(match({kStartLine}).has_value());
}

TEST(DiagnoseTest, JournalLinesRedactToken) {
  std::string output = std::string("-- No entries --\nK3S_TOKEN=") + kToken + "\nflags --token " +
                       kToken + " -s https://x\n" +
                       "env {\"K3S_TOKEN\":\"K10ffffffffffffffffffffffffffffffffffffffffffffffffff"
                       "ffffffffffffff::node:secretsecret\"}\n" +
                       "password 0123456789abcdef0123456789abcdef alone\n\n";
  std::vector<std::string> lines = journal_lines(output, kToken);
  ASSERT_EQ(lines.size(), 4U);
  for (const auto& line : lines) {
    EXPECT_EQ(line.find("0123456789abcdef"), std::string::npos) << line;
    EXPECT_EQ(line.find("secretsecret"), std::string::npos) << line;
    EXPECT_NE(line.find("<redacted>"), std::string::npos) << line;
  }
  EXPECT_EQ(lines[0], "K3S_TOKEN=<redacted>");
}

TEST(DiagnoseTest, RedactsForeignSecureToken) {
  std::string line = redact_tokens(
      "join with K10bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb::abcdef."
      "0123456789abcdef now",
      "");
  EXPECT_EQ(line, "join with <redacted> now");
}

TEST(DiagnoseTest, NodeStateWhenNotRegistered) {
  report::Diagnosis diagnosis = from_node_state(nullptr, {kStartLine}, subject());
  EXPECT_EQ(diagnosis.code, code::kNotRegistered);
  EXPECT_NE(diagnosis.fix.find("journalctl -u k3s-agent"), std::string::npos);
  EXPECT_EQ(diagnosis.lines, std::vector<std::string>{kStartLine});
}

TEST(DiagnoseTest, NodeStateNotReady) {
  kube::Node node;
  node.name = "agent-01";
  node.kubelet_version = "v1.31.4+k3s1";
  node.conditions = {{"Ready", "False", "KubeletNotReady", "cni plugin not initialized"}};
  report::Diagnosis diagnosis = from_node_state(&node, {}, subject());
  EXPECT_EQ(diagnosis.code, code::kNodeNotReady);
  EXPECT_NE(diagnosis.cause.find("Ready=False (KubeletNotReady: cni plugin not initialized)"),
            std::string::npos)
      << diagnosis.cause;
}

}  // namespace
}  // namespace k3sjoin::diagnose
