#include "k3sjoin/config/token.h"

#include <cstddef>
#include <string>

namespace k3sjoin::config {
namespace {

constexpr std::string_view kPrefix = "K10";
constexpr std::string_view kSeparator = "::";
constexpr std::size_t kHashLength = 64;
constexpr std::string_view kHint =
    "copy the token from /var/lib/rancher/k3s/server/node-token on the server";

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool is_bootstrap_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z');
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front())) {
    text.remove_prefix(1);
  }
  while (!text.empty() && is_space(text.back())) {
    text.remove_suffix(1);
  }
  return text;
}

Error token_error(std::string message) {
  return Error{ErrorKind::config, std::move(message), std::string(kHint)};
}

// Bootstrap tokens have the kubeadm shape <6 chars>.<16 chars>, both parts [a-z0-9].
bool is_bootstrap_token(std::string_view credentials) {
  if (credentials.size() != 23 || credentials[6] != '.') {
    return false;
  }
  for (std::size_t i = 0; i < credentials.size(); ++i) {
    if (i != 6 && !is_bootstrap_char(credentials[i])) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string_view JoinToken::secret_part() const {
  const std::string_view text = text_.view();
  const std::size_t separator = text.find(kSeparator);
  if (separator == std::string_view::npos) {
    return {};
  }
  const std::string_view credentials = text.substr(separator + kSeparator.size());
  const std::size_t split = credentials.find(bootstrap_ ? '.' : ':');
  return split == std::string_view::npos ? std::string_view{} : credentials.substr(split + 1);
}

std::string_view JoinToken::bootstrap_id() const {
  if (!bootstrap_) {
    return {};
  }
  const std::string_view text = text_.view();
  const std::size_t separator = text.find(kSeparator);
  if (separator == std::string_view::npos) {
    return {};
  }
  return text.substr(separator + kSeparator.size(), 6);
}

Result<JoinToken> parse_token(std::string_view raw) {
  // Messages below report positions, lengths and shapes only. Copying any byte after "::"
  // into a message would leak the password into logs and reports.
  const std::string_view token = trim(raw);
  if (token.empty()) {
    return token_error("node token is empty");
  }
  for (std::size_t i = 0; i < token.size(); ++i) {
    const auto byte = static_cast<unsigned char>(token[i]);
    if (is_space(token[i]) || byte < 0x20 || byte == 0x7f) {
      return token_error("node token contains white space or a control character at position " +
                         std::to_string(i + 1) + "; the token is a single word");
    }
  }
  if (token.substr(0, kPrefix.size()) != kPrefix) {
    return token_error("node token is not in secure format: missing the \"K10\" prefix");
  }
  const std::size_t separator = token.find(kSeparator, kPrefix.size());
  if (separator == std::string_view::npos) {
    return token_error("node token is not in secure format: missing \"::\" after the CA hash");
  }

  const std::string_view hash = token.substr(kPrefix.size(), separator - kPrefix.size());
  if (hash.size() != kHashLength) {
    return token_error("CA hash has " + std::to_string(hash.size()) +
                       " characters, expected 64 hex characters");
  }
  std::string ca_hash(hash);
  for (std::size_t i = 0; i < ca_hash.size(); ++i) {
    if (!is_hex(ca_hash[i])) {
      return token_error("CA hash has a non-hex character at position " + std::to_string(i + 1) +
                         ", expected 64 hex characters");
    }
    if (ca_hash[i] >= 'A' && ca_hash[i] <= 'F') {
      ca_hash[i] = static_cast<char>(ca_hash[i] - 'A' + 'a');
    }
  }

  const std::string_view credentials = token.substr(separator + kSeparator.size());
  if (credentials.empty()) {
    return token_error("credentials after \"::\" are empty");
  }
  std::string username;
  bool bootstrap = false;
  const std::size_t colon = credentials.find(':');
  if (colon != std::string_view::npos) {
    if (colon == 0) {
      return token_error("credentials after \"::\" have an empty user name before \":\"");
    }
    if (colon + 1 == credentials.size()) {
      return token_error("credentials after \"::\" have an empty password after \":\"");
    }
    username = std::string(credentials.substr(0, colon));
  } else if (is_bootstrap_token(credentials)) {
    bootstrap = true;
  } else {
    return token_error(
        "credentials after \"::\" are neither <user>:<password> nor a bootstrap token of the "
        "form <6 characters>.<16 characters> made of [a-z0-9]");
  }

  // The stored text carries the lower-cased hash because k3s compares the hash it computes,
  // which Go prints in lower case, with the one in the token.
  std::string normalized;
  normalized.reserve(token.size());
  normalized.append(kPrefix);
  normalized.append(ca_hash);
  normalized.append(kSeparator);
  normalized.append(credentials);
  Secret text(normalized);
  wipe(normalized);
  return JoinToken(std::move(text), std::move(ca_hash), std::move(username), bootstrap);
}

}  // namespace k3sjoin::config
