#include <gtest/gtest.h>

#include "k3sjoin/preflight/checks.h"

namespace k3sjoin::preflight {
namespace {

constexpr const char* kServerUrl = "https://10.246.10.50:6443";

constexpr const char* kFactsOutput =
    "arch=x86_64\n"
    "hostname=agent-01\n"
    "cpus=2\n"
    "memtotal_kb=4026532\n"
    "disk_path=/var/lib\n"
    "disk=/dev/vda1 102400000 81920000 /\n"
    "tool=curl /usr/bin/curl\n"
    "tool=python3 /usr/bin/python3\n"
    "addr=127.0.0.1/8\n"
    "addr=10.246.10.51/24\n"
    "addr=fe80::1/64\n"
    "sockets=yes\n"
    "listen=tcp 10.246.10.51:22 users:((\"sshd\",pid=10,fd=4))\n"
    "listen=udp 0.0.0.0:8472 \n"
    "active=no\nurl=\nversion=\nserver=no\n";

config::HostSpec spec(const std::string& name, const std::string& address) {
  config::HostSpec host;
  host.name = name;
  host.address = address;
  host.user = "ops";
  return host;
}

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

class HostChecksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spec_ = spec("agent-01", "10.246.10.51");
    probe_.spec = &spec_;
    probe_.facts = parse_facts(kFactsOutput, true);
    probe_.clock_offset = std::chrono::milliseconds(300);
  }

  Finding run(std::string_view check) {
    return find(check_host(probe_, std::chrono::milliseconds(0), kServerUrl), check, "agent-01");
  }

  config::HostSpec spec_;
  HostProbe probe_;
};

TEST(ParseFactsTest, ReadsEveryField) {
  HostFacts facts = parse_facts(kFactsOutput, true);
  EXPECT_EQ(facts.arch, "x86_64");
  EXPECT_EQ(facts.hostname, "agent-01");
  EXPECT_EQ(facts.cpus, 2);
  EXPECT_EQ(facts.mem_total_kb, 4026532U);
  ASSERT_TRUE(facts.disk.has_value());
  EXPECT_EQ(facts.disk->path, "/var/lib");
  EXPECT_EQ(facts.disk->filesystem, "/dev/vda1");
  EXPECT_EQ(facts.disk->available_kb, 81920000U);
  EXPECT_EQ(facts.disk->mount, "/");
  EXPECT_TRUE(facts.has_tool("curl"));
  EXPECT_FALSE(facts.has_tool("wget"));
  EXPECT_EQ(facts.addresses, (std::vector<std::string>{"127.0.0.1", "10.246.10.51", "fe80::1"}));
  ASSERT_EQ(facts.sockets.size(), 2U);
  EXPECT_EQ(facts.sockets[0].process, "sshd");
  EXPECT_EQ(facts.sockets[0].port, 22);
  EXPECT_NE(facts.socket_on("udp", 8472), nullptr);
  EXPECT_EQ(facts.socket_on("tcp", 8472), nullptr);
}

TEST(ParseFactsTest, FactsScriptOnlyReads) {
  std::string script = facts_script(true);
  EXPECT_NE(script.find("ss -Hlntup"), std::string::npos);
  EXPECT_EQ(facts_script(false).find("ss -Hlntup"), std::string::npos);
  for (const char* writer : {"mkdir", "rm ", "touch", "> /", "tee", "mktemp"}) {
    EXPECT_EQ(script.find(writer), std::string::npos) << writer;
  }
}

TEST_F(HostChecksTest, CleanHostPasses) {
  for (const auto& finding : check_host(probe_, std::chrono::milliseconds(0), kServerUrl)) {
    EXPECT_EQ(finding.status, Status::pass) << finding.check << ": " << finding.message;
  }
}

TEST_F(HostChecksTest, MemoryThresholds) {
  probe_.facts->mem_total_kb = 256 * 1024;
  EXPECT_EQ(run(check::kMemory).status, Status::fail);
  EXPECT_EQ(run(check::kMemory).message, "256 MiB of memory, below the 512 MiB agent minimum");
  probe_.facts->mem_total_kb = 480 * 1024;  // a 512 MiB VM after kernel reservations
  EXPECT_EQ(run(check::kMemory).status, Status::warn);
  probe_.facts->mem_total_kb = 1024 * 1024;
  EXPECT_EQ(run(check::kMemory).status, Status::warn);
  probe_.facts->mem_total_kb = 1950 * 1024;  // a 2 GiB VM
  EXPECT_EQ(run(check::kMemory).status, Status::pass);
}

TEST_F(HostChecksTest, DiskThresholds) {
  probe_.facts->disk->available_kb = 10'000'000;
  EXPECT_EQ(run(check::kDisk).status, Status::fail);
  EXPECT_NE(run(check::kDisk).message.find("below the 20 GB minimum"), std::string::npos);
  probe_.facts->disk->available_kb = 30'000'000;
  EXPECT_EQ(run(check::kDisk).status, Status::warn);
  probe_.facts->disk->available_kb = 50'000'000;
  EXPECT_EQ(run(check::kDisk).status, Status::pass);
}

TEST_F(HostChecksTest, CpuThresholds) {
  probe_.facts->cpus = 1;
  EXPECT_EQ(run(check::kCpu).status, Status::warn);
  probe_.facts->cpus = 0;
  EXPECT_EQ(run(check::kCpu).status, Status::fail);
}

TEST_F(HostChecksTest, ClockComparedWithServer) {
  probe_.clock_offset = std::chrono::seconds(7200);
  EXPECT_EQ(run(check::kClock).status, Status::fail);
  EXPECT_EQ(run(check::kClock).message, "clock is +7200.0 s from the server's, more than 30 s");
  probe_.clock_offset = std::chrono::seconds(-10);
  EXPECT_EQ(run(check::kClock).status, Status::warn);
  // Both clocks 40 s ahead of the operator agree with each other.
  probe_.clock_offset = std::chrono::seconds(40);
  auto finding =
      find(check_host(probe_, std::chrono::seconds(40), kServerUrl), check::kClock, "agent-01");
  EXPECT_EQ(finding.status, Status::pass);
  auto skipped = find(check_host(probe_, std::nullopt, kServerUrl), check::kClock, "agent-01");
  EXPECT_EQ(skipped.status, Status::skipped);
}

TEST_F(HostChecksTest, Architectures) {
  for (const char* arch : {"x86_64", "aarch64", "armv7l", "s390x"}) {
    probe_.facts->arch = arch;
    EXPECT_EQ(run(check::kArch).status, Status::pass) << arch;
  }
  probe_.facts->arch = "riscv64";
  EXPECT_EQ(run(check::kArch).status, Status::fail);
}

TEST_F(HostChecksTest, DownloaderMissing) {
  probe_.facts->tools.erase("curl");
  EXPECT_EQ(run(check::kDownloader).status, Status::fail);
  probe_.facts->tools["wget"] = "/usr/bin/wget";
  EXPECT_EQ(run(check::kDownloader).status, Status::pass);
}

TEST_F(HostChecksTest, PortsBusyByOtherProcess) {
  probe_.facts->sockets.push_back({"tcp", "0.0.0.0", 10250, "python3"});
  Finding finding = run(check::kPorts);
  EXPECT_EQ(finding.status, Status::fail);
  EXPECT_EQ(finding.message, "in use: 10250/tcp (0.0.0.0:10250 by python3)");
}

TEST_F(HostChecksTest, PortsBusyByOwnAgent) {
  probe_.facts->sockets.push_back({"tcp", "10.246.10.51", 10250, "k3s"});
  probe_.facts->sockets.push_back({"tcp", "127.0.0.1", 6444, "k3s"});
  probe_.facts->k3s.service_active = true;
  probe_.facts->k3s.server_url = kServerUrl;
  probe_.facts->k3s.version = "v1.31.4+k3s1";
  EXPECT_EQ(run(check::kPorts).status, Status::pass);
  EXPECT_EQ(run(check::kK3sInstall).status, Status::pass);
}

TEST_F(HostChecksTest, InstallNeedsRoot) {
  probe_.facts->as_root = false;
  EXPECT_EQ(run(check::kK3sInstall).status, Status::skipped);
}

TEST(ClassifyInstallTest, Kinds) {
  phase::AgentState state;
  EXPECT_EQ(classify_install(state, kServerUrl), InstallKind::none);
  state.version = "v1.31.4+k3s1";
  EXPECT_EQ(classify_install(state, kServerUrl), InstallKind::binary_only);
  state.server_url = kServerUrl;
  EXPECT_EQ(classify_install(state, kServerUrl), InstallKind::agent_of_this_server);
  state.server_url = "https://10.9.9.9:6443";
  EXPECT_EQ(classify_install(state, kServerUrl), InstallKind::agent_of_other_server);
  state.is_server = true;
  EXPECT_EQ(classify_install(state, kServerUrl), InstallKind::server);
}

TEST(VersionSkewTest, Rules) {
  const std::string server = "v1.31.4+k3s1";
  EXPECT_EQ(check_version_skew("a", "v1.31.4+k3s1", server).status, Status::pass);
  EXPECT_EQ(check_version_skew("a", "v1.32.1+k3s1", server).status, Status::fail);
  EXPECT_EQ(check_version_skew("a", "v1.31.5+k3s1", server).status, Status::warn);
  EXPECT_EQ(check_version_skew("a", "v1.31.4+k3s2", server).status, Status::warn);
  EXPECT_EQ(check_version_skew("a", "v1.30.8+k3s1", server).status, Status::warn);
  EXPECT_EQ(check_version_skew("a", "v1.28.1+k3s1", server).status, Status::warn);
  EXPECT_EQ(check_version_skew("a", "v1.27.1+k3s1", server).status, Status::fail);
  EXPECT_EQ(check_version_skew("a", "v2.0.0", server).status, Status::fail);
  // A kubelet older than 1.25 may lag two minor versions only.
  EXPECT_EQ(check_version_skew("a", "v1.24.9+k3s1", "v1.27.1+k3s1").status, Status::fail);
  EXPECT_EQ(check_version_skew("a", "v1.24.9+k3s1", "v1.26.1+k3s1").status, Status::warn);
  EXPECT_EQ(check_version_skew("a", "latest", server).status, Status::skipped);
}

TEST(VersionSkewTest, NewerAgentMessage) {
  Finding finding = check_version_skew("agent-01", "v1.32.1+k3s1", "v1.31.4+k3s1");
  EXPECT_EQ(finding.message,
            "agent v1.32.1+k3s1 would be newer than server v1.31.4+k3s1; the kubelet must not "
            "be newer than the API server");
  EXPECT_EQ(finding.fix,
            "set \"k3s\": {\"version\": \"v1.31.4+k3s1\"} in the inventory, or upgrade the "
            "server first");
}

class IdentityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    specs_ = {spec("k3s-server-01", "10.246.10.50"), spec("agent-01", "10.246.10.51"),
              spec("agent-02", "10.246.10.52")};
    for (std::size_t i = 0; i < specs_.size(); ++i) {
      HostProbe probe;
      probe.spec = &specs_[i];
      probe.is_server = i == 0;
      probe.facts = HostFacts{};
      probe.facts->hostname = specs_[i].name;
      probe.facts->addresses = {"127.0.0.1", specs_[i].address};
      probes_.push_back(probe);
    }
  }

  config::HostSpec& agent(std::size_t index) { return specs_[index]; }

  std::vector<config::HostSpec> specs_;
  std::vector<HostProbe> probes_;
  std::vector<kube::Node> nodes_;
};

TEST_F(IdentityTest, CleanInventoryPasses) {
  for (const auto& finding : check_identity(probes_, &nodes_)) {
    EXPECT_EQ(finding.status, Status::pass) << finding.check << " " << finding.host;
  }
}

TEST_F(IdentityTest, DuplicateHostnameFailsBoth) {
  probes_[2].facts->hostname = "agent-01";
  auto findings = check_identity(probes_, &nodes_);
  EXPECT_EQ(find(findings, check::kHostname, "agent-01").status, Status::fail);
  EXPECT_EQ(find(findings, check::kHostname, "agent-02").message,
            "hostname agent-01 is also the hostname of agent-01 (10.246.10.51)");
  EXPECT_EQ(find(findings, check::kHostname, "k3s-server-01").status, Status::pass);
}

TEST_F(IdentityTest, NodeIpMissing) {
  agent(1).node_ip = "10.246.10.99";
  auto finding = find(check_identity(probes_, &nodes_), check::kNodeIp, "agent-01");
  EXPECT_EQ(finding.status, Status::fail);
  EXPECT_EQ(finding.message, "node IP 10.246.10.99 is not an address of agent-01");
  EXPECT_EQ(finding.evidence, "ip -o addr: 10.246.10.51");
}

TEST_F(IdentityTest, ClusterNodeOfAnotherMachineFails) {
  kube::Node node;
  node.name = "agent-01";
  node.internal_ip = "10.246.10.77";
  nodes_.push_back(node);
  auto finding = find(check_identity(probes_, &nodes_), check::kClusterNode, "agent-01");
  EXPECT_EQ(finding.status, Status::fail);
  EXPECT_EQ(finding.message, "node agent-01 already exists in the cluster for another machine");
  EXPECT_NE(finding.fix.find("k3s kubectl delete node agent-01"), std::string::npos);
}

TEST_F(IdentityTest, ClusterNodeOfThisMachinePasses) {
  kube::Node node;
  node.name = "agent-01";
  node.internal_ip = "10.246.10.51";
  nodes_.push_back(node);
  auto finding = find(check_identity(probes_, &nodes_), check::kClusterNode, "agent-01");
  EXPECT_EQ(finding.status, Status::pass);
}

TEST_F(IdentityTest, MachineJoinedUnderOtherNameWarns) {
  kube::Node node;
  node.name = "old-name";
  node.internal_ip = "10.246.10.52";
  nodes_.push_back(node);
  auto finding = find(check_identity(probes_, &nodes_), check::kClusterNode, "agent-02");
  EXPECT_EQ(finding.status, Status::warn);
}

TEST_F(IdentityTest, NoServerSkipsClusterCheck) {
  auto finding = find(check_identity(probes_, nullptr), check::kClusterNode, "agent-01");
  EXPECT_EQ(finding.status, Status::skipped);
}

TEST(AccessTest, ConnectErrorKinds) {
  config::HostSpec host = spec("agent-01", "10.246.10.51");
  HostProbe probe;
  probe.spec = &host;
  probe.connect_error = Error{ErrorKind::host_key, "host key changed", "remove the old key"};
  auto findings = check_access(probe, "strict");
  EXPECT_EQ(find(findings, check::kHostKey, "agent-01").status, Status::fail);
  EXPECT_EQ(find(findings, check::kHostKey, "agent-01").fix, "remove the old key");
  EXPECT_EQ(find(findings, check::kSsh, "agent-01").status, Status::skipped);
  EXPECT_EQ(find(findings, check::kSudo, "agent-01").status, Status::skipped);

  probe.connect_error = Error{ErrorKind::connect, "connection refused", ""};
  findings = check_access(probe, "strict");
  EXPECT_EQ(find(findings, check::kSsh, "agent-01").status, Status::fail);
  EXPECT_EQ(find(findings, check::kHostKey, "agent-01").status, Status::skipped);
}

TEST(AccessTest, SudoPrompt) {
  config::HostSpec host = spec("agent-01", "10.246.10.51");
  HostProbe probe;
  probe.spec = &host;
  probe.sudo_ok = false;
  probe.sudo_detail = "sudo: a password is required";
  auto finding = find(check_access(probe, "strict"), check::kSudo, "agent-01");
  EXPECT_EQ(finding.status, Status::fail);
  EXPECT_EQ(finding.evidence, "sudo -n true failed: sudo: a password is required");
  host.user = "root";
  probe.sudo_ok.reset();
  EXPECT_EQ(find(check_access(probe, "strict"), check::kSudo, "agent-01").status, Status::pass);
}

TEST(ClockOffsetTest, UsesRoundTripMidpoint) {
  auto sent = std::chrono::system_clock::time_point(std::chrono::seconds(1000));
  auto received = sent + std::chrono::milliseconds(200);
  // The host read 1000 s, the middle of which is 1000.5 s; the midpoint is 1000.1 s.
  EXPECT_EQ(clock_offset(1000, sent, received), std::chrono::milliseconds(400));
}

}  // namespace
}  // namespace k3sjoin::preflight
