// The Admin UI protocol's values without a server: sockets as the UI lists them, the commands it
// sends (and the malformed ones it must not be able to send), the per-second traffic counts, the
// logins it comes back with, and the bcrypt checks (against a hash bcryptjs made for Node's
// instrument()).
#include "admin/protocol.hpp"

#include <ignis/admin/instrument.hpp>
#include <ignis/socketio/json.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

namespace {

using namespace ignis;
using namespace std::chrono_literals;
namespace json = boost::json;
using admin::detail::command;
using admin::detail::parse_command;

// The hash @socket.io/admin-ui's capture used (bcryptjs, cost 10) for "changeit".
constexpr std::string_view node_hash =
    "$2a$10$Ck67UQJaSX9YT5jhoyGFy.82oiMvBBFA6k5StGEFL8eAo6OLmo3Oq";

socketio::payload args(std::string_view js) {
  return socketio::payload(json::parse(js).as_array());
}

TEST(AdminSockets, AreListedAsTheUiReadsThemWithoutAuthOrTheAdminMember) {
  socketio::socket_info s;
  s.id = "sock-1";
  s.rooms = {"sock-1", "room-x"};
  s.data =
      json::parse(R"({"user":"alice","_admin":{"clientId":"abcdefghijkl","transport":"polling"}})");
  s.handshake = json::parse(R"({"headers":{"host":"h","x-forwarded-for":"10.0.0.9"},"time":"T",
      "address":"127.0.0.1","xdomain":false,"secure":false,"issued":5,"url":"/socket.io/?EIO=4",
      "query":{"EIO":"4"},"auth":{"password":"secret"}})");
  EXPECT_EQ(
      json::serialize(admin::detail::serialize_socket(s, "/")),
      R"({"id":"sock-1","clientId":"abcdefghijkl","transport":"polling","nsp":"/",)"
      R"("data":{"user":"alice"},"handshake":{"address":"10.0.0.9","headers":{"host":"h",)"
      R"("x-forwarded-for":"10.0.0.9"},"query":{"EIO":"4"},"issued":5,"secure":false,)"
      R"("time":"T","url":"/socket.io/?EIO=4","xdomain":false},"rooms":["sock-1","room-x"]})");
  // cf-connecting-ip comes first; without either header, the connection's address.
  s.handshake.as_object()["headers"].as_object()["cf-connecting-ip"] = "10.0.0.1";
  EXPECT_EQ(admin::detail::serialize_socket(s, "/").at("handshake").at("address"), "10.0.0.1");
  s.handshake.as_object()["headers"] = json::object{};
  EXPECT_EQ(admin::detail::serialize_socket(s, "/").at("handshake").at("address"), "127.0.0.1");
}

TEST(AdminSockets, DataWithoutAnAdminMemberOrNoDataAtAll) {
  EXPECT_EQ(admin::detail::serialize_data(json::value()), json::object());
  EXPECT_EQ(admin::detail::serialize_data(json::parse(R"({"a":1})")), json::parse(R"({"a":1})"));
  EXPECT_EQ(admin::detail::serialize_data(json::value("x")), json::value("x"));
  socketio::socket_info bare;  // another server's socket without instrument(): no clientId
  bare.id = "s";
  const auto out = admin::detail::serialize_socket(bare, "/chat");
  EXPECT_FALSE(out.contains("clientId"));
  EXPECT_FALSE(out.contains("transport"));
  EXPECT_EQ(out.at("nsp"), "/chat");
}

TEST(AdminCommands, EmitJoinLeaveAndDisconnectAsTheUiSendsThem) {
  auto emit = parse_command("emit", args(R"(["/","room-y","hello",1,{"a":2}])"));
  ASSERT_TRUE(emit);
  EXPECT_EQ(emit->what, command::kind::emit);
  EXPECT_EQ(emit->nsp, "/");
  EXPECT_EQ(emit->filter, std::vector<std::string>{"room-y"});
  EXPECT_EQ(emit->event, "hello");
  EXPECT_EQ(socketio::serialize_js(emit->args.args), R"([1,{"a":2}])");

  auto everyone = parse_command("emit", args(R"(["/",null,"hello"])"));
  ASSERT_TRUE(everyone);
  EXPECT_TRUE(everyone->filter.empty());

  auto join = parse_command("join", args(R"(["/chat","room-z","socket-id"])"));
  ASSERT_TRUE(join);
  EXPECT_EQ(join->what, command::kind::join);
  EXPECT_EQ(join->rooms, std::vector<std::string>{"room-z"});
  EXPECT_EQ(join->filter, std::vector<std::string>{"socket-id"});

  auto leave = parse_command("leave", args(R"(["/",["a","b"]])"));
  ASSERT_TRUE(leave);
  EXPECT_EQ(leave->what, command::kind::leave);
  EXPECT_EQ(leave->rooms, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(leave->filter.empty());

  auto disconnect = parse_command("_disconnect", args(R"(["/",true,["x","y"]])"));
  ASSERT_TRUE(disconnect);
  EXPECT_EQ(disconnect->what, command::kind::disconnect);
  EXPECT_TRUE(disconnect->close);
  EXPECT_EQ(disconnect->filter, (std::vector<std::string>{"x", "y"}));
  // JavaScript's falsy filters mean "no filter".
  for (const char* falsy :
       {R"(["/",false,false])", R"(["/",false,""])", R"(["/",false,0])", R"(["/",false,[]])"}) {
    auto c = parse_command("_disconnect", args(falsy));
    ASSERT_TRUE(c) << falsy;
    EXPECT_TRUE(c->filter.empty()) << falsy;
  }
}

TEST(AdminCommands, MalformedOnesAreIgnored) {
  const std::pair<const char*, const char*> bad[] = {
      {"emit", "[]"},
      {"emit", R"([1,null,"ev"])"},         // namespace not a string
      {"emit", R"(["/",null])"},            // no event
      {"emit", R"(["/",null,42])"},         // event not a string
      {"emit", R"(["/",null,""])"},         // empty event name
      {"emit", R"(["/",null,"connect"])"},  // reserved name
      {"emit", R"(["/",{"a":1},"ev"])"},    // filter of another type
      {"emit", R"(["/",[1],"ev"])"},        // filter list with a number
      {"join", R"(["/"])"},                 // no room
      {"join", R"(["/",""])"},              // empty room
      {"join", R"(["/",7])"},               // room not a string
      {"join", R"(["/",["ok",null]])"},     // a bad name in the list
      {"leave", R"(["/","r",true])"},       // filter true
      {"_disconnect", R"(["/","yes"])"},    // close not a boolean
      {"_disconnect", R"(["/"])"},          // no close
      {"unknown", R"(["/","r"])"},          // not a command
  };
  for (const auto& [event, a] : bad)
    EXPECT_FALSE(parse_command(event, args(a))) << event << " " << a;
  // Bounds: a room name of 1,025 bytes, a list of 101 rooms.
  json::array long_name{"/", std::string(admin::detail::max_room_name + 1, 'r')};
  EXPECT_FALSE(parse_command("join", socketio::payload(long_name)));
  json::array many;
  for (int i = 0; i < 101; ++i)
    many.emplace_back("r" + std::to_string(i));
  EXPECT_FALSE(parse_command("join", socketio::payload(json::array{"/", many})));
}

TEST(AdminStats, TrafficSamplesCountWhatHappenedSinceTheLastOneInTheSecondOfTheSample) {
  admin::detail::engine_totals t;
  t.connections = 2;
  admin::detail::traffic_sampler sampler(t);
  EXPECT_TRUE(sampler.sample(t, 1'000).empty()) << "nothing since the baseline";
  t.connections = 5;
  t.packets_in = 4;
  t.bytes_in = 98;
  t.packets_out = 11;
  t.bytes_out = 2361;
  t.closes[static_cast<std::size_t>(engineio::close_reason::transport_close)] = 1;
  t.closes[static_cast<std::size_t>(engineio::close_reason::transport_error)] = 1;
  t.closes[static_cast<std::size_t>(engineio::close_reason::slow_consumer)] = 2;
  EXPECT_EQ(
      json::serialize(sampler.sample(t, 1'796'584'997'424)),
      R"([{"timestamp":1796584997000,"type":"rawConnection","count":3},)"
      R"({"timestamp":1796584997000,"type":"packetsIn","count":4},)"
      R"({"timestamp":1796584997000,"type":"bytesIn","count":98},)"
      R"({"timestamp":1796584997000,"type":"packetsOut","count":11},)"
      R"({"timestamp":1796584997000,"type":"bytesOut","count":2361},)"
      R"({"timestamp":1796584997000,"type":"rawDisconnection","subType":"transport close","count":1},)"
      R"({"timestamp":1796584997000,"type":"rawDisconnection","subType":"transport error","count":3}])");
  EXPECT_TRUE(sampler.sample(t, 1'796'584'999'000).empty());
}

TEST(AdminLogins, SessionsAreRandomBoundedAndExpire) {
  admin::detail::session_store store(2, 60s);
  const auto t0 = std::chrono::steady_clock::time_point{} + 1h;
  const auto a = store.create(t0);
  ASSERT_EQ(a.size(), 16u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  const auto b = store.create(t0 + 1s);
  EXPECT_NE(a, b);
  EXPECT_TRUE(store.valid(a, t0 + 2s));
  EXPECT_FALSE(store.valid("0000000000000000", t0));
  const auto c = store.create(t0 + 2s);  // full: the oldest (a) goes
  EXPECT_FALSE(store.valid(a, t0 + 3s));
  EXPECT_TRUE(store.valid(b, t0 + 3s));
  EXPECT_TRUE(store.valid(c, t0 + 3s));
  EXPECT_FALSE(store.valid(b, t0 + 61s)) << "expired";
  EXPECT_TRUE(store.valid(c, t0 + 61s));
  EXPECT_LE(store.size(), 2u);
}

TEST(AdminLogins, ConstantTimeComparison) {
  using admin::detail::constant_time_equal;
  EXPECT_TRUE(constant_time_equal("admin", "admin"));
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_FALSE(constant_time_equal("admin", "admiN"));
  EXPECT_FALSE(constant_time_equal("admin", "admin2"));
  EXPECT_FALSE(constant_time_equal("admin", ""));
  EXPECT_FALSE(constant_time_equal(std::string_view("a\0b", 3), std::string_view("a\0c", 3)));
}

TEST(AdminPasswords, BcryptHashesFromNodeAndOurOwn) {
  EXPECT_TRUE(admin::is_bcrypt_hash(node_hash));
  EXPECT_TRUE(admin::check_password("changeit", node_hash));
  EXPECT_FALSE(admin::check_password("changeiT", node_hash));
  EXPECT_FALSE(admin::check_password("", node_hash));
  // The $2y$ and $2b$ spellings of the same hash (PHP's and OpenBSD's) are accepted too.
  std::string y(node_hash);
  y[2] = 'y';
  EXPECT_TRUE(admin::check_password("changeit", y));
  y[2] = 'b';
  EXPECT_TRUE(admin::check_password("changeit", y));
  // A password with a NUL byte could otherwise match its prefix.
  EXPECT_FALSE(admin::check_password(std::string_view("changeit\0x", 10), node_hash));

  const auto ours = admin::hash_password("s3cret pass", 4);
  EXPECT_TRUE(ours.starts_with("$2b$04$")) << ours;
  EXPECT_TRUE(admin::is_bcrypt_hash(ours));
  EXPECT_TRUE(admin::check_password("s3cret pass", ours));
  EXPECT_FALSE(admin::check_password("s3cret pas", ours));
  EXPECT_NE(admin::hash_password("s3cret pass", 4), ours) << "a fresh salt each time";
  EXPECT_THROW(admin::hash_password("x", 3), std::invalid_argument);
  EXPECT_THROW(admin::hash_password(std::string_view("a\0b", 3), 4), std::invalid_argument);
}

TEST(AdminPasswords, WhatIsNoBcryptHash) {
  for (const char* h : {"", "changeit", "$1$abc$OGyl6dDvZCDiGmIVbeuCq/",
                        "$2x$10$Ck67UQJaSX9YT5jhoyGFy.82oiMvBBFA6k5StGEFL8eAo6OLmo3Oq",
                        "$2a$03$Ck67UQJaSX9YT5jhoyGFy.82oiMvBBFA6k5StGEFL8eAo6OLmo3Oq",
                        "$2a$32$Ck67UQJaSX9YT5jhoyGFy.82oiMvBBFA6k5StGEFL8eAo6OLmo3Oq",
                        "$2a$10$Ck67UQJaSX9YT5jhoyGFy.82oiMvBBFA6k5StGEFL8eAo6OLmo3O",
                        "$2a$10$Ck67UQJaSX9YT5jhoyGFy.82oiMvBBFA6k5StGEFL8eAo6OLmo3O!"}) {
    EXPECT_FALSE(admin::is_bcrypt_hash(h)) << h;
    EXPECT_FALSE(admin::check_password("changeit", h)) << h;
  }
}

}  // namespace
