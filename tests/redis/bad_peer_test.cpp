// A peer that does not speak RESP (a misconfigured port, a proxy gone wrong) must cost nothing but
// an error code: no crash, the state goes degraded and pending commands fail.
#include "redis/harness.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace ignis::redis::test
