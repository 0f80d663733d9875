// A peer that does not speak RESP (a misconfigured port, a proxy gone wrong) must cost nothing but
// an error code: no crash, the state goes degraded and pending commands fail. A peer that falls
// silent without closing must be noticed within the liveness timeout, whatever it sent last.
#include "redis/fake_node.hpp"
#include "redis/harness.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ignis::redis::test {
namespace {

// For each connection: +PONG to the handshake's PING (if `pong`), then `garbage` to every command.
fake_node::connection_fn pong_then(bool pong, std::string garbage) {
  return [pong, garbage](std::size_t) -> fake_node::answer_fn {
    return [pong, garbage,
            first = true](const std::vector<std::string>&) mutable -> std::optional<std::string> {
      return std::exchange(first, false) && pong ? std::string("+PONG\r\n") : garbage;
    };
  };
}

TEST(RedisBadPeer, GarbageInsteadOfTheHandshakeReply) {
  fake_node peer(pong_then(false, "HTTP/1.1 400 Bad Request\r\n\r\n"));
  io_thread io;
  queue<link_state> states;
  auto c = connection::create(io.executor(), quick_config(peer.url()));
  c->on_state([&](link_state s) { states.push(s); });
  c->start();
  ASSERT_TRUE(states.wait_for(link_state::degraded));
  EXPECT_EQ(call(*c, {"PING"}).ec, make_error_code(error::not_connected));
}

TEST(RedisBadPeer, GarbageAfterConnecting) {
  fake_node peer(pong_then(true, "!!not resp\r\n"));
  io_thread io;
  queue<link_state> states;
  auto c = connection::create(io.executor(), quick_config(peer.url()));
  ASSERT_TRUE(start_and_wait(*c, states));
  auto o = call(*c, {"GET", "k"});
  // Sent, then the stream broke: never retried, reported as lost.
  EXPECT_EQ(o.ec, make_error_code(error::disconnected)) << o.ec.message();
  ASSERT_TRUE(states.wait_for(link_state::degraded));
}

TEST(RedisBadPeer, UnrequestedReplyResetsTheLink) {
  fake_node peer(pong_then(true, "+OK\r\n+OK\r\n"));
  io_thread io;
  queue<link_state> states;
  auto c = connection::create(io.executor(), quick_config(peer.url()));
  ASSERT_TRUE(start_and_wait(*c, states));
  // One command, two replies: the second belongs to nothing, so the stream is out of step.
  auto o = call(*c, {"SET", "k", "v"});
  EXPECT_FALSE(o.ec);
  ASSERT_TRUE(states.wait_for(link_state::degraded));
}

TEST(RedisBadPeer, SubscriberNoticesAServerThatFallsSilentAfterAMessage) {
  using clock = std::chrono::steady_clock;
  // Enough of a server for a subscriber: PONG to the handshake, confirmations to SUBSCRIBE. The
  // first connection answers its first health-check PING with a message on "c" and nothing else,
  // then falls silent without closing (a server stopped between delivering a publish and reading
  // the PING); later connections answer every PING.
  fake_node peer([](std::size_t connection) -> fake_node::answer_fn {
    return [connection, subscribed = false, silent = false](
               const std::vector<std::string>& cmd) mutable -> std::optional<std::string> {
      auto bulk = [](std::string_view s) {
        return "$" + std::to_string(s.size()) + "\r\n" + std::string(s) + "\r\n";
      };
      if (silent) return std::nullopt;
      if (cmd[0] == "SUBSCRIBE") {
        std::string out;
        for (std::size_t i = 1; i < cmd.size(); ++i)
          out += "*3\r\n" + bulk("subscribe") + bulk(cmd[i]) + ":" + std::to_string(i) + "\r\n";
        subscribed = true;
        return out;
      }
      if (cmd[0] != "PING") return "+OK\r\n";
      if (!subscribed) return "+PONG\r\n";
      if (connection == 0) {
        silent = true;
        return "*3\r\n" + bulk("message") + bulk("c") + bulk("late");
      }
      return "*2\r\n" + bulk("pong") + bulk("");
    };
  });
  io_thread io;
  auto cfg = quick_config(peer.url());
  cfg.health_check_interval = 100ms;
  cfg.command_timeout = 300ms;
  queue<std::string> messages;
  queue<link_state> states;
  auto sub = subscriber::create(io.executor(), cfg);
  sub->on_message([&](std::string_view, std::string_view, std::string_view m) {
    messages.push(std::string(m));
  });
  sub->on_state([&](link_state s) { states.push(s); });
  sub->subscribe("c");
  sub->start();
  ASSERT_TRUE(states.wait_for(link_state::connected));
  // The health check's PING got a message instead of its answer, then silence: a byte came after
  // the PING, but none for a whole timeout since, so the server is gone all the same.
  ASSERT_TRUE(messages.wait_for("late"));
  const auto last_byte = clock::now();
  ASSERT_TRUE(states.wait_for(link_state::degraded, 3s));
  EXPECT_LT(clock::now() - last_byte, 2s);
  // The next connection answers its PINGs: the link comes back by itself.
  EXPECT_TRUE(states.wait_for(link_state::connected));
  sub->close();
}

}  // namespace
}  // namespace ignis::redis::test
