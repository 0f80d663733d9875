// The Socket.IO server in process: namespaces, middlewares, events and acknowledgements in both
// directions, rooms and broadcasts, the connect timeout, disconnects, and the adapter interface,
// driven by long-polling clients through synthetic HTTP exchanges on a manual clock
// (tests/support/inprocess.hpp). The Node interop suites check the same on the wire from outside.
#include "support/inprocess.hpp"

#include <ignis/socketio/server.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/deferred.hpp>
#include <gtest/gtest.h>

#include <map>
#include <regex>

namespace {

using namespace ignis;
using namespace std::chrono_literals;
using test::sio_client;
using strings = std::vector<std::string>;

class SocketIOServer : public ::testing::Test {
 protected:
  test::loop loop;
  std::unique_ptr<socketio::server> server;

  socketio::server& make(socketio::server_options options = {},
                         socketio::adapter_factory adapters = {}) {
    server = std::make_unique<socketio::server>(loop.rt, std::move(options), std::move(adapters));
    return *server;
  }
  sio_client client() { return sio_client(loop, server->engine()); }
  // Connects to "/" and returns the socket id.
  std::string join(sio_client& c, const std::string& nsp = "/") {
    return sio_client::sid_of(c.connect(nsp));
  }
};

TEST_F(SocketIOServer, ConnectAnswersTheSocketIdAndRunsConnectionHandlers) {
  auto& srv = make();
  std::vector<std::string> connected;
  srv.main().on_connection([&](const socketio::socket_ptr& s) { connected.emplace_back(s->id()); });
  auto c = client();
  const auto answer = c.connect();
  ASSERT_TRUE(answer.starts_with(R"(0{"sid":")")) << answer;
  ASSERT_EQ(connected.size(), 1u);
  EXPECT_EQ(sio_client::sid_of(answer), connected[0]);
}

TEST_F(SocketIOServer, AnUnknownNamespaceIsRefusedAndARegisteredOrDynamicOneAccepted) {
  auto& srv = make();
  srv.of("/chat");
  srv.of(std::regex("/room-\\d+"));
  auto c = client();
  EXPECT_EQ(c.connect("/nope"), R"(4/nope,{"message":"Invalid namespace"})");
  EXPECT_TRUE(c.connect("/chat").starts_with(R"(0/chat,{"sid":")"));
  EXPECT_TRUE(c.connect("/room-42").starts_with(R"(0/room-42,{"sid":")"));
  EXPECT_NE(srv.find("/room-42"), nullptr);
}

TEST_F(SocketIOServer, AMiddlewareRefusalIsAConnectErrorWithItsData) {
  auto& srv = make();
  srv.main().use([](socketio::socket& s, socketio::next_fn next) {
    if (s.handshake().auth.contains("token")) return next(std::nullopt);
    next(socketio::connect_error{"unauthorized", boost::json::value{{"why", "no token"}}});
  });
  auto refused = client();
  EXPECT_EQ(refused.connect(), R"(4{"message":"unauthorized","data":{"why":"no token"}})");
  auto accepted = client();
  EXPECT_TRUE(accepted.connect("/", R"({"token":"t"})").starts_with(R"(0{"sid":")"));
}

TEST_F(SocketIOServer, EventsReachHandlersAndClientAcksAreAnswered) {
  auto& srv = make();
  srv.main().on_connection([](const socketio::socket_ptr& s) {
    s->on("echo", [](socketio::socket& self, socketio::payload& args, socketio::ack_responder ack) {
      if (ack) {
        ack(std::move(args));
      } else {
        self.emit("echoed", std::move(args));
      }
    });
  });
  auto c = client();
  join(c);
  c.send(R"(2["echo",1,"two"])");
  EXPECT_EQ(c.received(), strings{R"(2["echoed",1,"two"])"});
  c.send(R"(27["echo",{"a":true}])");
  EXPECT_EQ(c.received(), strings{R"(37[{"a":true}])"});
}

// Handlers shared by every socket of a namespace: a socket's own handler for the same event
// replaces the shared one for that socket only; the namespace's disconnect handlers run before the
// socket's own, for every socket, and a dynamic namespace gets its parent's.
TEST_F(SocketIOServer, NamespaceWideEventAndDisconnectHandlers) {
  auto& srv = make();
  std::vector<std::string> order;
  auto install = [&](socketio::namespace_& nsp) {
    nsp.on_event("echo",
                 [](socketio::socket& self, socketio::payload& args, socketio::ack_responder ack) {
                   if (ack) return ack(std::move(args));
                   self.emit("shared", std::move(args));
                 });
    nsp.on_socket_disconnect([&](socketio::socket& self, socketio::disconnect_reason why) {
      order.push_back("namespace " + std::string(to_string(why)) + " " + self.nsp().name());
    });
  };
  install(srv.main());
  install(srv.of(std::regex("/room-\\d+")));
  srv.main().on_connection([&](const socketio::socket_ptr& s) {
    if (!s->handshake().auth.contains("own")) return;
    s->on("echo", [](socketio::socket& self, socketio::payload& args, socketio::ack_responder) {
      self.emit("own", std::move(args));
    });
    s->on_disconnect(
        [&](socketio::socket&, socketio::disconnect_reason) { order.emplace_back("socket"); });
  });
  auto shared = client();
  auto own = client();
  auto dynamic = client();
  join(shared);
  own.connect("/", R"({"own":true})");
  ASSERT_TRUE(dynamic.connect("/room-7").starts_with(R"(0/room-7,{"sid":")"));
  shared.send(R"(2["echo",1])");
  EXPECT_EQ(shared.received(), strings{R"(2["shared",1])"});
  shared.send(R"(25["echo",2])");
  EXPECT_EQ(shared.received(), strings{R"(35[2])"});
  own.send(R"(2["echo",3])");
  EXPECT_EQ(own.received(), strings{R"(2["own",3])"});
  dynamic.send(R"(2/room-7,["echo",4])");
  EXPECT_EQ(dynamic.received(), strings{R"(2/room-7,["shared",4])"});
  own.send("1");
  shared.send("1");
  dynamic.send("1/room-7,");
  EXPECT_EQ(order, (strings{"namespace client namespace disconnect /", "socket",
                            "namespace client namespace disconnect /",
                            "namespace client namespace disconnect /room-7"}));
}

// Only the listed headers stay for handshake.headers (the rest are not kept for the connection's
// lifetime); without a list, every header does but those that only negotiated the connection.
TEST_F(SocketIOServer, TheHandshakeKeepsOnlyTheHeadersAskedFor) {
  const std::vector<std::pair<std::string, std::string>> browser{
      {"Authorization", "Bearer t"},   {"Connection", "keep-alive"},
      {"Cookie", "session=abc"},       {"Sec-WebSocket-Extensions", "permessage-deflate"},
      {"Sec-WebSocket-Version", "13"}, {"User-Agent", "test/1.0"}};
  const std::vector<std::optional<std::vector<std::string>>> lists{
      std::vector<std::string>{"authorization"},
      std::vector<std::string>{"connection", "user-agent"}, std::nullopt};
  const std::vector<strings> expected{
      {"authorization=Bearer t", "4"},
      {"connection=keep-alive", "user-agent=test/1.0", "4"},
      {"authorization=Bearer t", "cookie=session=abc", "user-agent=test/1.0", "4"}};
  for (std::size_t i = 0; i < lists.size(); ++i) {
    socketio::server_options options;
    options.engine.kept_headers = lists[i];
    auto& srv = make(options);
    std::vector<std::string> seen;
    srv.main().on_connection([&](const socketio::socket_ptr& s) {
      for (const auto& [name, value] : s->handshake().headers)
        seen.push_back(std::string(name) + "=" + std::string(value));
      seen.push_back(s->handshake().query_param("EIO"));
    });
    sio_client c(loop, server->engine(), "/socket.io/", 0, browser);
    join(c);
    EXPECT_EQ(seen, expected[i]) << "list " << i;
    server.reset();
  }
}

TEST_F(SocketIOServer, TheHandshakeCarriesTheClientsAddress) {
  auto& srv = make();
  std::string address;
  srv.main().on_connection(
      [&](const socketio::socket_ptr& s) { address = s->handshake().address; });
  auto c = client();  // its requests come from 127.0.0.1 (tests/support/inprocess.hpp)
  join(c);
  EXPECT_EQ(address, "127.0.0.1");
}

// The first namespace's handshake lives in the connection's own block and a later namespace's is
// a copy with its own auth: both outlive the connection while the application keeps the socket.
TEST_F(SocketIOServer, AHandshakeOutlivesItsConnectionAndEachNamespaceHasItsOwnAuth) {
  auto& srv = make();
  srv.of("/chat");
  std::vector<socketio::socket_ptr> kept;
  auto keep = [&](const socketio::socket_ptr& s) { kept.push_back(s); };
  srv.main().on_connection(keep);
  srv.of("/chat").on_connection(keep);
  std::vector<socketio::disconnect_reason> reasons;
  auto c = sio_client(loop, server->engine(), "/socket.io/", 0, {{"X-Trace", "t-1"}});
  ASSERT_TRUE(c.connect("/", R"({"who":"main"})").starts_with("0{"));
  ASSERT_TRUE(c.connect("/chat", R"({"who":"chat"})").starts_with("0/chat,{"));
  ASSERT_EQ(kept.size(), 2u);
  for (const auto& s : kept)
    s->on_disconnect(
        [&](socketio::socket&, socketio::disconnect_reason why) { reasons.push_back(why); });
  c.engine().post("1");  // the client closes the connection
  loop.run();
  ASSERT_EQ(reasons, std::vector(2, socketio::disconnect_reason::transport_close));
  for (const auto& s : kept) {
    EXPECT_FALSE(s->connected());
    const auto& h = s->handshake();
    EXPECT_EQ(h.query_param("EIO"), "4");
    EXPECT_EQ(h.header("x-trace"), "t-1");
    EXPECT_EQ(h.address, "127.0.0.1");
    EXPECT_GT(h.issued, 0);
  }
  EXPECT_EQ(kept[0]->handshake().auth.at("who"), "main");
  EXPECT_EQ(kept[1]->handshake().auth.at("who"), "chat");
  EXPECT_NE(&kept[0]->handshake(), &kept[1]->handshake());
}

// When the first of a connection's sockets leaves, the others keep their namespaces; a packet for
// the namespace it left then closes the connection (Node's rule), and every socket left hears it.
TEST_F(SocketIOServer, TheOtherNamespacesOfAConnectionStayWhenTheFirstLeaves) {
  auto& srv = make();
  std::map<std::string, socketio::socket_ptr> by_nsp;
  strings seen;
  for (const std::string name : {"/", "/chat", "/news"}) {
    auto& nsp = srv.of(name);
    nsp.on_connection([&by_nsp, name](const socketio::socket_ptr& s) { by_nsp[name] = s; });
    nsp.on_event("ev", [&seen](socketio::socket& s, socketio::payload&, socketio::ack_responder) {
      seen.push_back(s.nsp().name());
    });
    nsp.on_socket_disconnect([&seen](socketio::socket& s, socketio::disconnect_reason why) {
      seen.push_back(s.nsp().name() + " " + std::string(to_string(why)));
    });
  }
  auto c = client();
  join(c);
  c.connect("/chat");
  c.connect("/news");
  ASSERT_EQ(by_nsp.size(), 3u);
  by_nsp["/"]->disconnect();
  c.send(R"(2/news,["ev"])");
  c.send(R"(2/chat,["ev"])");
  EXPECT_EQ(c.received(), strings{"1"});  // the DISCONNECT of "/"
  EXPECT_EQ(seen, (strings{"/ server namespace disconnect", "/news", "/chat"}));
  seen.clear();
  c.send(R"(2["ev"])");  // for "/", which it left
  loop.run();
  EXPECT_EQ(seen, (strings{"/chat forced server close", "/news forced server close"}));
  EXPECT_EQ(srv.engine()->session_count(), 0u);
}

TEST_F(SocketIOServer, ServerAcksCompleteWithTheAnswerOrTimeOutOnTheClock) {
  auto& srv = make();
  socketio::socket_ptr target;
  srv.main().on_connection([&](const socketio::socket_ptr& s) { target = s; });
  auto c = client();
  join(c);
  std::vector<std::string> results;
  auto record = [&](error_code ec, socketio::payload answer) {
    results.push_back(ec ? ec.message() : socketio::serialize_js(answer.args));
  };
  target->emit_with_ack("q", socketio::make_args(1), 5s, record);
  target->emit_with_ack("q", socketio::make_args(2), 5s, record);
  EXPECT_EQ(c.received(), (strings{R"(20["q",1])", R"(21["q",2])"}));
  c.send(R"(30["a"])");
  EXPECT_EQ(results, strings{R"(["a"])"});
  loop.advance(4999ms);
  EXPECT_EQ(results.size(), 1u);
  loop.advance(1ms);
  EXPECT_EQ(results, (strings{R"(["a"])", "operation has timed out"}));
  c.send(R"(31["late"])");  // an answer after the timeout is ignored
  EXPECT_EQ(results.size(), 2u);
}

TEST_F(SocketIOServer, AckCallbacksOfADisconnectedSocketCompleteWithDisconnectedNeverInline) {
  auto& srv = make();
  socketio::socket_ptr target;
  srv.main().on_connection([&](const socketio::socket_ptr& s) { target = s; });
  auto c = client();
  join(c);
  std::vector<std::string> results;
  target->emit_with_ack("q", {}, 5s,
                        [&](error_code ec, socketio::payload) { results.push_back(ec.message()); });
  c.send("1");  // the client leaves the namespace
  EXPECT_EQ(results, strings{"socket has been disconnected"});
  bool called = false;
  target->emit_with_ack("q", {}, 5s, [&](error_code ec, socketio::payload) {
    called = ec == socketio::ack_error::disconnected;
  });
  EXPECT_FALSE(called) << "completed inside emit_with_ack";
  loop.run();
  EXPECT_TRUE(called);
}

TEST_F(SocketIOServer, RoomsBroadcastsExceptAndTheSendersOwnRoom) {
  auto& srv = make();
  std::vector<socketio::socket_ptr> sockets;
  srv.main().on_connection([&](const socketio::socket_ptr& s) { sockets.push_back(s); });
  auto a = client();
  auto b = client();
  auto c = client();
  const auto id_a = join(a);
  join(b);
  join(c);
  sockets[0]->join("red");
  sockets[1]->join(std::vector<std::string>{"red", "blue"});
  sockets[2]->join("blue");
  EXPECT_EQ(sockets[1]->rooms(), (strings{std::string(sockets[1]->id()), "red", "blue"}));

  srv.main().to("red").emit("r");
  srv.main().to("red").to("blue").except("blue").emit("only-a");
  srv.main().to(id_a).emit("direct");
  sockets[1]->broadcast().emit("from-b");  // everyone but b
  sockets[0]->to("blue").emit("a-to-blue");
  EXPECT_EQ(a.received(),
            (strings{R"(2["r"])", R"(2["only-a"])", R"(2["direct"])", R"(2["from-b"])"}));
  EXPECT_EQ(b.received(), (strings{R"(2["r"])", R"(2["a-to-blue"])"}));
  EXPECT_EQ(c.received(), (strings{R"(2["from-b"])", R"(2["a-to-blue"])"}));

  sockets[1]->leave("red");
  srv.main().to("red").emit("r2");
  EXPECT_EQ(b.received(), strings{});
  EXPECT_EQ(a.received(), strings{R"(2["r2"])"});
}

TEST_F(SocketIOServer, ADisconnectedSocketLeavesEveryRoomAndGetsNoMore) {
  auto& srv = make();
  std::vector<socketio::socket_ptr> sockets;
  std::vector<std::string> reasons;
  srv.main().on_connection([&](const socketio::socket_ptr& s) {
    sockets.push_back(s);
    s->join("r");
    s->on_disconnect([&](socketio::socket&, socketio::disconnect_reason why) {
      reasons.emplace_back(to_string(why));
    });
  });
  auto a = client();
  auto b = client();
  join(a);
  join(b);
  a.send("1");
  EXPECT_EQ(reasons, strings{"client namespace disconnect"});
  EXPECT_FALSE(sockets[0]->connected());
  EXPECT_TRUE(sockets[0]->rooms().empty());
  srv.main().to("r").emit("x");
  EXPECT_EQ(b.received(), strings{R"(2["x"])"});
  sockets[1]->disconnect();
  EXPECT_EQ(b.received(), strings{"1"});
  EXPECT_EQ(reasons.back(), "server namespace disconnect");
}

TEST_F(SocketIOServer, VolatileBroadcastsAreDroppedForAClientWithNoPollPending) {
  auto& srv = make();
  auto a = client();
  join(a);
  a.received();                       // a poll is held now
  srv.main().volatile_().emit("v1");  // answers it
  loop.run();
  srv.main().volatile_().emit("v2");  // no poll pending: not writable, dropped (as Node)
  srv.main().emit("kept");            // queued for the next poll
  loop.run();
  EXPECT_EQ(a.received(), (strings{R"(2["v1"])", R"(2["kept"])"}));
}

TEST_F(SocketIOServer, AConnectionThatJoinsNoNamespaceIsClosedAtTheConnectTimeout) {
  socketio::server_options options;
  options.connect_timeout = 1000ms;
  make(options);
  test::polling_client eio(loop, server->engine(), "/socket.io/");
  eio.open();
  EXPECT_TRUE(eio.poll());  // held
  loop.advance(999ms);
  EXPECT_TRUE(eio.holding());
  loop.advance(1ms);
  EXPECT_EQ(eio.take(), strings{"1"});  // the close packet
  EXPECT_FALSE(eio.poll());
  EXPECT_EQ(eio.last_status(), 400u);
}

TEST_F(SocketIOServer, AConnectionThatJoinedANamespaceOutlivesTheConnectTimeout) {
  // The connect timeout rides on the Engine.IO session's own deadline: joining clears it, and the
  // session's ping deadlines go on as before.
  socketio::server_options options;
  options.connect_timeout = 1000ms;
  options.engine.ping_interval = 3000ms;
  auto& srv = make(options);
  auto c = client();
  join(c);
  EXPECT_EQ(srv.main().stats().sockets, 1);
  auto& eio = c.engine();
  EXPECT_TRUE(eio.holding());
  loop.advance(2000ms);
  EXPECT_TRUE(eio.holding());
  EXPECT_EQ(srv.main().stats().sockets, 1);
  loop.advance(1000ms);
  EXPECT_EQ(eio.take(), strings{"2"});  // the ping, not a close
  EXPECT_EQ(srv.main().stats().sockets, 1);
}

TEST_F(SocketIOServer, FetchSocketsSocketsJoinLeaveAndDisconnectSocketsLocally) {
  auto& srv = make();
  auto a = client();
  auto b = client();
  const auto id_a = join(a);
  const auto id_b = join(b);
  srv.main().all().sockets_join({"team"});
  loop.run();
  std::vector<socketio::socket_info> found;
  srv.main().to("team").fetch_sockets(
      [&](std::vector<socketio::socket_info> s) { found = std::move(s); });
  loop.run();
  ASSERT_EQ(found.size(), 2u);
  srv.main().to(id_a).sockets_leave({"team"});
  loop.run();
  srv.main().to("team").fetch_sockets(
      [&](std::vector<socketio::socket_info> s) { found = std::move(s); });
  loop.run();
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].id, id_b);
  EXPECT_EQ(found[0].rooms, (strings{id_b, "team"}));
  srv.main().to("team").disconnect_sockets();
  loop.run();
  EXPECT_EQ(b.received(), strings{"1"});
  EXPECT_EQ(a.received(), strings{});
}

TEST_F(SocketIOServer, BroadcastAcksCollectOneAnswerPerRecipientOrTimeOut) {
  auto& srv = make();
  auto a = client();
  auto b = client();
  join(a);
  join(b);
  std::optional<std::pair<std::string, std::size_t>> result;
  srv.main().timeout(2s).emit_with_ack("q", {},
                                       [&](error_code ec, std::vector<socketio::payload> r) {
                                         result = {ec ? ec.message() : "ok", r.size()};
                                       });
  loop.run();
  const auto qa = a.received();
  ASSERT_EQ(qa.size(), 1u);
  const auto id = qa[0].substr(1, qa[0].find('[') - 1);
  EXPECT_EQ(b.received().size(), 1u);
  a.send("3" + id + "[1]");
  EXPECT_FALSE(result);
  loop.advance(2s);  // b never answers
  ASSERT_TRUE(result);
  EXPECT_EQ(*result, (std::pair<std::string, std::size_t>{"operation has timed out", 1}));

  result.reset();
  srv.main().timeout(2s).emit_with_ack("q", {},
                                       [&](error_code ec, std::vector<socketio::payload> r) {
                                         result = {ec ? ec.message() : "ok", r.size()};
                                       });
  loop.run();
  for (auto* c : {&a, &b}) {
    const auto q = c->received();
    ASSERT_EQ(q.size(), 1u);
    c->send("3" + q[0].substr(1, q[0].find('[') - 1) + "[2]");
  }
  ASSERT_TRUE(result);
  EXPECT_EQ(*result, (std::pair<std::string, std::size_t>{"ok", 2}));
}

TEST_F(SocketIOServer, AsyncEmitWithAckCompletesAfterTheCallAndCanBeCancelled) {
  auto& srv = make();
  socketio::socket_ptr target;
  srv.main().on_connection([&](const socketio::socket_ptr& s) { target = s; });
  auto c = client();
  join(c);
  std::vector<std::string> results;
  boost::asio::cancellation_signal cancel;
  target->async_emit_with_ack(
      "q", {}, 5s,
      boost::asio::bind_cancellation_slot(cancel.slot(), [&](error_code ec, socketio::payload) {
        results.push_back(ec.message());
      }));
  target->async_emit_with_ack("q", {}, 5s, [&](error_code ec, socketio::payload answer) {
    results.push_back(ec ? ec.message() : socketio::serialize_js(answer.args));
  });
  EXPECT_EQ(c.received(), (strings{R"(20["q"])", R"(21["q"])"}));
  cancel.emit(boost::asio::cancellation_type::terminal);
  EXPECT_TRUE(results.empty()) << "completed inside emit()";
  loop.run();
  EXPECT_EQ(results, strings{"Operation canceled"});
  c.send(R"(30["too late"])");  // the cancelled one is forgotten
  c.send(R"(31["yes"])");
  loop.run();
  EXPECT_EQ(results, (strings{"Operation canceled", R"(["yes"])"}));
}

TEST_F(SocketIOServer, AsyncFetchSocketsOfATemporaryOperatorWorksWhenStartedLater) {
  auto& srv = make();
  auto a = client();
  const auto id = join(a);
  srv.main().all().sockets_join({"r"});
  loop.run();
  // The operator is a temporary; the deferred operation starts after it is gone.
  auto deferred = srv.main().to("r").async_fetch_sockets(boost::asio::deferred);
  std::vector<std::string> ids;
  bool returned = false;
  std::move(deferred)([&](std::vector<socketio::socket_info> found) {
    EXPECT_TRUE(returned) << "completed inside the call";
    for (auto& f : found)
      ids.push_back(f.id);
  });
  returned = true;
  loop.run();
  EXPECT_EQ(ids, strings{id});
}

// An adapter standing for a cluster: records what the namespace asks of it, passes broadcasts to
// the local half as the Redis adapters do, and answers for one more server.
class recording_adapter final : public socketio::adapter {
 public:
  explicit recording_adapter(socketio::namespace_& nsp, std::vector<std::string>& log)
      : adapter(nsp), log_(log) {}
  void broadcast(socketio::packet p, const socketio::broadcast_options& opts) override {
    std::string line = "broadcast rooms=";
    for (const auto& r : opts.rooms)
      line += r + ";";
    line += " except=";
    for (const auto& r : opts.except)
      line += r + ";";
    if (opts.flags.volatile_) line += " volatile";
    if (opts.flags.local) line += " local";
    log_.push_back(line);
    broadcast_local(p, opts);
  }
  void server_side_emit(
      socketio::payload args,
      std::function<void(error_code, std::vector<socketio::payload>)> done) override {
    log_.push_back("server_side_emit " + socketio::serialize_js(args.args));
    if (done) done({}, {socketio::make_args("from the other server")});
  }
  void server_count(std::function<void(std::size_t)> done) override { done(2); }

 private:
  std::vector<std::string>& log_;
};

TEST_F(SocketIOServer, TheAdapterSeesEveryBroadcastWithItsOptionsAndServerSideEmits) {
  std::vector<std::string> log;
  auto& srv = make(
      {}, [&](socketio::namespace_& nsp) { return std::make_unique<recording_adapter>(nsp, log); });
  auto a = client();
  const auto id = join(a);
  srv.main().to("r").except("x").volatile_().emit("e");
  srv.main().local().emit("l");
  srv.main().emit("all");
  std::vector<std::string> replies;
  srv.main().server_side_emit("hello", socketio::make_args(1),
                              [&](error_code, std::vector<socketio::payload> r) {
                                for (auto& p : r)
                                  replies.push_back(socketio::serialize_js(p.args));
                              });
  EXPECT_EQ(log, (strings{"broadcast rooms=r; except=x; volatile", "broadcast rooms= except= local",
                          "broadcast rooms= except=", R"(server_side_emit ["hello",1])"}));
  EXPECT_EQ(replies, strings{R"(["from the other server"])"});
  EXPECT_EQ(a.received(), (strings{R"(2["l"])", R"(2["all"])"}));
  (void)id;
}

TEST_F(SocketIOServer, BinaryAttachmentsTravelBothWays) {
  auto& srv = make();
  srv.main().on_connection([](const socketio::socket_ptr& s) {
    s->on("bin", [](socketio::socket& self, socketio::payload& args, socketio::ack_responder) {
      const auto* bytes = args.binary(args.args[0]);
      socketio::payload back;
      back.args.push_back(back.add_binary(bytes ? *bytes + "!" : "missing"));
      self.emit("bin-back", std::move(back));
    });
  });
  auto c = client();
  join(c);
  // A binary event over polling: the attachment follows as a base64 'b' record.
  c.engine().post(
      std::vector<std::string>{R"(451-["bin",{"_placeholder":true,"num":0}])", "bAQI="});
  loop.run();
  EXPECT_EQ(c.engine().take(),
            (strings{R"(451-["bin-back",{"_placeholder":true,"num":0}])", "bAQIh"}));
}

TEST_F(SocketIOServer, WhatAMiddlewareEmitsGoesOutBeforeTheConnectAnswer) {
  auto& srv = make();
  srv.of("/admin").use([](socketio::socket& s, socketio::next_fn next) {
    s.emit("session", socketio::make_args("abc"));  // as @socket.io/admin-ui's login does
    next(std::nullopt);
  });
  auto c = client();
  c.send("0/admin,");
  const auto got = c.received();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], R"(2/admin,["session","abc"])");
  EXPECT_TRUE(got[1].starts_with(R"(0/admin,{"sid":")")) << got[1];
}

TEST_F(SocketIOServer, NamespacesAreListedWithTheirSocketCounts) {
  auto& srv = make();
  srv.of("/chat");
  srv.of(std::regex("/dyn-\\d+"));
  auto a = client();
  join(a);
  auto b = client();
  join(b);
  join(b, "/chat");
  join(b, "/dyn-1");
  std::vector<std::string> names;
  for (auto* n : srv.namespaces())
    names.push_back(n->name());
  EXPECT_EQ(names, (strings{"/", "/chat", "/dyn-1"})) << "the dynamic parent is not listed";
  EXPECT_EQ(srv.main().stats().sockets, 2);
  EXPECT_EQ(srv.of("/chat").stats().sockets, 1);
  b.send("1/chat,");
  loop.run();
  EXPECT_EQ(srv.of("/chat").stats().sockets, 0);
}

// A middleware that answers after the connection is gone (an authentication service that is
// slow to reply) admits nothing: the socket it held never joins its namespace, no connection
// handler runs, and its handshake (which keeps the connection's block) is still readable.
TEST_F(SocketIOServer, AMiddlewareThatAnswersAfterTheConnectionClosedAdmitsNothing) {
  auto& srv = make();
  std::vector<socketio::next_fn> waiting;
  socketio::socket_ptr held;
  srv.of("/slow").use([&](socketio::socket& s, socketio::next_fn next) {
    held = s.shared_from_this();
    waiting.push_back(std::move(next));
  });
  int connections = 0;
  srv.of("/slow").on_connection([&](const socketio::socket_ptr&) { ++connections; });
  auto c = sio_client(loop, server->engine(), "/socket.io/", 0, {{"X-Trace", "t-2"}});
  ASSERT_TRUE(c.connect("/", "{}").starts_with("0{"));
  c.send(R"(0/slow,{"who":"late"})");
  loop.run();
  ASSERT_EQ(waiting.size(), 1u);
  c.engine().post("1");  // the client closes the connection
  loop.run();
  waiting.front()(std::nullopt);
  loop.run();
  EXPECT_EQ(connections, 0);
  EXPECT_EQ(srv.of("/slow").stats().sockets, 0);
  EXPECT_FALSE(held->connected());
  EXPECT_EQ(held->handshake().header("x-trace"), "t-2");
  EXPECT_EQ(held->handshake().auth.at("who"), "late");
}

TEST_F(SocketIOServer, ANamespaceMayConcealItsHandshakeAuthFromFetchSockets) {
  auto& srv = make();
  srv.of("/secret").conceal_auth();
  auto c = client();
  join(c);
  c.send(R"(0/secret,{"password":"p"})");
  c.received();
  srv.of("/other");
  c.send(R"(0/other,{"token":"t"})");
  c.received();
  std::vector<socketio::socket_info> hidden, shown;
  srv.of("/secret").all().fetch_sockets([&](auto found) { hidden = std::move(found); });
  srv.of("/other").all().fetch_sockets([&](auto found) { shown = std::move(found); });
  loop.run();
  ASSERT_EQ(hidden.size(), 1u);
  EXPECT_EQ(hidden[0].handshake.at("auth"), boost::json::object());
  ASSERT_EQ(shown.size(), 1u);
  EXPECT_EQ(shown[0].handshake.at("auth"), (boost::json::object{{"token", "t"}}));
}

// Everything an observer is told, as one line each.
struct recording_observer final : socketio::observer {
  std::vector<std::string> seen;
  void on_connect(socketio::socket& s) override { seen.push_back("connect " + s.nsp().name()); }
  void on_disconnect(socketio::socket&, socketio::disconnect_reason r,
                     const std::vector<std::string>& rooms) override {
    seen.push_back("disconnect " + std::string(to_string(r)) + " rooms " +
                   std::to_string(rooms.size()));
  }
  void on_join(socketio::socket& s, std::string_view room) override {
    seen.push_back(room == s.id() ? "join own" : "join " + std::string(room));
  }
  void on_leave(socketio::socket& s, std::string_view room) override {
    seen.push_back(room == s.id() ? "leave own" : "leave " + std::string(room));
  }
  void on_upgrade(socketio::socket&) override { seen.push_back("upgrade"); }
  void on_event_received(socketio::socket&, std::string_view event,
                         const socketio::payload& args) override {
    seen.push_back("received " + std::string(event) + socketio::serialize_js(args.args));
  }
  void on_events_sent(socketio::namespace_&, const socketio::packet& p,
                      std::span<socketio::socket* const> to) override {
    seen.push_back("sent " + socketio::serialize_js(*p.data) + " to " + std::to_string(to.size()));
  }
  void on_info(const socketio::socket&, socketio::socket_info& info) override {
    info.data = "observed";
  }
};

TEST_F(SocketIOServer, AnObserverIsToldWhatEverySocketDoes) {
  auto& srv = make();
  auto seen = std::make_shared<recording_observer>();
  srv.observe(seen);
  srv.main().on_connection([](const socketio::socket_ptr& s) {
    s->on("hi", [](socketio::socket& self, socketio::payload&, socketio::ack_responder ack) {
      if (ack) ack(socketio::make_args("ack, not an event"));
      self.emit("hello", socketio::make_args(1));
    });
  });
  auto a = client();
  join(a);
  auto b = client();
  join(b);
  a.send(R"(23["hi",true])");
  srv.main().in("room").emit("ignored");  // nobody is in it
  srv.main().all().sockets_join({"room"});
  srv.main().to("room").emit("news");
  srv.main().all().sockets_leave({"room"});
  loop.run();
  std::vector<socketio::socket_info> infos;
  srv.main().all().fetch_sockets(
      [&](std::vector<socketio::socket_info> f) { infos = std::move(f); });
  loop.run();
  b.send("1");
  loop.run();
  EXPECT_EQ(seen->seen, (strings{"join own", "connect /", "join own", "connect /",
                                 R"(received hi[true])", R"(sent ["hello",1] to 1)", "join room",
                                 "join room", R"(sent ["news"] to 2)", "leave room", "leave room",
                                 "disconnect client namespace disconnect rooms 1"}));
  ASSERT_EQ(infos.size(), 2u);
  EXPECT_EQ(infos[0].data, "observed");
}

}  // namespace
