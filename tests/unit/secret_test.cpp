#include "k3sjoin/util/secret.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>

namespace k3sjoin {
namespace {

TEST(Secret, DefaultIsEmpty) {
  const Secret secret;
  EXPECT_TRUE(secret.empty());
  EXPECT_EQ(secret.size(), 0U);
  EXPECT_EQ(secret.view(), "");
}

TEST(Secret, HoldsValue) {
  const Secret secret("hunter2");
  EXPECT_FALSE(secret.empty());
  EXPECT_EQ(secret.size(), 7U);
  EXPECT_EQ(secret.view(), "hunter2");
}

TEST(Secret, HoldsValueLongerThanPage) {
  const std::string long_value(10000, 'x');
  const Secret secret(long_value);
  EXPECT_EQ(secret.view(), long_value);
}

TEST(Secret, HoldsEmbeddedNul) {
  const std::string value("a\0b", 3);
  const Secret secret(value);
  EXPECT_EQ(secret.view(), value);
}

TEST(Secret, MoveConstructorTransfers) {
  Secret source("hunter2");
  Secret target(std::move(source));
  EXPECT_EQ(target.view(), "hunter2");
  EXPECT_TRUE(source.empty());  // NOLINT(bugprone-use-after-move): moved-from state is defined
  EXPECT_EQ(source.view(), "");
}

TEST(Secret, MoveAssignmentReplaces) {
  Secret source("new-value");
  Secret target("old-value");
  target = std::move(source);
  EXPECT_EQ(target.view(), "new-value");
  EXPECT_TRUE(source.empty());  // NOLINT(bugprone-use-after-move)
}

TEST(Secret, SelfMoveAssignmentKeepsValue) {
  Secret secret("hunter2");
  Secret& alias = secret;
  secret = std::move(alias);
  EXPECT_EQ(secret.view(), "hunter2");
}

TEST(Secret, ClearEmpties) {
  Secret secret("hunter2");
  secret.clear();
  EXPECT_TRUE(secret.empty());
  EXPECT_EQ(secret.view(), "");
  secret.clear();
  EXPECT_TRUE(secret.empty());
}

// Returns the VmFlags line of the /proc/self/smaps mapping that contains `address`, or an
// empty string when no mapping does.
std::string vm_flags_of(const void* address) {
  const auto target = reinterpret_cast<std::uintptr_t>(address);
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    unsigned long long start = 0;
    unsigned long long end = 0;
    // A mapping header starts with "start-end " in hex; attribute lines start with a name.
    if (std::sscanf(line.c_str(), "%llx-%llx ", &start, &end) == 2 &&
        line.find('-') < line.find(' ')) {
      inside = target >= start && target < end;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      return line;
    }
  }
  return {};
}

bool has_flag(const std::string& flags, const std::string& flag) {
  std::istringstream words(flags);
  std::string word;
  while (words >> word) {
    if (word == flag) {
      return true;
    }
  }
  return false;
}

TEST(Secret, PagesAreExcludedFromCoreDumps) {
  const Secret secret("hunter2");
  const std::string flags = vm_flags_of(secret.view().data());
  ASSERT_FALSE(flags.empty()) << "no mapping in /proc/self/smaps holds the secret";
  // "dd" is MADV_DONTDUMP. "lo" (mlock) depends on RLIMIT_MEMLOCK, so it is not required.
  EXPECT_TRUE(has_flag(flags, "dd")) << flags;
}

TEST(Secret, PagesAreLockedWhenTheLimitAllows) {
  const Secret secret("hunter2");
  const std::string flags = vm_flags_of(secret.view().data());
  if (!has_flag(flags, "lo")) {
    GTEST_SKIP() << "mlock was refused (RLIMIT_MEMLOCK); flags: " << flags;
  }
  SUCCEED();
}

TEST(Wipe, EmptiesString) {
  std::string text = "a password that does not fit the small string buffer";
  wipe(text);
  EXPECT_TRUE(text.empty());
}

TEST(Redact, ReplacesEveryOccurrence) {
  EXPECT_EQ(redact("token=abc; again abc", {"abc"}), "token=<redacted>; again <redacted>");
}

TEST(Redact, ReplacesSeveralSecrets) {
  EXPECT_EQ(redact("user pw1 token tok2", {"pw1", "tok2"}), "user <redacted> token <redacted>");
}

TEST(Redact, IgnoresEmptySecret) {
  EXPECT_EQ(redact("text", {"", "zz"}), "text");
}

TEST(Redact, PrefersLongestMatch) {
  EXPECT_EQ(redact("K10hash::server:pw", {"pw", "K10hash::server:pw"}), "<redacted>");
}

TEST(Redact, LeavesTextWithoutSecrets) {
  EXPECT_EQ(redact("", {"abc"}), "");
  EXPECT_EQ(redact("ab", {"abc"}), "ab");
}

}  // namespace
}  // namespace k3sjoin
