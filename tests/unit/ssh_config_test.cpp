#include "k3sjoin/ssh/ssh_config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace k3sjoin::ssh {
namespace {

namespace fs = std::filesystem;

SshConfig parse_ok(std::string_view text, const std::string& include_dir = "/nonexistent") {
  Result<SshConfig> config = SshConfig::parse(text, "config", include_dir);
  EXPECT_TRUE(config.ok()) << (config.ok() ? "" : config.error().message);
  return config.ok() ? std::move(config).value() : SshConfig{};
}

std::string parse_error(std::string_view text) {
  Result<SshConfig> config = SshConfig::parse(text, "config", "/nonexistent");
  return config.ok() ? "" : config.error().message;
}

TEST(SshConfigTest, FirstMatchWins) {
  SshConfig config = parse_ok(
      "Host agent-01\n"
      "  HostName 10.246.10.51\n"
      "  User ops\n"
      "Host agent-*\n"
      "  User admin\n"
      "  Port 2222\n"
      "Host *\n"
      "  Port 22\n"
      "  ConnectTimeout 7\n");
  HostConfig host = config.lookup("agent-01");
  EXPECT_EQ(host.hostname, "10.246.10.51");
  EXPECT_EQ(host.user, "ops");
  EXPECT_EQ(host.port, 2222);
  EXPECT_EQ(host.connect_timeout, std::chrono::seconds(7));

  HostConfig other = config.lookup("agent-02");
  EXPECT_FALSE(other.hostname.has_value());
  EXPECT_EQ(other.user, "admin");
}

TEST(SshConfigTest, LinesBeforeFirstHostApplyToAll) {
  SshConfig config = parse_ok("User first\nHost x\n  User second\n");
  EXPECT_EQ(config.lookup("x").user, "first");
  EXPECT_EQ(config.lookup("y").user, "first");
}

TEST(SshConfigTest, PatternsNegationAndCase) {
  EXPECT_TRUE(host_patterns_match({"agent-0?"}, "agent-01"));
  EXPECT_FALSE(host_patterns_match({"agent-0?"}, "agent-011"));
  EXPECT_TRUE(host_patterns_match({"*.lab", "10.*"}, "10.0.0.1"));
  EXPECT_FALSE(host_patterns_match({"agent-*", "!agent-02"}, "agent-02"));
  EXPECT_TRUE(host_patterns_match({"agent-*", "!agent-02"}, "agent-01"));
  // A negated pattern alone matches nothing, as in OpenSSH.
  EXPECT_FALSE(host_patterns_match({"!agent-02"}, "agent-01"));

  SshConfig config = parse_ok("Host AGENT-01\n  User upper\nHost agent-01\n  User lower\n");
  // ssh lower-cases the host name but not the patterns.
  EXPECT_EQ(config.lookup("Agent-01").user, "lower");
}

TEST(SshConfigTest, IdentityFilesAccumulate) {
  SshConfig config = parse_ok(
      "Host a\n  IdentityFile ~/.ssh/a_key\n  IdentitiesOnly yes\n"
      "Host *\n  IdentityFile ~/.ssh/id_%r_%h\n  IdentitiesOnly no\n");
  HostConfig host = config.lookup("a");
  ASSERT_EQ(host.identity_files.size(), 2U);
  EXPECT_EQ(host.identity_files[0], "~/.ssh/a_key");
  EXPECT_EQ(host.identity_files[1], "~/.ssh/id_%r_%h");
  EXPECT_EQ(host.identities_only, true);
}

TEST(SshConfigTest, KeywordSyntaxVariants) {
  SshConfig config = parse_ok(
      "# comment\n"
      "host=quoted\n"
      "  PORT = 2200\n"
      "  user=\"ops\" # trailing comment\n"
      "  IdentityFile \"/keys/with space\"\n"
      "\tUserKnownHostsFile ~/.ssh/known_hosts /etc/extra_hosts\n");
  HostConfig host = config.lookup("quoted");
  EXPECT_EQ(host.port, 2200);
  EXPECT_EQ(host.user, "ops");
  ASSERT_EQ(host.identity_files.size(), 1U);
  EXPECT_EQ(host.identity_files[0], "/keys/with space");
  ASSERT_TRUE(host.user_known_hosts_files.has_value());
  EXPECT_EQ(host.user_known_hosts_files->size(), 2U);
}

TEST(SshConfigTest, HostNameExpandsHost) {
  SshConfig config = parse_ok("Host *.lab\n  HostName %h.example.org\n");
  EXPECT_EQ(config.lookup("agent.lab").hostname, "agent.lab.example.org");
}

TEST(SshConfigTest, MatchBlockIsSkipped) {
  SshConfig config = parse_ok(
      "Match host agent-01 exec \"true\"\n  User matched\n"
      "Host agent-01\n  User hosted\n");
  EXPECT_EQ(config.lookup("agent-01").user, "hosted");
}

TEST(SshConfigTest, ProxyJumpHops) {
  Result<std::vector<JumpSpec>> hops =
      parse_proxy_jump("ops@bastion,bastion-2:2222,[fd00:246:10::30]:22,ssh://me@gw");
  ASSERT_TRUE(hops.ok()) << hops.error().message;
  ASSERT_EQ(hops->size(), 4U);
  EXPECT_EQ((*hops)[0].user, "ops");
  EXPECT_EQ((*hops)[0].host, "bastion");
  EXPECT_FALSE((*hops)[0].port.has_value());
  EXPECT_EQ((*hops)[1].host, "bastion-2");
  EXPECT_EQ((*hops)[1].port, 2222);
  EXPECT_EQ((*hops)[2].host, "fd00:246:10::30");
  EXPECT_EQ((*hops)[2].port, 22);
  EXPECT_EQ((*hops)[3].user, "me");
  EXPECT_EQ((*hops)[3].host, "gw");

  Result<std::vector<JumpSpec>> none = parse_proxy_jump("none");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(SshConfigTest, ProxyJumpErrors) {
  EXPECT_FALSE(parse_proxy_jump("fd00::30").ok());
  EXPECT_FALSE(parse_proxy_jump("host:99999").ok());
  EXPECT_FALSE(parse_proxy_jump("a,,b").ok());
  EXPECT_FALSE(parse_proxy_jump("@host").ok());
  EXPECT_FALSE(parse_proxy_jump("[fd00::30").ok());
}

TEST(SshConfigTest, ProxyJumpAndCommandExclude) {
  SshConfig config = parse_ok(
      "Host a\n  ProxyJump none\nHost b\n  ProxyCommand nc %h %p\n"
      "Host *\n  ProxyJump bastion\n");
  HostConfig a = config.lookup("a");
  ASSERT_TRUE(a.proxy_jump.has_value());
  EXPECT_TRUE(a.proxy_jump->empty());
  HostConfig b = config.lookup("b");
  EXPECT_EQ(b.proxy_command, "nc %h %p");
  EXPECT_FALSE(b.proxy_jump.has_value());
  HostConfig c = config.lookup("c");
  ASSERT_TRUE(c.proxy_jump.has_value());
  EXPECT_EQ(c.proxy_jump->at(0).host, "bastion");
  EXPECT_EQ(c.proxy_jump_origin, "config:6");
}

TEST(SshConfigTest, InvalidValuesNameLine) {
  EXPECT_EQ(parse_error("Host a\n  Port ssh\n"),
            "config:2: Port \"ssh\" is not a port number; use 1 to 65535");
  EXPECT_EQ(parse_error("IdentitiesOnly maybe\n"),
            "config:1: IdentitiesOnly \"maybe\" is not yes or no");
  EXPECT_EQ(parse_error("StrictHostKeyChecking sometimes\n"),
            "config:1: StrictHostKeyChecking \"sometimes\" is not yes, no, ask, accept-new or off");
  EXPECT_EQ(parse_error("ConnectTimeout soon\n"),
            "config:1: ConnectTimeout \"soon\" is not a time; use seconds, such as 10 or 1m30s");
  EXPECT_EQ(parse_error("User \"unterminated\n"), "config:1: unterminated quote");
  EXPECT_EQ(parse_error("Host\n"), "config:1: Host needs at least one argument");
  EXPECT_NE(parse_error("ProxyJump a:0\n").find("config:1: ProxyJump: "), std::string::npos);
}

TEST(SshConfigTest, UnknownKeywordsIgnored) {
  SshConfig config = parse_ok("ServerAliveInterval 30\nForwardAgent yes\nUser ops\n");
  EXPECT_EQ(config.lookup("x").user, "ops");
}

TEST(SshConfigTest, ConnectTimeoutUnits) {
  SshConfig config = parse_ok("ConnectTimeout 1m30s\n");
  EXPECT_EQ(config.lookup("x").connect_timeout, std::chrono::seconds(90));
}

TEST(SshConfigTest, IncludeKeepsEnclosingHost) {
  char pattern[] = "/tmp/k3sjoin-sshconfig-XXXXXX";
  ASSERT_NE(mkdtemp(pattern), nullptr);
  const fs::path dir = pattern;
  fs::create_directories(dir / "conf.d");
  std::ofstream(dir / "conf.d" / "10-agents.conf") << "User included\nHost other\n  Port 2222\n";
  std::ofstream(dir / "conf.d" / "20-more.conf") << "Port 2200\n";
  std::ofstream(dir / "top.conf") << "Host agent-*\n  Include conf.d/*.conf\n"
                                  << "Host *\n  User fallback\n";
  Result<SshConfig> config = SshConfig::load((dir / "top.conf").string(), true, dir.string());
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->lookup("agent-01").user, "included");
  EXPECT_EQ(config->lookup("agent-01").port, 2200);
  EXPECT_EQ(config->lookup("web").user, "fallback");
  EXPECT_FALSE(config->lookup("web").port.has_value());
  // "Host other" inside the included file still needs the enclosing "Host agent-*".
  EXPECT_FALSE(config->lookup("other").port.has_value());
  fs::remove_all(dir);
}

TEST(SshConfigTest, IncludeLoopFails) {
  char pattern[] = "/tmp/k3sjoin-sshconfig-XXXXXX";
  ASSERT_NE(mkdtemp(pattern), nullptr);
  const fs::path dir = pattern;
  std::ofstream(dir / "loop.conf") << "Include loop.conf\n";
  Result<SshConfig> config = SshConfig::load((dir / "loop.conf").string(), true, dir.string());
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().message.find("Include nests deeper than 16"), std::string::npos);
  fs::remove_all(dir);
}

TEST(SshConfigTest, MissingFile) {
  EXPECT_TRUE(SshConfig::load("/nonexistent/config", false, "/nonexistent").ok());
  Result<SshConfig> required = SshConfig::load("/nonexistent/config", true, "/nonexistent");
  ASSERT_FALSE(required.ok());
  EXPECT_EQ(required.error().message, "cannot read SSH config file /nonexistent/config");
}

TEST(SshConfigTest, AppendRanksBelow) {
  SshConfig user = parse_ok("Host a\n  User first\n");
  user.append(parse_ok("Host *\n  User second\n  Port 2022\n"));
  EXPECT_EQ(user.lookup("a").user, "first");
  EXPECT_EQ(user.lookup("a").port, 2022);
  EXPECT_EQ(user.lookup("b").user, "second");
}

TEST(ExpandTokensTest, KnownTokens) {
  const TokenValues values{"10.0.0.5", "agent", 2222, "ops", "me", "/home/me"};
  EXPECT_EQ(expand_tokens("~/.ssh/id_%r@%h:%p", values).value(),
            "/home/me/.ssh/id_ops@10.0.0.5:2222");
  EXPECT_EQ(expand_tokens("%d/%u/%n/100%%", values).value(), "/home/me/me/agent/100%");
  EXPECT_EQ(expand_tokens("/abs/~/x", values).value(), "/abs/~/x");
}

TEST(ExpandTokensTest, UnknownTokenFails) {
  const TokenValues values{"h", "n", 22, "r", "u", "/d"};
  Result<std::string> result = expand_tokens("~/.ssh/%C", values);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message,
            "\"~/.ssh/%C\" uses the token %C, which k3sjoin does not expand");
  EXPECT_FALSE(expand_tokens("50%", values).ok());
}

}  // namespace
}  // namespace k3sjoin::ssh
