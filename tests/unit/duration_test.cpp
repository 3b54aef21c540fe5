#include "k3sjoin/util/duration.h"

#include <gtest/gtest.h>

namespace k3sjoin {
namespace {

TEST(ParseDurationTest, AcceptsUnits) {
  EXPECT_EQ(parse_duration("90"), std::chrono::seconds(90));
  EXPECT_EQ(parse_duration("90s"), std::chrono::seconds(90));
  EXPECT_EQ(parse_duration("5m"), std::chrono::seconds(300));
  EXPECT_EQ(parse_duration("1h"), std::chrono::seconds(3600));
  EXPECT_EQ(parse_duration("1m30s"), std::chrono::seconds(90));
}

TEST(ParseDurationTest, RejectsMalformed) {
  for (const char* text : {"", "0", "0s", "-5", "5x", "m", "1m30", "1.5m", "s5", "99999999999h"}) {
    EXPECT_FALSE(parse_duration(text).has_value()) << text;
  }
}

}  // namespace
}  // namespace k3sjoin
