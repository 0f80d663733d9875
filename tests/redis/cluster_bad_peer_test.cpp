// Cluster nodes that misbehave: one that answers CLUSTER SHARDS with bytes that are not RESP,
// one that never answers, one whose map is empty or contradictory, and two that send a command
// back and forth with MOVED. Each must cost a clear log line, a degraded state and an error for
// the commands concerned: never a crash, never a loop (the nodes count what they are asked), and
// the same for the subscriber. A real single server in automatic mode is found to be one.
#include "redis/fake_node.hpp"
#include "redis/harness.hpp"
#include "support/redis_server.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <iostream>

namespace ignis::redis::test {
namespace {

// PING answered, CLUSTER answered with `cluster`, anything else with `other`.
fake_node::answer_fn node_answering(std::string cluster, std::string other = "+OK\r\n") {
  return [cluster, other](const std::vector<std::string>& args) -> std::optional<std::string> {
    if (args[0] == "PING") return std::string("+PONG\r\n");
    if (args[0] == "CLIENT") return std::string("+OK\r\n");
    if (args[0] == "CLUSTER") return cluster;
    return other;
  };
}

// A CLUSTER SHARDS reply: `port` on 127.0.0.1 serves every slot.
std::string one_master_map(std::uint16_t port) {
  return "*1\r\n*4\r\n$5\r\nslots\r\n*2\r\n:0\r\n:16383\r\n$5\r\nnodes\r\n*1\r\n*6\r\n$"
         "4\r\nport\r\n:" +
         std::to_string(port) + "\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n$4\r\nrole\r\n$6\r\nmaster\r\n";
}

struct logged {
  queue<std::string> lines;
  config with_log(config c) {
    c.log = [this](std::string_view level, std::string_view message) {
      lines.push(std::string(level) + ": " + std::string(message));
    };
    return c;
  }
  bool saw(const std::string& part, std::chrono::milliseconds limit = 10s) {
    return lines
        .wait_until([&](const std::string& l) { return l.find(part) != std::string::npos; }, limit)
        .has_value();
  }
};

config cluster_config(const std::string& url) {
  auto c = quick_config(url);
  c.cluster = cluster_mode::on;
  return c;
}

// For `seconds`, topology requests come at most a few times a second: backoff, not a loop.
void expect_bounded(const fake_node& node, std::size_t before, std::chrono::seconds seconds) {
  std::this_thread::sleep_for(seconds);  // a rate is measured over time: nothing to wait for
  const auto asked = node.count("CLUSTER") - before;
  std::cout << "[ bounded  ] asked for the map " << asked << " times in " << seconds.count()
            << " s\n";
  EXPECT_GE(asked, 1u) << "gave up asking";
  EXPECT_LE(asked, static_cast<std::size_t>(seconds.count()) * 12) << "asked in a loop";
}

TEST(RedisClusterBadPeer, GarbageInsteadOfTheMap) {
  fake_node node(node_answering("HTTP/1.1 400 Bad Request\r\n\r\n"));
  io_thread io;
  logged log;
  queue<link_state> states;
  auto c = connection::create(io.executor(), log.with_log(cluster_config(node.url())));
  c->on_state([&](link_state s) { states.push(s); });
  c->start();
  ASSERT_TRUE(states.wait_for(link_state::degraded));
  ASSERT_TRUE(log.saw("no usable map of slots: 127.0.0.1:" + std::to_string(node.port())));
  ASSERT_TRUE(log.saw("unreachable (Redis protocol error)"));
  expect_bounded(node, node.count("CLUSTER"), 2s);
  EXPECT_EQ(c->state(), link_state::degraded);
  EXPECT_GT(c->cluster().refresh_failures, 0u);
  EXPECT_EQ(c->cluster().kind, cluster_status::topology::unknown);
}

TEST(RedisClusterBadPeer, ANodeThatNeverAnswers) {
  fake_node node([](const std::vector<std::string>&) { return std::nullopt; });
  io_thread io;
  logged log;
  queue<link_state> states;
  auto cfg = cluster_config(node.url());
  cfg.command_timeout = 500ms;
  auto c = connection::create(io.executor(), log.with_log(cfg));
  c->on_state([&](link_state s) { states.push(s); });
  c->start();
  ASSERT_TRUE(states.wait_for(link_state::degraded, 5s));
  ASSERT_TRUE(log.saw("timed out"));
  // A command waits at most its timeout (here: refused at once, the node being unreachable).
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(call(*c, {"GET", "k"}).ec);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1500ms);
  // Each connection attempt has its deadline: the node is asked again, with backoff.
  EXPECT_LE(node.count("PING"), 30u);
}

TEST(RedisClusterBadPeer, AnEmptyMap) {
  fake_node node(node_answering("*0\r\n"));
  io_thread io;
  logged log;
  queue<link_state> states;
  auto c = connection::create(io.executor(), log.with_log(cluster_config(node.url())));
  c->on_state([&](link_state s) { states.push(s); });
  c->start();
  ASSERT_TRUE(log.saw("the cluster has no shards"));
  ASSERT_TRUE(states.wait_for(link_state::degraded));
  expect_bounded(node, node.count("CLUSTER"), 2s);
  EXPECT_EQ(c->cluster().last_error.find("no shards") != std::string::npos, true);
}

TEST(RedisClusterBadPeer, AContradictoryMap) {
  fake_node node(node_answering(
      "*2\r\n"
      "*4\r\n$5\r\nslots\r\n*2\r\n:0\r\n:100\r\n$5\r\nnodes\r\n*1\r\n*6\r\n$4\r\nport\r\n:7000\r\n"
      "$2\r\nip\r\n$1\r\na\r\n$4\r\nrole\r\n$6\r\nmaster\r\n"
      "*4\r\n$5\r\nslots\r\n*2\r\n:50\r\n:16383\r\n$5\r\nnodes\r\n*1\r\n*6\r\n$4\r\nport\r\n"
      ":7000\r\n$2\r\nip\r\n$1\r\nb\r\n$4\r\nrole\r\n$6\r\nmaster\r\n"));
  io_thread io;
  logged log;
  queue<link_state> states;
  auto c = connection::create(io.executor(), log.with_log(cluster_config(node.url())));
  c->on_state([&](link_state s) { states.push(s); });
  c->start();
  ASSERT_TRUE(log.saw("slot 50 is served by both a:7000 and b:7000"));
  ASSERT_TRUE(states.wait_for(link_state::degraded));
  expect_bounded(node, node.count("CLUSTER"), 2s);
  // Nothing of it was believed: no connection to a:7000 or b:7000 was made.
  for (const auto& n : c->cluster().nodes)
    EXPECT_EQ(n.address, "127.0.0.1:" + std::to_string(node.port()));
}

TEST(RedisClusterBadPeer, SubscriberWithAGarbageMap) {
  fake_node node(node_answering("!!!\r\n"));
  io_thread io;
  logged log;
  queue<link_state> states;
  auto sub = subscriber::create(io.executor(), log.with_log(cluster_config(node.url())));
  sub->on_state([&](link_state s) { states.push(s); });
  sub->ssubscribe("room");
  sub->subscribe("channel");
  sub->start();
  ASSERT_TRUE(states.wait_for(link_state::degraded));
  ASSERT_TRUE(log.saw("no usable map of slots for the subscriptions"));
  expect_bounded(node, node.count("CLUSTER"), 2s);
  // Nothing was subscribed anywhere without a map.
  EXPECT_EQ(node.count("SSUBSCRIBE") + node.count("SUBSCRIBE"), 0u);
  sub->close();
}

// Two nodes that each send the command to the other: it fails after max_redirects, counted.
TEST(RedisClusterBadPeer, ARedirectionLoopEnds) {
  std::atomic<std::uint16_t> port_a{0}, port_b{0};
  auto bouncing = [](std::atomic<std::uint16_t>& self, std::atomic<std::uint16_t>& other) {
    return [&self, &other](const std::vector<std::string>& args) -> std::optional<std::string> {
      if (args[0] == "PING" || args[0] == "CLIENT") return std::string("+PONG\r\n");
      if (args[0] == "CLUSTER") return one_master_map(self);
      return "-MOVED 0 127.0.0.1:" + std::to_string(other.load()) + "\r\n";
    };
  };
  fake_node a(bouncing(port_a, port_b));
  fake_node b(bouncing(port_b, port_a));
  port_a = a.port();
  port_b = b.port();
  io_thread io;
  logged log;
  queue<link_state> states;
  auto c = connection::create(io.executor(), log.with_log(cluster_config(a.url())));
  ASSERT_TRUE(start_and_wait(*c, states));
  const auto o = call(*c, {"GET", "{06S}"});  // slot 0
  EXPECT_EQ(o.ec, make_error_code(error::too_many_redirects));
  EXPECT_EQ(o.r.str.rfind("MOVED 0", 0), 0u);
  EXPECT_EQ(a.count("GET") + b.count("GET"), 6u);  // the first send and 5 redirections
  ASSERT_TRUE(log.saw("redirected 6 times"));
  std::uint64_t moved = 0;
  for (const auto& n : c->cluster().nodes)
    moved += n.moved;
  EXPECT_EQ(moved, 6u);
  // Each MOVED asked for a new map, but the schedule let few through.
  EXPECT_LE(a.count("CLUSTER") + b.count("CLUSTER"), 6u);
}

TEST(RedisClusterBadPeer, AServerThatIsNotAClusterIsUsedAsOne) {
  ignis::test::redis_server redis;
  io_thread io;
  logged log;
  queue<link_state> states;
  auto cfg = quick_config(redis.url());
  cfg.cluster = cluster_mode::automatic;
  auto c = connection::create(io.executor(), log.with_log(cfg));
  ASSERT_TRUE(start_and_wait(*c, states));
  ASSERT_TRUE(log.saw("is not a cluster: used as one server"));
  EXPECT_EQ(c->cluster().kind, cluster_status::topology::standalone);
  EXPECT_EQ(call(*c, {"SET", "k", "v"}).r.str, "OK");
  EXPECT_EQ(call(*c, {"GET", "k"}).r.str, "v");

  auto sub = subscriber::create(io.executor(), log.with_log(cfg));
  queue<std::string> messages;
  queue<link_state> sub_states;
  sub->on_message([&](std::string_view, std::string_view ch, std::string_view payload) {
    messages.push(std::string(ch) + "=" + std::string(payload));
  });
  sub->on_state([&](link_state s) { sub_states.push(s); });
  sub->subscribe("a");
  sub->ssubscribe("b");
  sub->start();
  ASSERT_TRUE(sub_states.wait_for(link_state::connected));
  EXPECT_EQ(sub->cluster().kind, cluster_status::topology::standalone);
  ASSERT_TRUE(within(5s, [&] { return call(*c, {"PUBLISH", "a", "1"}).r.integer == 1; }));
  ASSERT_TRUE(messages.wait_for("a=1"));
  ASSERT_TRUE(within(5s, [&] { return call(*c, {"SPUBLISH", "b", "2"}).r.integer == 1; }));
  ASSERT_TRUE(messages.wait_for("b=2"));
  // One server: the subscriber keeps no connection of its own for maps; the server sees the
  // command connection, the subscriber and redis-cli asking.
  EXPECT_TRUE(within(5s, [&] {
    const auto list = redis.cli({"CLIENT", "LIST"});
    return std::count(list.begin(), list.end(), '\n') + 1 == 3;
  }));
  sub->close();
}

// Managed services often rename or forbid CLUSTER. In automatic mode with one URL that is one
// server; told it is a cluster, the connection cannot know the map and says why.
TEST(RedisClusterBadPeer, AServerThatRefusesClusterCommands) {
  ignis::test::redis_server redis({.args = {"--rename-command", "CLUSTER", ""}});
  io_thread io;
  logged log;
  queue<link_state> states;
  auto cfg = quick_config(redis.url());
  cfg.cluster = cluster_mode::automatic;
  auto c = connection::create(io.executor(), log.with_log(cfg));
  ASSERT_TRUE(start_and_wait(*c, states));
  EXPECT_EQ(c->cluster().kind, cluster_status::topology::standalone);
  EXPECT_EQ(call(*c, {"SET", "k", "v"}).r.str, "OK");

  logged strict_log;
  queue<link_state> strict_states;
  cfg.cluster = cluster_mode::on;
  auto strict = connection::create(io.executor(), strict_log.with_log(cfg));
  strict->on_state([&](link_state s) { strict_states.push(s); });
  strict->start();
  ASSERT_TRUE(strict_states.wait_for(link_state::degraded));
  ASSERT_TRUE(strict_log.saw("unknown command"));
  EXPECT_EQ(strict->cluster().kind, cluster_status::topology::unknown);
}

}  // namespace
}  // namespace ignis::redis::test
