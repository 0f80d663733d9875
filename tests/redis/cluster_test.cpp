// Sharded pub/sub on a single-node Redis Cluster: SSUBSCRIBE/SPUBLISH, and a shard channel the
// server takes away (its slot deleted, as when a slot migrates) subscribed again by itself once
// the slot is served again.
#include "redis/harness.hpp"
#include "support/redis_server.hpp"

#include <gtest/gtest.h>

namespace ignis::redis::test {
namespace {

using ignis::test::redis_server;

TEST(RedisCluster, ShardChannelIsSubscribedAgainWhenItsSlotIsServedAgain) {
  redis_server redis({.cluster = true});
  io_thread io;
  queue<link_state> states;
  auto pub = connection::create(io.executor(), quick_config(redis.url()));
  ASSERT_TRUE(start_and_wait(*pub, states));

  auto sub = subscriber::create(io.executor(), quick_config(redis.url()));
  queue<std::string> messages;
  queue<std::pair<std::string, bool>> shard_events;
  sub->on_message([&](std::string_view, std::string_view ch, std::string_view payload) {
    messages.push(std::string(ch) + "=" + std::string(payload));
  });
  sub->on_subscription([&](subscription_kind k, std::string_view name, bool active) {
    if (k == subscription_kind::shard_channel) shard_events.push({std::string(name), active});
  });
  sub->ssubscribe("{room}a");
  sub->start();
  ASSERT_TRUE(shard_events.wait_for({"{room}a", true}));
  EXPECT_EQ(call(*pub, {"SPUBLISH", "{room}a", "one"}).r.integer, 1);
  ASSERT_TRUE(messages.wait_for("{room}a=one"));

  // Deleting the slots makes Redis push SUNSUBSCRIBE for every shard channel in them.
  EXPECT_EQ(redis.cli({"CLUSTER", "DELSLOTSRANGE", "0", "16383"}), "OK");
  ASSERT_TRUE(shard_events.wait_for({"{room}a", false}));
  EXPECT_EQ(sub->state(), link_state::connected);

  // Served again: the subscriber finds the slot here and subscribes once more.
  EXPECT_EQ(redis.cli({"CLUSTER", "ADDSLOTSRANGE", "0", "16383"}), "OK");
  ASSERT_TRUE(shard_events.wait_for({"{room}a", true}));
  EXPECT_EQ(call(*pub, {"SPUBLISH", "{room}a", "two"}).r.integer, 1);
  ASSERT_TRUE(messages.wait_for("{room}a=two"));
  sub->close();
}

}  // namespace
}  // namespace ignis::redis::test
