// The Engine.IO session state machine, event by event with a manual clock: each test scripts what
// the transports and the layer above would report and checks the exact actions asked for. These
// are the exact twins of the Node interop cases that can only race for a held poll
// (tests/interop/engineio/polling.test.mjs).
#include "engineio/session_machine.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using namespace ignis::engineio;
using namespace std::chrono_literals;
using time_point = session_machine::time_point;

std::string text_of(const message_ptr& m) {
  return m->is_binary() ? "<bin>" : std::string(m->payload());
}

// One line per action, e.g. "answer 1: 0{...}|40", "ws_send probe: 3probe", "closed: ping timeout".
std::string describe(const session_action& a) {
  using kind = session_action::kind;
  const std::string ws = a.ws == ws_role::active ? "active" : "probe";
  switch (a.what) {
    case kind::answer_poll: {
      std::string s = "answer " + std::to_string(a.request) + ":";
      for (std::size_t i = 0; i < a.messages.size(); ++i)
        s += (i ? "|" : " ") + text_of(a.messages[i]);
      return s;
    }
    case kind::reject_poll:
      return "reject " + std::to_string(a.request);
    case kind::flush_later:
      return "flush_later";
    case kind::ws_send:
      return "ws_send " + ws + ": " + text_of(a.message);
    case kind::ws_close:
      return "ws_close " + ws + " " + std::to_string(a.code) + (a.drop ? " drop" : "");
    case kind::ws_promote:
      return "ws_promote";
    case kind::deliver:
      return "deliver: " + a.delivered->data;
    case kind::client_closed:
      return "client_closed";
    case kind::closed:
      return "closed: " + std::string(to_string(a.reason)) +
             (a.reason == close_reason::slow_consumer ? " (slow)" : "");
  }
  return "?";
}

std::vector<std::string> describe(const session_actions& out) {
  std::vector<std::string> lines;
  for (const auto& a : out)
    lines.push_back(describe(a));
  return lines;
}

using lines = std::vector<std::string>;

class SessionMachine : public ::testing::Test {
 protected:
  session_config config{25'000ms, 20'000ms, 10'000ms, 5'000ms, 1'000'000, true};
  time_point now = time_point{} + 1h;
  message_ptr open_packet = message::text(packet_type::open, R"({"sid":"x"})");

  // A polling session whose handshake poll (#1) was answered with the open packet.
  session_machine polling() {
    session_machine m(config, transport_kind::polling);
    session_actions out;
    m.open(open_packet, now, out);
    EXPECT_TRUE(out.empty());
    m.poll(1, now, out);
    EXPECT_EQ(describe(out), lines{R"(answer 1: 0{"sid":"x"})"});
    return m;
  }
  lines poll(session_machine& m, request_id r) {
    session_actions out;
    m.poll(r, now, out);
    return describe(out);
  }
  lines send(session_machine& m, std::string_view text, bool droppable = false,
             std::size_t ws_buffered = 0) {
    session_actions out;
    m.send(message::text(packet_type::message, text), droppable, ws_buffered, out);
    return describe(out);
  }
  lines receive(session_machine& m, packet p) {
    session_actions out;
    m.receive(p, now, out);
    return describe(out);
  }
  lines advance(session_machine& m, std::chrono::milliseconds d, std::size_t ws_buffered = 0) {
    now += d;
    session_actions out;
    m.timer(now, ws_buffered, out);
    return describe(out);
  }
  lines flush(session_machine& m) {
    session_actions out;
    m.flush(out);
    return describe(out);
  }
};

TEST_F(SessionMachine, PollingHandshakeAnswersTheOpenPacketAndSchedulesAPing) {
  auto m = polling();
  EXPECT_EQ(m.deadline(), now + 25'000ms);
  EXPECT_EQ(m.transport(), transport_kind::polling);
}

TEST_F(SessionMachine, APollIsHeldUntilSomethingIsSentThenAnsweredOnceForTheLoopTurn) {
  auto m = polling();
  EXPECT_EQ(poll(m, 2), lines{});  // held
  EXPECT_EQ(send(m, "4a"), lines{"flush_later"});
  EXPECT_EQ(send(m, "4b"), lines{});  // joins the same answer
  EXPECT_EQ(flush(m), lines{"answer 2: 44a|44b"});
  EXPECT_EQ(flush(m), lines{});
}

TEST_F(SessionMachine, WhatIsQueuedWithoutAPollGoesInTheNextPoll) {
  auto m = polling();
  EXPECT_EQ(send(m, "x"), lines{});
  EXPECT_EQ(poll(m, 2), lines{"answer 2: 4x"});
}

TEST_F(SessionMachine, PingsAtTheIntervalAndAPongSchedulesTheNext) {
  auto m = polling();
  EXPECT_EQ(poll(m, 2), lines{});
  EXPECT_EQ(advance(m, 24'999ms), lines{});
  EXPECT_EQ(advance(m, 1ms), lines{"flush_later"});
  EXPECT_EQ(flush(m), lines{"answer 2: 2"});
  EXPECT_EQ(m.deadline(), now + 20'000ms);  // the pong is awaited
  EXPECT_EQ(receive(m, packet::text(packet_type::pong)), lines{});
  EXPECT_EQ(m.deadline(), now + 25'000ms);
}

TEST_F(SessionMachine, NoPongWithinThePingTimeoutClosesWithACloseInTheHeldPoll) {
  auto m = polling();
  EXPECT_EQ(advance(m, 25'000ms), lines{});  // no poll held: the ping is queued
  EXPECT_EQ(poll(m, 2), lines{"answer 2: 2"});
  EXPECT_EQ(poll(m, 3), lines{});
  EXPECT_EQ(advance(m, 19'999ms), lines{});
  EXPECT_EQ(advance(m, 1ms), (lines{"answer 3: 1", "closed: ping timeout"}));
  EXPECT_FALSE(m.is_open());
  EXPECT_EQ(m.deadline(), time_point::max());
}

TEST_F(SessionMachine, ALateTimerDoesNotStretchTheHeartbeat) {
  auto m = polling();
  // The timer runs 5 s late: the pong is still due 20 s after the ping was due, not after now.
  EXPECT_EQ(advance(m, 30'000ms), lines{});
  EXPECT_EQ(m.deadline(), now + 15'000ms);
}

TEST_F(SessionMachine, ADeadlinePassedBeforeAPollIsHonouredFirst) {
  auto m = polling();
  advance(m, 25'000ms);
  EXPECT_EQ(poll(m, 2), lines{"answer 2: 2"});
  now += 20'000ms;  // the pong deadline passed, the timer has not run yet
  session_actions out;
  m.poll(3, now, out);
  EXPECT_EQ(describe(out), lines{"closed: ping timeout"});  // poll 3 is not held
}

TEST_F(SessionMachine, TwoPollsAtOnceTheSecondIsRefusedTheFirstGetsACloseAndTheSessionEnds) {
  auto m = polling();
  EXPECT_EQ(poll(m, 2), lines{});
  EXPECT_EQ(poll(m, 3), (lines{"reject 3", "answer 2: 1", "closed: transport error"}));
}

TEST_F(SessionMachine, APollWhoseClientGoesAwayEndsTheSession) {
  auto m = polling();
  EXPECT_EQ(poll(m, 2), lines{});
  session_actions out;
  m.poll_aborted(7, out);  // not the held one
  EXPECT_TRUE(out.empty());
  m.poll_aborted(2, out);
  EXPECT_EQ(describe(out), lines{"closed: transport error"});
}

TEST_F(SessionMachine, PostsAreAnsweredAndTheirPacketsDelivered) {
  auto m = polling();
  session_actions out;
  EXPECT_EQ(m.post(false, true, now, out), session_machine::post_answer::ok);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(receive(m, packet::text(packet_type::message, "hello")), lines{"deliver: hello"});
  EXPECT_EQ(receive(m, packet::text(packet_type::noop)), lines{});
}

TEST_F(SessionMachine, ABinaryPostBodyIsRefusedAndEndsTheSession) {
  auto m = polling();
  session_actions out;
  EXPECT_EQ(m.post(true, true, now, out), session_machine::post_answer::bad_request);
  EXPECT_EQ(describe(out), lines{"closed: transport error"});
  out.clear();
  EXPECT_EQ(m.post(false, true, now, out), session_machine::post_answer::unknown_session);
}

TEST_F(SessionMachine, AnUndecodablePostIsAnsweredOkThenTheSessionEndsWithAParseError) {
  auto m = polling();
  EXPECT_EQ(poll(m, 2), lines{});
  session_actions out;
  EXPECT_EQ(m.post(false, false, now, out), session_machine::post_answer::ok);
  EXPECT_EQ(describe(out), (lines{"answer 2: 1", "closed: parse error"}));
}

TEST_F(SessionMachine, AClientPingIsAnErrorInVersion4) {
  auto m = polling();
  EXPECT_EQ(receive(m, packet::text(packet_type::ping)), lines{"closed: transport error"});
}

TEST_F(SessionMachine, ClientCloseWhileAPollIsHeldAnswersItANoop) {
  auto m = polling();
  EXPECT_EQ(poll(m, 2), lines{});
  EXPECT_EQ(receive(m, packet::text(packet_type::close)),
            (lines{"answer 2: 6", "closed: transport close"}));
}

TEST_F(SessionMachine, ClientCloseWithoutAPollIsRememberedForALateOne) {
  auto m = polling();
  EXPECT_EQ(receive(m, packet::text(packet_type::close)),
            (lines{"client_closed", "closed: transport close"}));
}

TEST_F(SessionMachine, ServerCloseWithAPollHeldAnswersItWithTheClose) {
  auto m = polling();
  EXPECT_EQ(poll(m, 2), lines{});
  session_actions out;
  m.close(now, out);
  EXPECT_EQ(describe(out), (lines{"answer 2: 1", "closed: forced close"}));
}

TEST_F(SessionMachine, ServerCloseDrainsWhatIsQueuedFirstThenTheNextPollCarriesTheClose) {
  auto m = polling();
  send(m, "last");
  session_actions out;
  m.close(now, out);
  EXPECT_TRUE(out.empty());
  EXPECT_FALSE(m.is_open());
  EXPECT_FALSE(m.closing_idle());  // "last" is still to go
  EXPECT_EQ(send(m, "refused"), lines{});
  EXPECT_EQ(poll(m, 2), lines{"answer 2: 4last"});
  EXPECT_EQ(poll(m, 3), (lines{"answer 3: 6|1", "closed: forced close"}));
}

TEST_F(SessionMachine, AServerClosedPollingSessionEndsAtTheCloseTimeoutWithoutAPoll) {
  auto m = polling();
  session_actions out;
  m.close(now, out);
  EXPECT_TRUE(m.closing_idle());
  EXPECT_EQ(m.deadline(), now + 5'000ms);
  EXPECT_EQ(advance(m, 4'999ms), lines{});
  EXPECT_EQ(advance(m, 1ms), lines{"closed: forced close"});
}

TEST_F(SessionMachine, VolatileMessagesAreDroppedWithoutAPollOrWhenCongested) {
  auto m = polling();
  session_actions out;
  EXPECT_EQ(m.send(message::text(packet_type::message, "v"), true, 0, out),
            session_machine::send_status::dropped);  // no poll to write to
  EXPECT_EQ(poll(m, 2), lines{});
  EXPECT_EQ(m.send(message::text(packet_type::message, "v"), true, 0, out),
            session_machine::send_status::queued);
  EXPECT_EQ(m.send(message::text(packet_type::message, "v"), true, 70'000, out),
            session_machine::send_status::dropped);  // over 64 KiB waiting
}

TEST_F(SessionMachine, PastTheOutputBoundTheSessionIsClosedAsASlowConsumer) {
  session_machine m(config, transport_kind::websocket);
  session_actions out;
  m.open(open_packet, now, out);
  EXPECT_EQ(describe(out), lines{R"(ws_send active: 0{"sid":"x"})"});
  out.clear();
  EXPECT_EQ(m.send(message::text(packet_type::message, "x"), false, 1'000'001, out),
            session_machine::send_status::slow_consumer);
  // What is queued is dropped with the connection (close code 1008).
  EXPECT_EQ(describe(out), (lines{"ws_close active 1008 drop", "closed: transport error (slow)"}));
}

TEST_F(SessionMachine, WebSocketSessionsSendAtOnceAndEndWhenTheirConnectionIsLost) {
  session_machine m(config, transport_kind::websocket);
  session_actions out;
  m.open(open_packet, now, out);
  EXPECT_EQ(send(m, "x"), lines{"ws_send active: 4x"});
  EXPECT_EQ(advance(m, 25'000ms), lines{"ws_send active: 2"});
  out.clear();
  m.ws_lost(ws_role::active, close_reason::transport_close, out);
  EXPECT_EQ(describe(out), (lines{"ws_close active 1000", "closed: transport close"}));
}

TEST_F(SessionMachine, UpgradeProbeThenUpgradeMovesTheSessionAndItsQueueToTheWebSocket) {
  auto m = polling();
  EXPECT_EQ(poll(m, 2), lines{});
  ASSERT_TRUE(m.upgrade_requested(now));
  EXPECT_EQ(m.deadline(), now + 10'000ms);
  session_actions out;
  m.probe_packet(packet::text(packet_type::ping, "probe"), out);
  // The held poll is let go with a noop so the client can pause polling.
  EXPECT_EQ(describe(out), (lines{"ws_send probe: 3probe", "answer 2: 6"}));
  EXPECT_EQ(send(m, "queued meanwhile"), lines{});
  out.clear();
  m.probe_packet(packet::text(packet_type::upgrade), out);
  EXPECT_EQ(describe(out), (lines{"ws_promote", "ws_send active: 4queued meanwhile"}));
  EXPECT_EQ(m.transport(), transport_kind::websocket);
  EXPECT_EQ(send(m, "after"), lines{"ws_send active: 4after"});
}

TEST_F(SessionMachine, APollArrivingAfterTheProbeIsAnsweredANoop) {
  auto m = polling();
  ASSERT_TRUE(m.upgrade_requested(now));
  session_actions out;
  m.probe_packet(packet::text(packet_type::ping, "probe"), out);
  EXPECT_EQ(describe(out), lines{"ws_send probe: 3probe"});
  EXPECT_EQ(poll(m, 2), lines{"answer 2: 6"});
}

TEST_F(SessionMachine, OneUpgradeAtATimeAndOnlyWhenAllowed) {
  auto m = polling();
  ASSERT_TRUE(m.upgrade_requested(now));
  EXPECT_FALSE(m.upgrade_requested(now));
  config.allow_upgrades = false;
  auto n = polling();
  EXPECT_FALSE(n.upgrade_requested(now));
}

TEST_F(SessionMachine, AnUpgradeNotCompletedInTimeIsAbandoned) {
  auto m = polling();
  ASSERT_TRUE(m.upgrade_requested(now));
  EXPECT_EQ(advance(m, 10'000ms), lines{"ws_close probe 1000"});
  EXPECT_FALSE(m.upgrading());
  EXPECT_TRUE(m.is_open());
  EXPECT_TRUE(m.upgrade_requested(now));  // a new attempt may follow
}

TEST_F(SessionMachine, AnythingButProbeOrUpgradeOnTheProbingWebSocketEndsTheAttempt) {
  auto m = polling();
  ASSERT_TRUE(m.upgrade_requested(now));
  session_actions out;
  m.probe_packet(packet::text(packet_type::message, "early"), out);
  EXPECT_EQ(describe(out), lines{"ws_close probe 1000"});
  EXPECT_EQ(m.transport(), transport_kind::polling);
}

TEST_F(SessionMachine, AProbeThatGoesAwayLeavesThePollingSessionAsItWas) {
  auto m = polling();
  ASSERT_TRUE(m.upgrade_requested(now));
  session_actions out;
  m.ws_lost(ws_role::probe, close_reason::transport_close, out);
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(m.is_open());
  EXPECT_FALSE(m.upgrading());
}

TEST_F(SessionMachine, AServerCloseDuringAnUpgradeLetsItFinishThenClosesBehindTheQueue) {
  auto m = polling();
  send(m, "last");
  ASSERT_TRUE(m.upgrade_requested(now));
  session_actions out;
  m.close(now, out);  // waits for a poll to carry "last" and the close
  EXPECT_TRUE(out.empty());
  m.probe_packet(packet::text(packet_type::ping, "probe"), out);
  EXPECT_EQ(describe(out), lines{"ws_send probe: 3probe"});
  out.clear();
  m.probe_packet(packet::text(packet_type::upgrade), out);
  EXPECT_EQ(describe(out), (lines{"ws_promote", "ws_send active: 4last", "ws_close active 1000",
                                  "closed: forced close"}));
}

TEST_F(SessionMachine, ClosingAPollingSessionWhileUpgradingClosesTheProbeToo) {
  auto m = polling();
  ASSERT_TRUE(m.upgrade_requested(now));
  EXPECT_EQ(receive(m, packet::text(packet_type::ping)),
            (lines{"ws_close probe 1000", "closed: transport error"}));
}

}  // namespace
