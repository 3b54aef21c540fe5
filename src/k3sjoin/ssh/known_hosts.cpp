#include "k3sjoin/ssh/known_hosts.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cctype>
#include <fstream>
#include <optional>
#include <vector>

namespace k3sjoin::ssh {
namespace {

std::string base64_encode(std::span<const unsigned char> bytes) {
  std::string text(4 * ((bytes.size() + 2) / 3), '\0');
  const int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(text.data()), bytes.data(),
                                     static_cast<int>(bytes.size()));
  text.resize(static_cast<std::size_t>(length));
  return text;
}

std::optional<std::vector<unsigned char>> base64_decode(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) {
    return std::nullopt;
  }
  std::vector<unsigned char> bytes(text.size() / 4 * 3);
  const int length =
      EVP_DecodeBlock(bytes.data(), reinterpret_cast<const unsigned char*>(text.data()),
                      static_cast<int>(text.size()));
  if (length < 0) {
    return std::nullopt;
  }
  // EVP_DecodeBlock counts the zero bytes that padding stands for, so drop them here.
  std::size_t size = static_cast<std::size_t>(length);
  for (auto it = text.rbegin(); it != text.rend() && *it == '=' && size > 0; ++it) {
    --size;
  }
  bytes.resize(size);
  return bytes;
}

std::string_view strip_padding(std::string_view text) {
  while (text.ends_with('=')) {
    text.remove_suffix(1);
  }
  return text;
}

// Matches one "|1|salt|hmac" entry: OpenSSH stores HMAC-SHA1(key = salt, data = name).
bool hashed_entry_matches(std::string_view entry, std::string_view name) {
  entry.remove_prefix(3);
  const auto bar = entry.find('|');
  if (bar == std::string_view::npos) {
    return false;
  }
  const auto salt = base64_decode(entry.substr(0, bar));
  const auto expected = base64_decode(entry.substr(bar + 1));
  if (!salt || !expected) {
    return false;
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int digest_length = 0;
  const unsigned char* result = HMAC(EVP_sha1(), salt->data(), static_cast<int>(salt->size()),
                                     reinterpret_cast<const unsigned char*>(name.data()),
                                     name.size(), digest.data(), &digest_length);
  return result != nullptr && digest_length == expected->size() &&
         CRYPTO_memcmp(digest.data(), expected->data(), digest_length) == 0;
}

char lower(char c) {
  return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

// Matches a plain pattern in which only * and ? are special, ignoring case, as OpenSSH's
// match_pattern does. fnmatch(3) would misread the brackets of "[host]:port" entries.
bool pattern_matches(std::string_view pattern, std::string_view name) {
  if (pattern.empty()) {
    return name.empty();
  }
  if (pattern.front() == '*') {
    for (std::size_t skip = 0; skip <= name.size(); ++skip) {
      if (pattern_matches(pattern.substr(1), name.substr(skip))) {
        return true;
      }
    }
    return false;
  }
  if (name.empty() || (pattern.front() != '?' && lower(pattern.front()) != lower(name.front()))) {
    return false;
  }
  return pattern_matches(pattern.substr(1), name.substr(1));
}

// The SHA-256 fingerprint of the base64 key blob that follows the key type at `from`.
std::string key_fingerprint(const std::string& line, std::size_t from) {
  if (from == std::string::npos) {
    return {};
  }
  const auto start = line.find_first_not_of(" \t", from);
  if (start == std::string::npos) {
    return {};
  }
  const auto end = line.find_first_of(" \t", start);
  const auto blob = base64_decode(std::string_view(line).substr(start, end - start));
  if (!blob) {
    return {};
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_Digest(blob->data(), blob->size(), digest.data(), &length, EVP_sha256(), nullptr) != 1) {
    return {};
  }
  return format_sha256_fingerprint(std::span(digest.data(), length));
}

}  // namespace

std::string format_sha256_fingerprint(std::span<const unsigned char> digest) {
  std::string encoded = base64_encode(digest);
  return "SHA256:" + std::string(strip_padding(encoded));
}

bool same_fingerprint(std::string_view a, std::string_view b) {
  constexpr std::string_view kPrefix = "SHA256:";
  if (!a.starts_with(kPrefix) || !b.starts_with(kPrefix)) {
    return false;
  }
  return strip_padding(a.substr(kPrefix.size())) == strip_padding(b.substr(kPrefix.size()));
}

std::string known_hosts_name(std::string_view address, int port) {
  std::string bare(address);
  if (bare.starts_with('[') && bare.ends_with(']')) {
    bare = bare.substr(1, bare.size() - 2);
  }
  if (port == 22) {
    return bare;
  }
  return "[" + bare + "]:" + std::to_string(port);
}

bool known_hosts_field_matches(std::string_view field, std::string_view name) {
  bool matched = false;
  std::size_t start = 0;
  while (start <= field.size()) {
    std::size_t end = field.find(',', start);
    if (end == std::string_view::npos) {
      end = field.size();
    }
    std::string_view pattern = field.substr(start, end - start);
    start = end + 1;
    if (pattern.empty()) {
      continue;
    }
    const bool negated = pattern.starts_with('!');
    if (negated) {
      pattern.remove_prefix(1);
    }
    const bool hit = pattern.starts_with("|1|") ? hashed_entry_matches(pattern, name)
                                                : pattern_matches(pattern, name);
    if (hit && negated) {
      return false;
    }
    matched = matched || hit;
  }
  return matched;
}

std::vector<KnownHostsEntry> find_known_hosts_entries(const std::filesystem::path& file,
                                                      std::string_view name) {
  std::vector<KnownHostsEntry> entries;
  std::ifstream stream(file);
  std::string line;
  int number = 0;
  while (std::getline(stream, line)) {
    ++number;
    const auto first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#' || line[first] == '@') {
      continue;
    }
    const auto hosts_end = line.find_first_of(" \t", first);
    if (hosts_end == std::string::npos) {
      continue;
    }
    const auto type_start = line.find_first_not_of(" \t", hosts_end);
    if (type_start == std::string::npos) {
      continue;
    }
    const auto type_end = line.find_first_of(" \t", type_start);
    const std::string_view hosts = std::string_view(line).substr(first, hosts_end - first);
    if (known_hosts_field_matches(hosts, name)) {
      entries.push_back({file, number, line.substr(type_start, type_end - type_start),
                         key_fingerprint(line, type_end)});
    }
  }
  return entries;
}

std::string describe_entries(const std::vector<KnownHostsEntry>& entries) {
  std::string text;
  for (const KnownHostsEntry& entry : entries) {
    if (!text.empty()) {
      text += ", ";
    }
    text += (entry.fingerprint.empty() ? std::string("a key") : entry.fingerprint) + " (" +
            entry.key_type + ") at " + entry.file.string() + ":" + std::to_string(entry.line);
  }
  return text;
}

}  // namespace k3sjoin::ssh
