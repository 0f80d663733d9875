// The command connection against a real redis-server: round trips, errors, pipelining,
// authentication, database selection, timeouts, and losing and regaining the server.
#include "redis/harness.hpp"
#include "support/redis_server.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace ignis::redis::test {
namespace {

using ignis::test::redis_server;
using ignis::test::redis_server_options;

// The shared server of with-redis.sh when there is one, else a private one.
class shared_redis {
 public:
  shared_redis() {
    url_ = ignis::test::shared_redis_url();
    if (url_.empty()) {
      own_.emplace();
      url_ = own_->url();
    }
  }
  const std::string& url() const { return url_; }

 private:
  std::optional<redis_server> own_;
  std::string url_;
};

std::string unique_key(const char* what) {
  return std::string("ignis-test:") + what + ":" + std::to_string(::getpid()) + ":" +
         std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
}

TEST(RedisConnection, SetGetBinaryValueAndStates) {
  shared_redis redis;
  io_thread io;
  queue<link_state> states;
  auto c = connection::create(io.executor(), quick_config(redis.url()));
  EXPECT_EQ(c->state(), link_state::connecting);
  ASSERT_TRUE(start_and_wait(*c, states));
  EXPECT_EQ(c->state(), link_state::connected);

  const std::string key = unique_key("bin");
  const std::string value("\x00\r\n\xff msgpack\x92", 14);
  auto set = call(*c, {"SET", key, value, "PX", "60000"});
  ASSERT_FALSE(set.ec) << set.ec.message();
  EXPECT_EQ(set.r.type, reply::kind::status);
  EXPECT_EQ(set.r.str, "OK");
  auto get = call(*c, {"GET", key});
  ASSERT_FALSE(get.ec);
  EXPECT_EQ(get.r.type, reply::kind::string);
  EXPECT_EQ(get.r.str, value);
  auto missing = call(*c, {"GET", key + ":missing"});
  ASSERT_FALSE(missing.ec);
  EXPECT_TRUE(missing.r.is_nil());
  c->close();
  EXPECT_EQ(call(*c, {"PING"}).ec, make_error_code(error::closed));
}

TEST(RedisConnection, ErrorReplyKeepsTheMessage) {
  shared_redis redis;
  io_thread io;
  queue<link_state> states;
  auto c = connection::create(io.executor(), quick_config(redis.url()));
  ASSERT_TRUE(start_and_wait(*c, states));
  auto bad = call(*c, {"NOSUCHCOMMAND", "x"});
  EXPECT_EQ(bad.ec, make_error_code(error::server_error));
  EXPECT_EQ(bad.r.type, reply::kind::error);
  EXPECT_NE(bad.r.str.find("unknown command"), std::string::npos) << bad.r.str;
  // The connection carries on after an error reply.
  auto ok = call(*c, {"PING"});
  ASSERT_FALSE(ok.ec);
  EXPECT_EQ(ok.r.str, "PONG");
}

TEST(RedisConnection, ThousandPipelinedIncrsCompleteInOrder) {
  shared_redis redis;
  io_thread io;
  queue<link_state> states;
  auto c = connection::create(io.executor(), quick_config(redis.url()));
  ASSERT_TRUE(start_and_wait(*c, states));
  const std::string key = unique_key("incr");
  constexpr int n = 1000;
  std::mutex m;
  std::vector<std::int64_t> seen;
  std::promise<void> all;
  // All issued before any reply can arrive, from this thread: they leave in one pipeline.
  for (int i = 0; i < n; ++i) {
    c->command({"INCR", key}, [&, i](error_code ec, reply r) {
      std::lock_guard lk(m);
      seen.push_back(ec ? -1 : r.integer);
      if (i == n - 1) all.set_value();
    });
  }
  ASSERT_EQ(all.get_future().wait_for(10s), std::future_status::ready);
  std::lock_guard lk(m);
  ASSERT_EQ(seen.size(), static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i)
    ASSERT_EQ(seen[static_cast<std::size_t>(i)], i + 1) << "at " << i;
  call(*c, {"DEL", key});
}

TEST(RedisConnection, CommandsIssuedBeforeConnectingAreSentOnceConnected) {
  shared_redis redis;
  io_thread io;
  auto c = connection::create(io.executor(), quick_config(redis.url()));
  std::promise<outcome> p;
  c->command({"ECHO", "early"}, [&](error_code ec, reply r) { p.set_value({ec, std::move(r)}); });
  c->start();
  auto f = p.get_future();
  ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
  auto o = f.get();
  ASSERT_FALSE(o.ec) << o.ec.message();
  EXPECT_EQ(o.r.str, "early");
}

TEST(RedisConnection, PasswordAndAclUser) {
  redis_server redis({.args = {"--requirepass", "top secret"}, .password = "top secret"});
  ASSERT_EQ(redis.cli({"ACL", "SETUSER", "alice", "on", ">alice pw", "~*", "&*", "+@all"}), "OK");
  io_thread io;
  {
    queue<link_state> states;
    auto c = connection::create(io.executor(), quick_config("redis://:top%20secret@127.0.0.1:" +
                                                            std::to_string(redis.port())));
    ASSERT_TRUE(start_and_wait(*c, states));
    EXPECT_EQ(call(*c, {"ACL", "WHOAMI"}).r.str, "default");
  }
  {
    queue<link_state> states;
    auto c = connection::create(io.executor(), quick_config("redis://alice:alice%20pw@127.0.0.1:" +
                                                            std::to_string(redis.port())));
    ASSERT_TRUE(start_and_wait(*c, states));
    EXPECT_EQ(call(*c, {"ACL", "WHOAMI"}).r.str, "alice");
  }
  {
    // A wrong password is not a crash and not "connected": degraded, and commands fail fast.
    queue<link_state> states;
    auto c = connection::create(
        io.executor(), quick_config("redis://:wrong@127.0.0.1:" + std::to_string(redis.port())));
    c->on_state([&](link_state s) { states.push(s); });
    c->start();
    ASSERT_TRUE(states.wait_for(link_state::degraded));
    EXPECT_EQ(call(*c, {"PING"}).ec, make_error_code(error::not_connected));
  }
}

TEST(RedisConnection, SelectsTheDatabaseAndSetsTheClientName) {
  shared_redis redis;
  io_thread io;
  queue<link_state> states;
  auto cfg = quick_config(redis.url() + "/3");
  cfg.client_name = "ignis-test-client";
  auto c = connection::create(io.executor(), cfg);
  ASSERT_TRUE(start_and_wait(*c, states));
  auto info = call(*c, {"CLIENT", "INFO"});
  ASSERT_FALSE(info.ec);
  EXPECT_NE(info.r.str.find(" db=3 "), std::string::npos) << info.r.str;
  EXPECT_NE(info.r.str.find(" name=ignis-test-client "), std::string::npos) << info.r.str;
}

TEST(RedisConnection, TimesOutAgainstAPausedServerAndRecovers) {
  redis_server redis;
  io_thread io;
  queue<link_state> states;
  auto cfg = quick_config(redis.url());
  cfg.command_timeout = 300ms;
  auto c = connection::create(io.executor(), cfg);
  ASSERT_TRUE(start_and_wait(*c, states));

  redis.pause();
  const auto before = std::chrono::steady_clock::now();
  auto o = call(*c, {"PING"});
  EXPECT_EQ(o.ec, make_error_code(error::timeout));
  EXPECT_GE(std::chrono::steady_clock::now() - before, 300ms);
  // Silent for a whole timeout with a command outstanding: the link is given up.
  ASSERT_TRUE(states.wait_for(link_state::degraded));
  EXPECT_EQ(call(*c, {"PING"}).ec, make_error_code(error::not_connected));

  redis.resume();
  ASSERT_TRUE(states.wait_for(link_state::connected));
  auto again = call(*c, {"PING"});
  ASSERT_FALSE(again.ec) << again.ec.message();
  EXPECT_EQ(again.r.str, "PONG");
}

TEST(RedisConnection, RestartGoesDegradedThenConnected) {
  redis_server redis;
  io_thread io;
  queue<link_state> states;
  auto c = connection::create(io.executor(), quick_config(redis.url()));
  ASSERT_TRUE(start_and_wait(*c, states));

  redis.stop();
  ASSERT_TRUE(states.wait_for(link_state::degraded));
  // While Redis is down nothing is queued: refused at once.
  const auto before = std::chrono::steady_clock::now();
  EXPECT_EQ(call(*c, {"PING"}).ec, make_error_code(error::not_connected));
  EXPECT_LT(std::chrono::steady_clock::now() - before, 1s);

  redis.restart();
  ASSERT_TRUE(states.wait_for(link_state::connected));
  EXPECT_EQ(call(*c, {"PING"}).r.str, "PONG");
}

TEST(RedisConnection, UnreachableAtStartIsDegradedNotACrash) {
  io_thread io;
  queue<link_state> states;
  std::uint16_t port = 0;
  {
    redis_server gone;  // a port that was just free: nobody listens there once it is stopped
    port = gone.port();
  }
  auto c =
      connection::create(io.executor(), quick_config("redis://127.0.0.1:" + std::to_string(port)));
  c->on_state([&](link_state s) { states.push(s); });
  c->start();
  ASSERT_TRUE(states.wait_for(link_state::degraded));
  EXPECT_EQ(call(*c, {"PING"}).ec, make_error_code(error::not_connected));
}

TEST(RedisConnection, PendingCommandsAreBounded) {
  redis_server redis;
  io_thread io;
  queue<link_state> states;
  auto cfg = quick_config(redis.url());
  cfg.max_pending = 3;
  auto c = connection::create(io.executor(), cfg);
  ASSERT_TRUE(start_and_wait(*c, states));
  redis.pause();
  queue<error_code> results;
  for (int i = 0; i < 4; ++i)
    c->command({"PING"}, [&](error_code ec, reply) { results.push(ec); });
  // The fourth is refused at once, while the first three still wait for the frozen server.
  auto first = results.pop();
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, make_error_code(error::too_many_pending));
  redis.resume();
  for (int i = 0; i < 3; ++i) {
    auto r = results.pop();
    ASSERT_TRUE(r);
    EXPECT_FALSE(*r) << r->message();
  }
}

TEST(RedisConnection, InvalidUrlIsAProgrammingError) {
  io_thread io;
  config cfg;
  cfg.url = "http://127.0.0.1";
  EXPECT_THROW(connection::create(io.executor(), cfg), std::invalid_argument);
}

}  // namespace
}  // namespace ignis::redis::test
