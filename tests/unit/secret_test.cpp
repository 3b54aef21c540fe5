#include "k3sjoin/util/secret.h"

#include <gtest/gtest.h>

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
