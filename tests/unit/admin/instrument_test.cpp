// The Admin UI's namespace in process (tests/support/inprocess.hpp), against the frames
// @socket.io/admin-ui 0.5.1 sends from Node: the login (refusal, session id before the CONNECT
// answer, a comeback with the session id), config and all_sockets, server_stats on the manual
// clock, every event of a socket's life in development mode and none in production mode, the
// commands, and malformed commands that change nothing.
#include "support/inprocess.hpp"

#include <ignis/admin/instrument.hpp>
#include <ignis/socketio/json.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include <regex>
#include <set>

namespace {

using namespace ignis;
using namespace std::chrono_literals;
using test::sio_client;
namespace json = boost::json;
using strings = std::vector<std::string>;

// A cheap hash for the tests (cost 4), made once.
const std::string& test_hash() {
  static const std::string hash = admin::hash_password("changeit", 4);
  return hash;
}

struct event {
  std::string name;
  json::array args;
};

// The admin namespace's EVENT packets among `packets`, in order ("2/admin,[name, ...args]").
std::vector<event> admin_events(const strings& packets) {
  std::vector<event> out;
  for (const auto& p : packets) {
    if (!p.starts_with("2/admin,")) continue;
    auto v = json::parse(p.substr(8)).as_array();
    event e{std::string(v[0].as_string()), {}};
    for (std::size_t i = 1; i < v.size(); ++i)
      e.args.push_back(v[i]);
    out.push_back(std::move(e));
  }
  return out;
}

strings names(const std::vector<event>& events) {
  strings out;
  for (const auto& e : events)
    out.push_back(e.name);
  return out;
}

bool is_iso(const json::value& v) {
  static const std::regex iso(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)");
  return v.is_string() && std::regex_match(std::string(v.as_string()), iso);
}

class AdminInstrument : public ::testing::Test {
 protected:
  test::loop loop;
  std::unique_ptr<socketio::server> server;
  std::unique_ptr<admin::instrument> instrument;
  std::vector<socketio::socket_ptr> users;  // sockets of "/" in connection order

  void make(admin::mode mode = admin::mode::development, bool readonly = false,
            std::size_t events_per_second = 2'000) {
    server = std::make_unique<socketio::server>(loop.rt);
    admin::options o;
    o.auth = admin::credentials{"admin", test_hash()};
    o.mode = mode;
    o.readonly = readonly;
    o.max_events_per_second = events_per_second;
    o.server_id = "srv-1";
    o.run_check = [](std::function<void()> job) { job(); };  // in line: no thread to wait for
    instrument = std::make_unique<admin::instrument>(*server, std::move(o));
    server->main().on_connection([this](const socketio::socket_ptr& s) {
      users.push_back(s);
      s->on("ping-me",
            [](socketio::socket& self, socketio::payload& args, socketio::ack_responder ack) {
              if (ack) ack(std::move(args));
              self.emit("to-client", socketio::make_args(json::object{{"a", 1}}));
            });
    });
    loop.run();
  }
  sio_client client() { return sio_client(loop, server->engine()); }
  // Sends the admin CONNECT with `auth` and returns everything received.
  strings login(sio_client& c, const std::string& auth) {
    c.send("0/admin," + auth);
    return c.received();
  }
  strings login(sio_client& c) { return login(c, R"({"username":"admin","password":"changeit"})"); }
};

TEST_F(AdminInstrument, AWrongLoginIsRefusedWithInvalidCredentials) {
  make();
  for (const char* auth :
       {R"({"username":"admin","password":"wrong"})",
        R"({"username":"root","password":"changeit"})", R"({"username":"admin"})",
        R"({"username":"admin","password":42})", R"({"sessionId":"0000000000000000"})", R"({})"}) {
    auto c = client();
    EXPECT_EQ(login(c, auth), strings{R"(4/admin,{"message":"invalid credentials"})"}) << auth;
  }
}

TEST_F(AdminInstrument, ALoginGetsItsSessionBeforeTheConnectAnswerThenConfigAndAllSockets) {
  make();
  auto user = client();
  user.connect();
  auto ui = client();
  const auto got = login(ui);
  ASSERT_GE(got.size(), 2u);
  // Node's order: the session (emitted in the middleware), then the CONNECT answer.
  ASSERT_TRUE(got[0].starts_with(R"(2/admin,["session",")")) << got[0];
  ASSERT_TRUE(got[1].starts_with(R"(0/admin,{"sid":")")) << got[1];
  const auto session = std::string(admin_events(got)[0].args[0].as_string());
  EXPECT_EQ(session.size(), 16u);
  const auto events = admin_events(got);
  const auto config =
      std::find_if(events.begin(), events.end(), [](const auto& e) { return e.name == "config"; });
  ASSERT_NE(config, events.end());
  EXPECT_EQ(
      json::serialize(config->args[0]),
      R"({"supportedFeatures":["EMIT","JOIN","LEAVE","DISCONNECT","MJOIN","MLEAVE","MDISCONNECT","AGGREGATED_EVENTS","ALL_EVENTS"]})");
  const auto all = std::find_if(events.begin(), events.end(),
                                [](const auto& e) { return e.name == "all_sockets"; });
  ASSERT_NE(all, events.end());
  ASSERT_GT(all - config, 0) << "all_sockets after config";
  // The user's socket and the UI's own, as SerializedSocket.
  const auto& sockets = all->args[0].as_array();
  ASSERT_EQ(sockets.size(), 2u);
  const auto& first = sockets[0].as_object();
  EXPECT_EQ(first.at("nsp"), "/");
  EXPECT_EQ(first.at("id"), json::value(users[0]->id()));
  EXPECT_EQ(first.at("clientId"), json::value(users[0]->engine_id().substr(0, 12)));
  EXPECT_EQ(first.at("transport"), "polling");
  EXPECT_EQ(first.at("data"), json::object());
  EXPECT_EQ(first.at("rooms"), json::array{json::value(users[0]->id())});
  const auto& hs = first.at("handshake").as_object();
  for (const char* key :
       {"address", "headers", "query", "issued", "secure", "time", "url", "xdomain"})
    EXPECT_TRUE(hs.contains(key)) << key;
  EXPECT_FALSE(hs.contains("auth"));
  EXPECT_TRUE(hs.at("time").as_string().ends_with("GMT+0000 (Coordinated Universal Time)"));
  EXPECT_EQ(sockets[1].at("nsp"), "/admin");

  // A comeback with the session id: accepted, no new session.
  auto again = client();
  const auto back = login(again, R"({"sessionId":")" + session + R"("})");
  ASSERT_FALSE(back.empty());
  EXPECT_TRUE(back[0].starts_with(R"(0/admin,{"sid":")")) << back[0];
  for (const auto& e : admin_events(back))
    EXPECT_NE(e.name, "session");
}

TEST_F(AdminInstrument, TheUisCredentialsAreNeverReportedByFetchSockets) {
  make(admin::mode::production);  // in both modes
  auto ui = client();
  login(ui);
  std::vector<socketio::socket_info> found;
  server->of("/admin").all().fetch_sockets(
      [&](std::vector<socketio::socket_info> f) { found = std::move(f); });
  loop.run();
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].handshake.at("auth"), json::object());
  EXPECT_TRUE(found[0].data.is_null()) << "production mode adds nothing to the data";
}

TEST_F(AdminInstrument, ServerStatsComeEveryIntervalWithEveryFieldTheUiReads) {
  make();
  auto ui = client();
  login(ui);
  auto user = client();
  user.connect();
  ui.received();
  loop.advance(1999ms);
  EXPECT_TRUE(admin_events(ui.received()).empty());
  loop.advance(1ms);
  const auto events = admin_events(ui.received());
  ASSERT_EQ(names(events), strings{"server_stats"});
  const auto& stats = events[0].args[0].as_object();
  EXPECT_EQ(stats.at("serverId"), "srv-1");
  EXPECT_TRUE(stats.at("hostname").is_string());
  EXPECT_TRUE(stats.at("pid").is_int64());
  EXPECT_TRUE(stats.at("uptime").is_double());
  EXPECT_EQ(stats.at("clientsCount").to_number<int>(), 2);
  EXPECT_EQ(stats.at("pollingClientsCount").to_number<int>(), 2);
  EXPECT_EQ(json::serialize(stats.at("namespaces")),
            R"([{"name":"/","socketsCount":1},{"name":"/admin","socketsCount":1}])");
  const std::set<std::string> types{"rawConnection", "rawDisconnection", "packetsIn",
                                    "bytesIn",       "packetsOut",       "bytesOut"};
  std::set<std::string> seen;
  for (const auto& e : stats.at("aggregatedEvents").as_array()) {
    EXPECT_EQ(e.at("timestamp").to_number<std::int64_t>() % 1000, 0);
    EXPECT_GT(e.at("count").to_number<std::int64_t>(), 0);
    seen.insert(std::string(e.at("type").as_string()));
  }
  for (const auto& t : seen)
    EXPECT_TRUE(types.contains(t)) << t;
  EXPECT_TRUE(seen.contains("rawConnection"));
  EXPECT_TRUE(seen.contains("packetsIn"));
  EXPECT_TRUE(seen.contains("bytesOut"));
  // The next ones count only what happened since.
  loop.advance(2s);
  const auto next = admin_events(ui.received());
  ASSERT_EQ(names(next), strings{"server_stats"});
  for (const auto& e : next[0].args[0].at("aggregatedEvents").as_array())
    EXPECT_NE(e.at("type"), "rawConnection");
}

TEST_F(AdminInstrument, DevelopmentModeReportsASocketsWholeLifeInOrder) {
  make();
  auto ui = client();
  login(ui);
  ui.received();
  auto user = client();
  user.connect();
  const auto id = std::string(users.at(0)->id());
  users[0]->join("room-x");
  user.send(R"(21["ping-me",1])");
  users[0]->leave("room-x");
  user.received();
  ui.send(R"(2/admin,["_disconnect","/",false])");
  EXPECT_EQ(user.received(), strings{"1"}) << "the user was disconnected";
  const auto events = admin_events(ui.received());
  ASSERT_EQ(names(events),
            (strings{"room_joined", "socket_connected", "room_joined", "event_received",
                     "event_sent", "room_left", "socket_disconnected", "room_left"}));
  EXPECT_EQ(json::serialize(json::array(events[0].args.begin(), events[0].args.end() - 1)),
            R"(["/",")" + id + R"(",")" + id + R"("])");
  EXPECT_EQ(events[1].args[0].at("id"), json::value(id));
  EXPECT_EQ(events[1].args[0].at("rooms"), json::array{json::value(id)});
  EXPECT_EQ(events[2].args[1], "room-x");
  // The acknowledgement is not part of the arguments.
  EXPECT_EQ(json::serialize(events[3].args[2]), R"(["ping-me",1])");
  EXPECT_EQ(json::serialize(events[4].args[2]), R"(["to-client",{"a":1}])");
  EXPECT_EQ(events[5].args[1], "room-x");
  EXPECT_EQ(events[6].args[2], "server namespace disconnect");
  EXPECT_EQ(events[7].args[1], json::value(id));
  for (const auto& e : events) {
    if (e.name != "socket_connected") {
      EXPECT_TRUE(is_iso(e.args.back())) << e.name;
    }
  }
}

TEST_F(AdminInstrument, BroadcastsAreReportedOncePerReceivingSocket) {
  make();
  auto ui = client();
  login(ui);
  auto a = client();
  a.connect();
  auto b = client();
  b.connect();
  ui.received();
  server->main().emit("news", socketio::make_args("hi"));
  loop.run();
  const auto events = admin_events(ui.received());
  ASSERT_EQ(names(events), (strings{"event_sent", "event_sent"}));
  std::set<std::string> to{std::string(events[0].args[1].as_string()),
                           std::string(events[1].args[1].as_string())};
  EXPECT_EQ(to, (std::set<std::string>{std::string(users[0]->id()), std::string(users[1]->id())}));
}

TEST_F(AdminInstrument, EventMessagesAreBoundedPerSecond) {
  make(admin::mode::development, false, 3);
  auto ui = client();
  login(ui);
  std::vector<sio_client> clients;
  for (int i = 0; i < 5; ++i) {
    clients.push_back(client());
    clients.back().connect();
  }
  ui.received();
  server->main().emit("news");
  loop.run();
  EXPECT_EQ(names(admin_events(ui.received())),
            (strings{"event_sent", "event_sent", "event_sent"}));
  EXPECT_EQ(instrument->events_not_sent(), 2u);
  server->main().emit("more");
  loop.run();
  EXPECT_TRUE(admin_events(ui.received()).empty()) << "none left this second";
  // The rest of a socket's life does not count against the budget.
  users[0]->join("room-x");
  loop.run();
  EXPECT_EQ(names(admin_events(ui.received())), strings{"room_joined"});
  loop.advance(1s);
  ui.received();  // the statistics
  server->main().emit("next second");
  loop.run();
  EXPECT_EQ(names(admin_events(ui.received())),
            (strings{"event_sent", "event_sent", "event_sent"}));
  EXPECT_EQ(instrument->events_not_sent(), 9u);
}

TEST_F(AdminInstrument, ZeroEventsPerSecondReportsEveryDelivery) {
  make(admin::mode::development, false, 0);
  auto ui = client();
  login(ui);
  std::vector<sio_client> clients;
  for (int i = 0; i < 5; ++i) {
    clients.push_back(client());
    clients.back().connect();
  }
  ui.received();
  for (int i = 0; i < 3; ++i)
    server->main().emit("news");
  loop.run();
  EXPECT_EQ(names(admin_events(ui.received())), strings(15, "event_sent"));
  EXPECT_EQ(instrument->events_not_sent(), 0u);
}

TEST_F(AdminInstrument, SocketUpdatedCarriesTheSocketsData) {
  make();
  auto ui = client();
  login(ui);
  auto user = client();
  user.connect();
  ui.received();
  users[0]->data = json::object{{"user", "alice"}};
  instrument->socket_updated(*users[0]);
  loop.run();
  const auto events = admin_events(ui.received());
  ASSERT_EQ(names(events), strings{"socket_updated"});
  EXPECT_EQ(json::serialize(events[0].args[0]),
            R"({"id":")" + std::string(users[0]->id()) + R"(","nsp":"/","data":{"user":"alice"}})");
}

TEST_F(AdminInstrument, ProductionModeSendsStatsAndConfigButNoSocketEvents) {
  make(admin::mode::production);
  auto ui = client();
  const auto got = login(ui);
  const auto events = admin_events(got);
  ASSERT_EQ(names(events), (strings{"session", "config"}));
  EXPECT_EQ(
      json::serialize(events[1].args[0]),
      R"({"supportedFeatures":["EMIT","JOIN","LEAVE","DISCONNECT","MJOIN","MLEAVE","MDISCONNECT","AGGREGATED_EVENTS"]})");
  EXPECT_EQ(server->observing(), nullptr) << "nothing watches the sockets";
  auto user = client();
  user.connect();
  users[0]->join("room-x");
  user.send(R"(2["ping-me",1])");
  // The commands stay.
  ui.send(R"(2/admin,["join","/","room-y"])");
  EXPECT_TRUE(users[0]->in_room("room-y"));
  ui.send(R"(2/admin,["_disconnect","/",false])");
  EXPECT_FALSE(users[0]->connected());
  EXPECT_TRUE(admin_events(ui.received()).empty());
  loop.advance(2s);
  EXPECT_EQ(names(admin_events(ui.received())), strings{"server_stats"});
}

TEST_F(AdminInstrument, CommandsEmitJoinLeaveAndDisconnectTheSocketsTheyName) {
  make(admin::mode::production);
  auto ui = client();
  login(ui);
  auto a = client();
  a.connect();
  auto b = client();
  b.connect();
  const std::string id_a(users[0]->id());
  ui.send(R"(2/admin,["join","/","room-y",")" + id_a + R"("])");
  EXPECT_TRUE(users[0]->in_room("room-y"));
  EXPECT_FALSE(users[1]->in_room("room-y"));
  ui.send(R"(2/admin,["emit","/","room-y","hello-from-admin",1,2])");
  EXPECT_EQ(a.received(), strings{R"(2["hello-from-admin",1,2])"});
  EXPECT_TRUE(b.received().empty());
  ui.send(R"(2/admin,["emit","/",null,"to-all"])");
  EXPECT_EQ(a.received(), strings{R"(2["to-all"])"});
  EXPECT_EQ(b.received(), strings{R"(2["to-all"])"});
  ui.send(R"(2/admin,["leave","/","room-y"])");
  EXPECT_FALSE(users[0]->in_room("room-y"));
  ui.send(R"(2/admin,["_disconnect","/",false,")" + id_a + R"("])");
  EXPECT_EQ(a.received(), strings{"1"});
  EXPECT_TRUE(users[1]->connected());
  ui.send(R"(2/admin,["_disconnect","/",true])");  // the whole connection
  EXPECT_FALSE(users[1]->connected());
}

TEST_F(AdminInstrument, MalformedCommandsChangeNothing) {
  make(admin::mode::production);
  auto ui = client();
  login(ui);
  auto a = client();
  a.connect();
  for (const char* bad : {R"(2/admin,["emit"])", R"(2/admin,["emit","/",null,"connect"])",
                          R"(2/admin,["emit",{},null,"x"])", R"(2/admin,["join",1,"r"])",
                          R"(2/admin,["join","/",""])", R"(2/admin,["join","/nowhere","r"])",
                          R"(2/admin,["leave","/",null])", R"(2/admin,["_disconnect","/","true"])",
                          R"(2/admin,["_disconnect","/",false,{"a":1}])",
                          R"(2/admin,["_disconnect"])", R"(2/admin,["join","/",["r",3]])"}) {
    ui.send(bad);
  }
  EXPECT_TRUE(users[0]->connected());
  EXPECT_EQ(users[0]->rooms().size(), 1u);
  EXPECT_TRUE(a.received().empty());
  EXPECT_EQ(server->find("/nowhere"), nullptr) << "a command never creates a namespace";
  EXPECT_TRUE(ui.received().empty()) << "the UI stays connected, nothing answered";
}

TEST_F(AdminInstrument, ReadonlyLeavesOnlyTheViews) {
  make(admin::mode::development, true);
  auto ui = client();
  const auto events = admin_events(login(ui));
  const auto config =
      std::find_if(events.begin(), events.end(), [](const auto& e) { return e.name == "config"; });
  ASSERT_NE(config, events.end());
  EXPECT_EQ(json::serialize(config->args[0]),
            R"({"supportedFeatures":["AGGREGATED_EVENTS","ALL_EVENTS"]})");
  auto a = client();
  a.connect();
  ui.send(R"(2/admin,["_disconnect","/",false])");
  EXPECT_TRUE(users[0]->connected());
}

TEST(AdminInstrumentOptions, AHashThatIsNoBcryptHashOrTheMainNamespaceAreRefused) {
  test::loop loop;
  socketio::server server(loop.rt);
  admin::options bad_hash;
  bad_hash.auth = admin::credentials{"admin", "changeit"};
  EXPECT_THROW((admin::instrument{server, bad_hash}), std::invalid_argument);
  admin::options main;
  main.namespace_name = "/";
  EXPECT_THROW((admin::instrument{server, main}), std::invalid_argument);
}

}  // namespace
