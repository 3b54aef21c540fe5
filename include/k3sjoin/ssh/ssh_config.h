#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "k3sjoin/util/result.h"

// A reader for the OpenSSH client configuration (ssh_config(5)) that covers the keywords
// k3sjoin uses: Host, Include, HostName, User, Port, IdentityFile, IdentitiesOnly, ProxyJump,
// ProxyCommand (only to reject it), UserKnownHostsFile, StrictHostKeyChecking and
// ConnectTimeout. Other keywords are skipped. Match blocks are skipped as a whole, because
// their criteria (exec, localnetwork, ...) are not evaluated.

namespace k3sjoin::ssh {

// One hop of a ProxyJump list: "[user@]host[:port]" or "ssh://[user@]host[:port]".
struct JumpSpec {
  std::string user;         // empty: the hop's own config or the local user decides
  std::string host;         // name or address, IPv6 without brackets
  std::optional<int> port;  // absent: the hop's own config or 22
};

// The values the configuration gives one host. As in OpenSSH, the first value found for a
// keyword wins, except IdentityFile, whose values accumulate in file order.
struct HostConfig {
  std::optional<std::string> hostname;  // %h and %% already expanded
  std::optional<std::string> user;
  std::optional<int> port;
  std::vector<std::string> identity_files;  // as written; see expand_tokens()
  std::optional<bool> identities_only;
  std::optional<std::vector<JumpSpec>> proxy_jump;  // empty vector: "ProxyJump none"
  std::optional<std::string> proxy_command;         // absent or "none" means no proxy command
  std::optional<std::vector<std::string>> user_known_hosts_files;  // as written
  std::optional<std::string> strict_host_key_checking;  // yes, no, accept-new, ask or off
  std::optional<std::chrono::seconds> connect_timeout;
  std::string proxy_jump_origin;  // "FILE:LINE" of the ProxyJump line, for messages
};

// A parsed configuration: every line with the Host blocks that guard it.
class SshConfig {
 public:
  // Reads `path`. A missing file yields an empty configuration when `must_exist` is false,
  // and an error otherwise. Relative Include paths resolve against `include_dir` (~/.ssh
  // for a user configuration, as in OpenSSH). Errors (kind config) give FILE:LINE, the
  // keyword and the rule.
  static Result<SshConfig> load(const std::string& path, bool must_exist,
                                const std::string& include_dir);

  // Parses configuration text; `origin` names it in messages.
  static Result<SshConfig> parse(std::string_view text, const std::string& origin,
                                 const std::string& include_dir);

  // Appends the lines of `other`, which then rank below this configuration's lines, as the
  // system-wide file ranks below the user's.
  void append(const SshConfig& other);

  // Collects the values for `host` (the name given on the command line or in the
  // inventory; matched against Host patterns after lower-casing, as ssh does).
  HostConfig lookup(std::string_view host) const;

  bool empty() const { return lines_.empty(); }

 private:
  struct Block {
    std::vector<std::string> patterns;  // empty: never matches (Match)
  };
  struct Line {
    std::string keyword;  // lower case
    std::vector<std::string> arguments;
    std::string origin;       // "FILE:LINE"
    std::vector<int> guards;  // indexes into blocks_ that must all match
  };

  Status parse_into(std::string_view text, const std::string& origin,
                    const std::string& include_dir, std::vector<int> guards, int depth);
  Status include(const std::vector<std::string>& patterns, const std::string& origin,
                 const std::string& include_dir, const std::vector<int>& guards, int depth);

  std::vector<Block> blocks_;
  std::vector<Line> lines_;
};

// Returns true when `host` matches a Host line's pattern list: some pattern matches and no
// negated ("!pattern") one does. `*` and `?` are the wildcards.
bool host_patterns_match(const std::vector<std::string>& patterns, std::string_view host);

// Parses a ProxyJump value ("none" gives an empty list). Errors name the hop and the rule.
Result<std::vector<JumpSpec>> parse_proxy_jump(std::string_view value);

// Values for the percent tokens of ssh_config(5) TOKENS.
struct TokenValues {
  std::string host;           // %h: the HostName
  std::string original_host;  // %n: the name as given
  int port = 22;              // %p
  std::string remote_user;    // %r
  std::string local_user;     // %u
  std::string home;           // %d and a leading ~
};

// Expands "~/" and the tokens %h %n %p %r %u %d %% in IdentityFile and UserKnownHostsFile
// values. An unknown token is an error naming it.
Result<std::string> expand_tokens(std::string_view text, const TokenValues& values);

// The current user's home directory from the password database, as OpenSSH finds it
// (not $HOME), falling back to $HOME only when the database has no entry.
std::string user_home_directory();

// The current user's login name from the password database.
std::string local_user_name();

}  // namespace k3sjoin::ssh
