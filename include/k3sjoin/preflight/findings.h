#pragma once

#include <chrono>
#include <cstddef>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace k3sjoin::preflight {

// Stable check ids; scripts and CI match on them, so they never change meaning.
namespace check {
inline constexpr std::string_view kSsh = "access.ssh";
inline constexpr std::string_view kHostKey = "access.host-key";
inline constexpr std::string_view kSudo = "access.sudo";
inline constexpr std::string_view kServerK3s = "server.k3s";
inline constexpr std::string_view kNodeName = "identity.node-name";
inline constexpr std::string_view kClusterNode = "identity.cluster-node";
inline constexpr std::string_view kHostname = "identity.hostname";
inline constexpr std::string_view kNodeIp = "identity.node-ip";
inline constexpr std::string_view kArch = "host.arch";
inline constexpr std::string_view kMemory = "host.memory";
inline constexpr std::string_view kCpu = "host.cpu";
inline constexpr std::string_view kDisk = "host.disk";
inline constexpr std::string_view kClock = "host.clock";
inline constexpr std::string_view kDownloader = "host.downloader";
inline constexpr std::string_view kPorts = "host.ports";
inline constexpr std::string_view kK3sInstall = "host.k3s-install";
inline constexpr std::string_view kVersionSkew = "version.skew";
inline constexpr std::string_view kApi = "net.api";
inline constexpr std::string_view kCaHash = "net.ca-hash";
inline constexpr std::string_view kKubelet = "net.kubelet";
inline constexpr std::string_view kVxlan = "net.vxlan";
}  // namespace check

enum class Status { pass, warn, fail, skipped };

// "pass", "warn", "fail" or "skipped", as printed in JSON.
const char* to_string(Status status);

// The result of one check on one host.
struct Finding {
  std::string check;  // stable id such as "net.api"
  std::string host;   // inventory name of the host the finding is about
  Status status = Status::skipped;
  std::string message;   // one line: what was found; for `skipped`, the reason
  std::string evidence;  // what was measured, how and with which tool
  std::string fix;       // what to do; empty for `pass`
};

// A host of the inventory as the report lists it.
struct ReportHost {
  std::string name;
  std::string address;
  std::string role;  // "server" or "agent"
};

struct PreflightReport {
  std::string inventory;
  std::string server_version;  // empty when the server could not be read
  bool strict = false;         // warnings count as failures
  bool interrupted = false;
  std::chrono::milliseconds duration{0};
  std::vector<ReportHost> hosts;  // inventory order, server first
  std::vector<Finding> findings;  // grouped by host in inventory order, then check order
  std::string log_file;

  // True when no finding failed (and, with `strict`, none warned) and the run was not
  // interrupted.
  bool ok() const;
  std::size_t count(Status status) const;
};

// True when `finding` stops the host: a failure, or a warning under `strict`.
bool is_blocking(const Finding& finding, bool strict);

// Sorts findings by host (in the order of `hosts`) and then by check id order above,
// keeping the order of findings with the same host and check.
void sort_findings(std::vector<Finding>& findings, const std::vector<ReportHost>& hosts);

// Writes a table grouped by host: one line per finding, and for findings that are not
// `pass` the evidence and the fix on indented lines; then a summary line.
void print_text(const PreflightReport& report, std::ostream& out, bool color);

// The JSON document described in docs/preflight.md.
nlohmann::json to_json(const PreflightReport& report);

}  // namespace k3sjoin::preflight
