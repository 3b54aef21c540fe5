#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

// Host key helpers of the SSH layer that need no connection, split out for unit tests.
// libssh itself decides whether a key is known; these functions only build the messages.

namespace k3sjoin::ssh {

// Formats a SHA-256 digest the way OpenSSH prints it: "SHA256:" and unpadded base64.
std::string format_sha256_fingerprint(std::span<const unsigned char> digest);

// Compares two "SHA256:..." fingerprints, ignoring base64 padding. Returns false when
// either one lacks the "SHA256:" prefix.
bool same_fingerprint(std::string_view a, std::string_view b);

// The name under which OpenSSH records a host in known_hosts: "host" for port 22,
// "[host]:port" otherwise. IPv6 addresses are written without extra brackets for port 22.
std::string known_hosts_name(std::string_view address, int port);

// Returns true when the host field of a known_hosts line (the comma-separated first
// column) matches `name`. Handles hashed entries ("|1|salt|hmac", HMAC-SHA1 keyed with the
// salt), plain names, the wildcards * and ?, and negated patterns ("!pattern"), which
// reject the line even when another pattern matches.
bool known_hosts_field_matches(std::string_view field, std::string_view name);

// A known_hosts line that lists a host.
struct KnownHostsEntry {
  std::filesystem::path file;
  int line = 0;             // 1-based
  std::string key_type;     // "ssh-ed25519"
  std::string fingerprint;  // "SHA256:..." of the key; empty when the key is not valid base64
};

// Lists the lines of a known_hosts file that name `name`, skipping comments and
// @cert-authority and @revoked lines. A missing or unreadable file yields no entries.
std::vector<KnownHostsEntry> find_known_hosts_entries(const std::filesystem::path& file,
                                                      std::string_view name);

// Formats entries as "FINGERPRINT (TYPE) at FILE:LINE", joined by ", ".
std::string describe_entries(const std::vector<KnownHostsEntry>& entries);

}  // namespace k3sjoin::ssh
