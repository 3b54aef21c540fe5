#include <regex>

#include "k3sjoin/diagnose/diagnose.h"
#include "k3sjoin/util/secret.h"

namespace k3sjoin::diagnose {
namespace {

// The password of a secure token (after "::user:") or the secret of a bootstrap token
// (after "::id."); empty when `token` has neither.
std::string_view token_credentials(std::string_view token) {
  auto separator = token.find("::");
  if (separator == std::string_view::npos) {
    return {};
  }
  std::string_view credentials = token.substr(separator + 2);
  auto split = credentials.find_first_of(":.");
  return split == std::string_view::npos ? credentials : credentials.substr(split + 1);
}

}  // namespace

std::string redact_tokens(std::string_view line, std::string_view token) {
  // A short credential could match ordinary words, so only credentials of k3s's own length
  // or close to it are searched for on their own.
  constexpr std::size_t kMinCredentialLength = 8;
  std::string_view credentials = token_credentials(token);
  if (credentials.size() < kMinCredentialLength) {
    credentials = {};
  }
  std::string text = redact(line, {token, credentials});

  // Shapes of tokens that are not this run's: a secure token, and the values of K3S_TOKEN
  // (also as JSON in the k3s.io/node-env annotation) and of --token.
  static const std::regex kSecureToken(R"(K10[0-9a-fA-F]{64}::[^\s"'\\,}]+)");
  static const std::regex kVariable(R"((K3S_(?:AGENT_)?TOKEN\\?"?\s*[:=]\s*\\?"?)[^\s"'\\,}]+)");
  static const std::regex kFlag(R"((--(?:agent-)?token(?:=|\s+))[^\s"'\\,}]+)");
  text = std::regex_replace(text, kSecureToken, "<redacted>");
  text = std::regex_replace(text, kVariable, "$1<redacted>");
  text = std::regex_replace(text, kFlag, "$1<redacted>");
  return text;
}

std::vector<std::string> journal_lines(std::string_view output, std::string_view token) {
  std::vector<std::string> lines;
  while (!output.empty()) {
    auto end = output.find('\n');
    std::string_view line = output.substr(0, end);
    output = end == std::string_view::npos ? std::string_view{} : output.substr(end + 1);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) {
      line.remove_suffix(1);
    }
    // journalctl prints notes such as "-- No entries --" between the entries.
    bool note = line.starts_with("-- ") && line.ends_with(" --");
    if (line.empty() || note) {
      continue;
    }
    lines.push_back(redact_tokens(line, token));
  }
  return lines;
}

}  // namespace k3sjoin::diagnose
