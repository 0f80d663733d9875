// The Ignis server helper's flow in process (tests/support/inprocess.hpp), each rule of
// ignis-behaviour.md checked with a manual clock: the authenticate timeout, the order of what an
// accepted client gets, rejections and failures, a second authenticate, joins and leaves with the
// validator, the application pings, send(), and shutdown.
#include "support/inprocess.hpp"

#include <ignis/helpers/server_helper.hpp>

#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include <regex>

namespace {

using namespace ignis;
using namespace std::chrono_literals;
using test::sio_client;
using strings = std::vector<std::string>;

// ISO times vary: "time":"2026-…Z" becomes "time":"T".
std::string untimed(std::string s) {
  static const std::regex iso(R"re("time":"[0-9T:.\-]+Z")re");
  return std::regex_replace(s, iso, R"("time":"T")");
}
strings untimed(strings v) {
  for (auto& s : v)
    s = untimed(std::move(s));
  return v;
}

struct recording_host final : net::http_host {
  std::shared_ptr<net::http_service> service;
  void mount(std::shared_ptr<net::http_service> s) override { service = std::move(s); }
};

class ServerHelperFlow : public ::testing::Test {
 protected:
  test::loop loop;
  recording_host host;
  std::unique_ptr<helpers::server_helper> helper;
  // What the authenticate function does: accept, reject, fail, or keep the answer for later.
  std::string verdict = "accept";
  std::vector<std::function<void(helpers::auth_result)>> pending;
  int authenticate_calls = 0;

  helpers::server_helper& make(std::function<void(helpers::server_helper_options&)> adjust = {}) {
    helpers::server_helper_options o;
    o.runtime = helpers::server_runtime::embedded;
    o.host = &host;
    o.authenticate = [this](const socketio::handshake_info&,
                            std::function<void(helpers::auth_result)> done) {
      ++authenticate_calls;
      if (verdict == "accept") return done(helpers::auth_result::accept());
      if (verdict == "reject") return done(helpers::auth_result::reject());
      if (verdict == "fail") return done(helpers::auth_result::fail());
      pending.push_back(std::move(done));
    };
    o.validate_room = [](socketio::socket&, const std::optional<std::vector<std::string>>&,
                         std::vector<std::string> requested,
                         std::function<void(std::vector<std::string>)> done) {
      std::erase_if(requested, [](const std::string& r) { return !r.starts_with("ok-"); });
      done(std::move(requested));
    };
    if (adjust) adjust(o);
    helper = std::make_unique<helpers::server_helper>(loop.rt, std::move(o));
    helper->configure();
    return *helper;
  }
  sio_client client() {
    sio_client c(loop, host.service);
    c.connect();
    c.received();
    return c;
  }
  // An authenticated client; what it received on the way is dropped.
  sio_client authenticated() {
    auto c = client();
    c.send(R"(2["authenticate"])");
    c.received();
    return c;
  }
};

TEST_F(ServerHelperFlow, AcceptedInThisOrderPingDefaultRoomsAuthenticatedThenConnectedHook) {
  std::vector<std::string> hooked;
  make([&](helpers::server_helper_options& o) {
    o.client_connected = [&](const socketio::socket_ptr& s) {
      hooked.push_back(std::string(s->id()) + " " + std::to_string(s->rooms().size()));
    };
  });
  sio_client c(loop, host.service);
  const auto id = sio_client::sid_of(c.connect());
  c.send(R"(2["authenticate"])");
  EXPECT_EQ(untimed(c.received()),
            (strings{R"(2["ping",{"time":"T"}])",
                     R"(2["authenticated",{"id":")" + id + R"(","time":"T"}])"}));
  // Its own room and the two default rooms.
  EXPECT_EQ(hooked, strings{id + " 3"});
  EXPECT_EQ(helper->authenticated_count(), 1u);
}

TEST_F(ServerHelperFlow, NotAuthenticatedWithinTheTimeoutIsDisconnectedWithItsConnection) {
  make();
  auto c = client();
  loop.advance(9'999ms);
  EXPECT_EQ(c.received(), strings{});
  loop.advance(1ms);
  EXPECT_EQ(c.received(), strings{"1"});  // io server disconnect
  EXPECT_EQ(c.engine().last_status(), 400u) << "the Engine.IO session is gone too";
  EXPECT_EQ(helper->client_count(), 0u);
}

TEST_F(ServerHelperFlow, ARejectedTokenIsToldWhyThenDisconnected) {
  verdict = "reject";
  make();
  auto c = client();
  c.send(R"(2["authenticate"])");
  EXPECT_EQ(
      untimed(c.received()),
      (strings{
          R"(2["unauthenticated",{"message":"Invalid token to authenticate! Please login again!","time":"T"}])",
          "1"}));
}

TEST_F(ServerHelperFlow, AFailureIsToldAsSuchThenDisconnected) {
  verdict = "fail";
  make();
  auto c = client();
  c.send(R"(2["authenticate"])");
  EXPECT_EQ(
      untimed(c.received()),
      (strings{
          R"(2["unauthenticated",{"message":"Failed to authenticate connection! Please login again!","time":"T"}])",
          "1"}));
}

TEST_F(ServerHelperFlow, AnAuthenticateFunctionThatNeverAnswersFailsAtTheTimeout) {
  verdict = "later";
  make();
  auto c = client();
  c.send(R"(2["authenticate"])");
  c.send(R"(2["authenticate"])");  // ignored while authenticating
  EXPECT_EQ(authenticate_calls, 1);
  loop.advance(10s);
  EXPECT_EQ(
      untimed(c.received()),
      (strings{
          R"(2["unauthenticated",{"message":"Failed to authenticate connection! Please login again!","time":"T"}])",
          "1"}));
  // A late answer changes nothing.
  pending.at(0)(helpers::auth_result::accept());
  loop.run();
  EXPECT_EQ(helper->authenticated_count(), 0u);
}

TEST_F(ServerHelperFlow, AnAnswerThatComesAfterTheHelperIsGoneIsIgnored) {
  verdict = "later";
  make();
  auto c = client();
  c.send(R"(2["authenticate"])");
  ASSERT_EQ(pending.size(), 1u);
  helper.reset();
  pending[0](helpers::auth_result::accept());  // from the application, later
  loop.run();
  EXPECT_EQ(c.received(), strings{});
}

TEST_F(ServerHelperFlow, ASecondAuthenticateOnceAuthenticatedIsIgnored) {
  make();
  auto c = authenticated();
  c.send(R"(2["authenticate"])");
  EXPECT_EQ(c.received(), strings{});
  EXPECT_EQ(authenticate_calls, 1);
}

TEST_F(ServerHelperFlow, JoinsBeforeAuthenticationAreIgnoredAfterItTheValidatorDecides) {
  make();
  auto early = client();
  early.send(R"(21["join",{"rooms":["ok-a"]}])");
  EXPECT_EQ(early.received(), strings{});  // no answer at all

  auto c = authenticated();
  c.send(R"(22["join",{"rooms":["ok-a","no-b","ok-a","ABCDEFGHIJKLMNOPQRST"]}])");
  EXPECT_EQ(c.received(),
            strings{R"(32[{"rooms":["ok-a"],"refused":["no-b","ABCDEFGHIJKLMNOPQRST"]}])"});
  c.send(R"(23["leave",{"rooms":["ok-a","ok-never"]}])");
  EXPECT_EQ(c.received(), strings{R"(33[{"rooms":["ok-a"]}])"});
}

TEST_F(ServerHelperFlow, TheOwnIdRoomCannotBeLeftSoDirectSendsKeepWorking) {
  make();
  sio_client c(loop, host.service);
  const auto id = sio_client::sid_of(c.connect());
  c.send(R"(2["authenticate"])");
  c.received();
  c.send(R"(24["leave",{"rooms":[")" + id + R"("]}])");
  EXPECT_EQ(c.received(), strings{R"(34[{"rooms":[]}])"});
  helper->send({id, "direct", boost::json::value("x"), false});
  EXPECT_EQ(c.received(), strings{R"(2["direct","x"])"});
}

TEST_F(ServerHelperFlow, ApplicationPingsEveryIntervalOnceAuthenticated) {
  make([](helpers::server_helper_options& o) { o.ping_interval = 1000ms; });
  auto c = authenticated();
  loop.advance(999ms);
  EXPECT_EQ(c.received(), strings{});
  loop.advance(1ms);
  EXPECT_EQ(untimed(c.received()), strings{R"(2["ping",{"time":"T"}])"});
  loop.advance(1000ms);
  EXPECT_EQ(untimed(c.received()), strings{R"(2["ping",{"time":"T"}])"});
}

TEST_F(ServerHelperFlow, SendReachesRoomsEveryoneAuthenticatedAndIdsWhateverTheirState) {
  make();
  auto a = authenticated();
  sio_client anonymous(loop, host.service);
  const auto anonymous_id = sio_client::sid_of(anonymous.connect());
  anonymous.received();
  helper->send({"", "news", boost::json::value(1), false});
  helper->send({"io-notification", "note", boost::json::value(nullptr), false});
  helper->send({anonymous_id, "just-you", boost::json::value(false), false});
  EXPECT_EQ(a.received(), (strings{R"(2["news",1])", R"(2["note",null])"}));
  EXPECT_EQ(anonymous.received(), strings{R"(2["just-you",false])"});
  EXPECT_THROW(helper->send({"", "disconnect", {}, false}), std::invalid_argument);
}

// Connection state recovery with the helper: the credentials are checked again before anything
// is restored.
class ServerHelperRecovery : public ServerHelperFlow {
 protected:
  helpers::server_helper& make_recovering() {
    return make([](helpers::server_helper_options& o) {
      o.server.recovery.max_disconnection_duration = 2000ms;
    });
  }
  struct session {
    std::string sid, pid, offset;
  };
  // An authenticated client that lost its transport; the last event it got set its offset.
  session authenticated_then_lost() {
    sio_client c(loop, host.service);
    const auto answer = c.connect();
    c.send(R"(2["authenticate"])");
    const auto got = c.received();
    EXPECT_FALSE(got.empty());
    const auto& last = got.back();  // 2["authenticated",{…},"OFFSET"]
    const auto end = last.rfind('"');
    const auto start = last.rfind('"', end - 1) + 1;
    session out{sio_client::sid_of(answer), "", last.substr(start, end - start)};
    const auto p = answer.find("\"pid\":\"") + 7;
    out.pid = answer.substr(p, answer.find('"', p) - p);
    c.engine().post("1");  // transport close
    loop.run();
    return out;
  }
};

TEST_F(ServerHelperRecovery, ARecoveredClientIsCheckedAgainThenGetsWhatItMissedAndAuthenticated) {
  make_recovering();
  const auto lost = authenticated_then_lost();
  helper->send({"io-default", "news", boost::json::value(1), false});
  sio_client back(loop, host.service);
  back.send(R"(0{"pid":")" + lost.pid + R"(","offset":")" + lost.offset + R"("})");
  const auto got = untimed(back.received());
  ASSERT_EQ(got.size(), 3u) << ::testing::PrintToString(got);
  EXPECT_TRUE(got[0].starts_with(R"(2["news",1,")")) << got[0];
  EXPECT_TRUE(got[1].starts_with(R"(0{"sid":")" + lost.sid)) << got[1];
  EXPECT_TRUE(got[2].starts_with(R"(2["authenticated",{"id":")" + lost.sid + R"(","time":"T"})"))
      << got[2];
  EXPECT_EQ(authenticate_calls, 2) << "the credentials were checked again";
  EXPECT_EQ(helper->authenticated_count(), 1u);
  // A client that authenticates on every connect is answered at once.
  back.send(R"(2["authenticate"])");
  EXPECT_EQ(untimed(back.received()).size(), 1u);
  EXPECT_EQ(authenticate_calls, 2);
  // It is in its rooms again.
  helper->send({"io-notification", "note", boost::json::value(2), false});
  EXPECT_EQ(back.received().size(), 1u);
}

TEST_F(ServerHelperRecovery, CredentialsThatNoLongerPassRestoreNothing) {
  make_recovering();
  const auto lost = authenticated_then_lost();
  helper->send({"io-default", "news", boost::json::value(1), false});
  verdict = "reject";
  sio_client back(loop, host.service);
  back.send(R"(0{"pid":")" + lost.pid + R"(","offset":")" + lost.offset + R"("})");
  const auto got = back.received();
  ASSERT_EQ(got.size(), 1u) << "nothing missed: " << ::testing::PrintToString(got);
  EXPECT_NE(sio_client::sid_of(got[0]), lost.sid);
  EXPECT_EQ(helper->authenticated_count(), 0u);
  // A new, unauthenticated socket: broadcasts do not reach it, and it must authenticate.
  helper->send({"", "all", boost::json::value(3), false});
  EXPECT_EQ(back.received(), strings{});
  back.send(R"(2["authenticate"])");
  const auto answer = back.received();
  ASSERT_FALSE(answer.empty());
  EXPECT_TRUE(answer[0].starts_with(R"(2["unauthenticated")")) << answer[0];
}

TEST_F(ServerHelperRecovery, AClientThatNeverAuthenticatedLeavesNothingToRecover) {
  make_recovering();
  sio_client c(loop, host.service);
  const auto answer = c.connect();
  const auto p = answer.find("\"pid\":\"") + 7;
  const auto pid = answer.substr(p, answer.find('"', p) - p);
  helper->send({sio_client::sid_of(answer), "direct", boost::json::value(1), false});
  const auto got = c.received();
  ASSERT_EQ(got.size(), 1u);
  const auto offset =
      got[0].substr(got[0].rfind(",\"") + 2, got[0].size() - got[0].rfind(",\"") - 4);
  c.engine().post("1");
  loop.run();
  sio_client back(loop, host.service);
  back.send(R"(0{"pid":")" + pid + R"(","offset":")" + offset + R"("})");
  const auto again = back.received();
  ASSERT_EQ(again.size(), 1u);
  EXPECT_NE(sio_client::sid_of(again[0]), sio_client::sid_of(answer));
  EXPECT_EQ(authenticate_calls, 0);
}

TEST_F(ServerHelperFlow, ShutdownDisconnectsEveryClient) {
  make();
  auto a = authenticated();
  auto b = client();
  std::vector<helpers::client_summary> clients;
  helper->get_clients([&](std::vector<helpers::client_summary> all) { clients = std::move(all); });
  loop.run();
  ASSERT_EQ(clients.size(), 2u);
  helper->shutdown();
  loop.run();
  EXPECT_EQ(a.received(), strings{"1"});
  EXPECT_EQ(b.received(), strings{"1"});
  EXPECT_EQ(helper->client_count(), 0u);
}

TEST_F(ServerHelperFlow, DescribeShowsTheHelpersViewOfASocketForTheAdminUi) {
  make();
  auto c = client();
  socketio::socket_ptr s;
  helper->io().main().for_each_local_socket([&](const socketio::socket_ptr& x) { s = x; });
  loop.run();
  ASSERT_NE(s, nullptr);
  auto described = [&] { return boost::json::serialize(helpers::server_helper::describe(*s)); };
  EXPECT_EQ(described(), R"({"ignis":{"state":"unauthorized","authenticated":false}})");
  c.send(R"(2["authenticate"])");
  c.received();
  EXPECT_EQ(described(), R"({"ignis":{"state":"authenticated","authenticated":true}})");
  s->data = boost::json::object{{"user", 42}, {"ignis", "theirs"}};
  EXPECT_EQ(described(), R"({"ignis":{"state":"authenticated","authenticated":true},"user":42})");
  s->data = "text";
  EXPECT_EQ(described(),
            R"({"ignis":{"state":"authenticated","authenticated":true},"data":"text"})");
  // A socket the helper does not handle shows its own data.
  socketio::socket_ptr other;
  helper->io().of("/other").on_connection([&](const socketio::socket_ptr& x) { other = x; });
  sio_client o(loop, host.service);
  o.connect("/other");
  ASSERT_NE(other, nullptr);
  other->data = boost::json::object{{"a", 1}};
  EXPECT_EQ(boost::json::serialize(helpers::server_helper::describe(*other)), R"({"a":1})");
}

}  // namespace
