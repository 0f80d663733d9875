#include <ignis/redis/error.hpp>
#include <ignis/redis/url.hpp>

#include <gtest/gtest.h>

namespace ignis::redis {
namespace {

TEST(RedisUrl, HostAndDefaultPort) {
  auto u = parse_url("redis://localhost");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->scheme, "redis");
  EXPECT_EQ(u->host, "localhost");
  EXPECT_EQ(u->port, 6379);
  EXPECT_EQ(u->db, 0);
  EXPECT_FALSE(u->tls);
  EXPECT_TRUE(u->user.empty());
  EXPECT_TRUE(u->password.empty());
}

TEST(RedisUrl, EverythingGiven) {
  auto u = parse_url("rediss://alice:s3cret@redis.example.com:6380/4");
  ASSERT_TRUE(u);
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->user, "alice");
  EXPECT_EQ(u->password, "s3cret");
  EXPECT_EQ(u->host, "redis.example.com");
  EXPECT_EQ(u->port, 6380);
  EXPECT_EQ(u->db, 4);
}

TEST(RedisUrl, PasswordOnlyIsTheDefaultUsersPassword) {
  auto a = parse_url("redis://:pw@h:1");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->user, "");
  EXPECT_EQ(a->password, "pw");
  auto b = parse_url("redis://pw@h");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->user, "");
  EXPECT_EQ(b->password, "pw");
}

TEST(RedisUrl, PercentEncodedAndRawAtInPassword) {
  auto u = parse_url("redis://bob:p%40ss%3Aw%2Fd@h:7000");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->password, "p@ss:w/d");
  auto raw = parse_url("redis://bob:p@ss@h");
  ASSERT_TRUE(raw);
  EXPECT_EQ(raw->password, "p@ss");
  EXPECT_EQ(raw->host, "h");
}

TEST(RedisUrl, Ipv6Literal) {
  auto u = parse_url("redis://[::1]:6390/2");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 6390);
  EXPECT_EQ(u->db, 2);
  auto no_port = parse_url("redis://[fe80::1]");
  ASSERT_TRUE(no_port);
  EXPECT_EQ(no_port->host, "fe80::1");
  EXPECT_EQ(no_port->port, 6379);
}

TEST(RedisUrl, TrailingSlashMeansDbZero) {
  auto u = parse_url("redis://h:1/");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->db, 0);
}

TEST(RedisUrl, Refused) {
  for (const char* bad : {"", "localhost:6379", "http://h", "redis:/h", "redis://", "redis://:6379",
                          "redis://h:", "redis://h:0", "redis://h:65536", "redis://h:12a",
                          "redis://h/-1", "redis://h/x", "redis://h/1/2", "redis://h?db=1",
                          "redis://[::1", "redis://[::1]x", "redis://u:%zz@h", "redis://u:%4@h"}) {
    auto u = parse_url(bad);
    EXPECT_FALSE(u) << bad;
    if (!u) {
      EXPECT_EQ(u.error(), make_error_code(error::invalid_url)) << bad;
    }
  }
}

}  // namespace
}  // namespace ignis::redis
