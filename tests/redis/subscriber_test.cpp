// The subscriber against a real redis-server: channels, patterns and shard channels with binary
// payloads, unsubscribing, and every subscription restored after the server restarts.
#include "redis/harness.hpp"
#include "support/redis_server.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <tuple>

namespace ignis::redis::test {
namespace {

using ignis::test::redis_server;

struct message {
  std::string pattern, channel, payload;
  bool operator==(const message&) const = default;
};
struct subscription {
  subscription_kind kind;
  std::string name;
  bool active;
  bool operator==(const subscription&) const = default;
};

// A subscriber whose messages, confirmations and states land in queues.
struct observed {
  queue<message> messages;
  queue<subscription> subscriptions;
  queue<link_state> states;
  std::shared_ptr<subscriber> sub;

  observed(boost::asio::any_io_executor ex, config cfg) : sub(subscriber::create(ex, cfg)) {
    sub->on_message([this](std::string_view p, std::string_view c, std::string_view m) {
      messages.push({std::string(p), std::string(c), std::string(m)});
    });
    sub->on_subscription([this](subscription_kind k, std::string_view n, bool a) {
      subscriptions.push({k, std::string(n), a});
    });
    sub->on_state([this](link_state s) { states.push(s); });
  }
  ~observed() { sub->close(); }
};

const std::string binary_payload(
    "\x93\xa4"
    "emit\x00\r\n\xc4\x02\xff\x00",
    13);

TEST(RedisSubscriber, ChannelPatternAndShardChannelWithBinaryPayloads) {
  redis_server redis;
  io_thread io;
  queue<link_state> states;
  auto pub = connection::create(io.executor(), quick_config(redis.url()));
  ASSERT_TRUE(start_and_wait(*pub, states));
  observed o(io.executor(), quick_config(redis.url()));
  o.sub->subscribe("socket.io#/#");
  o.sub->psubscribe("socket.io#/#room*");
  o.sub->ssubscribe("shard-ch");
  o.sub->start();
  ASSERT_TRUE(o.subscriptions.wait_for({subscription_kind::channel, "socket.io#/#", true}));
  ASSERT_TRUE(o.subscriptions.wait_for({subscription_kind::pattern, "socket.io#/#room*", true}));
  ASSERT_TRUE(o.subscriptions.wait_for({subscription_kind::shard_channel, "shard-ch", true}));

  EXPECT_EQ(call(*pub, {"PUBLISH", "socket.io#/#", binary_payload}).r.integer, 1);
  auto m = o.messages.pop();
  ASSERT_TRUE(m);
  EXPECT_EQ(*m, (message{"", "socket.io#/#", binary_payload}));

  EXPECT_EQ(call(*pub, {"PUBLISH", "socket.io#/#room1#", "r"}).r.integer, 1);
  m = o.messages.pop();
  ASSERT_TRUE(m);
  EXPECT_EQ(*m, (message{"socket.io#/#room*", "socket.io#/#room1#", "r"}));

  EXPECT_EQ(call(*pub, {"SPUBLISH", "shard-ch", binary_payload}).r.integer, 1);
  m = o.messages.pop();
  ASSERT_TRUE(m);
  EXPECT_EQ(*m, (message{"", "shard-ch", binary_payload}));
}

TEST(RedisSubscriber, UnsubscribeStopsDelivery) {
  redis_server redis;
  io_thread io;
  queue<link_state> states;
  auto pub = connection::create(io.executor(), quick_config(redis.url()));
  ASSERT_TRUE(start_and_wait(*pub, states));
  observed o(io.executor(), quick_config(redis.url()));
  o.sub->start();
  ASSERT_TRUE(o.states.wait_for(link_state::connected));
  // Subscribing once connected sends the command at once.
  o.sub->subscribe("a");
  o.sub->psubscribe("p*");
  o.sub->ssubscribe("s");
  ASSERT_TRUE(o.subscriptions.wait_for({subscription_kind::shard_channel, "s", true}));
  o.sub->unsubscribe("a");
  o.sub->punsubscribe("p*");
  o.sub->sunsubscribe("s");
  ASSERT_TRUE(o.subscriptions.wait_for({subscription_kind::channel, "a", false}));
  ASSERT_TRUE(o.subscriptions.wait_for({subscription_kind::pattern, "p*", false}));
  ASSERT_TRUE(o.subscriptions.wait_for({subscription_kind::shard_channel, "s", false}));
  // The publish counts say no subscriber is left.
  EXPECT_EQ(call(*pub, {"PUBLISH", "a", "x"}).r.integer, 0);
  EXPECT_EQ(call(*pub, {"PUBLISH", "pq", "x"}).r.integer, 0);
  EXPECT_EQ(call(*pub, {"SPUBLISH", "s", "x"}).r.integer, 0);
}

TEST(RedisSubscriber, ResubscribesEverythingAfterARestart) {
  redis_server redis;
  io_thread io;
  queue<link_state> states;
  auto pub = connection::create(io.executor(), quick_config(redis.url()));
  ASSERT_TRUE(start_and_wait(*pub, states));
  observed o(io.executor(), quick_config(redis.url()));
  o.sub->subscribe("c");
  o.sub->psubscribe("p*");
  o.sub->ssubscribe("s");
  o.sub->start();
  ASSERT_TRUE(o.states.wait_for(link_state::connected));
  ASSERT_TRUE(o.subscriptions.wait_for({subscription_kind::shard_channel, "s", true}));

  redis.stop();
  ASSERT_TRUE(o.states.wait_for(link_state::degraded));
  ASSERT_TRUE(states.wait_for(link_state::degraded));
  redis.restart();
  ASSERT_TRUE(o.states.wait_for(link_state::connected));
  ASSERT_TRUE(o.subscriptions.wait_for({subscription_kind::channel, "c", true}));
  ASSERT_TRUE(o.subscriptions.wait_for({subscription_kind::pattern, "p*", true}));
  ASSERT_TRUE(o.subscriptions.wait_for({subscription_kind::shard_channel, "s", true}));
  ASSERT_TRUE(states.wait_for(link_state::connected));

  EXPECT_EQ(call(*pub, {"PUBLISH", "c", "1"}).r.integer, 1);
  EXPECT_EQ(call(*pub, {"PUBLISH", "pp", "2"}).r.integer, 1);
  EXPECT_EQ(call(*pub, {"SPUBLISH", "s", "3"}).r.integer, 1);
  EXPECT_TRUE(o.messages.wait_for({"", "c", "1"}));
  EXPECT_TRUE(o.messages.wait_for({"p*", "pp", "2"}));
  EXPECT_TRUE(o.messages.wait_for({"", "s", "3"}));
}

TEST(RedisSubscriber, IdleSubscriberNoticesAFrozenServerAndComesBack) {
  redis_server redis;
  io_thread io;
  auto cfg = quick_config(redis.url());
  cfg.health_check_interval = 100ms;
  cfg.command_timeout = 300ms;
  observed o(io.executor(), cfg);
  o.sub->subscribe("c");
  o.sub->start();
  ASSERT_TRUE(o.subscriptions.wait_for({subscription_kind::channel, "c", true}));
  // No message flows: only the health check's PING can find out that nobody answers.
  redis.pause();
  ASSERT_TRUE(o.states.wait_for(link_state::degraded));
  redis.resume();
  ASSERT_TRUE(o.states.wait_for(link_state::connected));
  ASSERT_TRUE(o.subscriptions.wait_for({subscription_kind::channel, "c", true}));
  EXPECT_EQ(redis.cli({"PUBLISH", "c", "after"}), "1");
  EXPECT_TRUE(o.messages.wait_for({"", "c", "after"}));
}

TEST(RedisSubscriber, HealthCheckPingsOneIntervalAfterTheLastByte) {
  using clock = std::chrono::steady_clock;
  constexpr auto interval = 600ms;
  constexpr auto timeout = 300ms;
  redis_server redis;
  io_thread io;
  auto cfg = quick_config(redis.url());
  cfg.health_check_interval = interval;
  cfg.command_timeout = timeout;
  queue<clock::time_point> confirmed, degraded;
  auto sub = subscriber::create(io.executor(), cfg);
  sub->on_subscription([&](subscription_kind, std::string_view, bool active) {
    if (active) confirmed.push(clock::now());
  });
  sub->on_state([&](link_state s) {
    if (s == link_state::degraded) degraded.push(clock::now());
  });
  sub->subscribe("c");
  sub->start();
  // The confirmation, just after the link came up, is the last byte the server sends. The PING
  // is due one interval after it (not one interval after the previous check, which came just
  // before it), and the frozen server then has the liveness timeout to answer.
  const auto last_byte = confirmed.pop();
  ASSERT_TRUE(last_byte);
  redis.pause();
  const auto noticed = degraded.pop();
  redis.resume();
  ASSERT_TRUE(noticed);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(*noticed - *last_byte);
  EXPECT_GE(took, interval + timeout - 50ms);
  EXPECT_LT(took, interval + timeout + 300ms);
  sub->close();
}

TEST(RedisSubscriber, CloseDropsTheConnectionForGood) {
  redis_server redis;
  io_thread io;
  queue<link_state> states;
  auto pub = connection::create(io.executor(), quick_config(redis.url()));
  ASSERT_TRUE(start_and_wait(*pub, states));
  observed o(io.executor(), quick_config(redis.url()));
  o.sub->subscribe("c");
  o.sub->start();
  ASSERT_TRUE(o.subscriptions.wait_for({subscription_kind::channel, "c", true}));
  EXPECT_EQ(call(*pub, {"PUBSUB", "NUMSUB", "c"}).r.elements.at(1).integer, 1);
  o.sub->close();
  EXPECT_EQ(o.sub->state(), link_state::closed);
  // The server notices the closed socket on its own schedule; poll its view (no event to await).
  std::int64_t left = 1;
  for (int i = 0; i < 200 && left != 0; ++i) {
    left = call(*pub, {"PUBSUB", "NUMSUB", "c"}).r.elements.at(1).integer;
    if (left != 0) std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(left, 0);
  // Closed is final: subscribing and starting again do nothing. Both are asynchronous and the
  // closed subscriber reports nothing, so a second subscriber asked for the same right after it,
  // on the same io_thread, is the barrier: once Redis confirmed the second one's subscription, the
  // closed one's (asked for first) would have been confirmed too, and Redis counts one subscriber.
  o.sub->subscribe("d");
  o.sub->start();
  observed control(io.executor(), quick_config(redis.url()));
  control.sub->subscribe("d");
  control.sub->start();
  ASSERT_TRUE(control.subscriptions.wait_for({subscription_kind::channel, "d", true}));
  EXPECT_EQ(call(*pub, {"PUBSUB", "NUMSUB", "d"}).r.elements.at(1).integer, 1);
  EXPECT_EQ(call(*pub, {"PUBSUB", "NUMSUB", "c"}).r.elements.at(1).integer, 0);
  EXPECT_EQ(o.sub->state(), link_state::closed);
}

}  // namespace
}  // namespace ignis::redis::test
