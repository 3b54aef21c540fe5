// Known k3s agent failure messages and what an operator does about each. The message texts
// are those of k3s v1.28 to v1.32 (pkg/agent, pkg/clientaccess, pkg/nodepassword) as they
// appear in `journalctl -u k3s-agent`.

#include <functional>
#include <regex>

#include "k3sjoin/diagnose/diagnose.h"

namespace k3sjoin::diagnose {
namespace {

bool contains(std::string_view line, std::string_view text) {
  return line.find(text) != std::string_view::npos;
}

std::string first_group(const std::string& line, const std::regex& pattern) {
  std::smatch match;
  if (std::regex_search(line, match, pattern) && match.size() > 1) {
    return match[1].str();
  }
  return {};
}

std::string short_hash(const std::string& hash) {
  return hash.size() > 12 ? hash.substr(0, 12) + "..." : hash;
}

struct Rule {
  std::string_view code;
  bool permanent;
  std::function<bool(const std::string&)> matches;
  // Builds the cause and fix from the newest matching line.
  std::function<report::Diagnosis(const std::string&, const Subject&)> explain;
};

report::Diagnosis make(std::string_view code, std::string cause, std::string fix) {
  return report::Diagnosis{std::string(code), std::move(cause), std::move(fix), {}};
}

const std::vector<Rule>& rules() {
  // Order matters where one line fits two rules: an x509 validity error arrives wrapped in
  // "failed to get CA certs", so the certificate rule comes before the reachability rule.
  static const std::vector<Rule> kRules = {
      {code::kNodePasswordRejected, true,
       [](const std::string& line) { return contains(line, "Node password rejected"); },
       [](const std::string&, const Subject& subject) {
         return make(code::kNodePasswordRejected,
                     "the server rejected the node password of " + subject.node_name +
                         ": a node of that name already exists with another password (the host "
                         "was wiped or reinstalled, or another host uses the name)",
                     "run " + replace_command(subject) +
                         " to delete the old node and its node-password secret, or restore the "
                         "host's old /etc/rancher/node/password");
       }},
      {code::kTokenCaHashMismatch, true,
       [](const std::string& line) {
         return contains(line, "token CA hash does not match the Cluster CA certificate hash");
       },
       [](const std::string& line, const Subject&) {
         static const std::regex kHashes(R"(hash: ([0-9a-fA-F]+) != ([0-9a-fA-F]+))");
         std::smatch match;
         std::string detail;
         if (std::regex_search(line, match, kHashes)) {
           detail = " (token " + short_hash(match[1].str()) + ", server " +
                    short_hash(match[2].str()) + ")";
         }
         return make(code::kTokenCaHashMismatch,
                     "the join token's CA hash does not match the server's CA certificate" +
                         detail +
                         ", so the token in the server's node-token file is stale or "
                         "from another cluster",
                     "on the server, make the hash after K10 in "
                     "/var/lib/rancher/k3s/server/token equal sha256sum "
                     "/var/lib/rancher/k3s/server/tls/server-ca.crt (restore the server's own "
                     "token), then run k3sjoin again");
       }},
      {code::kTokenInvalid, true,
       [](const std::string& line) {
         return contains(line, "invalid token CA hash length") ||
                contains(line, "invalid token format");
       },
       [](const std::string&, const Subject&) {
         return make(code::kTokenInvalid,
                     "k3s cannot parse the join token (invalid format or CA hash length)",
                     "check /var/lib/rancher/k3s/server/token on the server: it must read "
                     "K10<64 hex>::<user>:<password>");
       }},
      {code::kCredentialsRejected, true,
       [](const std::string& line) {
         return contains(line, "failed to retrieve configuration from server") &&
                (contains(line, "not authorized") || contains(line, "401 Unauthorized"));
       },
       [](const std::string&, const Subject& subject) {
         return make(code::kCredentialsRejected,
                     "the server at " + subject.server_url +
                         " rejected the join token's credentials (401 not authorized)",
                     "the token was rotated or belongs to another server: check that "
                     "/var/lib/rancher/k3s/server/token on the server is current, then run "
                     "k3sjoin again");
       }},
      {code::kCertificateNotYetValid, true,
       [](const std::string& line) {
         return contains(line, "not yet valid") && contains(line, "x509");
       },
       [](const std::string&, const Subject& subject) {
         return make(code::kCertificateNotYetValid,
                     "a server certificate is not yet valid on " + subject.host +
                         " (x509), so its clock is behind the server's",
                     "synchronise the clock of " + subject.host +
                         " with NTP (timedatectl set-ntp true, or chrony), then restart "
                         "k3s-agent there");
       }},
      {code::kMemoryCgroupMissing, true,
       [](const std::string& line) { return contains(line, "failed to find memory cgroup"); },
       [](const std::string&, const Subject& subject) {
         return make(code::kMemoryCgroupMissing,
                     "the kernel of " + subject.host +
                         " has the memory cgroup disabled, which the kubelet requires",
                     "add cgroup_memory=1 cgroup_enable=memory to the kernel command line "
                     "(/boot/firmware/cmdline.txt on Raspberry Pi OS) and reboot");
       }},
      {code::kAddressInUse, false,
       [](const std::string& line) { return contains(line, "bind: address already in use"); },
       [](const std::string& line, const Subject& subject) {
         static const std::regex kAddress(R"(listen (?:tcp|udp)[46]? ([^ ]+:[0-9]+): bind)");
         std::string address = first_group(line, kAddress);
         std::string port = address.substr(address.rfind(':') + 1);
         std::string what = address.empty() ? "a port it needs" : address;
         std::string probe = address.empty() ? "ss -ltnup" : "ss -ltnup 'sport = :" + port + "'";
         return make(code::kAddressInUse,
                     "k3s-agent cannot listen on " + what + ": another process already uses it",
                     "find that process on " + subject.host + " with " + probe +
                         " and stop it; a leftover k3s stops with /usr/local/bin/k3s-killall.sh");
       }},
      {code::kServerUnreachable, false,
       [](const std::string& line) {
         if (contains(line, "failed to get CA certs")) {
           return true;
         }
         return contains(line, "127.0.0.1:6444") &&
                (contains(line, "connection refused") || contains(line, "connection reset") ||
                 contains(line, "context deadline exceeded") || contains(line, "i/o timeout") ||
                 contains(line, "no route to host"));
       },
       [](const std::string& line, const Subject& subject) {
         std::string reason = "no answer";
         for (const char* text : {"connection reset by peer", "connection refused",
                                  "context deadline exceeded", "i/o timeout", "no route to host"}) {
           if (contains(line, text)) {
             reason = text;
             break;
           }
         }
         return make(code::kServerUnreachable,
                     "the agent cannot reach the server " + subject.server_url +
                         " through its local load balancer 127.0.0.1:6444 (" + reason + ")",
                     "check that " + subject.host + " reaches " + subject.server_url +
                         " (port 6443/tcp open in firewalls and security groups) and that k3s "
                         "runs on the server");
       }},
  };
  return kRules;
}

}  // namespace

std::string replace_command(const Subject& subject) {
  return "k3sjoin join " + subject.inventory + " --node " + subject.node_name + " --replace";
}

std::optional<Finding> match_journal(const std::vector<std::string>& lines,
                                     const Subject& subject) {
  for (auto line = lines.rbegin(); line != lines.rend(); ++line) {
    for (const Rule& rule : rules()) {
      if (!rule.matches(*line)) {
        continue;
      }
      Finding finding{rule.explain(*line, subject), rule.permanent};
      // Keep the newest lines of this cause, oldest first.
      std::vector<std::string> kept;
      for (auto other = lines.rbegin(); other != lines.rend(); ++other) {
        if (kept.size() == kMaxDiagnosisLines) {
          break;
        }
        if (rule.matches(*other)) {
          kept.insert(kept.begin(), *other);
        }
      }
      finding.diagnosis.lines = std::move(kept);
      return finding;
    }
  }
  return std::nullopt;
}

report::Diagnosis from_node_state(const kube::Node* node, const std::vector<std::string>& lines,
                                  const Subject& subject) {
  std::string look = "read the agent log on " + subject.host +
                     ": journalctl -u k3s-agent -n 100, and check systemctl status k3s-agent";
  report::Diagnosis diagnosis;
  const kube::NodeCondition* ready = node == nullptr ? nullptr : node->ready_condition();
  if (node == nullptr) {
    diagnosis = make(code::kNotRegistered,
                     "the agent never registered node " + subject.node_name +
                         " with the server, and its journal shows no known k3s error",
                     look);
  } else if (ready == nullptr || ready->status != "True") {
    std::string state = ready == nullptr ? "no Ready condition" : "Ready=" + ready->status;
    if (ready != nullptr && !ready->reason.empty()) {
      state += " (" + ready->reason + (ready->message.empty() ? "" : ": " + ready->message) + ")";
    }
    diagnosis = make(code::kNodeNotReady,
                     "node " + subject.node_name + " registered but is not Ready: " + state, look);
  } else {
    diagnosis = make(code::kNodeNotReady,
                     "node " + subject.node_name + " is Ready at " + node->kubelet_version +
                         ", which is not the target version",
                     "run k3sjoin with --allow-version-change to install the target version");
  }
  std::size_t first = lines.size() > kMaxDiagnosisLines ? lines.size() - kMaxDiagnosisLines : 0;
  diagnosis.lines.assign(lines.begin() + static_cast<std::ptrdiff_t>(first), lines.end());
  return diagnosis;
}

}  // namespace k3sjoin::diagnose
