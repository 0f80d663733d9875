// The Redis adapter's link against a real redis-server: its state and counters (what /health and
// /metrics read), server_count through PUBSUB NUMSUB / SHARDNUMSUB, and what happens while Redis
// is gone: local delivery is untouched, publishes fail and are counted, everything comes back.
#include "support/redis_server.hpp"

#include <ignis/redis/adapter.hpp>
#include <ignis/socketio/server.hpp>

#include <boost/asio/post.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <future>
#include <thread>

namespace {

using namespace std::chrono_literals;
using ignis::redis::adapter_link;
using ignis::redis::adapter_mode;
using ignis::redis::link_state;

// Polls a condition the link reaches by itself (reconnection has no completion to wait for).
bool within(std::chrono::milliseconds limit, const std::function<bool()>& condition) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (condition()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return condition();
}

std::size_t server_count(ignis::socketio::server& srv) {
  auto p = std::make_shared<std::promise<std::size_t>>();
  srv.of("/").adapter().server_count([p](std::size_t n) { p->set_value(n); });
  auto f = p->get_future();
  EXPECT_EQ(f.wait_for(5s), std::future_status::ready);
  return f.get();
}

ignis::redis::config link_config(const std::string& url) {
  ignis::redis::config c;
  c.url = url;
  c.reconnect_min = 20ms;
  c.reconnect_max = 200ms;
  c.command_timeout = 1000ms;
  return c;
}

ignis::redis::adapter_options link_options(adapter_mode mode) {
  ignis::redis::adapter_options o;
  o.mode = mode;
  return o;
}

// Runs everything already posted to the shards (deliveries refer to their namespace).
void drain(ignis::net::runtime& rt) {
  for (std::size_t i = 0; i < rt.size(); ++i) {
    std::promise<void> done;
    boost::asio::post(rt.at(i).executor(), [&done] { done.set_value(); });
    done.get_future().wait();
  }
}

struct cluster_node {
  cluster_node(ignis::net::runtime& rt, const std::string& url, adapter_mode mode)
      : runtime(rt),
        link(rt, link_config(url), link_options(mode)),
        server(std::make_unique<ignis::socketio::server>(rt, ignis::socketio::server_options{},
                                                         link.factory())) {
    link.start();
  }
  ~cluster_node() {
    // As the program does: no more messages from Redis, the deliveries under way done, then the
    // server (whose adapters the closed link outlives).
    link.close();
    drain(runtime);
    server.reset();
  }
  cluster_node(const cluster_node&) = delete;
  cluster_node& operator=(const cluster_node&) = delete;
  ignis::net::runtime& runtime;
  adapter_link link;
  std::unique_ptr<ignis::socketio::server> server;
};

class AdapterLink : public ::testing::TestWithParam<adapter_mode> {
 protected:
  AdapterLink() { rt.start(); }
  ~AdapterLink() override { rt.stop(); }
  ignis::net::runtime rt{1};
};

TEST_P(AdapterLink, ReportsItsStateCountsAndRecoversAfterRedisComesBack) {
  ignis::test::redis_server redis;
  cluster_node a(rt, redis.url(), GetParam());
  ASSERT_TRUE(within(5s, [&] { return a.link.redis_state() == link_state::connected; }));
  // Both servers' subscriptions count: the adapters ask Redis, not a guess.
  cluster_node b(rt, redis.url(), GetParam());
  ASSERT_TRUE(within(5s, [&] { return b.link.redis_state() == link_state::connected; }));
  ASSERT_TRUE(within(5s, [&] { return server_count(*a.server) == 2; }));

  a.server->of("/").emit("hello");
  ASSERT_TRUE(within(5s, [&] { return b.link.stats().messages >= 1; }));
  EXPECT_EQ(a.link.stats().publishes, 1u);
  EXPECT_EQ(a.link.stats().publish_errors, 0u);
  EXPECT_EQ(b.link.stats().malformed, 0u);

  redis.stop();
  ASSERT_TRUE(within(5s, [&] { return a.link.redis_state() == link_state::degraded; }));
  a.server->of("/").emit("while-down");  // never throws, only counts
  ASSERT_TRUE(within(5s, [&] { return a.link.stats().publish_errors == 1; }));
  EXPECT_EQ(server_count(*a.server), 1u);  // Redis cannot answer: this server alone

  redis.restart();
  ASSERT_TRUE(within(5s, [&] {
    return a.link.redis_state() == link_state::connected &&
           b.link.redis_state() == link_state::connected;
  }));
  // Re-subscribed: a message from a reaches b again.
  const auto before = b.link.stats().messages;
  const auto errors = a.link.stats().publish_errors;
  ASSERT_TRUE(within(5s, [&] {
    a.server->of("/").emit("after");
    return b.link.stats().messages > before;
  }));
  EXPECT_EQ(a.link.stats().publish_errors, errors);

  a.link.close();
  EXPECT_EQ(a.link.redis_state(), link_state::closed);
}

INSTANTIATE_TEST_SUITE_P(Modes, AdapterLink,
                         ::testing::Values(adapter_mode::classic, adapter_mode::sharded),
                         [](const auto& param_info) {
                           return param_info.param == adapter_mode::classic ? "classic" : "sharded";
                         });

}  // namespace
