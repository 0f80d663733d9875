// The WebSocket control protocol both transports follow: pings answered, a peer's close echoed
// once (1000 when it gave no code), protocol errors answered with RFC 6455's codes, and nothing
// but the peer's close heard once our close is queued.
#include <ignis/net/websocket_control.hpp>
#include <ignis/net/websocket_error.hpp>

#include <gtest/gtest.h>

namespace {

using namespace ignis::net::ws;
using kind = control::action::kind;

event make(event_kind k, std::uint16_t code = 0) {
  event ev;
  ev.kind = k;
  ev.close_code = code;
  return ev;
}

TEST(WebSocketControl, DataIsDeliveredPingsAnsweredPongsIgnored) {
  control c;
  EXPECT_EQ(c.on_event(make(event_kind::text)).what, kind::deliver);
  EXPECT_EQ(c.on_event(make(event_kind::binary)).what, kind::deliver);
  EXPECT_EQ(c.on_event(make(event_kind::ping)).what, kind::pong);
  EXPECT_EQ(c.on_event(make(event_kind::pong)).what, kind::none);
  EXPECT_EQ(c.current(), control::state::open);
}

TEST(WebSocketControl, APeersCloseIsEchoedOnceThenNothingIsHeard) {
  control c;
  const auto a = c.on_event(make(event_kind::close, 4001));
  EXPECT_EQ(a.what, kind::close);
  EXPECT_EQ(a.code, 4001);
  EXPECT_EQ(c.current(), control::state::closed);
  EXPECT_EQ(c.on_event(make(event_kind::text)).what, kind::none);
  EXPECT_EQ(c.on_event(make(event_kind::close, 1000)).what, kind::none);
  EXPECT_FALSE(c.close());
}

TEST(WebSocketControl, ACloseWithoutACodeIsAnswered1000) {
  control c;
  EXPECT_EQ(c.on_event(make(event_kind::close)).code, 1000);
}

TEST(WebSocketControl, AfterOurCloseOnlyThePeersCloseMattersAndEndsTheHandshake) {
  control c;
  EXPECT_TRUE(c.close());
  EXPECT_FALSE(c.close());  // once
  EXPECT_EQ(c.current(), control::state::closing);
  EXPECT_EQ(c.on_event(make(event_kind::text)).what, kind::none);
  EXPECT_EQ(c.on_event(make(event_kind::ping)).what, kind::none);
  EXPECT_EQ(c.on_event(make(event_kind::close, 1000)).what, kind::ended);
  EXPECT_EQ(c.current(), control::state::closed);
}

TEST(WebSocketControl, ProtocolErrorsAreAnsweredWithTheirCloseCode) {
  control c;
  const auto a = c.on_error(make_error_code(frame_error::invalid_utf8));
  EXPECT_EQ(a.what, kind::close);
  EXPECT_EQ(a.code, 1007);
  EXPECT_EQ(c.current(), control::state::closed);
  control too_big;
  EXPECT_EQ(too_big.on_error(make_error_code(frame_error::message_too_big)).code, 1009);
  control closing;
  closing.close();
  EXPECT_EQ(closing.on_error(make_error_code(frame_error::invalid_utf8)).what, kind::ended);
}

}  // namespace
