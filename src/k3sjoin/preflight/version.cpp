#include <regex>

#include "k3sjoin/preflight/checks.h"

namespace k3sjoin::preflight {
namespace {

// The Kubernetes version skew policy (kubernetes.io/releases/version-skew-policy): the
// kubelet must not be newer than kube-apiserver and may be up to three minor versions
// older, or two when the kubelet is older than 1.25.
int allowed_minor_lag(const Version& agent) {
  return agent.minor < 25 ? 2 : 3;
}

std::tuple<int, int, int, int> key(const Version& version) {
  return {version.major, version.minor, version.patch, version.k3s};
}

}  // namespace

std::optional<Version> parse_version(std::string_view text) {
  static const std::regex pattern(
      R"(^v?([0-9]{1,4})\.([0-9]{1,4})\.([0-9]{1,4})(\+k3s([0-9]{1,4}))?$)");
  std::match_results<std::string_view::const_iterator> match;
  if (!std::regex_match(text.begin(), text.end(), match, pattern)) {
    return std::nullopt;
  }
  Version version;
  version.major = std::stoi(match[1].str());
  version.minor = std::stoi(match[2].str());
  version.patch = std::stoi(match[3].str());
  version.k3s = match[5].matched ? std::stoi(match[5].str()) : 0;
  return version;
}

Finding check_version_skew(const std::string& host, std::string_view agent,
                           std::string_view server) {
  Finding finding{std::string(check::kVersionSkew), host, Status::pass, "", "", ""};
  finding.evidence = "agent " + std::string(agent) + " (to install), server " +
                     std::string(server) + " (k3s --version on the server)";
  auto agent_version = parse_version(agent);
  auto server_version = parse_version(server);
  if (!agent_version || !server_version) {
    finding.status = Status::skipped;
    finding.message = "cannot compare versions that are not v<major>.<minor>.<patch>";
    return finding;
  }
  const std::string fix_newer = "set \"k3s\": {\"version\": \"" + std::string(server) +
                                "\"} in the inventory, or upgrade the server first";
  if (agent_version->major != server_version->major) {
    finding.status = Status::fail;
    finding.message = "agent " + std::string(agent) + " and server " + std::string(server) +
                      " have different major versions";
    finding.fix = fix_newer;
    return finding;
  }
  int minor_lag = server_version->minor - agent_version->minor;
  if (minor_lag < 0) {
    finding.status = Status::fail;
    finding.message = "agent " + std::string(agent) + " would be newer than server " +
                      std::string(server) + "; the kubelet must not be newer than the API server";
    finding.fix = fix_newer;
    return finding;
  }
  if (minor_lag > allowed_minor_lag(*agent_version)) {
    finding.status = Status::fail;
    finding.message = "agent " + std::string(agent) + " is " + std::to_string(minor_lag) +
                      " minor versions older than server " + std::string(server) +
                      ", more than the skew policy allows (" +
                      std::to_string(allowed_minor_lag(*agent_version)) + ")";
    finding.fix = "install the server's version on the agent: " + fix_newer;
    return finding;
  }
  if (key(*agent_version) == key(*server_version)) {
    finding.message = "agent and server both run " + std::string(server);
    return finding;
  }
  finding.status = Status::warn;
  if (minor_lag == 0 && key(*agent_version) > key(*server_version)) {
    finding.message = "agent " + std::string(agent) + " is a newer patch release than server " +
                      std::string(server) + "; k3s upgrades servers before agents";
    finding.fix = fix_newer;
  } else {
    finding.message = "agent " + std::string(agent) + " is older than server " +
                      std::string(server) + ", within the skew policy";
    finding.fix =
        "install the server's version unless you need this one: set \"k3s\": "
        "{\"version\": \"" +
        std::string(server) + "\"}";
  }
  return finding;
}

}  // namespace k3sjoin::preflight
