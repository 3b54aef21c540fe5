#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <string>

#include "fake_remote.h"
#include "k3sjoin/ssh/known_hosts.h"
#include "k3sjoin/ssh/remote.h"

namespace k3sjoin::ssh {
namespace {

// "127.0.0.1" and "[127.0.0.1]:2222", hashed by `ssh-keygen -H` (OpenSSH 9.2).
constexpr const char* kHashedPlain = "|1|Z2Xzlebr/XgbyFJxvHK30WkR1+I=|7EEr5t1/rfjCTTmNAJpzTlWWhPU=";
constexpr const char* kHashedPort = "|1|+mqDBmnhjokVBG5g9L/Var17P0o=|QihVNOYKLC8mUKTBP+SIWH379yU=";

TEST(FormatEndpoint, Ipv4) {
  EXPECT_EQ(format_endpoint("10.246.10.51", 22), "10.246.10.51:22");
}

TEST(FormatEndpoint, Ipv6GetsBrackets) {
  EXPECT_EQ(format_endpoint("fd00::51", 2222), "[fd00::51]:2222");
}

TEST(FormatEndpoint, BracketedIpv6KeptAsIs) {
  EXPECT_EQ(format_endpoint("[fd00::51]", 22), "[fd00::51]:22");
}

TEST(FormatEndpoint, HostName) {
  EXPECT_EQ(format_endpoint("node-1", 22), "node-1:22");
}

TEST(Fingerprint, Sha256OfEmptyInput) {
  // SHA-256("") is e3b0c442...b855; OpenSSH prints its base64 without the trailing '='.
  const std::array<unsigned char, 32> digest{0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14,
                                             0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
                                             0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c,
                                             0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55};
  EXPECT_EQ(format_sha256_fingerprint(digest),
            "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU");
}

TEST(Fingerprint, ComparisonIgnoresPadding) {
  EXPECT_TRUE(same_fingerprint("SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
                               "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"));
  EXPECT_FALSE(same_fingerprint("SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFV",
                                "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"));
}

TEST(Fingerprint, ComparisonNeedsPrefix) {
  EXPECT_FALSE(same_fingerprint("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU",
                                "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"));
  EXPECT_FALSE(same_fingerprint("MD5:aa", "MD5:aa"));
}

TEST(KnownHostsName, PortFormats) {
  EXPECT_EQ(known_hosts_name("10.246.10.51", 22), "10.246.10.51");
  EXPECT_EQ(known_hosts_name("10.246.10.51", 2222), "[10.246.10.51]:2222");
  EXPECT_EQ(known_hosts_name("fd00::51", 22), "fd00::51");
  EXPECT_EQ(known_hosts_name("fd00::51", 2222), "[fd00::51]:2222");
}

TEST(KnownHostsMatch, HashedEntries) {
  EXPECT_TRUE(known_hosts_field_matches(kHashedPlain, "127.0.0.1"));
  EXPECT_FALSE(known_hosts_field_matches(kHashedPlain, "127.0.0.2"));
  EXPECT_FALSE(known_hosts_field_matches(kHashedPlain, "[127.0.0.1]:2222"));
  EXPECT_TRUE(known_hosts_field_matches(kHashedPort, "[127.0.0.1]:2222"));
  EXPECT_FALSE(known_hosts_field_matches(kHashedPort, "127.0.0.1"));
}

TEST(KnownHostsMatch, MalformedHashedEntry) {
  EXPECT_FALSE(known_hosts_field_matches("|1|notbase64", "127.0.0.1"));
  EXPECT_FALSE(known_hosts_field_matches("|1|abc|def", "127.0.0.1"));
}

TEST(KnownHostsMatch, PlainListsAndPatterns) {
  EXPECT_TRUE(known_hosts_field_matches("node-1,10.246.10.51", "10.246.10.51"));
  EXPECT_TRUE(known_hosts_field_matches("NODE-1", "node-1"));
  EXPECT_TRUE(known_hosts_field_matches("10.246.10.*", "10.246.10.51"));
  EXPECT_TRUE(known_hosts_field_matches("10.246.10.5?", "10.246.10.51"));
  EXPECT_FALSE(known_hosts_field_matches("10.246.10.5", "10.246.10.51"));
  EXPECT_FALSE(known_hosts_field_matches("10.246.10.*,!10.246.10.51", "10.246.10.51"));
  EXPECT_TRUE(known_hosts_field_matches("[10.246.10.51]:2222", "[10.246.10.51]:2222"));
}

TEST(KnownHostsFile, FindsLinesOfHost) {
  const std::filesystem::path file =
      std::filesystem::temp_directory_path() / ("k3sjoin-kh-" + std::to_string(getpid()));
  {
    std::ofstream stream(file);
    stream << "# comment\n"
           << "\n"
           << "10.0.0.9 ssh-rsa AAAA\n"
           << kHashedPlain << " ssh-ed25519 AAAA\n"
           << "@cert-authority 127.0.0.1 ssh-ed25519 AAAA\n"
           << "127.0.0.1,other ecdsa-sha2-nistp256 AAAA\n";
  }
  const std::vector<KnownHostsEntry> entries = find_known_hosts_entries(file, "127.0.0.1");
  std::filesystem::remove(file);

  ASSERT_EQ(entries.size(), 2U);
  EXPECT_EQ(entries[0].line, 4);
  EXPECT_EQ(entries[0].key_type, "ssh-ed25519");
  EXPECT_EQ(entries[1].line, 6);
  EXPECT_EQ(entries[1].key_type, "ecdsa-sha2-nistp256");
  // "AAAA" is the base64 of three zero bytes, whose SHA-256 this is.
  const std::string fingerprint = "SHA256:cJ6AyISHokEeHuTfufIqhhSS0gxHZRUMDHlKvXD4FHw";
  EXPECT_EQ(entries[0].fingerprint, fingerprint);
  EXPECT_EQ(describe_entries(entries), fingerprint + " (ssh-ed25519) at " + file.string() + ":4, " +
                                           fingerprint + " (ecdsa-sha2-nistp256) at " +
                                           file.string() + ":6");
}

TEST(KnownHostsFile, MissingFileHasNoEntries) {
  EXPECT_TRUE(find_known_hosts_entries("/nonexistent/known_hosts", "127.0.0.1").empty());
}

TEST(FakeRemote, FirstMatchingRuleAnswers) {
  FakeRemote remote("10.0.0.1:22");
  remote.on("^k3s --version", 0, "k3s version v1.31.4+k3s1 (abc)\n")
      .on("k3s", 1, "", "other\n")
      .fail("sleep", FakeRemote::timeout_error());

  Result<CommandResult> version = remote.run({"k3s --version", "", std::chrono::seconds(5)});
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(version->exit_status, 0);
  EXPECT_EQ(version->out, "k3s version v1.31.4+k3s1 (abc)\n");

  Result<CommandResult> other = remote.run({"systemctl stop k3s", "", std::chrono::seconds(5)});
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->exit_status, 1);

  Result<CommandResult> slow = remote.run({"sleep 100", "", std::chrono::seconds(5)});
  ASSERT_FALSE(slow.ok());
  EXPECT_EQ(slow.error().kind, ErrorKind::timeout);
  EXPECT_EQ(remote.label(), "10.0.0.1:22");
}

TEST(FakeRemote, RecordsLineAndInput) {
  FakeRemote remote;
  remote.on("install", 0);
  std::string token = "K10secret::server:abc";
  ASSERT_TRUE(remote.run({"sh -c 'read -r K3S_TOKEN; install'", token}).ok());
  token.assign(token.size(), 'x');  // the record must not alias the caller's buffer

  const std::vector<RecordedCommand> commands = remote.commands();
  ASSERT_EQ(commands.size(), 1U);
  EXPECT_EQ(commands[0].input, "K10secret::server:abc");
  EXPECT_EQ(commands[0].line.find("K10secret"), std::string::npos);
  EXPECT_EQ(remote.count("install"), 1U);
  EXPECT_FALSE(remote.ran("uninstall"));
}

TEST(FakeRemote, UnmatchedCommandFails) {
  FakeRemote remote;
  Result<CommandResult> result = remote.run({"true", ""});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().kind, ErrorKind::internal);
  EXPECT_NE(result.error().message.find("true"), std::string::npos);
}

}  // namespace
}  // namespace k3sjoin::ssh
