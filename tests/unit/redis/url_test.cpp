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

TEST(RedisUrl, SeedLists) {
  auto one = parse_seeds("redis://h:1");
  ASSERT_TRUE(one);
  ASSERT_EQ(one->size(), 1u);
  auto three = parse_seeds("redis://u:p@a:7000, redis://b:7001 ,redis://[::1]:7002");
  ASSERT_TRUE(three);
  ASSERT_EQ(three->size(), 3u);
  EXPECT_EQ((*three)[0].password, "p");
  EXPECT_EQ((*three)[1].host, "b");
  EXPECT_EQ((*three)[2].host, "::1");
  EXPECT_EQ((*three)[2].port, 7002);
  for (const char* bad : {"", ",", "redis://a:1,", ",redis://a:1", "redis://a:1,,redis://b:1",
                          "redis://a:1,rediss://b:1", "redis://a:1,http://b"}) {
    EXPECT_FALSE(parse_seeds(bad)) << bad;
  }
}

TEST(RedisUrl, NodeUrlsCarryTheSeedsCredentials) {
  auto seed = parse_url("rediss://user:p%40ss:w@seed:7000/3");
  ASSERT_TRUE(seed);
  const auto url = url_for(*seed, "10.0.0.2", 7005);
  EXPECT_EQ(url, "rediss://user:p%40ss%3Aw@10.0.0.2:7005");
  auto back = parse_url(url);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->user, "user");
  EXPECT_EQ(back->password, "p@ss:w");
  EXPECT_EQ(back->db, 0);  // a cluster has database 0 only
  EXPECT_TRUE(back->tls);
  EXPECT_EQ(url_for(*parse_url("redis://h"), "::1", 7000), "redis://[::1]:7000");
  auto lone = parse_url(url_for(*parse_url("redis://secret@h"), "n", 1));
  ASSERT_TRUE(lone);
  EXPECT_EQ(lone->password, "secret");
  EXPECT_EQ(lone->user, "");
}

}  // namespace
}  // namespace ignis::redis
