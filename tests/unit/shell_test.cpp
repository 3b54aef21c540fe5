#include "k3sjoin/util/shell.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace k3sjoin {
namespace {

// Runs `command` with /bin/sh -c (which popen uses) and returns its stdout.
std::string run_sh(const std::string& command) {
  const std::unique_ptr<std::FILE, int (*)(std::FILE*)> pipe(popen(command.c_str(), "r"), &pclose);
  if (!pipe) {
    ADD_FAILURE() << "popen failed for: " << command;
    return {};
  }
  std::string output;
  std::array<char, 256> buffer{};
  std::size_t count = 0;
  while ((count = std::fread(buffer.data(), 1, buffer.size(), pipe.get())) > 0) {
    output.append(buffer.data(), count);
  }
  return output;
}

TEST(ShellQuote, PlainWord) {
  EXPECT_EQ(shell_quote("agent-01"), "'agent-01'");
}

TEST(ShellQuote, EmptyString) {
  EXPECT_EQ(shell_quote(""), "''");
}

TEST(ShellQuote, SingleQuote) {
  EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
}

TEST(ShellQuote, DollarAndBackticksStayLiteral) {
  EXPECT_EQ(shell_quote("$HOME `id`"), "'$HOME `id`'");
}

TEST(ShellQuote, RoundTripsThroughSh) {
  const std::vector<std::string> words = {
      "",
      "plain",
      "two words",
      "it's",
      "''",
      "$HOME",
      "${PATH}",
      "`id`",
      "$(id)",
      "line one\nline two\n",
      "back\\slash",
      "\"double\"",
      "glob * ? [a]",
      "semi; rm -rf /tmp/nothing && echo pwned | cat",
      "--node-label=zone=a",
      "tab\there",
      "~/.ssh/id_ed25519",
  };
  for (const std::string& word : words) {
    SCOPED_TRACE(word);
    EXPECT_EQ(run_sh("printf %s " + shell_quote(word)), word);
  }
}

TEST(ShellJoin, QuotesEachWord) {
  EXPECT_EQ(shell_join({"sh", "-c", "echo $1"}), "'sh' '-c' 'echo $1'");
}

TEST(ShellJoin, EmptyList) {
  EXPECT_EQ(shell_join({}), "");
}

TEST(ShellJoin, RoundTripsThroughSh) {
  const std::vector<std::string> words = {"printf", "%s|", "a b", "", "it's", "$x", "`y`", "n\nl"};
  EXPECT_EQ(run_sh(shell_join(words)), "a b||it's|$x|`y`|n\nl|");
}

}  // namespace
}  // namespace k3sjoin
