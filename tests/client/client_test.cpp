// The client against the Node reference server (socket.io 4.8): transports, events, acks both
// ways, binary, namespaces, refusals, disconnects, buffering, volatile, headers/query/auth.
#include "client/support.hpp"

#include <ignis/client/manager.hpp>

#include <boost/asio/use_future.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include <memory>

namespace ignis::client::test {
namespace {

namespace json = boost::json;

class ClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!node_path().empty()) server_ = std::make_unique<node_server>();
  }
  static void TearDownTestSuite() { server_.reset(); }
  void SetUp() override {
    if (!server_) GTEST_SKIP() << "node not found";
  }

  static manager_options options(std::vector<transport_kind> t = {transport_kind::polling,
                                                                  transport_kind::websocket}) {
    manager_options o;
    o.transports = std::move(t);
    o.reconnection.delay = 100ms;
    o.reconnection.delay_max = 200ms;
    return o;
  }

  /// Connects `s` and waits for it.
  static bool connect(client::socket& s, queue<std::string>& events) {
    record_lifecycle(s, events);
    s.connect();
    return events.wait_for("connect");
  }

  static std::string transport_of(client::socket& s) {
    auto r = call(s, "info");
    if (!r || r->ec || r->args.args.empty()) return "?";
    return std::string(r->args.args[0].at("transport").as_string());
  }

  static inline std::unique_ptr<node_server> server_;
};

TEST_F(ClientTest, PollingOnly) {
  queue<std::string> events;
  io_thread io;
  manager m(io.executor(), server_->url(), options({transport_kind::polling}));
  auto s = m.socket();
  ASSERT_TRUE(connect(*s, events));
  EXPECT_TRUE(s->connected());
  EXPECT_EQ(s->id().size(), 20u);
  EXPECT_EQ(transport_of(*s), "polling");
  EXPECT_EQ(m.transport(), transport_kind::polling);
  EXPECT_EQ(m.engine_id().size(), 20u);
}

TEST_F(ClientTest, WebSocketOnly) {
  queue<std::string> events;
  io_thread io;
  manager m(io.executor(), server_->url(), options({transport_kind::websocket}));
  auto s = m.socket();
  ASSERT_TRUE(connect(*s, events));
  EXPECT_EQ(transport_of(*s), "websocket");
  EXPECT_EQ(m.transport(), transport_kind::websocket);
}

TEST_F(ClientTest, UpgradesFromPollingToWebSocket) {
  queue<std::string> events;
  queue<transport_kind> upgrades;
  queue<std::int64_t> got;
  io_thread io;
  manager m(io.executor(), server_->url(), options());
  m.on_upgrade([&](transport_kind t) { upgrades.push(t); });
  auto s = m.socket();
  ASSERT_TRUE(connect(*s, events));
  const auto up = upgrades.pop();
  ASSERT_TRUE(up);
  EXPECT_EQ(*up, transport_kind::websocket);
  EXPECT_EQ(transport_of(*s), "websocket");
  // Events keep flowing across the upgrade, in order.
  s->on("burst", [&](payload& p, ack_responder) { got.push(p.args[0].as_int64()); });
  s->emit("burst", make_args(json::object{{"count", 50}}));
  for (std::int64_t i = 0; i < 50; ++i)
    ASSERT_EQ(got.pop(), i);
}

TEST_F(ClientTest, EventsAndAcksCarryEveryJsonType) {
  queue<std::string> events;
  queue<payload> echoed;
  io_thread io;
  manager m(io.executor(), server_->url(), options());
  auto s = m.socket();
  s->on("echo", [&](payload& p, ack_responder) { echoed.push(p); });
  ASSERT_TRUE(connect(*s, events));
  auto args = make_args(1, "two", json::object{{"3", json::array{true, nullptr}}}, 4.5, false);
  s->emit("echo", args);
  auto e = echoed.pop();
  ASSERT_TRUE(e);
  EXPECT_EQ(*e, args);
  auto r = call(*s, "ack", args);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ec);
  EXPECT_EQ(r->args, args);
}

TEST_F(ClientTest, AnswersTheServersAcknowledgementRequests) {
  queue<std::string> events;
  io_thread io;
  manager m(io.executor(), server_->url(), options());
  auto s = m.socket();
  s->on("question", [](payload& p, ack_responder ack) {
    ASSERT_TRUE(ack);
    payload answer = make_args(json::object{{"sum", p.args[0].as_int64() + p.args[1].as_int64()}});
    answer.args.push_back(answer.add_binary("\x01\x02"));
    ack(answer);
    ack(make_args("second answer is ignored"));
  });
  ASSERT_TRUE(connect(*s, events));
  auto r = call(*s, "server-ack",
                make_args(json::object{{"event", "question"}, {"args", json::array{2, 3}}}));
  ASSERT_TRUE(r);
  ASSERT_FALSE(r->ec);
  const auto& reply = r->args.args.at(0).as_object();
  ASSERT_TRUE(reply.contains("answer")) << json::serialize(reply);
  EXPECT_EQ(reply.at("answer").at("sum"), 5);
}

TEST_F(ClientTest, AckTimeout) {
  queue<std::string> events;
  io_thread io;
  manager m(io.executor(), server_->url(), options());
  auto s = m.socket();
  ASSERT_TRUE(connect(*s, events));
  const auto start = std::chrono::steady_clock::now();
  auto r = call(*s, "no-ack", make_args(1), 300ms);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(r);
  EXPECT_EQ(r->ec, client_error::ack_timeout);
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 3s);
  // The connection is fine afterwards.
  auto ok = call(*s, "ack", make_args(1));
  ASSERT_TRUE(ok);
  EXPECT_FALSE(ok->ec);
}

TEST_F(ClientTest, AsyncEmitWithAckTakesCompletionTokens) {
  queue<std::string> events;
  io_thread io;
  manager m(io.executor(), server_->url(), options());
  auto s = m.socket();
  ASSERT_TRUE(connect(*s, events));
  auto f = s->async_emit_with_ack("ack", make_args("x"), 5s, boost::asio::use_future);
  ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(f.get(), make_args("x"));
  auto t = s->async_emit_with_ack("no-ack", {}, 100ms, boost::asio::use_future);
  ASSERT_EQ(t.wait_for(10s), std::future_status::ready);
  EXPECT_THROW(t.get(), boost::system::system_error);
}

payload nested_binary() {
  payload p;
  json::object inner;
  inner["b"] = p.add_binary(std::string("\x00\x01\x02\xff", 4));
  json::object o;
  o["a"] = json::array{1, inner};
  o["c"] = p.add_binary("hello");
  p.args.push_back(std::move(o));
  p.args.push_back(p.add_binary(std::string()));  // empty buffer
  p.args.push_back("text");
  return p;
}

class BinaryTest : public ClientTest, public ::testing::WithParamInterface<transport_kind> {};

TEST_P(BinaryTest, RoundTripsAtAnyDepth) {
  queue<std::string> events;
  queue<payload> echoed;
  queue<payload> made;
  io_thread io;
  manager m(io.executor(), server_->url(), options({GetParam()}));
  auto s = m.socket();
  s->on("echo", [&](payload& p, ack_responder) { echoed.push(p); });
  ASSERT_TRUE(connect(*s, events));
  const auto sent = nested_binary();
  auto r = call(*s, "ack", sent);
  ASSERT_TRUE(r);
  ASSERT_FALSE(r->ec);
  EXPECT_EQ(r->args, sent);
  const auto& inner = r->args.args[0].at("a").as_array()[1];
  ASSERT_NE(r->args.binary(inner.at("b")), nullptr);
  EXPECT_EQ(*r->args.binary(inner.at("b")), std::string("\x00\x01\x02\xff", 4));
  s->emit("echo", sent);
  auto e = echoed.pop();
  ASSERT_TRUE(e);
  EXPECT_EQ(*e, sent);

  // Binary made by the server, in an event and in an acknowledgement.
  s->on("binary", [&](payload& p, ack_responder) { made.push(p); });
  auto a = call(*s, "make-binary");
  ASSERT_TRUE(a);
  ASSERT_FALSE(a->ec);
  ASSERT_EQ(a->args.attachments.size(), 2u);
  EXPECT_EQ(*a->args.binary(a->args.args[0]), "\x09\x08\x07");
  EXPECT_EQ(*a->args.binary(a->args.args[1].at("deep").as_array()[0].as_array()[0]), "\xff");
  auto b = made.pop();
  ASSERT_TRUE(b);
  EXPECT_EQ(*b->binary(b->args[0].at("c")), "hello");
  EXPECT_EQ(*b->binary(b->args[0].at("a").as_array()[1].at("b")), "\x01\x02\x03");
  EXPECT_EQ(*b->binary(b->args[1]), "");
}

INSTANTIATE_TEST_SUITE_P(Transports, BinaryTest,
                         ::testing::Values(transport_kind::polling, transport_kind::websocket),
                         [](const auto& p) { return std::string(to_string(p.param)); });

TEST_F(ClientTest, NamespacesShareOneConnection) {
  queue<std::string> main_events;
  queue<std::string> admin_events;
  io_thread io;
  manager m(io.executor(), server_->url(), options());
  auto main = m.socket("/");
  auto admin = m.socket("admin");
  EXPECT_EQ(m.socket("/admin"), admin);  // one socket per namespace
  ASSERT_TRUE(connect(*main, main_events));
  ASSERT_TRUE(connect(*admin, admin_events));
  auto a = call(*main, "info");
  auto b = call(*admin, "info");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->args.args[0].at("engineId"), b->args.args[0].at("engineId"));
  EXPECT_EQ(b->args.args[0].at("nsp"), "/admin");
  EXPECT_NE(a->args.args[0].at("id"), b->args.args[0].at("id"));
  EXPECT_EQ(std::string(b->args.args[0].at("id").as_string()), admin->id());

  // Leaving one namespace leaves the other connected.
  admin->disconnect();
  EXPECT_TRUE(admin_events.wait_for("disconnect:io client disconnect"));
  auto again = call(*main, "ack", make_args(7));
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->ec);
  EXPECT_TRUE(main->connected());
}

TEST_F(ClientTest, ConnectErrorCarriesTheServersData) {
  queue<std::string> events;
  queue<connect_error> errors;
  queue<connect_error> unknown;
  io_thread io;
  manager m(io.executor(), server_->url(), options());
  auto bad = m.socket("/guarded", {{"token", "wrong"}});
  bad->on_connect_error([&](const connect_error& e) { errors.push(e); });
  record_lifecycle(*bad, events);
  bad->connect();
  auto e = errors.pop();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->message, "not authorized");
  EXPECT_EQ(e->data, (json::value{{"code", 42}, {"reason", "bad token"}}));
  EXPECT_FALSE(e->ec);
  EXPECT_FALSE(bad->connected());

  auto good = m.socket("/guarded2");  // unknown namespace: refused too
  good->on_connect_error([&](const connect_error& err) { unknown.push(err); });
  good->connect();
  auto u = unknown.pop();
  ASSERT_TRUE(u);
  EXPECT_EQ(u->message, "Invalid namespace");
}

TEST_F(ClientTest, AuthHeadersAndQueryReachTheServer) {
  queue<std::string> events;
  io_thread io;
  auto o = options({transport_kind::polling});
  o.extra_headers = {{"X-Test", "yes"}};
  o.query = {{"q", "a b"}};
  manager m(io.executor(), server_->url() + "/?from=url", o);
  auto s = m.socket("/guarded", {{"token", "secret"}, {"n", 1}});
  ASSERT_TRUE(connect(*s, events));
  auto r = call(*s, "info");
  ASSERT_TRUE(r);
  const auto& info = r->args.args[0];
  EXPECT_EQ(info.at("auth"), (json::value{{"token", "secret"}, {"n", 1}}));
  EXPECT_EQ(info.at("headers").at("x-test"), "yes");
  EXPECT_EQ(info.at("query").at("q"), "a b");
  EXPECT_EQ(info.at("query").at("from"), "url");
  EXPECT_EQ(info.at("query").at("EIO"), "4");
}

TEST_F(ClientTest, ServerDisconnectDoesNotReconnect) {
  queue<std::string> events;
  queue<std::size_t> attempts;
  io_thread io;
  manager m(io.executor(), server_->url(), options());
  m.on_reconnect_attempt([&](std::size_t n) { attempts.push(n); });
  auto s = m.socket();
  ASSERT_TRUE(connect(*s, events));
  s->emit("disconnect-me");
  EXPECT_TRUE(events.wait_for("disconnect:io server disconnect"));
  EXPECT_FALSE(s->connected());
  EXPECT_TRUE(s->id().empty());
  // By the time a control client with the same options made three attempts, this one would
  // have started reconnecting.
  ASSERT_TRUE(reconnection_barrier(io.executor(), options()));
  EXPECT_EQ(attempts.size(), 0u);
  // An explicit connect() works again.
  s->connect();
  EXPECT_TRUE(events.wait_for("connect"));
}

TEST_F(ClientTest, ClientDisconnectAndReconnectByHand) {
  queue<std::string> events;
  io_thread io;
  manager m(io.executor(), server_->url(), options());
  auto s = m.socket();
  ASSERT_TRUE(connect(*s, events));
  const auto first = s->id();
  s->disconnect();
  EXPECT_TRUE(events.wait_for("disconnect:io client disconnect"));
  s->connect();
  EXPECT_TRUE(events.wait_for("connect"));
  EXPECT_NE(s->id(), first);
  // The server saw the namespace left cleanly (the DISCONNECT packet went out before the close).
  auto r = call(*s, "get-disconnects");
  ASSERT_TRUE(r);
  bool found = false;
  for (const auto& d : r->args.args[0].as_array()) {
    if (d.at("id").as_string() == first) {
      EXPECT_EQ(d.at("reason"), "client namespace disconnect");
      found = true;
    }
  }
  EXPECT_TRUE(found);
}

class GoodbyeTest : public ClientTest, public ::testing::WithParamInterface<transport_kind> {};

// Destroying a connected client says goodbye: the server sees the namespace left, not a lost
// connection.
TEST_P(GoodbyeTest, DestroyingAConnectedClientLeavesCleanly) {
  queue<std::string> events;
  queue<std::string> observer_events;
  io_thread io;
  manager observer_manager(io.executor(), server_->url(), options());
  auto observer = observer_manager.socket();
  ASSERT_TRUE(connect(*observer, observer_events));
  std::string id;
  {
    manager m(io.executor(), server_->url(), options({GetParam()}));
    auto s = m.socket();
    ASSERT_TRUE(connect(*s, events));
    id = s->id();
  }
  // The goodbye is asynchronous: ask until the server has seen it (each answer is a round trip).
  std::string reason;
  for (int i = 0; i < 100 && reason.empty(); ++i) {
    auto r = call(*observer, "get-disconnects");
    ASSERT_TRUE(r);
    for (const auto& d : r->args.args[0].as_array()) {
      if (d.at("id").as_string() == id) reason = std::string(d.at("reason").as_string());
    }
  }
  EXPECT_EQ(reason, "client namespace disconnect");
}

INSTANTIATE_TEST_SUITE_P(Transports, GoodbyeTest,
                         ::testing::Values(transport_kind::polling, transport_kind::websocket),
                         [](const auto& p) { return std::string(to_string(p.param)); });

TEST_F(ClientTest, TransportCloseReconnects) {
  queue<std::string> events;
  queue<std::size_t> reconnected;
  io_thread io;
  manager m(io.executor(), server_->url(), options());
  m.on_reconnect([&](std::size_t n) { reconnected.push(n); });
  auto s = m.socket();
  ASSERT_TRUE(connect(*s, events));
  s->emit("close-me");
  EXPECT_TRUE(events.wait_for("disconnect:transport close"));
  EXPECT_TRUE(events.wait_for("connect"));
  auto n = reconnected.pop();
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 1u);
}

TEST_F(ClientTest, CatchAllAndOff) {
  queue<std::string> events;
  queue<std::string> seen;
  io_thread io;
  manager m(io.executor(), server_->url(), options());
  auto s = m.socket();
  s->on_any(
      [&](std::string_view ev, payload&, ack_responder) { seen.push("any:" + std::string(ev)); });
  const auto id = s->on("echo", [&](payload&, ack_responder) { seen.push("echo-1"); });
  s->on("echo", [&](payload&, ack_responder) { seen.push("echo-2"); });
  ASSERT_TRUE(connect(*s, events));
  s->emit("echo", make_args(1));
  EXPECT_EQ(seen.pop(), "any:echo");
  EXPECT_EQ(seen.pop(), "echo-1");
  EXPECT_EQ(seen.pop(), "echo-2");
  s->off(id);
  s->emit("echo", make_args(2));
  EXPECT_EQ(seen.pop(), "any:echo");
  EXPECT_EQ(seen.pop(), "echo-2");
  s->off("echo");
  s->off_any();
  s->emit("echo", make_args(3));
  auto r = call(*s, "ack");  // a round trip after the echo: nothing may arrive before its answer
  ASSERT_TRUE(r);
  EXPECT_EQ(seen.size(), 0u);
}

TEST_F(ClientTest, EmitsBeforeConnectAreBufferedBoundedAndVolatileOnesDropped) {
  queue<std::string> events;
  queue<std::string> acks;
  io_thread io;
  auto o = options();
  o.max_buffered_emits = 2;
  manager m(io.executor(), server_->url(), o);
  auto s = m.socket("/admin");
  auto ack_to = [&](std::string name) {
    return [&acks, name](error_code ec, payload) {
      acks.push(name + ":" + (ec ? ec.message() : std::string("ok")));
    };
  };
  s->emit_with_ack("record", make_args("r1"), 0ms, ack_to("r1"));
  s->emit_with_ack("record", make_args("r2"), 0ms, ack_to("r2"));
  s->emit_volatile("record", make_args("volatile"));
  s->emit("record", make_args("r3"));
  s->emit_with_ack("record", make_args("r4"), 0ms, ack_to("r4"));
  EXPECT_EQ(acks.pop(), "r1:" + make_error_code(client_error::send_buffer_full).message());
  EXPECT_EQ(acks.pop(), "r2:" + make_error_code(client_error::send_buffer_full).message());
  ASSERT_TRUE(connect(*s, events));
  EXPECT_EQ(acks.pop(), "r4:ok");
  auto r = call(*s, "get-records");
  ASSERT_TRUE(r);
  json::array expected{json::array{"r3"}, json::array{"r4"}};
  // The shared server's records may hold other tests' entries before ours.
  const auto& records = r->args.args[0].as_array();
  ASSERT_GE(records.size(), 2u);
  EXPECT_EQ(records[records.size() - 2], expected[0]);
  EXPECT_EQ(records[records.size() - 1], expected[1]);
  for (const auto& rec : records)
    EXPECT_NE(rec, json::array{"volatile"});
  // Connected: a volatile emit goes out.
  s->emit_volatile("record", make_args("volatile-connected"));
  auto after = call(*s, "get-records");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->args.args[0].as_array().back(), json::array{"volatile-connected"});
}

TEST_F(ClientTest, LargeAndManyMessagesOverPolling) {
  queue<std::string> events;
  queue<std::size_t> big;
  io_thread io;
  manager m(io.executor(), server_->url(), options({transport_kind::polling}));
  auto s = m.socket("/admin");
  s->on("big", [&](payload& p, ack_responder) { big.push(p.args[0].as_string().size()); });
  ASSERT_TRUE(connect(*s, events));
  // Node gzips polling responses of 1024 bytes and more.
  s->emit("big", make_args(300'000));
  EXPECT_EQ(big.pop(), 300'000u);
  // 40 x 50 kB in one go: more than the server's 1 MB maxPayload, so the client splits its POSTs.
  const std::string chunk(50'000, 'y');
  for (int i = 0; i < 40; ++i)
    s->emit("echo", make_args(chunk));
  auto r = call(*s, "ack", make_args("after"));
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ec);
  EXPECT_TRUE(s->connected());
}

TEST_F(ClientTest, ReservedEventNamesThrow) {
  io_thread io;
  manager m(io.executor(), server_->url(), options());
  auto s = m.socket();
  EXPECT_THROW(s->emit("disconnect"), std::invalid_argument);
  EXPECT_THROW(s->emit_volatile("connect"), std::invalid_argument);
  EXPECT_THROW(s->emit_with_ack("connect_error", {}, 1s, [](error_code, payload) {}),
               std::invalid_argument);
  EXPECT_THROW(manager(io.executor(), "gopher://x", {}), std::invalid_argument);
}

}  // namespace
}  // namespace ignis::client::test
