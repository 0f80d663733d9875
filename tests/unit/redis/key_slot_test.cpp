#include "redis/key_slot.hpp"

#include <gtest/gtest.h>

namespace ignis::redis::detail {
namespace {

TEST(RedisKeySlot, Crc16CheckValue) {
  // The CRC-16/XMODEM check value, also quoted in the Redis Cluster specification.
  EXPECT_EQ(crc16("123456789"), 0x31C3);
}

TEST(RedisKeySlot, KnownSlots) {
  EXPECT_EQ(key_slot("foo"), 12182);
  EXPECT_EQ(key_slot(""), 0);
}

TEST(RedisKeySlot, HashTags) {
  EXPECT_EQ(key_slot("{user1000}.following"), key_slot("{user1000}.followers"));
  EXPECT_EQ(key_slot("{user1000}.following"), key_slot("user1000"));
  // An empty tag does not count: the whole key is hashed.
  EXPECT_EQ(key_slot("foo{}{bar}"), crc16("foo{}{bar}") % slot_count);
  EXPECT_NE(key_slot("foo{}{bar}"), key_slot("bar"));
  // Only the first tag counts.
  EXPECT_EQ(key_slot("foo{{bar}}zap"), key_slot("{bar"));
}

}  // namespace
}  // namespace ignis::redis::detail
