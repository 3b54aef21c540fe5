#include "k3sjoin/phase/become.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "fake_remote.h"
#include "k3sjoin/phase/remote_commands.h"

namespace k3sjoin::phase {
namespace {

using ssh::CommandResult;
using ssh::FakeRemote;

constexpr std::string_view kPassword = "pa ss'word\"$x";

// Runs `line` through /bin/sh with `input` on stdin and `prelude` defined first (a stand-in
// for sudo); returns stdout.
std::string run_shell(const std::string& prelude, const std::string& line, std::string_view input) {
  char path[] = "/tmp/k3sjoin-become-XXXXXX";
  const int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(write(fd, input.data(), input.size()), static_cast<ssize_t>(input.size()));
  close(fd);
  const std::string script_path = std::string(path) + ".sh";
  std::ofstream(script_path) << prelude << "\n" << line << "\n";
  std::string output;
  FILE* pipe = popen(("sh " + script_path + " < " + path).c_str(), "r");
  std::array<char, 256> buffer{};
  while (pipe != nullptr && fgets(buffer.data(), buffer.size(), pipe) != nullptr) {
    output += buffer.data();
  }
  if (pipe != nullptr) {
    pclose(pipe);
  }
  unlink(path);
  unlink(script_path.c_str());
  return output;
}

// A sudo stand-in that reads the password line from stdin, as `sudo -S` does when it
// needs one, then runs the words after "--".
constexpr const char* kSudoReadsPassword =
    "sudo() { IFS= read -r pw; [ \"$pw\" = 'pa ss'\\''word\"$x' ] || { echo wrong; exit 1; }; "
    "while [ \"$1\" != -- ]; do shift; done; shift; \"$@\"; }";

// A sudo stand-in for NOPASSWD or a cached timestamp: it reads nothing.
constexpr const char* kSudoReadsNothing =
    "sudo() { while [ \"$1\" != -- ]; do shift; done; shift; \"$@\"; }";

TEST(SudoWithPasswordTest, RewritesOnlySudoLines) {
  EXPECT_FALSE(sudo_with_password("sh -c 'true'").has_value());
  EXPECT_FALSE(sudo_with_password("sudo -S true").has_value());
  const std::optional<std::string> line = sudo_with_password(as_root("ops", "k3s --version"));
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(line->rfind("sudo -S -p '' -- sh -c ", 0), 0U) << *line;
  EXPECT_EQ(line->find(std::string(kPassword)), std::string::npos);
  EXPECT_EQ(sudo_with_password("sudo -n true")->substr(line->find(" k3sjoin ")), " k3sjoin true");
}

TEST(SudoWithPasswordTest, InputStartsWithPassword) {
  const Secret input = sudo_password_input(kPassword, "TOKEN\n");
  EXPECT_EQ(input.view(), std::string(kPassword) + "\n" + std::string(kBecomeMarker) + "\nTOKEN\n");
}

TEST(SudoWithPasswordTest, ScriptReadsItsInputWhenSudoReadsPassword) {
  const std::string line =
      *sudo_with_password(as_root("ops", "IFS= read -r token; echo \"token=$token\""));
  const Secret input = sudo_password_input(kPassword, "TOKEN\n");
  EXPECT_EQ(run_shell(kSudoReadsPassword, line, input.view()), "token=TOKEN\n");
}

TEST(SudoWithPasswordTest, ScriptReadsItsInputWhenSudoReadsNothing) {
  const std::string line =
      *sudo_with_password(as_root("ops", "IFS= read -r token; echo \"token=$token\""));
  const Secret input = sudo_password_input(kPassword, "TOKEN\n");
  EXPECT_EQ(run_shell(kSudoReadsNothing, line, input.view()), "token=TOKEN\n");
}

TEST(SudoWithPasswordTest, MissingMarkerStopsCommand) {
  const std::string line = *sudo_with_password("sudo -n -- echo ran");
  EXPECT_EQ(run_shell(kSudoReadsNothing, line, "one\ntwo\nthree\n"), "");
}

struct BecomeFixture {
  std::unique_ptr<FakeRemote> owned = std::make_unique<FakeRemote>();
  FakeRemote* fake = owned.get();
  std::shared_ptr<const Secret> password = std::make_shared<const Secret>(kPassword);
};

TEST(WithBecomePasswordTest, ChecksThenRewrites) {
  BecomeFixture fixture;
  fixture.fake->on("^sudo -S -p '' -- true$", 0).on("k3s --version", 0, "k3s version v1\n");
  auto session = with_become_password(std::move(fixture.owned), fixture.password, "ops",
                                      "the environment variable PW");
  ASSERT_TRUE(session.ok()) << session.error().message;
  Result<CommandResult> result = (*session)->run({as_root("ops", "k3s --version"), "TOKEN\n"});
  ASSERT_TRUE(result.ok());
  const auto& commands = fixture.fake->commands();
  ASSERT_EQ(commands.size(), 2U);
  EXPECT_EQ(commands[0].input, std::string(kPassword) + "\n");
  EXPECT_EQ(commands[1].line.rfind("sudo -S -p '' -- sh -c ", 0), 0U);
  EXPECT_EQ(commands[1].input,
            std::string(kPassword) + "\n" + std::string(kBecomeMarker) + "\nTOKEN\n");
  for (const auto& command : commands) {
    EXPECT_EQ(command.line.find(std::string(kPassword)), std::string::npos);
  }
}

TEST(WithBecomePasswordTest, PlainCommandsUnchanged) {
  BecomeFixture fixture;
  fixture.fake->on("sudo -S -p '' -- true", 0).on("^uname$", 0, "Linux\n");
  auto session = with_become_password(std::move(fixture.owned), fixture.password, "ops", "x");
  ASSERT_TRUE(session.ok());
  ASSERT_TRUE((*session)->run({"uname", ""}).ok());
  EXPECT_EQ(fixture.fake->commands().back().line, "uname");
  EXPECT_EQ(fixture.fake->commands().back().input, "");
}

TEST(WithBecomePasswordTest, WrongPasswordIsAuthError) {
  BecomeFixture fixture;
  fixture.fake->on("sudo -S", 1, "",
                   "Sorry, try again.\nsudo: no password was provided\n"
                   "sudo: 1 incorrect password attempt\n");
  auto session = with_become_password(std::move(fixture.owned), fixture.password, "ops",
                                      "the environment variable PW");
  ASSERT_FALSE(session.ok());
  EXPECT_EQ(session.error().kind, ErrorKind::auth);
  EXPECT_EQ(session.error().message, "sudo rejected the become password for ops");
  EXPECT_NE(session.error().hint.find("the environment variable PW"), std::string::npos);
  EXPECT_EQ(session.error().message.find(std::string(kPassword)), std::string::npos);
}

TEST(WithBecomePasswordTest, NotInSudoers) {
  BecomeFixture fixture;
  fixture.fake->on("sudo -S", 1, "", "ops is not in the sudoers file.\n");
  auto session = with_become_password(std::move(fixture.owned), fixture.password, "ops", "x");
  ASSERT_FALSE(session.ok());
  EXPECT_EQ(session.error().kind, ErrorKind::auth);
  EXPECT_EQ(session.error().message,
            "ops may not run sudo on this host: ops is not in the sudoers file.");
}

}  // namespace
}  // namespace k3sjoin::phase
