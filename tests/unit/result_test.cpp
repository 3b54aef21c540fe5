#include "k3sjoin/util/result.h"

#include <gtest/gtest.h>

#include <string>

namespace k3sjoin {
namespace {

TEST(ErrorKindName, EveryKind) {
  EXPECT_STREQ(to_string(ErrorKind::usage), "usage");
  EXPECT_STREQ(to_string(ErrorKind::config), "config");
  EXPECT_STREQ(to_string(ErrorKind::connect), "connect");
  EXPECT_STREQ(to_string(ErrorKind::host_key), "host_key");
  EXPECT_STREQ(to_string(ErrorKind::auth), "auth");
  EXPECT_STREQ(to_string(ErrorKind::timeout), "timeout");
  EXPECT_STREQ(to_string(ErrorKind::remote_command), "remote_command");
  EXPECT_STREQ(to_string(ErrorKind::not_ready), "not_ready");
  EXPECT_STREQ(to_string(ErrorKind::interrupted), "interrupted");
  EXPECT_STREQ(to_string(ErrorKind::internal), "internal");
}

TEST(Result, HoldsValueOrError) {
  const Result<int> value = 7;
  EXPECT_TRUE(value.ok());
  EXPECT_EQ(*value, 7);
  const Result<int> error = Error{ErrorKind::auth, "denied", ""};
  EXPECT_FALSE(error.ok());
  EXPECT_EQ(error.error().kind, ErrorKind::auth);
  EXPECT_EQ(error.error().message, "denied");
  EXPECT_TRUE(ok_status().ok());
}

}  // namespace
}  // namespace k3sjoin
