#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "k3sjoin/kube/nodes.h"
#include "k3sjoin/report/report.h"

namespace k3sjoin::diagnose {

// Stable diagnosis codes, listed in docs/output.md.
namespace code {
inline constexpr std::string_view kNodePasswordRejected = "node-password-rejected";
inline constexpr std::string_view kTokenCaHashMismatch = "token-ca-hash-mismatch";
inline constexpr std::string_view kTokenInvalid = "token-invalid";
inline constexpr std::string_view kCredentialsRejected = "credentials-rejected";
inline constexpr std::string_view kServerUnreachable = "server-unreachable";
inline constexpr std::string_view kCertificateNotYetValid = "certificate-not-yet-valid";
inline constexpr std::string_view kMemoryCgroupMissing = "memory-cgroup-missing";
inline constexpr std::string_view kAddressInUse = "address-in-use";
inline constexpr std::string_view kNodeNotReady = "node-not-ready";
inline constexpr std::string_view kNotRegistered = "not-registered";
inline constexpr std::string_view kNodeNameTaken = "node-name-taken";
inline constexpr std::string_view kInstallTimeout = "install-timeout";
inline constexpr std::string_view kInstallFailed = "install-failed";
}  // namespace code

// Facts that the cause and fix sentences name.
struct Subject {
  std::string node_name;
  std::string host;        // SSH address of the agent
  std::string server_url;  // the agent's K3S_URL
  std::string inventory;   // inventory path, for k3sjoin commands in a fix
};

// A recognised k3s agent failure.
struct Finding {
  report::Diagnosis diagnosis;
  // True when the agent cannot recover by retrying (a rejected password or token, a
  // missing kernel feature), so waiting for Ready any longer is pointless.
  bool permanent = false;
};

// Most matched lines kept in a diagnosis; the rest are in the log.
inline constexpr std::size_t kMaxDiagnosisLines = 5;

// Splits journal output into lines and removes every join token from them: `token` where
// it occurs, and anything shaped like a k3s secure token or a K3S_TOKEN=, --token or -t
// value. Lines are returned oldest first; empty lines and journalctl's "-- ... --" notes
// are dropped.
std::vector<std::string> journal_lines(std::string_view output, std::string_view token);

// Replaces token-shaped text in one line with "<redacted>"; see journal_lines().
std::string redact_tokens(std::string_view line, std::string_view token);

// Recognises k3s's known agent failure messages in journal lines (oldest first). The
// newest matching line decides the cause, because it shows what the agent does now; the
// diagnosis keeps up to kMaxDiagnosisLines lines of that cause. nullopt when none matches.
std::optional<Finding> match_journal(const std::vector<std::string>& lines, const Subject& subject);

// A diagnosis for an agent whose journal contains no known failure: from its node's Ready
// condition (null `node`: not registered), with the newest journal lines attached.
report::Diagnosis from_node_state(const kube::Node* node, const std::vector<std::string>& lines,
                                  const Subject& subject);

// The k3sjoin command line that replaces the node of `subject` (join --replace).
std::string replace_command(const Subject& subject);

}  // namespace k3sjoin::diagnose
