// Connection state recovery in process (Node's connectionStateRecovery, socket.io 4.8): the pid in
// the CONNECT answer, offsets on recoverable packets only, a session restored with the same id,
// rooms and data and exactly the packets it missed before its CONNECT answer, and every case in
// which nothing is restored. Manual clock, polling clients (tests/support/inprocess.hpp).
#include "support/inprocess.hpp"

#include <ignis/socketio/server.hpp>

#include <gtest/gtest.h>

#include <regex>

namespace {

using namespace ignis;
using namespace std::chrono_literals;
using test::sio_client;
using strings = std::vector<std::string>;

// The offset is the last argument of an event: "2[\"e\",1,\"OFFSET\"]".
std::string offset_of(const std::string& event) {
  static const std::regex last_string(R"re(,"([^"]+)"\]$)re");
  std::smatch m;
  return std::regex_search(event, m, last_string) ? m[1].str() : std::string();
}
// Offsets replaced by "O" for comparisons.
strings without_offsets(strings v) {
  static const std::regex last_string(R"re(,"[^"]+"\]$)re");
  for (auto& s : v)
    s = std::regex_replace(s, last_string, R"(,"O"])");
  return v;
}
std::string pid_of(const std::string& connect_answer) {
  const auto start = connect_answer.find("\"pid\":\"") + 7;
  return connect_answer.substr(start, connect_answer.find('"', start) - start);
}

class Recovery : public ::testing::Test {
 protected:
  explicit Recovery(unsigned shards = 1) : loop(shards) {}
  test::loop loop;
  std::unique_ptr<socketio::server> server;
  std::vector<socketio::socket_ptr> connected;
  int middleware_runs = 0;

  socketio::server& make(std::function<void(socketio::recovery_options&)> adjust = {}) {
    socketio::server_options o;
    o.recovery.max_disconnection_duration = 2000ms;
    if (adjust) adjust(o.recovery);
    server = std::make_unique<socketio::server>(loop.rt, std::move(o));
    server->main().use([this](socketio::socket&, socketio::next_fn next) {
      ++middleware_runs;
      next(std::nullopt);
    });
    server->main().on_connection([this](const socketio::socket_ptr& s) { connected.push_back(s); });
    return *server;
  }
  sio_client client(unsigned shard = 0) {
    return sio_client(loop, server->engine(), "/socket.io/", shard);
  }
  // A client on "/" that got one event (so it has an offset); returns {answer, offset}.
  std::pair<std::string, std::string> joined(sio_client& c) {
    const auto answer = c.connect();
    connected.back()->emit("hello");
    const auto got = c.received();
    EXPECT_EQ(got.size(), 1u);
    return {answer, got.empty() ? "" : offset_of(got[0])};
  }
};

TEST_F(Recovery, TheConnectAnswerCarriesAPrivateIdAndRecoverablePacketsAnOffset) {
  auto& srv = make();
  auto c = client();
  const auto answer = c.connect();
  const auto sid = sio_client::sid_of(answer);
  const auto pid = pid_of(answer);
  EXPECT_EQ(answer, R"(0{"sid":")" + sid + R"(","pid":")" + pid + R"("})");
  EXPECT_EQ(pid.size(), 20u);
  EXPECT_NE(pid, sid);
  auto s = connected.back();
  // From a handler on the socket's shard, as an application emits.
  boost::asio::post(s->home().executor(), [&] {
    s->emit("direct", socketio::make_args(1));
    srv.main().emit("all");
    srv.main().to(sid).emit("room");
    srv.main().volatile_().emit("volatile");  // no offset, not kept
    s->emit_with_ack("with-ack", {}, 5s, [](error_code, socketio::payload) {});
    srv.main().timeout(1s).emit_with_ack("bcast-ack", {}, [](error_code, auto) {});
  });
  const auto got = c.received();
  ASSERT_EQ(got.size(), 6u);
  EXPECT_EQ(without_offsets({got[0], got[1], got[2]}),
            (strings{R"(2["direct",1,"O"])", R"(2["all","O"])", R"(2["room","O"])"}));
  EXPECT_EQ(got[3], R"(2["volatile"])");
  EXPECT_EQ(got[4], R"(20["with-ack"])");
  EXPECT_TRUE(got[5].starts_with("2")) << got[5];
  EXPECT_EQ(offset_of(got[5]), "");
  // Distinct, and growing as they were given.
  EXPECT_LT(offset_of(got[0]), offset_of(got[1]) + "~");
  EXPECT_NE(offset_of(got[0]), offset_of(got[1]));
  EXPECT_NE(offset_of(got[1]), offset_of(got[2]));
  loop.advance(1s);
}

TEST_F(Recovery, AClientThatComesBackGetsItsSocketAndExactlyWhatItMissedBeforeItsConnect) {
  auto& srv = make();
  auto c = client();
  auto [answer, offset] = joined(c);
  const auto sid = sio_client::sid_of(answer);
  const auto pid = pid_of(answer);
  connected.back()->join("red");
  connected.back()->data = boost::json::value{{"user", "alice"}};
  c.engine().post("1");  // the transport goes: "transport close", recoverable
  loop.run();
  EXPECT_FALSE(connected.back()->connected());

  srv.main().emit("all");
  srv.main().to("red").emit("red");
  srv.main().to("blue").emit("blue");        // not in it
  srv.main().except("red").emit("not-red");  // excluded
  srv.main().volatile_().emit("volatile");   // never kept
  srv.main().to(sid).emit("direct");         // its old id is one of its rooms
  const int middlewares_before = middleware_runs;

  auto back = client();
  back.send(R"(0{"pid":")" + pid + R"(","offset":")" + offset + R"(","token":"t"})");
  const auto got = back.received();
  ASSERT_EQ(got.size(), 4u) << ::testing::PrintToString(got);
  EXPECT_EQ(without_offsets(got),
            (strings{R"(2["all","O"])", R"(2["red","O"])", R"(2["direct","O"])",
                     R"(0{"sid":")" + sid + R"(","pid":")" + pid + R"("})"}));
  auto restored = connected.back();
  EXPECT_TRUE(restored->recovered());
  EXPECT_EQ(restored->id(), sid);
  EXPECT_EQ(restored->rooms(), (strings{sid, "red"}));
  EXPECT_EQ(restored->data, (boost::json::value{{"user", "alice"}}));
  EXPECT_EQ(middleware_runs, middlewares_before) << "middlewares skipped by default";
  // The handshake is the new request's, its auth kept as sent.
  EXPECT_EQ(restored->handshake().auth.at("token"), "t");
  // It is in its rooms again.
  srv.main().to("red").emit("after");
  EXPECT_EQ(without_offsets(back.received()), strings{R"(2["after","O"])"});
}

TEST_F(Recovery, NothingIsRestoredForAnUnknownOffsetNoOffsetACleanLeaveOrAfterTheWindow) {
  make();
  auto fresh_after = [&](const std::string& connect_packet) {
    auto back = client();
    back.send(connect_packet);
    const auto got = back.received();
    EXPECT_EQ(got.size(), 1u) << ::testing::PrintToString(got);
    return got.empty() ? std::string() : got[0];
  };
  // Unknown offset.
  auto a = client();
  auto [answer_a, offset_a] = joined(a);
  a.engine().post("1");
  loop.run();
  auto got = fresh_after(R"(0{"pid":")" + pid_of(answer_a) + R"(","offset":"nope"})");
  EXPECT_NE(sio_client::sid_of(got), sio_client::sid_of(answer_a));
  EXPECT_FALSE(connected.back()->recovered());
  // No offset (a client that never got an event).
  auto b = client();
  auto [answer_b, offset_b] = joined(b);
  b.engine().post("1");
  loop.run();
  got = fresh_after(R"(0{"pid":")" + pid_of(answer_b) + R"("})");
  EXPECT_NE(sio_client::sid_of(got), sio_client::sid_of(answer_b));
  // A clean leave ("41") leaves nothing to recover.
  auto c = client();
  auto [answer_c, offset_c] = joined(c);
  c.send("1");
  got = fresh_after(R"(0{"pid":")" + pid_of(answer_c) + R"(","offset":")" + offset_c + R"("})");
  EXPECT_NE(sio_client::sid_of(got), sio_client::sid_of(answer_c));
  // Back after the window.
  auto d = client();
  auto [answer_d, offset_d] = joined(d);
  d.engine().post("1");
  loop.run();
  loop.advance(2001ms);
  got = fresh_after(R"(0{"pid":")" + pid_of(answer_d) + R"(","offset":")" + offset_d + R"("})");
  EXPECT_NE(sio_client::sid_of(got), sio_client::sid_of(answer_d));
  EXPECT_FALSE(connected.back()->recovered());
}

TEST_F(Recovery, ASessionIsRestoredOnceOnly) {
  make();
  auto c = client();
  auto [answer, offset] = joined(c);
  c.engine().post("1");
  loop.run();
  const auto connect = R"(0{"pid":")" + pid_of(answer) + R"(","offset":")" + offset + R"("})";
  auto first = client();
  first.send(connect);
  EXPECT_EQ(sio_client::sid_of(first.received().back()), sio_client::sid_of(answer));
  auto second = client();
  second.send(connect);
  EXPECT_NE(sio_client::sid_of(second.received().back()), sio_client::sid_of(answer));
}

TEST_F(Recovery, AnAuthorizationThatFailsRestoresNothingAndOneThatPassesLaterDoes) {
  std::vector<std::function<void(bool)>> pending;
  make([&](socketio::recovery_options& r) {
    r.authorize = [&](socketio::socket&, std::function<void(bool)> done) {
      pending.push_back(std::move(done));
    };
  });
  auto& srv = *server;
  auto c = client();
  auto [answer, offset] = joined(c);
  c.engine().post("1");
  loop.run();
  srv.main().emit("missed");
  const auto connect = R"(0{"pid":")" + pid_of(answer) + R"(","offset":")" + offset + R"("})";
  auto refused = client();
  refused.send(connect);
  EXPECT_EQ(refused.received(), strings{}) << "nothing before the decision";
  ASSERT_EQ(pending.size(), 1u);
  pending[0](false);
  loop.run();
  const auto got = refused.received();
  ASSERT_EQ(got.size(), 1u) << "nothing missed is sent: " << ::testing::PrintToString(got);
  EXPECT_NE(sio_client::sid_of(got[0]), sio_client::sid_of(answer));

  // A second client, allowed later: restored.
  auto d = client();
  auto [answer_d, offset_d] = joined(d);
  d.engine().post("1");
  loop.run();
  srv.main().emit("missed-d");
  auto back = client();
  back.send(R"(0{"pid":")" + pid_of(answer_d) + R"(","offset":")" + offset_d + R"("})");
  ASSERT_EQ(pending.size(), 2u);
  pending[1](true);
  loop.run();
  EXPECT_EQ(without_offsets(back.received()),
            (strings{R"(2["missed-d","O"])", R"(0{"sid":")" + sio_client::sid_of(answer_d) +
                                                 R"(","pid":")" + pid_of(answer_d) + R"("})"}));
}

TEST_F(Recovery, WithSkipMiddlewaresOffTheMiddlewaresRunOnTheRecoveredSocket) {
  make([](socketio::recovery_options& r) { r.skip_middlewares = false; });
  auto c = client();
  auto [answer, offset] = joined(c);
  c.engine().post("1");
  loop.run();
  const int before = middleware_runs;
  auto back = client();
  back.send(R"(0{"pid":")" + pid_of(answer) + R"(","offset":")" + offset + R"("})");
  back.received();
  EXPECT_EQ(middleware_runs, before + 1);
  EXPECT_TRUE(connected.back()->recovered());
}

TEST_F(Recovery, AnOffsetPushedOutByTheByteBoundRestoresNothing) {
  auto& srv = make([](socketio::recovery_options& r) { r.max_bytes = 4096; });
  auto c = client();
  auto [answer, offset] = joined(c);
  c.engine().post("1");
  loop.run();
  for (int i = 0; i < 20; ++i)
    srv.main().emit("big", socketio::make_args(std::string(512, 'x')));
  auto back = client();
  back.send(R"(0{"pid":")" + pid_of(answer) + R"(","offset":")" + offset + R"("})");
  const auto got = back.received();
  ASSERT_EQ(got.size(), 1u) << "no partial replay";
  EXPECT_NE(sio_client::sid_of(got[0]), sio_client::sid_of(answer));
}

class RecoveryOnTwoShards : public Recovery {
 protected:
  RecoveryOnTwoShards() : Recovery(2) {}
};

TEST_F(RecoveryOnTwoShards, AClientComingBackOnAnotherShardRecoversInOffsetOrder) {
  auto& srv = make();
  auto c = client(0);
  auto [answer, offset] = joined(c);
  const auto sid = sio_client::sid_of(answer);
  auto other = client(1);  // a socket on the other shard, which broadcasts meanwhile
  other.connect();
  auto sender = connected.back();
  c.engine().post("1");
  loop.run();
  for (int i = 0; i < 5; ++i) {
    srv.main().emit("from-server", socketio::make_args(i));
    sender->broadcast().emit("from-peer", socketio::make_args(i));
  }
  auto back = client(1);
  back.send(R"(0{"pid":")" + pid_of(answer) + R"(","offset":")" + offset + R"("})");
  const auto got = back.received();
  ASSERT_EQ(got.size(), 11u);
  // In the order they were emitted (the order of their offsets), from both shards.
  strings expected;
  for (int i = 0; i < 5; ++i) {
    expected.push_back(R"(2["from-server",)" + std::to_string(i) + R"(,"O"])");
    expected.push_back(R"(2["from-peer",)" + std::to_string(i) + R"(,"O"])");
  }
  EXPECT_EQ(without_offsets(strings(got.begin(), got.end() - 1)), expected);
  EXPECT_EQ(sio_client::sid_of(got.back()), sid);
  auto restored = connected.back();
  EXPECT_EQ(&restored->home(), &loop.rt.at(1));
  // Found by its id although it lives on the shard its id does not name.
  socketio::socket_ptr found;
  srv.main().with_local_socket(sid, [&](const socketio::socket_ptr& s) { found = s; });
  loop.run();
  EXPECT_EQ(found, restored);
}

}  // namespace
