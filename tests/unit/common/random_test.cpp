#include <ignis/common/random.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <vector>

namespace {

TEST(RandomBytes, FillsEveryByte) {
  // Larger than one getrandom request that the kernel never cuts short (256 bytes).
  std::vector<std::uint8_t> a(4096), b(4096);
  ignis::random_bytes(a);
  ignis::random_bytes(b);
  EXPECT_NE(a, b);
  // Each byte value appears about 16 times in 4096 random bytes; a buffer left as it was (zeros)
  // or filled with one repeated value fails this.
  std::array<int, 256> seen{};
  for (auto x : a)
    ++seen[x];
  EXPECT_LT(*std::max_element(seen.begin(), seen.end()), 4096 / 8);
}

TEST(RandomBytes, EmptyIsNothing) {
  ignis::random_bytes({});
}

}  // namespace
