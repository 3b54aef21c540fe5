#include "k3sjoin/report/report.h"

#include <gtest/gtest.h>

#include <sstream>

namespace k3sjoin::report {
namespace {

RunReport sample_report() {
  RunReport report;
  report.command = "up";
  report.inventory = "inventory.json";
  report.server_version = "v1.31.4+k3s1";
  report.duration = std::chrono::milliseconds(12345);
  report.log_file = "/root/.local/state/k3sjoin/k3sjoin.log";
  HostReport server{"k3s-server-01", "10.246.10.50", "server", Outcome::ready,
                    "v1.31.4+k3s1", "serving", std::nullopt, false,
                    std::chrono::milliseconds(800), std::nullopt};
  HostReport joined{"agent-01", "10.246.10.51", "agent", Outcome::joined,
                    "v1.31.4+k3s1", "joined; node Ready at v1.31.4+k3s1", std::nullopt, true,
                    std::chrono::milliseconds(9100), std::nullopt};
  HostReport failed{"agent-02", "10.246.10.52", "agent", Outcome::failed, "",
                    "connect failed: connection refused",
                    Error{ErrorKind::connect, "connect failed: connection refused",
                          "check that sshd runs on 10.246.10.52:22"},
                    false, std::chrono::milliseconds(100), std::nullopt};
  report.hosts = {server, joined, failed};
  return report;
}

TEST(ReportTest, AllOkOnlyWithoutFailures) {
  RunReport report = sample_report();
  EXPECT_FALSE(report.all_ok());
  report.hosts.pop_back();
  EXPECT_TRUE(report.all_ok());
  report.interrupted = true;
  EXPECT_FALSE(report.all_ok());
}

TEST(ReportTest, TextHasLinePerHostAndFix) {
  std::ostringstream out;
  print_text(sample_report(), out, false);
  std::string text = out.str();
  // Names are padded to the longest one, k3s-server-01.
  EXPECT_NE(text.find("agent-01       agent   joined"), std::string::npos) << text;
  EXPECT_NE(text.find("agent-02       agent   failed"), std::string::npos) << text;
  EXPECT_NE(text.find("fix: check that sshd runs on 10.246.10.52:22"), std::string::npos);
  EXPECT_NE(text.find("2 of 3 hosts ok"), std::string::npos);
  EXPECT_NE(text.find("log: /root/.local/state/k3sjoin/k3sjoin.log"), std::string::npos);
  EXPECT_EQ(text.find("\033["), std::string::npos);
}

TEST(ReportTest, JsonHasSchemaFields) {
  nlohmann::json json = to_json(sample_report());
  EXPECT_EQ(json["apiVersion"], "k3sjoin/v1");
  EXPECT_EQ(json["kind"], "RunReport");
  EXPECT_EQ(json["ok"], false);
  ASSERT_EQ(json["hosts"].size(), 3U);
  EXPECT_EQ(json["hosts"][1]["outcome"], "joined");
  EXPECT_EQ(json["hosts"][1]["changed"], true);
  EXPECT_EQ(json["hosts"][2]["error"]["kind"], "connect");
  EXPECT_EQ(json["hosts"][2]["error"]["fix"], "check that sshd runs on 10.246.10.52:22");
  EXPECT_TRUE(json["hosts"][2]["nodeVersion"].is_null());
  EXPECT_DOUBLE_EQ(json["durationSeconds"].get<double>(), 12.345);
}

RunReport diagnosed_report() {
  RunReport report = sample_report();
  report.hosts[2].diagnosis =
      Diagnosis{"node-password-rejected", "the server rejected the node password",
                "run k3sjoin join inventory.json --node agent-02 --replace", {"line one"}};
  return report;
}

TEST(ReportTest, DiagnosisIsOneCauseAndFixLine) {
  std::ostringstream out;
  print_text(diagnosed_report(), out, false);
  std::string text = out.str();
  EXPECT_NE(text.find("  cause: the server rejected the node password; fix: run k3sjoin join "
                      "inventory.json --node agent-02 --replace\n"),
            std::string::npos)
      << text;
  // The diagnosis line replaces the plain fix line.
  EXPECT_EQ(text.find("fix: check that sshd"), std::string::npos) << text;
}

TEST(ReportTest, DiagnosisInJson) {
  nlohmann::json json = to_json(diagnosed_report());
  EXPECT_TRUE(json["hosts"][1]["diagnosis"].is_null());
  const auto& diagnosis = json["hosts"][2]["diagnosis"];
  EXPECT_EQ(diagnosis["code"], "node-password-rejected");
  EXPECT_EQ(diagnosis["cause"], "the server rejected the node password");
  EXPECT_EQ(diagnosis["fix"], "run k3sjoin join inventory.json --node agent-02 --replace");
  EXPECT_EQ(diagnosis["lines"], nlohmann::json::array({"line one"}));
}

TEST(ReportTest, InstallStartedOutcome) {
  EXPECT_STREQ(to_string(Outcome::install_started), "install-started");
}

TEST(FormatDurationTest, SecondsAndMinutes) {
  EXPECT_EQ(format_duration(std::chrono::milliseconds(4200)), "4.2s");
  EXPECT_EQ(format_duration(std::chrono::milliseconds(65000)), "1m05s");
}

}  // namespace
}  // namespace k3sjoin::report
