// libFuzzer target for the join token parser, which reads the output of a command on the
// server. Any crash, sanitizer report or broken invariant is a finding. An error message
// that repeats the credentials is one too, because errors go to the log and the report.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "k3sjoin/config/token.h"

namespace {

bool has_digit(std::string_view text) {
  return text.find_first_of("0123456789") != std::string_view::npos;
}

// Credentials long and random-looking enough that no fixed message text contains them
// by chance.
bool distinctive(std::string_view credentials) {
  return credentials.size() >= 16 && has_digit(credentials) &&
         credentials.find(' ') == std::string_view::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  auto token = k3sjoin::config::parse_token(raw);
  if (!token) {
    const std::size_t separator = raw.find("::");
    if (separator != std::string_view::npos) {
      const std::string_view credentials = raw.substr(separator + 2);
      const auto& error = token.error();
      // Only the message is checked: the hint is fixed text, which contains a path such as
      // /var/lib/rancher/k3s/server/node-token that an input may repeat.
      if (distinctive(credentials) && error.message.find(credentials) != std::string::npos) {
        std::abort();
      }
    }
    return 0;
  }
  const std::string_view text = token->text().view();
  if (token->ca_hash().size() != 64 || text.substr(0, 3) != "K10" || token->secret_part().empty() ||
      text.substr(text.size() - token->secret_part().size()) != token->secret_part()) {
    std::abort();
  }
  if (token->bootstrap() != !token->bootstrap_id().empty() ||
      (token->bootstrap() && token->bootstrap_id().size() != 6)) {
    std::abort();
  }
  return 0;
}
