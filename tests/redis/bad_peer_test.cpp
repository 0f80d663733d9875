// A peer that does not speak RESP (a misconfigured port, a proxy gone wrong) must cost nothing but
// an error code: no crash, the state goes degraded and pending commands fail. A peer that falls
// silent without closing must be noticed within the liveness timeout, whatever it sent last.
#include "redis/harness.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include <array>
#include <cctype>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ignis::redis::test {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// Accepts connections on a loopback port; for each, answers the handshake's PING with +PONG (if
// `pong`) and then writes `garbage` after the first bytes of the next request.
class bad_peer {
 public:
  bad_peer(bool pong, std::string garbage)
      : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        pong_(pong),
        garbage_(std::move(garbage)) {
    accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~bad_peer() {
    io_.stop();
    thread_.join();
  }
  std::string url() const {
    return "redis://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
  }

 private:
  struct session {
    explicit session(asio::io_context& io) : socket(io) {}
    tcp::socket socket;
    std::array<char, 4096> buf{};
    int reads = 0;
  };
  void accept() {
    auto s = std::make_shared<session>(io_);
    acceptor_.async_accept(s->socket, [this, s](error_code ec) {
      if (ec) return;
      serve(s);
      accept();
    });
  }
  void serve(const std::shared_ptr<session>& s) {
    s->socket.async_read_some(asio::buffer(s->buf), [this, s](error_code ec, std::size_t) {
      if (ec) return;
      const bool first = s->reads++ == 0;
      const std::string answer = first && pong_ ? std::string("+PONG\r\n") : garbage_;
      asio::async_write(
          s->socket, asio::buffer(answer.data(), answer.size()),
          [this, s, keep = std::make_shared<std::string>(answer)](error_code e, std::size_t) {
            if (!e) serve(s);
          });
    });
  }

  asio::io_context io_;
  tcp::acceptor acceptor_;
  bool pong_;
  std::string garbage_;
  std::thread thread_;
};

// Speaks enough RESP for a subscriber: PONG to the handshake, confirmations to SUBSCRIBE. The
// first connection answers its first health-check PING with a message on "c" and nothing else,
// then falls silent without closing (a server stopped between delivering a publish and reading
// the PING); later connections answer every PING.
class falls_silent_peer {
 public:
  falls_silent_peer() : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~falls_silent_peer() {
    io_.stop();
    thread_.join();
  }
  std::string url() const {
    return "redis://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
  }

 private:
  struct session {
    explicit session(asio::io_context& io) : socket(io) {}
    tcp::socket socket;
    std::array<char, 4096> buf{};
    std::string in;
    bool subscribed = false;
    bool first = false;
    bool silent = false;
  };
  void accept() {
    auto s = std::make_shared<session>(io_);
    acceptor_.async_accept(s->socket, [this, s](error_code ec) {
      if (ec) return;
      s->first = connections_++ == 0;
      serve(s);
      accept();
    });
  }
  // One command off the front of `in` (an array of bulk strings), or nothing yet.
  static std::optional<std::vector<std::string>> take_command(std::string& in) {
    std::size_t pos = 0;
    auto line = [&]() -> std::optional<std::string> {
      const auto end = in.find("\r\n", pos);
      if (end == std::string::npos) return std::nullopt;
      auto l = in.substr(pos, end - pos);
      pos = end + 2;
      return l;
    };
    const auto head = line();
    if (!head || head->empty() || (*head)[0] != '*') return std::nullopt;
    std::vector<std::string> args;
    for (int n = std::stoi(head->substr(1)); n > 0; --n) {
      const auto len = line();
      if (!len) return std::nullopt;
      const auto size = static_cast<std::size_t>(std::stoi(len->substr(1)));
      if (in.size() < pos + size + 2) return std::nullopt;
      args.push_back(in.substr(pos, size));
      pos += size + 2;
    }
    in.erase(0, pos);
    return args;
  }
  static std::string bulk(std::string_view s) {
    return "$" + std::to_string(s.size()) + "\r\n" + std::string(s) + "\r\n";
  }
  std::string answer(session& s, const std::vector<std::string>& cmd) {
    if (s.silent || cmd.empty()) return {};
    std::string verb = cmd[0];
    for (auto& c : verb)
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (verb == "SUBSCRIBE") {
      std::string out;
      for (std::size_t i = 1; i < cmd.size(); ++i)
        out += "*3\r\n" + bulk("subscribe") + bulk(cmd[i]) + ":" + std::to_string(i) + "\r\n";
      s.subscribed = true;
      return out;
    }
    if (verb != "PING") return "+OK\r\n";
    if (!s.subscribed) return "+PONG\r\n";
    if (s.first) {
      s.silent = true;
      return "*3\r\n" + bulk("message") + bulk("c") + bulk("late");
    }
    return "*2\r\n" + bulk("pong") + bulk("");
  }
  void serve(const std::shared_ptr<session>& s) {
    s->socket.async_read_some(asio::buffer(s->buf), [this, s](error_code ec, std::size_t n) {
      if (ec) return;
      s->in.append(s->buf.data(), n);
      auto out = std::make_shared<std::string>();
      while (auto cmd = take_command(s->in))
        *out += answer(*s, *cmd);
      if (out->empty()) return serve(s);
      asio::async_write(s->socket, asio::buffer(*out), [this, s, out](error_code e, std::size_t) {
        if (!e) serve(s);
      });
    });
  }

  asio::io_context io_;
  tcp::acceptor acceptor_;
  int connections_ = 0;
  std::thread thread_;
};

TEST(RedisBadPeer, GarbageInsteadOfTheHandshakeReply) {
  bad_peer peer(false, "HTTP/1.1 400 Bad Request\r\n\r\n");
  io_thread io;
  queue<link_state> states;
  auto c = connection::create(io.executor(), quick_config(peer.url()));
  c->on_state([&](link_state s) { states.push(s); });
  c->start();
  ASSERT_TRUE(states.wait_for(link_state::degraded));
  EXPECT_EQ(call(*c, {"PING"}).ec, make_error_code(error::not_connected));
}

TEST(RedisBadPeer, GarbageAfterConnecting) {
  bad_peer peer(true, "!!not resp\r\n");
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
  bad_peer peer(true, "+OK\r\n+OK\r\n");
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
  falls_silent_peer peer;
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
