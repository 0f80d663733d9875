// The client helper against the real ignis-socketio program: checklist items 59-71 of
// upstream-ignis.md §10, as amended by ignis-behaviour.md ("Client helper: kept and fixed").
// The program's HTTP API makes the server send to a socket or a room.
// Every queue a callback pushes to is declared before the io_thread: the helper's destructor does
// not wait for a callback already running, the io_thread's does.
#include "client/helper_support.hpp"
#include "client/program_server.hpp"

#include <boost/asio/post.hpp>
#include <boost/json/object.hpp>
#include <gtest/gtest.h>

#include <atomic>

namespace ignis::client::test {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;

constexpr std::string_view good_token = "good-token";
constexpr std::string_view invalid_token_message =
    "Invalid token to authenticate! Please login again!";

std::vector<std::string> program_flags(std::string authenticate_timeout_ms = "10000") {
  return {"--auth",
          "tokens",
          "--tokens",
          std::string(good_token),
          "--rooms-allow",
          "r*",
          "--authenticate-timeout",
          std::move(authenticate_timeout_ms)};
}

class ClientHelperChecklist : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = std::make_unique<program_server>(program_flags()); }
  static void TearDownTestSuite() { server_.reset(); }

  /// Options whose callbacks report to `q`: "connected", "disconnected:<reason>", "error:<msg>",
  /// "authenticated", "unauthenticated:<msg>".
  static helper_options options(queue<std::string>& q, std::string_view token, std::string url) {
    helper_options o;
    o.identifier = "checklist";
    o.host = std::move(url);
    o.auth = {{"token", token}};
    o.options.reconnection.delay = 100ms;
    o.options.reconnection.delay_max = 400ms;
    report_to(o, q);
    return o;
  }
  static helper_options options(queue<std::string>& q, std::string_view token = good_token) {
    return options(q, token, server_->url());
  }

  /// Makes the server send `topic` with `data` to `destination` (a socket id or a room).
  static void server_send(const std::string& destination, std::string_view topic,
                          json::value data) {
    ASSERT_EQ(server_->api_post("/api/send", json::object{{"destination", destination},
                                                          {"topic", topic},
                                                          {"data", std::move(data)}}),
              200);
  }

  /// A round trip on the helper's socket: the server handles the socket's packets in order, so
  /// once the answer is here, everything emitted before it has been handled.
  static void round_trip(helper& h) {
    auto r = call(h.get_socket_client(), "join", make_args(json::object{{"rooms", json::array{}}}));
    ASSERT_TRUE(r);
    ASSERT_FALSE(r->ec);
  }

  static void connect_and_authenticate(helper& h, queue<std::string>& q) {
    ASSERT_EQ(q.pop(), "connected");
    h.authenticate();
    ASSERT_EQ(q.pop(), "authenticated");
  }

  static inline std::unique_ptr<program_server> server_;
};

TEST_F(ClientHelperChecklist, Item59_InitialStateUnauthorizedAndEarlyAuthenticateIsNoop) {
  // A short authentication deadline: a client that never sends `authenticate` is disconnected.
  program_server own(program_flags("500"));
  queue<std::string> q;
  io_thread io;
  helper h(io.executor(), options(q, good_token, own.url()));
  EXPECT_EQ(h.get_state(), helper_state::unauthorized);
  h.authenticate();  // not connected yet: nothing is emitted, nothing is buffered
  EXPECT_EQ(h.get_state(), helper_state::unauthorized);
  ASSERT_EQ(q.pop(), "connected");
  // Had `authenticate` gone out, the server would have answered `authenticated`; instead its
  // deadline passes and it disconnects the client.
  EXPECT_EQ(q.pop(), "disconnected:io server disconnect");
  EXPECT_EQ(h.get_state(), helper_state::unauthorized);
}

TEST_F(ClientHelperChecklist, Item60_AuthenticateEmitsOnceAndMovesToAuthenticating) {
  queue<std::string> q;
  io_thread io;
  helper h(io.executor(), options(q));
  ASSERT_EQ(q.pop(), "connected");
  h.authenticate();
  EXPECT_EQ(h.get_state(), helper_state::authenticating);
  h.authenticate();  // not unauthorized any more: nothing
  EXPECT_EQ(h.get_state(), helper_state::authenticating);
  EXPECT_EQ(q.pop(), "authenticated");
  round_trip(h);
  EXPECT_EQ(q.size(), 0u);
}

TEST_F(ClientHelperChecklist, Item61_AuthenticatedCallsOnAuthenticated) {
  queue<std::string> q;
  queue<std::string> got;
  io_thread io;
  helper h(io.executor(), options(q));
  connect_and_authenticate(h, q);
  EXPECT_EQ(h.get_state(), helper_state::authenticated);
  // The server put the client in its default rooms: a room message reaches it now.
  h.subscribe({.event = "news", .handler = [&got](payload& p, ack_responder) {
                 got.push(std::string(p.args.at(0).as_string()));
               }});
  round_trip(h);  // the subscription is in place
  server_send("io-default", "news", "hello");
  EXPECT_EQ(got.pop(), "hello");
}

TEST_F(ClientHelperChecklist, Item62_UnauthenticatedCallsOnUnauthenticatedWithTheMessage) {
  queue<std::string> q;
  io_thread io;
  helper h(io.executor(), options(q, "wrong-token"));
  ASSERT_EQ(q.pop(), "connected");
  h.authenticate();
  EXPECT_EQ(q.pop(), "unauthenticated:" + std::string(invalid_token_message));
  EXPECT_EQ(q.pop(), "disconnected:io server disconnect");
  EXPECT_EQ(h.get_state(), helper_state::unauthorized);
}

TEST_F(ClientHelperChecklist, Item63_AnyDisconnectResetsTheState) {
  queue<std::string> q;
  queue<std::string> q2;
  io_thread io;
  auto o = options(q);
  o.options.reconnection.enabled = false;
  helper h(io.executor(), o);
  connect_and_authenticate(h, q);
  h.disconnect();
  EXPECT_EQ(q.pop(), "disconnected:io client disconnect");
  EXPECT_EQ(h.get_state(), helper_state::unauthorized);

  // A connection lost on the server's side.
  program_server own(program_flags());
  helper h2(io.executor(), options(q2, good_token, own.url()));
  connect_and_authenticate(h2, q2);
  own.kill();
  EXPECT_TRUE(q2.wait_until(is_transport_loss));
  EXPECT_EQ(h2.get_state(), helper_state::unauthorized);
}

TEST_F(ClientHelperChecklist, Item64_EmitErrorsConnectionCheckedFirst) {
  queue<std::string> q;
  io_thread io;
  helper h(io.executor(), options(q));
  // Not connected yet: the state is checked before the topic.
  try {
    h.emit({.topic = ""});
    FAIL() << "no throw";
  } catch (const helper_error& e) {
    EXPECT_STREQ(e.what(), "Invalid socket client state to emit");
    EXPECT_EQ(e.status_code(), 400);
  }
  ASSERT_EQ(q.pop(), "connected");
  try {
    h.emit({.topic = ""});
    FAIL() << "no throw";
  } catch (const helper_error& e) {
    EXPECT_STREQ(e.what(), "Topic is required to emit");
    EXPECT_EQ(e.status_code(), 400);
  }
}

TEST_F(ClientHelperChecklist, Item65_EmitCallbackRunsRightAfterTheEmit) {
  queue<std::string> q;
  queue<bool> cb;
  queue<int> gate;
  std::atomic<bool> returned{false};
  io_thread io;
  helper h(io.executor(), options(q));
  connect_and_authenticate(h, q);
  // The strand waits at the gate until emit() has returned: a callback called from inside emit()
  // would see `returned` false, one run on the strand after the emit sees it true.
  asio::post(h.get_socket_client().get_executor(), [&gate] { gate.pop(); });
  // The program never acknowledges "record": the callback cannot be waiting for an ack.
  h.emit({.topic = "record", .data = json::object{{"k", "v"}}, .cb = [&] {
            cb.push(returned.load());
          }});
  returned = true;
  gate.push(1);
  EXPECT_EQ(cb.pop(), true);
  EXPECT_TRUE(h.get_socket_client().connected());
}

TEST_F(ClientHelperChecklist, Item66_IgnoreDuplicateCountsOnlyApplicationHandlers) {
  queue<std::string> q;
  queue<std::string> got;
  io_thread io;
  helper h(io.executor(), options(q));
  // The helper listens to "authenticated" and "ping" itself: that does not block these.
  EXPECT_TRUE(h.subscribe(
      {.event = "authenticated", .handler = [&](payload&, ack_responder) { got.push("app"); }}));
  EXPECT_TRUE(h.subscribe(
      {.event = "ping", .handler = [&](payload&, ack_responder) { got.push("ping"); }}));
  // A second application handler of the same event is ignored by default...
  EXPECT_FALSE(h.subscribe(
      {.event = "authenticated", .handler = [&](payload&, ack_responder) { got.push("dup"); }}));
  // ...and registered with ignore_duplicate off.
  EXPECT_TRUE(h.subscribe({.event = "authenticated",
                           .handler = [&](payload&, ack_responder) { got.push("second"); },
                           .ignore_duplicate = false}));
  connect_and_authenticate(h, q);
  // The server sends "ping" then "authenticated".
  EXPECT_EQ(got.pop(), "ping");
  EXPECT_EQ(got.pop(), "app");
  EXPECT_EQ(got.pop(), "second");
  round_trip(h);
  EXPECT_EQ(got.size(), 0u);
}

TEST_F(ClientHelperChecklist, Item67_HandlersGetTheDataAndTheirErrorsDoNotBreakTheClient) {
  queue<std::string> q;
  queue<json::value> got;
  std::atomic<int> thrown{0};
  io_thread io;
  auto o = options(q);
  o.log = [&thrown](std::string_view level, std::string_view message) {
    if (level == "error" && message.find("handler failure") != std::string_view::npos) ++thrown;
  };
  helper h(io.executor(), o);
  h.subscribe({.event = "news", .handler = [](payload&, ack_responder) {
                 throw std::runtime_error("handler failure");
               }});
  h.subscribe({.event = "news",
               .handler = [&got](payload& p, ack_responder) { got.push(p.args.at(0)); },
               .ignore_duplicate = false});
  connect_and_authenticate(h, q);
  const auto id = h.get_socket_client().id();
  const json::value first = json::object{{"n", 1}, {"list", json::array{1, "two", nullptr}}};
  server_send(id, "news", first);
  EXPECT_EQ(got.pop(), first);
  server_send(id, "news", 0);  // falsy data is delivered too
  EXPECT_EQ(got.pop(), json::value(0));
  EXPECT_EQ(thrown.load(), 2);
  EXPECT_TRUE(h.get_socket_client().connected());
  EXPECT_EQ(h.get_state(), helper_state::authenticated);
}

TEST_F(ClientHelperChecklist, Item68_UnsubscribeRemovesExactlyWhatItNames) {
  queue<std::string> q;
  queue<std::string> got;
  io_thread io;
  helper h(io.executor(), options(q));
  auto a =
      h.subscribe({.event = "news", .handler = [&](payload&, ack_responder) { got.push("a"); }});
  auto b = h.subscribe({.event = "news",
                        .handler = [&](payload&, ack_responder) { got.push("b"); },
                        .ignore_duplicate = false});
  ASSERT_TRUE(a && b);
  h.subscribe(
      {.event = "authenticated", .handler = [&](payload&, ack_responder) { got.push("auth"); }});
  // Removing every application handler of "authenticated" keeps the helper's own (B10).
  h.unsubscribe({.event = "authenticated"});
  connect_and_authenticate(h, q);
  EXPECT_EQ(h.get_state(), helper_state::authenticated);

  h.unsubscribe({.event = "news", .handler = *a});  // exactly that handler (B9)
  round_trip(h);
  const auto id = h.get_socket_client().id();
  server_send(id, "news", 1);
  EXPECT_EQ(got.pop(), "b");

  h.unsubscribe_many({.events = {"news"}});
  round_trip(h);
  server_send(id, "news", 2);
  round_trip(h);  // the server sent "news" before answering
  EXPECT_EQ(got.size(), 0u);
}

TEST_F(ClientHelperChecklist, Item69_JoinAndLeaveRooms) {
  queue<std::string> q;
  queue<std::string> got;
  queue<std::string> offline_q;
  io_thread io;
  {
    // Never connected: nothing is emitted, nothing throws.
    auto o = options(offline_q, good_token, "http://127.0.0.1:" + std::to_string(free_port()));
    o.options.reconnection.enabled = false;
    helper offline(io.executor(), o);
    EXPECT_NO_THROW(offline.join_rooms({.rooms = {"r1"}}));
    EXPECT_NO_THROW(offline.leave_rooms({.rooms = {"r1"}}));
    EXPECT_TRUE(offline_q.wait_until([](const std::string& e) { return e.starts_with("error:"); }));
  }
  helper h(io.executor(), options(q));
  h.subscribe({.event = "news", .handler = [&got](payload& p, ack_responder) {
                 got.push(std::string(p.args.at(0).as_string()));
               }});
  connect_and_authenticate(h, q);
  h.join_rooms({.rooms = {"r1", "r2"}});
  round_trip(h);
  server_send("r1", "news", "to r1");
  EXPECT_EQ(got.pop(), "to r1");
  h.leave_rooms({.rooms = {"r1"}});
  round_trip(h);
  server_send("r1", "news", "to r1 again");
  server_send("r2", "news", "to r2");
  EXPECT_EQ(got.pop(), "to r2");  // not "to r1 again": one shard sends in order
  EXPECT_EQ(got.size(), 0u);
}

TEST_F(ClientHelperChecklist, Item70_ShutdownReportsTheDisconnectAndLetsGo) {
  program_server own(program_flags());
  queue<std::string> q;
  io_thread io;
  helper h(io.executor(), options(q, good_token, own.url()));
  connect_and_authenticate(h, q);
  h.shutdown();
  EXPECT_EQ(h.get_state(), helper_state::unauthorized);
  EXPECT_EQ(q.pop(), "disconnected:io client disconnect");  // B11 fixed
  EXPECT_FALSE(h.get_socket_client().connected());
  // The server lets go of the client; it has no event to await, so look a few times.
  std::int64_t count = -1;
  queue<int> pause;  // never filled: only a bounded wait between two looks
  for (int i = 0; i < 50 && count != 0; ++i) {
    const auto clients = own.api_get("/api/clients");
    ASSERT_TRUE(clients.is_object());
    count = clients.at("count").as_int64();
    if (count != 0) pause.pop(100ms);
  }
  EXPECT_EQ(count, 0);
  EXPECT_EQ(q.size(), 0u);  // and no callback after the shutdown
}

TEST_F(ClientHelperChecklist, Item71_NoAutomaticAuthenticateByDefault) {
  program_server own(program_flags("500"));
  queue<std::string> q;
  io_thread io;
  helper h(io.executor(), options(q, good_token, own.url()));
  ASSERT_EQ(q.pop(), "connected");
  // The server's authentication deadline passes without an `authenticate`.
  EXPECT_EQ(q.pop(), "disconnected:io server disconnect");
  EXPECT_EQ(h.get_state(), helper_state::unauthorized);
}

TEST_F(ClientHelperChecklist, Item71_AutoAuthenticateAfterServerRestartWithBackoff) {
  program_server own(program_flags());
  queue<std::string> q;
  queue<std::chrono::steady_clock::time_point> attempts;
  io_thread io;
  auto o = options(q, good_token, own.url());
  o.auto_authenticate = true;
  o.options.reconnection.delay = 100ms;
  o.options.reconnection.delay_max = 400ms;
  o.options.reconnection.randomization = 0;  // exact delays: 100, 200, 400, 400, ... ms
  helper h(io.executor(), o);
  h.get_manager().on_reconnect_attempt(
      [&attempts](std::size_t) { attempts.push(std::chrono::steady_clock::now()); });
  EXPECT_EQ(q.pop(), "connected");
  EXPECT_EQ(q.pop(), "authenticated");
  const auto first_id = h.get_socket_client().id();

  own.kill();
  EXPECT_TRUE(q.wait_until(is_transport_loss));
  EXPECT_EQ(h.get_state(), helper_state::unauthorized);
  // Three attempts fail against the dead port, each after a longer wait than the one before.
  std::vector<std::chrono::steady_clock::time_point> at;
  for (int i = 0; i < 3; ++i) {
    auto t = attempts.pop();
    ASSERT_TRUE(t);
    at.push_back(*t);
  }
  EXPECT_GE(at[1] - at[0], 200ms);
  EXPECT_GE(at[2] - at[1], 400ms);

  own.restart();
  EXPECT_TRUE(q.wait_for("connected"));
  EXPECT_EQ(q.pop(), "authenticated");
  EXPECT_EQ(h.get_state(), helper_state::authenticated);
  EXPECT_NE(h.get_socket_client().id(), first_id);
  const auto clients = own.api_get("/api/clients");
  ASSERT_TRUE(clients.is_object());
  EXPECT_EQ(clients.at("authenticated").as_int64(), 1);
}

}  // namespace
}  // namespace ignis::client::test
