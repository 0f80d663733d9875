// The Engine.IO server's WebSocket transport in process: the handshake, frames both ways, the
// heartbeat, the upgrade from long-polling with its probe, the limits and every way a connection
// ends, on a manual clock. The client is the other end of a local socket pair
// (tests/support/inprocess.hpp), so the transport's reads, gather writes, readiness poller and
// deadlines run for real without TCP, threads or sleeps.
#include "support/inprocess.hpp"

#include <ignis/engineio/server.hpp>

#include <gtest/gtest.h>

namespace {

using namespace ignis;
using namespace std::chrono_literals;
using strings = std::vector<std::string>;

// Records what the server tells the layer above.
struct recorder final : engineio::session_handler {
  std::vector<std::shared_ptr<engineio::session>> opened;
  strings messages;
  std::vector<engineio::close_reason> closes;
  void on_open(const std::shared_ptr<engineio::session>& s,
               engineio::session::handshake_request) override {
    opened.push_back(s);
  }
  void on_message(engineio::session&, const engineio::packet& p) override {
    messages.push_back((p.binary ? "b:" : "") + std::string(p.data));
  }
  void on_close(engineio::session&, engineio::close_reason reason) override {
    closes.push_back(reason);
  }
};

class EngineIOWebSocket : public ::testing::Test {
 protected:
  test::loop loop;
  std::shared_ptr<recorder> app = std::make_shared<recorder>();
  std::shared_ptr<engineio::server> server;

  static engineio::server_options base() {
    engineio::server_options options;
    options.ping_interval = 1000ms;
    options.ping_timeout = 500ms;
    return options;
  }
  void make(engineio::server_options options = base()) {
    server = std::make_shared<engineio::server>(loop.rt, std::move(options), app);
  }
  std::unique_ptr<test::websocket_client> connect(const std::string& sid = {}) {
    std::string target = "/engine.io/?EIO=4&transport=websocket";
    if (!sid.empty()) target += "&sid=" + sid;
    return std::make_unique<test::websocket_client>(loop, server, target);
  }
  // A WebSocket session, its open packet taken.
  std::unique_ptr<test::websocket_client> open() {
    auto ws = connect();
    EXPECT_EQ(ws->status(), "HTTP/1.1 101 Switching Protocols");
    const auto open = ws->take();
    EXPECT_EQ(open.size(), 1u);
    return ws;
  }
  static bool has_close(const std::vector<net::ws::event>& events, std::uint16_t code) {
    for (const auto& e : events) {
      if (e.kind == net::ws::event_kind::close && e.close_code == code) return true;
    }
    return false;
  }
};

TEST_F(EngineIOWebSocket, AHandshakeOnWebSocketAnswersTheOpenPacketWithoutUpgrades) {
  make();
  auto ws = connect();
  EXPECT_EQ(ws->status(), "HTTP/1.1 101 Switching Protocols");
  const auto got = ws->take();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0].starts_with(R"(0{"sid":")")) << got[0];
  EXPECT_NE(got[0].find(R"("upgrades":[])"), std::string::npos) << got[0];
  EXPECT_NE(got[0].find(R"("pingInterval":1000,"pingTimeout":500)"), std::string::npos) << got[0];
  ASSERT_EQ(app->opened.size(), 1u);
  EXPECT_EQ(app->opened[0]->transport(), engineio::transport_kind::websocket);
  EXPECT_EQ(server->session_count(), 1u);
  // The whole packet, as the codec encodes it for this session's id and these options.
  EXPECT_EQ(got[0], "0" + engineio::encode_handshake({.sid = std::string(app->opened[0]->id()),
                                                      .upgrades = {},
                                                      .ping_interval = 1000,
                                                      .ping_timeout = 500,
                                                      .max_payload = 1'000'000}));
}

TEST_F(EngineIOWebSocket, TheOpenPacketFollowsTheServersOptions) {
  auto options = base();
  options.ping_interval = 12'345ms;
  options.ping_timeout = 6'789ms;
  options.max_payload = 4321;
  make(options);
  auto ws = connect();
  const auto ws_open = ws->take();
  test::polling_client poll(loop, server, "/engine.io/");
  const auto poll_open = poll.open();
  ASSERT_EQ(app->opened.size(), 2u);
  ASSERT_EQ(ws_open.size(), 1u);
  EXPECT_EQ(ws_open[0], "0" + engineio::encode_handshake({.sid = std::string(app->opened[0]->id()),
                                                          .upgrades = {},
                                                          .ping_interval = 12'345,
                                                          .ping_timeout = 6'789,
                                                          .max_payload = 4321}));
  // Long-polling offers the upgrade (open() returns the packet's data).
  EXPECT_EQ(poll_open, engineio::encode_handshake({.sid = std::string(app->opened[1]->id()),
                                                   .upgrades = {"websocket"},
                                                   .ping_interval = 12'345,
                                                   .ping_timeout = 6'789,
                                                   .max_payload = 4321}));
}

TEST_F(EngineIOWebSocket, MessagesTravelBothWaysAsTextAndBinaryFrames) {
  make();
  auto ws = open();
  ws->send("4hello");
  ws->send_binary(std::string("\x01\x02", 2));
  EXPECT_EQ(app->messages, (strings{"hello", std::string("b:\x01\x02", 4)}));

  auto& s = *app->opened.at(0);
  s.send_text("hi");
  s.send_binary(std::string("\x03\x00", 2));
  const auto events = ws->take_events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kind, net::ws::event_kind::text);
  EXPECT_EQ(events[0].payload, "4hi");
  EXPECT_EQ(events[1].kind, net::ws::event_kind::binary);
  EXPECT_EQ(events[1].payload, std::string("\x03\x00", 2));
}

TEST_F(EngineIOWebSocket, PingsAtTheIntervalAndClosesWhenNoPongComesInTime) {
  make();
  auto ws = open();
  loop.advance(999ms);
  EXPECT_TRUE(ws->take().empty());
  loop.advance(1ms);
  EXPECT_EQ(ws->take(), strings{"2"});
  ws->send("3");
  loop.advance(1000ms);
  EXPECT_EQ(ws->take(), strings{"2"});
  loop.advance(499ms);
  EXPECT_TRUE(app->closes.empty());
  loop.advance(1ms);
  EXPECT_EQ(app->closes, std::vector{engineio::close_reason::ping_timeout});
  EXPECT_TRUE(ws->closed());
  EXPECT_EQ(server->session_count(), 0u);
}

TEST_F(EngineIOWebSocket, AnUpgradeProbesThenMovesTheSessionOffItsPoll) {
  make();
  test::polling_client poll(loop, server, "/engine.io/");
  const auto open = poll.open();
  EXPECT_NE(open.find(R"("upgrades":["websocket"])"), std::string::npos) << open;
  ASSERT_TRUE(poll.poll());  // held

  auto ws = connect(poll.sid());
  EXPECT_EQ(ws->status(), "HTTP/1.1 101 Switching Protocols");
  EXPECT_TRUE(ws->take().empty());  // no open packet on an upgrade
  ws->send("2probe");
  EXPECT_EQ(ws->take(), strings{"3probe"});
  EXPECT_EQ(poll.take(), strings{"6"});  // the held poll is let go with a noop
  EXPECT_EQ(app->opened.at(0)->transport(), engineio::transport_kind::polling);

  ws->send("5");
  EXPECT_EQ(app->opened.at(0)->transport(), engineio::transport_kind::websocket);
  app->opened.at(0)->send_text("on the socket");
  EXPECT_EQ(ws->take(), strings{"4on the socket"});
  ws->send("4from the socket");
  EXPECT_EQ(app->messages, strings{"from the socket"});
  // Polling requests for the session are now refused.
  EXPECT_EQ(poll.post("4late"), 400u);
}

TEST_F(EngineIOWebSocket, UpgradesForUnknownSessionsOrWithBadRequestsAreRefused) {
  make();
  auto unknown = connect("AAAAAAAAAAAAAAAAAAAA");
  EXPECT_EQ(unknown->status(), "HTTP/1.1 400 Bad Request");
  EXPECT_TRUE(unknown->closed());

  test::websocket_client bad_version(loop, server, "/engine.io/?EIO=3&transport=websocket");
  EXPECT_EQ(bad_version.status(), "HTTP/1.1 400 Bad Request");
  EXPECT_TRUE(bad_version.closed());
  EXPECT_TRUE(app->opened.empty());
}

TEST_F(EngineIOWebSocket, AMessageOverTheLimitIsClosedWith1009) {
  auto options = base();
  options.max_payload = 100;
  make(std::move(options));
  auto ws = open();
  ws->send("4" + std::string(100, 'x'));
  EXPECT_TRUE(has_close(ws->take_events(), 1009));
  EXPECT_TRUE(app->messages.empty());
  EXPECT_EQ(app->closes.size(), 1u);
  ws->send_close(1009);  // the client answers the close; the server then lets go
  EXPECT_TRUE(ws->closed());
}

TEST_F(EngineIOWebSocket, AClientCloseIsAnsweredAndEndsTheSession) {
  make();
  auto ws = open();
  ws->send_close(1000);
  EXPECT_TRUE(has_close(ws->take_events(), 1000));
  EXPECT_EQ(app->closes, std::vector{engineio::close_reason::transport_close});
  EXPECT_TRUE(ws->closed());  // the server's end is shut for writing
  EXPECT_EQ(server->session_count(), 0u);
  EXPECT_EQ(server->draining().websockets, 1u);  // until the client closes its end
  ws.reset();
  loop.run();
  EXPECT_TRUE(server->draining().drained());
}

TEST_F(EngineIOWebSocket, AClientThatKeepsItsEndOpenAfterTheCloseIsLetGoAfterALinger) {
  make();
  auto ws = open();
  app->opened.at(0)->close();
  EXPECT_TRUE(has_close(ws->take_events(), 1000));
  EXPECT_TRUE(ws->closed());
  EXPECT_EQ(server->draining().websockets, 1u);
  loop.advance(2000ms);
  EXPECT_EQ(server->draining().websockets, 0u);
}

// A program that destroys its server before its runtime (the fixture's and the examples' order)
// leaves open WebSocket transports in the shard's poller until the runtime goes; each still counts
// its own end then, so it must not count into the server's freed memory (caught by ASan).
TEST_F(EngineIOWebSocket, AConnectionStillOpenWhenTheServerIsDestroyedEndsWithTheRuntime) {
  make();
  auto ws = open();
  std::weak_ptr<engineio::server> gone = server;
  app->opened.clear();
  server.reset();
  EXPECT_TRUE(gone.expired());
  loop.run();
  EXPECT_FALSE(ws->closed());  // nothing ended it: the poller still holds the transport
}

TEST_F(EngineIOWebSocket, AServerCloseSendsWhatIsQueuedFirst) {
  make();
  auto ws = open();
  auto& s = *app->opened.at(0);
  s.send_text("last words");
  s.close();
  auto events = ws->take_events();
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events[0].payload, "4last words");
  EXPECT_TRUE(has_close(events, 1000));
  EXPECT_EQ(app->closes, std::vector{engineio::close_reason::forced_close});
  ws->send_close(1000);
  EXPECT_TRUE(ws->closed());
}

TEST_F(EngineIOWebSocket, AClosedConnectionWhoseClientReadsNothingIsResetAtTheCloseTimeout) {
  auto options = base();
  options.close_timeout = 2000ms;
  options.ping_interval = 60'000ms;
  make(std::move(options));
  auto ws = open();
  ws->shrink_receive_buffer(4096);
  ws->stop_reading();
  auto& s = *app->opened.at(0);
  for (int i = 0; i < 16; ++i)
    s.send_text(std::string(64 * 1024, 'x'));
  s.close();
  loop.run();
  EXPECT_EQ(app->closes, std::vector{engineio::close_reason::forced_close});
  EXPECT_EQ(server->draining().websockets, 1u);  // still writing what was queued before the close
  loop.advance(1999ms);
  EXPECT_EQ(server->draining().websockets, 1u);
  loop.advance(1ms);
  EXPECT_EQ(server->draining().websockets, 0u);
}

TEST_F(EngineIOWebSocket, AReaderThatStopsTakingBytesIsDroppedAtTheWriteStallTimeout) {
  auto options = base();
  options.write_stall_timeout = 3000ms;
  options.ping_interval = 60'000ms;
  make(std::move(options));
  auto ws = open();
  ws->shrink_receive_buffer(4096);
  ws->stop_reading();
  auto& s = *app->opened.at(0);
  const std::string chunk(64 * 1024, 'x');
  for (int i = 0; i < 16; ++i)
    s.send_text(chunk);
  loop.run();
  EXPECT_TRUE(app->closes.empty());  // blocked, not yet stalled
  loop.advance(2999ms);
  EXPECT_TRUE(app->closes.empty());
  loop.advance(1ms);
  EXPECT_EQ(app->closes, std::vector{engineio::close_reason::write_stall});
  EXPECT_EQ(server->session_count(), 0u);
  EXPECT_EQ(server->draining().websockets, 0u);
}

TEST_F(EngineIOWebSocket, PastTheOutputBoundASlowReaderIsClosedAsASlowConsumer) {
  auto options = base();
  options.max_buffered_bytes = 256 * 1024;
  make(std::move(options));
  auto ws = open();
  ws->shrink_receive_buffer(4096);
  ws->stop_reading();
  auto& s = *app->opened.at(0);
  const std::string chunk(32 * 1024, 'x');
  for (int i = 0; i < 64 && app->closes.empty(); ++i) {
    s.send_text(chunk);
    loop.run();
  }
  EXPECT_EQ(app->closes, std::vector{engineio::close_reason::slow_consumer});
  EXPECT_EQ(server->session_count(), 0u);
}

}  // namespace
