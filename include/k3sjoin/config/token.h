#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "k3sjoin/util/result.h"
#include "k3sjoin/util/secret.h"

namespace k3sjoin::config {

// A k3s join token in secure format: K10<64 hex CA hash>::<user>:<password>, or
// K10<hash>::<id>.<secret> for a bootstrap token. The whole token text is kept in a Secret.
class JoinToken {
 public:
  JoinToken() = default;
  JoinToken(Secret text, std::string ca_hash, std::string username, bool bootstrap)
      : text_(std::move(text)),
        ca_hash_(std::move(ca_hash)),
        username_(std::move(username)),
        bootstrap_(bootstrap) {}

  const Secret& text() const { return text_; }
  const std::string& ca_hash() const { return ca_hash_; }    // 64 lower-case hex characters
  const std::string& username() const { return username_; }  // "server", "node"; empty if bootstrap
  bool bootstrap() const { return bootstrap_; }

  // The part that authenticates: the password of <user>:<password>, or the secret of a
  // bootstrap token <id>.<secret>. The view points into text() and is empty for an empty
  // token. Log redaction must match it too, because remote tools may print it alone.
  std::string_view secret_part() const;

  // The <id> of a bootstrap token, which `k3s token delete` takes; empty for other tokens.
  // The id is not secret: k3s prints it in `k3s token list`.
  std::string_view bootstrap_id() const;

 private:
  Secret text_;
  std::string ca_hash_;
  std::string username_;
  bool bootstrap_ = false;
};

// Parses a token read from a node-token file: surrounding white space is trimmed, then the
// secure format is required. Error messages describe the shape that is wrong and never
// contain any part of the credentials.
Result<JoinToken> parse_token(std::string_view raw);

}  // namespace k3sjoin::config
