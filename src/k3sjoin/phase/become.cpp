#include "k3sjoin/phase/become.h"

#include <spdlog/spdlog.h>

#include <utility>

#include "k3sjoin/log/log.h"
#include "k3sjoin/util/shell.h"

namespace k3sjoin::phase {
namespace {

constexpr std::string_view kSudoNoPassword = "sudo -n ";

// sudo -S reads the password from stdin, and -p '' keeps its prompt out of stderr. The
// shell's `read` takes one byte at a time from a pipe, so it never consumes input past the
// marker line. Exit status 125 marks a broken handshake.
std::string marker_script() {
  const std::string marker = shell_quote(kBecomeMarker);
  return "IFS= read -r k3sjoin_line || exit 125\n"
         "if [ \"$k3sjoin_line\" != " +
         marker +
         " ]; then IFS= read -r k3sjoin_line || exit 125; fi\n"
         "if [ \"$k3sjoin_line\" != " +
         marker +
         " ]; then echo 'k3sjoin: the sudo password was not followed by its marker line' >&2; "
         "exit 125; fi\n"
         "unset k3sjoin_line\n"
         "exec \"$@\"\n";
}

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

// The last non-empty line of stderr, for messages.
std::string last_line(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  const auto start = text.rfind('\n');
  return std::string(start == std::string_view::npos ? text : text.substr(start + 1));
}

class BecomeSession final : public ssh::RemoteSession {
 public:
  BecomeSession(std::unique_ptr<ssh::RemoteSession> inner, std::shared_ptr<const Secret> password)
      : inner_(std::move(inner)), password_(std::move(password)) {}

  Result<ssh::CommandResult> run(const ssh::Command& command) override {
    std::optional<std::string> line = sudo_with_password(command.line);
    if (!line) {
      return inner_->run(command);
    }
    const Secret input = sudo_password_input(password_->view(), command.input);
    ssh::Command rewritten = command;
    rewritten.line = std::move(*line);
    rewritten.input = input.view();
    return inner_->run(rewritten);
  }

  std::string label() const override { return inner_->label(); }

 private:
  std::unique_ptr<ssh::RemoteSession> inner_;
  std::shared_ptr<const Secret> password_;
};

}  // namespace

std::optional<std::string> sudo_with_password(std::string_view line) {
  if (!line.starts_with(kSudoNoPassword)) {
    return std::nullopt;
  }
  std::string_view words = line.substr(kSudoNoPassword.size());
  if (words.starts_with("-- ")) {
    words.remove_prefix(3);
  }
  return "sudo -S -p '' -- sh -c " + shell_quote(marker_script()) + " k3sjoin " +
         std::string(words);
}

Secret sudo_password_input(std::string_view password, std::string_view input) {
  std::string text;
  // Reserving first means the buffer never moves, so wipe() reaches every copy.
  text.reserve(password.size() + kBecomeMarker.size() + input.size() + 2);
  text.append(password);
  text.push_back('\n');
  text.append(kBecomeMarker);
  text.push_back('\n');
  text.append(input);
  Secret secret(text);
  wipe(text);
  return secret;
}

Result<std::unique_ptr<ssh::RemoteSession>> with_become_password(
    std::unique_ptr<ssh::RemoteSession> session, std::shared_ptr<const Secret> password,
    const std::string& user, const std::string& source) {
  const std::string prefix = log::host_prefix(session->label());
  std::string text(password->view());
  text.push_back('\n');
  const Secret input(text);
  wipe(text);
  ssh::Command check;
  check.line = "sudo -S -p '' -- true";
  check.input = input.view();
  check.timeout = std::chrono::seconds(30);
  Result<ssh::CommandResult> result = session->run(check);
  if (!result) {
    Error error = result.error();
    error.message = "check the sudo password: " + error.message;
    return error;
  }
  if (result->exit_status != 0) {
    const std::string& err = result->err;
    if (contains(err, "incorrect password") || contains(err, "Sorry, try again") ||
        contains(err, "no password was provided")) {
      return Error{ErrorKind::auth, "sudo rejected the become password for " + user,
                   "check the password from " + source +
                       " (sudo on the host logs the failed "
                       "attempt in its auth log)"};
    }
    if (contains(err, "not in the sudoers file") || contains(err, "is not allowed to run sudo")) {
      return Error{ErrorKind::auth, user + " may not run sudo on this host: " + last_line(err),
                   "allow " + user + " to use sudo (/etc/sudoers.d/), or log in as root"};
    }
    return Error{ErrorKind::auth,
                 "sudo with the become password failed with exit status " +
                     std::to_string(result->exit_status) + ": " + last_line(err),
                 "check that sudo is installed and that " + user + " may use it"};
  }
  spdlog::debug("{}sudo accepts the become password for {}", prefix, user);
  return std::unique_ptr<ssh::RemoteSession>(
      std::make_unique<BecomeSession>(std::move(session), std::move(password)));
}

}  // namespace k3sjoin::phase
