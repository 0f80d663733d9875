// The C++ client and the client helper with connection state recovery, against the program
// (ignis-socketio --connection-state-recovery). The connection runs through a TCP relay the test
// cuts, as a network would: the server sees its client go, the client sees its transport fail.
#include "client/helper_support.hpp"
#include "client/program_server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/object.hpp>
#include <gtest/gtest.h>

#include <array>
#include <future>
#include <list>
#include <thread>

namespace ignis::client::test {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using tcp = asio::ip::tcp;

// Relays 127.0.0.1:port() to `target_port`; cut() ends every relayed connection at once.
class tcp_relay {
 public:
  explicit tcp_relay(int target_port) : target_(target_port) {
    acceptor_.open(tcp::v4());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind({asio::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
    accept();
    thread_ = std::thread([this] { ctx_.run(); });
  }
  ~tcp_relay() {
    asio::post(ctx_, [this] {
      boost::system::error_code ec;
      acceptor_.close(ec);
      close_all();
    });
    thread_.join();
  }
  int port() const { return acceptor_.local_endpoint().port(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port()); }
  void cut() {
    std::promise<void> done;
    asio::post(ctx_, [this, &done] {
      close_all();
      done.set_value();
    });
    done.get_future().wait();
  }

 private:
  struct pair {
    explicit pair(asio::io_context& c) : a(c), b(c) {}
    tcp::socket a, b;
    std::array<char, 16384> ab{}, ba{};
  };
  void accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket s) {
      if (ec) return;
      auto p = std::make_shared<pair>(ctx_);
      p->a = std::move(s);
      p->b.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(target_)}, ec);
      if (!ec) {
        pairs_.push_back(p);
        pump(p, p->a, p->b, p->ab);
        pump(p, p->b, p->a, p->ba);
      }
      accept();
    });
  }
  void pump(std::shared_ptr<pair> p, tcp::socket& from, tcp::socket& to,
            std::array<char, 16384>& buf) {
    from.async_read_some(asio::buffer(buf), [this, p, &from, &to, &buf](auto ec, std::size_t n) {
      if (ec) return;
      asio::async_write(to, asio::buffer(buf.data(), n),
                        [this, p, &from, &to, &buf](auto wec, std::size_t) {
                          if (!wec) pump(p, from, to, buf);
                        });
    });
  }
  void close_all() {
    for (auto& p : pairs_) {
      boost::system::error_code ec;
      p->a.close(ec);
      p->b.close(ec);
    }
    pairs_.clear();
  }

  int target_;
  asio::io_context ctx_;
  tcp::acceptor acceptor_{ctx_};
  std::list<std::shared_ptr<pair>> pairs_;
  std::thread thread_;
};

std::vector<std::string> program_flags() {
  return {"--auth",
          "tokens",
          "--tokens",
          "good",
          "--rooms-allow",
          "r*",
          "--connection-state-recovery",
          "5000",
          "--threads",
          "2"};
}

int api_send(program_server& server, const std::string& destination, int n) {
  return server.api_post("/api/send",
                         json::object{{"destination", destination}, {"topic", "n"}, {"data", n}});
}

bool server_has_no_client(program_server& server) {
  for (int i = 0; i < 100; ++i) {  // bounded: the server notices the cut within a round trip
    const auto clients = server.api_get("/api/clients");
    if (clients.is_object() && clients.at("count").to_number<int>() == 0) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

TEST(ClientRecovery, TheClientComesBackWithItsIdAndWhatItMissedInOrder) {
  program_server server(program_flags());
  tcp_relay relay(server.port());
  queue<std::string> events;
  queue<int> got;
  io_thread io;
  manager_options o;
  o.reconnection.enabled = false;  // the test reconnects once the gap is made
  o.transports = {transport_kind::websocket};
  manager m(io.executor(), relay.url(), o);
  auto s = m.socket("/", {{"token", "good"}});
  s->on("n", [&](payload& p, ack_responder) { got.push(p.args[0].to_number<int>()); });
  s->on("authenticated", [&](payload&, ack_responder) { events.push("authenticated"); });
  record_lifecycle(*s, events);
  s->connect();
  ASSERT_TRUE(events.wait_for("connect"));
  s->emit("authenticate");
  ASSERT_TRUE(events.wait_for("authenticated"));
  const auto id = s->id();
  ASSERT_EQ(api_send(server, id, -1), 200);  // an event, so that the client has an offset
  ASSERT_EQ(got.pop(), -1);

  relay.cut();
  ASSERT_TRUE(events.wait_until(is_transport_loss));
  ASSERT_TRUE(server_has_no_client(server));
  for (int i = 0; i < 50; ++i)
    ASSERT_EQ(api_send(server, i % 2 ? id : std::string("io-default"), i), 200);

  s->connect();
  ASSERT_TRUE(events.wait_for("connect"));
  EXPECT_TRUE(s->recovered());
  EXPECT_EQ(s->id(), id);
  for (int i = 0; i < 50; ++i)
    ASSERT_EQ(got.pop(), i) << "in order, once";
  ASSERT_TRUE(events.wait_for("authenticated"));  // the server says so by itself
  EXPECT_EQ(got.size(), 0u);
}

TEST(ClientRecovery, TheHelperReportsARecoveryAndDoesNotAuthenticateAgain) {
  program_server server(program_flags());
  tcp_relay relay(server.port());
  queue<std::string> q;
  queue<int> got;
  io_thread io;
  helper_options o;
  o.identifier = "recovery";
  o.host = relay.url();
  o.auth = {{"token", "good"}};
  o.auto_authenticate = true;
  o.options.transports = {transport_kind::websocket};
  o.options.reconnection.delay = 300ms;
  o.options.reconnection.delay_max = 300ms;
  o.options.reconnection.randomization = 0;
  report_to(o, q);
  helper h(io.executor(), o);
  h.subscribe({"n", [&](payload& p, ack_responder) { got.push(p.args[0].to_number<int>()); }});
  ASSERT_EQ(q.pop(), "connected");
  ASSERT_EQ(q.pop(), "authenticated");
  const auto id = h.get_socket_client().id();
  ASSERT_EQ(api_send(server, id, 0), 200);
  ASSERT_EQ(got.pop(), 0);

  relay.cut();
  const auto lost = q.pop();
  ASSERT_TRUE(lost && lost->starts_with("disconnected:transport ")) << lost.value_or("(none)");
  ASSERT_EQ(q.pop(), "recovered");  // reconnects by itself through the relay
  ASSERT_EQ(q.pop(), "authenticated");
  EXPECT_EQ(h.get_state(), helper_state::authenticated);
  EXPECT_EQ(h.get_socket_client().id(), id);
  // Had the helper sent `authenticate` again, a second `authenticated` would follow: a round
  // trip on the socket shows there is none.
  ASSERT_TRUE(
      call(h.get_socket_client(), "join", make_args(json::object{{"rooms", json::array{}}})));
  EXPECT_EQ(q.size(), 0u);
}

}  // namespace
}  // namespace ignis::client::test
