#include "inventory_rules.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <vector>

#include "k3sjoin/config/inventory.h"

namespace k3sjoin::config {
namespace detail {
namespace {

constexpr std::size_t kMaxQuoted = 60;
constexpr std::size_t kMaxDnsName = 253;
constexpr std::size_t kMaxDnsLabel = 63;
constexpr std::size_t kMaxLoginName = 32;

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_lower(char c) {
  return c >= 'a' && c <= 'z';
}
bool is_upper(char c) {
  return c >= 'A' && c <= 'Z';
}

// Joins items as "a", "a and b" or "a, b and c".
std::string join_and(const std::vector<std::string>& items) {
  std::string text;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) {
      text += (i + 1 == items.size()) ? " and " : ", ";
    }
    text += items[i];
  }
  return text;
}

// Finds what breaks the RFC 1123 subdomain rules and sets `fix`. Kubernetes node names must
// be lower case, but DNS names for SSH may use upper case because DNS ignores case.
std::string dns_name_reason(std::string_view name, bool allow_upper, std::string& fix) {
  const std::string allowed = allow_upper ? "letters, digits, \"-\" and \".\""
                                          : "lower-case letters, digits, \"-\" and \".\"";
  if (name.empty()) {
    fix = "use " + allowed;
    return "it is empty";
  }

  std::vector<std::string> bad;
  bool has_upper = false;
  std::string bad_chars;
  for (char c : name) {
    if (is_lower(c) || is_digit(c) || c == '-' || c == '.' || (allow_upper && is_upper(c))) {
      continue;
    }
    if (is_upper(c)) {
      has_upper = true;
    } else if (bad_chars.find(c) == std::string::npos) {
      bad_chars.push_back(c);
    }
  }
  if (has_upper) {
    bad.emplace_back("upper-case letters");
  }
  for (char c : bad_chars) {
    bad.push_back(quote(std::string_view(&c, 1)));
  }
  if (!bad.empty()) {
    fix = "use " + allowed;
    return "it contains " + join_and(bad);
  }

  if (name.size() > kMaxDnsName) {
    fix = "use at most 253 characters";
    return "it has " + std::to_string(name.size()) + " characters";
  }

  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t end = name.find('.', start);
    if (end == std::string_view::npos) {
      end = name.size();
    }
    const std::string_view label = name.substr(start, end - start);
    if (label.empty()) {
      fix = "remove the extra \".\"";
      return "it has an empty label between dots or at either end";
    }
    if (label.size() > kMaxDnsLabel) {
      fix = "use at most 63 characters between dots";
      return "the label " + quote(label) + " has " + std::to_string(label.size()) + " characters";
    }
    if (label.front() == '-' || label.back() == '-') {
      fix = "start and end each label with a letter or digit";
      return "the label " + quote(label) + (label.front() == '-' ? " starts" : " ends") +
             " with \"-\"";
    }
    start = end + 1;
  }
  return {};
}

// Optimal string alignment distance: Levenshtein plus adjacent transpositions, so "nmae"
// is one edit away from "name".
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) {
    d[i][0] = i;
  }
  for (std::size_t j = 0; j <= b.size(); ++j) {
    d[0][j] = j;
  }
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

std::string fold_key(std::string_view key) {
  std::string folded;
  for (char c : key) {
    if (c != '_' && c != '-') {
      folded.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
  }
  return folded;
}

// Returns the message for a flag that k3sjoin passes to `k3s agent` itself, or an empty string.
std::string owned_flag_fix(std::string_view argument) {
  if (argument.size() < 2 || argument.front() != '-') {
    return {};
  }
  // k3s parses flags with urfave/cli on top of Go's flag package, which accepts one or two
  // dashes and "=value" or a separate value. The flag name remains after both are stripped.
  // The aliases -t, -s and -i are those of `k3s agent --help`.
  // Extra dashes and upper case are stripped too: k3s rejects such spellings, but only after
  // the value has been written into the unit file and the process's arguments.
  std::string name{argument.substr(argument.find_first_not_of('-') == std::string_view::npos
                                       ? argument.size()
                                       : argument.find_first_not_of('-'))};
  name = name.substr(0, name.find('='));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  // "-tVALUE" is not valid Go flag syntax, but its value is likely a token all the same.
  if (!argument.starts_with("--") && name.size() > 1 && name.front() == 't' &&
      name.find("k10") != std::string::npos) {
    name = "t";
  }

  struct OwnedFlag {
    std::string_view name;
    std::string_view flag;
    std::string_view fix;
  };
  constexpr std::string_view kTokenFix =
      "remove it, because k3sjoin reads the token from the server";
  constexpr std::string_view kServerFix =
      "remove it, because k3sjoin uses the address of the \"server\" host";
  static constexpr std::array<OwnedFlag, 8> kOwned{{
      {"token", "--token", kTokenFix},
      {"t", "--token", kTokenFix},
      {"token-file", "--token-file", kTokenFix},
      {"server", "--server", kServerFix},
      {"s", "--server", kServerFix},
      {"node-name", "--node-name", "use the host's \"name\" key instead"},
      {"node-ip", "--node-ip", "use the host's \"nodeIP\" key instead"},
      {"i", "--node-ip", "use the host's \"nodeIP\" key instead"},
  }};
  for (const OwnedFlag& owned : kOwned) {
    if (name == owned.name) {
      return "the flag " + std::string(owned.flag) + " is set by k3sjoin; " +
             std::string(owned.fix);
    }
  }
  return {};
}

// True for text that contains a secure-format join token ("K10<hash>::<credentials>").
bool looks_like_token(std::string_view argument) {
  auto prefix = argument.find("K10");
  if (prefix == std::string_view::npos) {
    prefix = argument.find("k10");
  }
  return prefix != std::string_view::npos &&
         argument.find("::", prefix) != std::string_view::npos;
}

constexpr std::string_view kTokenShapedMessage =
    "the value looks like a join token; remove it, because k3sjoin reads the token from the "
    "server";

}  // namespace

std::string quote(std::string_view text) {
  const bool cut = text.size() > kMaxQuoted;
  std::string shown(cut ? text.substr(0, kMaxQuoted) : text);
  // Replacing invalid UTF-8 keeps dump() from throwing on bytes cut in the middle.
  std::string quoted = Json(shown).dump(-1, ' ', false, Json::error_handler_t::replace);
  if (cut) {
    quoted.insert(quoted.size() - 1, "...");
  }
  return quoted;
}

std::string describe(const Json& value) {
  if (value.is_string()) {
    return quote(value.get_ref<const std::string&>());
  }
  if (value.is_object()) {
    return value.empty() ? "{}" : "{...}";
  }
  if (value.is_array()) {
    return value.empty() ? "[]" : "[...]";
  }
  return value.dump();
}

std::string type_phrase(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::object:
      return "an object";
    case Json::value_t::array:
      return "an array";
    case Json::value_t::string:
      return "a string";
    case Json::value_t::boolean:
      return "a boolean";
    default:
      return "a number";
  }
}

std::string_view closest_key(std::string_view key, std::span<const std::string_view> known) {
  const std::string folded = fold_key(key);
  std::string_view best;
  std::size_t best_distance = 0;
  for (std::string_view candidate : known) {
    const std::size_t distance = edit_distance(folded, fold_key(candidate));
    if (best.empty() || distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  // One edit in four letters already turns "user" into "uses", so short keys allow one edit
  // and longer keys two.
  const std::size_t limit = folded.size() <= 4 ? 1 : 2;
  return best_distance <= limit ? best : std::string_view();
}

std::string node_name_problem(std::string_view name) {
  std::string fix;
  const std::string reason = dns_name_reason(name, false, fix);
  if (reason.empty()) {
    return {};
  }
  return "is not a valid Kubernetes node name: " + reason + "; " + fix;
}

bool is_ip_literal(std::string_view text) {
  const std::string copy(text);
  in6_addr address{};
  return inet_pton(AF_INET, copy.c_str(), &address) == 1 ||
         inet_pton(AF_INET6, copy.c_str(), &address) == 1;
}

std::string address_problem(std::string_view address) {
  constexpr std::string_view kFix = "use an IPv4 address, an IPv6 address or a DNS name";
  if (address.empty()) {
    return "is not a valid address: it is empty; " + std::string(kFix);
  }
  if (is_ip_literal(address)) {
    return {};
  }
  if (address.front() == '[' && address.back() == ']' &&
      is_ip_literal(address.substr(1, address.size() - 2))) {
    return "is not a valid address: IPv6 addresses are written without brackets; use " +
           quote(address.substr(1, address.size() - 2));
  }
  const std::size_t colon = address.find(':');
  if (colon != std::string_view::npos) {
    const std::string_view tail = address.substr(colon + 1);
    if (address.find(':', colon + 1) == std::string_view::npos && !tail.empty() &&
        std::all_of(tail.begin(), tail.end(), is_digit)) {
      return "is not a valid address: it contains a port; set the port with the \"port\" key";
    }
    return "is not a valid IPv6 address; write an IPv6 address without brackets or zone, "
           "such as \"fd00::51\"";
  }
  if (std::all_of(address.begin(), address.end(), [](char c) { return is_digit(c) || c == '.'; })) {
    return "is not a valid IPv4 address; use four numbers from 0 to 255 separated by \".\"";
  }
  // A fully qualified name may end with the root's ".", and the labels before it follow
  // RFC 1123.
  std::string_view name = address;
  if (name.size() > 1 && name.back() == '.') {
    name.remove_suffix(1);
  }
  std::string fix;
  const std::string reason = dns_name_reason(name, true, fix);
  if (reason.empty()) {
    return {};
  }
  return "is not a valid DNS name: " + reason + "; " + fix;
}

std::string canonical_address(std::string_view address) {
  const std::string copy(address);
  in_addr v4{};
  in6_addr v6{};
  std::array<char, INET6_ADDRSTRLEN> text{};
  if (inet_pton(AF_INET, copy.c_str(), &v4) == 1 &&
      inet_ntop(AF_INET, &v4, text.data(), text.size()) != nullptr) {
    return text.data();
  }
  if (inet_pton(AF_INET6, copy.c_str(), &v6) == 1 &&
      inet_ntop(AF_INET6, &v6, text.data(), text.size()) != nullptr) {
    return text.data();
  }
  std::string lower = copy;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (!lower.empty() && lower.back() == '.') {
    lower.pop_back();
  }
  return lower;
}

std::string login_name_problem(std::string_view user) {
  // The portable POSIX user name set plus "-" and "." as Debian's adduser allows them. A
  // leading "-" is rejected because ssh and sudo would read such a name as an option.
  constexpr std::string_view kFix =
      "use letters, digits, \"_\", \"-\" and \".\", starting with a letter or \"_\"";
  const std::string prefix = "is not a valid login name: ";
  if (user.empty()) {
    return prefix + "it is empty; " + std::string(kFix);
  }
  if (user.size() > kMaxLoginName) {
    return prefix + "it has " + std::to_string(user.size()) +
           " characters; use at most 32 characters";
  }
  std::vector<std::string> bad;
  std::string seen;
  for (char c : user) {
    const bool ok = is_lower(c) || is_upper(c) || is_digit(c) || c == '_' || c == '-' || c == '.';
    if (!ok && seen.find(c) == std::string::npos) {
      seen.push_back(c);
      bad.push_back(quote(std::string_view(&c, 1)));
    }
  }
  if (!bad.empty()) {
    return prefix + "it contains " + join_and(bad) + "; " + std::string(kFix);
  }
  if (!is_lower(user.front()) && !is_upper(user.front()) && user.front() != '_') {
    return prefix + "it starts with " + quote(user.substr(0, 1)) + "; " + std::string(kFix);
  }
  return {};
}

std::string version_problem(std::string_view version) {
  // Accepts ^v\d+\.\d+\.\d+(\+k3s\d+)?$, the tags of k3s releases.
  std::size_t position = 0;
  auto take_number = [&]() {
    const std::size_t start = position;
    while (position < version.size() && is_digit(version[position])) {
      ++position;
    }
    return position > start;
  };
  auto take = [&](std::string_view text) {
    if (version.substr(position, text.size()) != text) {
      return false;
    }
    position += text.size();
    return true;
  };
  bool valid =
      take("v") && take_number() && take(".") && take_number() && take(".") && take_number();
  if (valid && position < version.size()) {
    valid = take("+k3s") && take_number() && position == version.size();
  }
  if (valid) {
    return {};
  }
  return "is not a valid k3s version; use a release tag such as \"v1.31.4+k3s1\"";
}

std::string install_url_problem(std::string_view url) {
  constexpr std::string_view kScheme = "https://";
  if (url.substr(0, kScheme.size()) != kScheme) {
    return "is not an https:// URL; use https so the script is authenticated, such as "
           "\"https://get.k3s.io\"";
  }
  const std::string_view rest = url.substr(kScheme.size());
  if (rest.empty() || rest.front() == '/') {
    return "has no host name; use a URL such as \"https://get.k3s.io\"";
  }
  for (char c : url) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7f) {
      return "contains white space or a control character; percent-encode it";
    }
  }
  return {};
}

std::string host_key_problem(std::string_view fingerprint) {
  // A SHA-256 digest is 32 bytes: 43 base64 characters without padding, as ssh-keygen -l
  // prints it, or 44 with the "=" that some tools add.
  constexpr std::string_view kPrefix = "SHA256:";
  const std::string fix =
      "; write the fingerprint as ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub prints it "
      "on the host, such as \"SHA256:" +
      std::string(43, 'A') + "\"";
  if (fingerprint.starts_with("MD5:")) {
    return "is an MD5 fingerprint" + fix;
  }
  if (!fingerprint.starts_with(kPrefix)) {
    return "does not start with \"SHA256:\"" + fix;
  }
  std::string_view digest = fingerprint.substr(kPrefix.size());
  if (digest.ends_with('=')) {
    digest.remove_suffix(1);
  }
  const bool base64 = std::all_of(digest.begin(), digest.end(), [](char c) {
    return is_lower(c) || is_upper(c) || is_digit(c) || c == '+' || c == '/';
  });
  if (!base64 || digest.size() != 43) {
    return "is not a SHA256 fingerprint: expected 43 base64 characters after \"SHA256:\"" + fix;
  }
  return {};
}

std::string env_name_problem(std::string_view name) {
  const bool valid =
      !name.empty() && !is_digit(name.front()) && std::all_of(name.begin(), name.end(), [](char c) {
        return is_lower(c) || is_upper(c) || is_digit(c) || c == '_';
      });
  if (valid) {
    return {};
  }
  return "is not an environment variable name; use letters, digits and \"_\", not starting "
         "with a digit, such as \"K3SJOIN_BECOME_PASSWORD\"";
}

bool is_owned_flag(std::string_view argument) {
  return !owned_flag_fix(argument).empty();
}

std::string extra_arg_problem(std::string_view argument, bool after_owned_flag) {
  if (argument.empty() || argument.front() != '-') {
    if (after_owned_flag) {
      // This is the separate value of a flag such as --token, so it may be a credential.
      return "the value of the flag before it; remove both";
    }
    if (looks_like_token(argument)) {
      return std::string(kTokenShapedMessage);
    }
    return quote(argument) +
           " does not start with \"-\"; write each flag with its value as one string, such as "
           "\"--node-label=zone=a\"";
  }
  std::string fix = owned_flag_fix(argument);
  if (fix.empty() && looks_like_token(argument)) {
    return std::string(kTokenShapedMessage);
  }
  return fix;
}

}  // namespace detail

bool is_valid_node_name(std::string_view name) {
  return detail::node_name_problem(name).empty();
}

}  // namespace k3sjoin::config
