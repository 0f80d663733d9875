#include "redis/backoff.hpp"

#include <gtest/gtest.h>

namespace ignis::redis::detail {
namespace {

using std::chrono::milliseconds;

// Attempt n waits between half and all of min(max, min * 2^n).
TEST(RedisBackoff, DoublesWithJitterUpToTheCap) {
  backoff b(milliseconds(100), milliseconds(1000));
  const long long caps[] = {100, 200, 400, 800, 1000, 1000, 1000};
  for (long long cap : caps) {
    const auto d = b.next().count();
    EXPECT_GE(d, cap / 2);
    EXPECT_LE(d, cap);
  }
}

TEST(RedisBackoff, JitterSpreadsTheDelays) {
  backoff b(milliseconds(1000), milliseconds(1000));
  std::chrono::milliseconds::rep lo = 1000, hi = 0;
  for (int i = 0; i < 200; ++i) {
    const auto d = b.next().count();
    lo = std::min(lo, d);
    hi = std::max(hi, d);
  }
  EXPECT_LT(lo, hi);  // 200 equal draws out of 501 values would be a broken generator
}

TEST(RedisBackoff, ResetStartsOverAndManyAttemptsDoNotOverflow) {
  backoff b(milliseconds(10), milliseconds(50));
  for (int i = 0; i < 10000; ++i) {
    const auto d = b.next().count();
    ASSERT_GE(d, 0);
    ASSERT_LE(d, 50);
  }
  b.reset();
  EXPECT_LE(b.next().count(), 10);
}

}  // namespace
}  // namespace ignis::redis::detail
