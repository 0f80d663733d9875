#include <ignis/helpers/server_helper.hpp>

#include <gtest/gtest.h>

#include <stdexcept>
#include <system_error>
#include <vector>

namespace {

using namespace ignis;

helpers::server_helper_options valid_options() {
  helpers::server_helper_options o;
  o.listen = net::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0);
  o.authenticate = [](const socketio::handshake_info&,
                      std::function<void(helpers::auth_result)> done) {
    done(helpers::auth_result::accept());
  };
  return o;
}

template <class E, class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "(no exception)";
}

TEST(ServerHelper, RequiresAServerForItsRuntime) {
  net::runtime rt(1);
  auto o = valid_options();
  o.listen.reset();
  EXPECT_EQ(error_of<std::invalid_argument>([&] { helpers::server_helper h(rt, o); }),
            "[SocketIOServerHelper] Invalid HTTP server for standalone runtime!");
  o.runtime = helpers::server_runtime::embedded;
  EXPECT_EQ(error_of<std::invalid_argument>([&] { helpers::server_helper h(rt, o); }),
            "[SocketIOServerHelper] Invalid HTTP server for embedded runtime!");
  o.runtime = static_cast<helpers::server_runtime>(7);
  EXPECT_EQ(error_of<std::invalid_argument>([&] { helpers::server_helper h(rt, o); }),
            "[SocketIOServerHelper] Unsupported runtime!");
  // The runtime is checked before the authenticate function, as upstream checks it first.
  o.authenticate = nullptr;
  EXPECT_EQ(error_of<std::invalid_argument>([&] { helpers::server_helper h(rt, o); }),
            "[SocketIOServerHelper] Unsupported runtime!");
}

TEST(ServerHelper, EmbeddedMountsOnTheHostAndStandaloneListens) {
  net::runtime rt(1);
  struct recording_host final : net::http_host {
    std::vector<std::shared_ptr<net::http_service>> mounted;
    void mount(std::shared_ptr<net::http_service> s) override { mounted.push_back(std::move(s)); }
  } host;
  auto o = valid_options();
  o.runtime = helpers::server_runtime::embedded;
  o.host = &host;
  helpers::server_helper embedded(rt, o);
  EXPECT_TRUE(host.mounted.empty());
  embedded.configure();
  ASSERT_EQ(host.mounted.size(), 1u);
  EXPECT_EQ(host.mounted[0], embedded.http_service());
  EXPECT_EQ(embedded.port(), 0);

  helpers::server_helper standalone(rt, valid_options());
  EXPECT_EQ(standalone.port(), 0);
  standalone.configure();
  EXPECT_NE(standalone.port(), 0);

  // A port already taken: configure() reports it.
  auto taken = valid_options();
  taken.listen->port(standalone.port());
  helpers::server_helper clash(rt, taken);
  EXPECT_THROW(clash.configure(), std::system_error);
}

TEST(ServerHelper, RequiresAnAuthenticateFunction) {
  net::runtime rt(1);
  auto o = valid_options();
  o.authenticate = nullptr;
  EXPECT_EQ(error_of<std::invalid_argument>([&] { helpers::server_helper h(rt, o); }),
            "[SocketIOServerHelper] Invalid authenticate function!");
}

TEST(ServerHelper, RequiresPositiveIntervals) {
  net::runtime rt(1);
  auto o = valid_options();
  o.ping_interval = std::chrono::milliseconds(0);
  EXPECT_EQ(error_of<std::invalid_argument>([&] { helpers::server_helper h(rt, o); }),
            "[SocketIOServerHelper] Invalid ping interval!");
  o = valid_options();
  o.authenticate_timeout = std::chrono::milliseconds(-1);
  EXPECT_EQ(error_of<std::invalid_argument>([&] { helpers::server_helper h(rt, o); }),
            "[SocketIOServerHelper] Invalid authenticate timeout!");
}

TEST(ServerHelper, OnValidatesLikeUpstream) {
  net::runtime rt(1);
  helpers::server_helper h(rt, valid_options());
  const auto handler = [](const socketio::socket_ptr&) {};
  EXPECT_EQ(error_of<std::logic_error>([&] { h.on("connection", handler); }),
            "[on] IOServer is not initialized yet!");
  h.configure();
  EXPECT_EQ(error_of<std::invalid_argument>([&] { h.on("", handler); }),
            "[on] Invalid topic to start binding handler");
  EXPECT_EQ(error_of<std::invalid_argument>([&] { h.on("connection", {}); }),
            "[on] Invalid event handler | topic: connection");
  EXPECT_NO_THROW(h.on("connection", handler));
}

helpers::send_options topic(std::string t, boost::json::value data = nullptr) {
  helpers::send_options o;
  o.topic = std::move(t);
  o.data = std::move(data);
  return o;
}

TEST(ServerHelper, SendRefusesEmptyAndReservedTopics) {
  net::runtime rt(1);
  helpers::server_helper h(rt, valid_options());
  h.configure();
  EXPECT_EQ(error_of<std::invalid_argument>([&] { h.send(topic("")); }), "Topic is required");
  for (const char* reserved : {"connect", "connect_error", "disconnect", "disconnecting",
                               "newListener", "removeListener"}) {
    EXPECT_EQ(error_of<std::invalid_argument>([&] { h.send(topic(reserved)); }),
              "\"" + std::string(reserved) + "\" is a reserved event name");
  }
  EXPECT_NO_THROW(h.send(topic("ping")));  // not reserved; null data is sent
}

TEST(ServerHelper, IoBeforeConfigureIsAnError) {
  net::runtime rt(1);
  helpers::server_helper h(rt, valid_options());
  EXPECT_THROW(h.io(), std::logic_error);
}

TEST(ServerHelper, GlobMatching) {
  using helpers::glob_match;
  EXPECT_TRUE(glob_match("public-*", "public-"));
  EXPECT_TRUE(glob_match("public-*", "public-news"));
  EXPECT_FALSE(glob_match("public-*", "private-news"));
  EXPECT_TRUE(glob_match("team-?", "team-a"));
  EXPECT_FALSE(glob_match("team-?", "team-ab"));
  EXPECT_FALSE(glob_match("a.b", "axb"));
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_TRUE(glob_match("a*b*c", "aXbYbZc"));
  EXPECT_FALSE(glob_match("Team-*", "team-a"));
  // A literal '*' in a name is matched by the wildcard, not taken for a literal first.
  EXPECT_TRUE(glob_match("a*", "a*b"));
}

TEST(ServerHelper, GlobMatchingCountsCodePointsNotBytes) {
  using helpers::glob_match;
  // '?' is one character whatever its UTF-8 length: 2 (é), 3 (中) or 4 (😀, U+1F600) bytes.
  EXPECT_TRUE(glob_match("g-?", "g-\xC3\xA9"));
  EXPECT_TRUE(glob_match("g-?", "g-\xE4\xB8\xAD"));
  EXPECT_TRUE(glob_match("g-?", "g-\xF0\x9F\x98\x80"));
  EXPECT_FALSE(glob_match("x-??", "x-\xC3\xA9"));
  EXPECT_FALSE(glob_match("x-??", "x-\xF0\x9F\x98\x80"));
  EXPECT_TRUE(glob_match("x-??", "x-\xC3\xA9\xE4\xB8\xAD"));
  EXPECT_FALSE(glob_match("g-?", "g-\xC3\xA9\xC3\xA9"));
  // Literals compare whole code points; '*' moves by code points.
  EXPECT_TRUE(glob_match("caf\xC3\xA9-*", "caf\xC3\xA9-\xE4\xB8\xAD"));
  EXPECT_FALSE(glob_match("caf\xC3\xA9", "caf\xC3\xA8"));
  EXPECT_TRUE(glob_match("*\xE4\xB8\xAD?", "ab\xE4\xB8\xAD\xF0\x9F\x98\x80"));
  EXPECT_TRUE(glob_match("*?", "\xF0\x9F\x98\x80"));
  EXPECT_FALSE(glob_match("??", "\xF0\x9F\x98\x80"));
  EXPECT_FALSE(glob_match("?\xA9", "\xC3\xA9"));  // no half characters
  // Stray bytes (no valid sequence) count as one character each and never run past the end.
  EXPECT_TRUE(glob_match("??", "\xA9\xA9"));
  EXPECT_TRUE(glob_match("a?", "a\xE4\xB8"));  // a cut 3-byte sequence: one character
  EXPECT_FALSE(glob_match("a?",
                          "a\xE4"
                          "b"));
}

TEST(ServerHelper, SocketIdFormIsReserved) {
  EXPECT_TRUE(helpers::is_socket_id_form("AbCdEfGhIjKlMnOpQr_-"));
  EXPECT_TRUE(helpers::is_socket_id_form("abcdefghijklmnopqrst"));  // ordinary words too
  EXPECT_TRUE(helpers::is_socket_id_form("01234567890123456789"));
  EXPECT_FALSE(helpers::is_socket_id_form("AbCdEfGhIjKlMnOpQr_"));        // 19
  EXPECT_FALSE(helpers::is_socket_id_form("AbCdEfGhIjKlMnOpQr_-x"));      // 21
  EXPECT_FALSE(helpers::is_socket_id_form("AbCdEfGhIjKlMnOpQr_."));       // '.'
  EXPECT_FALSE(helpers::is_socket_id_form("AbCdEfGhIjKlMnOpQ\xC3\xA9"));  // 20 bytes, not ids
  EXPECT_FALSE(helpers::is_socket_id_form(""));
}

TEST(ServerHelper, RoomNameLimits) {
  EXPECT_FALSE(helpers::is_acceptable_room_name(""));
  EXPECT_TRUE(helpers::is_acceptable_room_name(std::string(256, 'r')));
  EXPECT_FALSE(helpers::is_acceptable_room_name(std::string(257, 'r')));
  // UTF-8 only: valid 2-, 3- and 4-byte characters are fine; invalid sequences are refused.
  EXPECT_TRUE(helpers::is_acceptable_room_name("caf\xC3\xA9 \xE4\xB8\xAD \xF0\x9F\x98\x80"));
  EXPECT_FALSE(helpers::is_acceptable_room_name("caf\xC3"));           // cut sequence
  EXPECT_FALSE(helpers::is_acceptable_room_name("\xA9"));              // stray continuation
  EXPECT_FALSE(helpers::is_acceptable_room_name("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(helpers::is_acceptable_room_name("\xED\xA0\x80"));      // surrogate U+D800
  EXPECT_FALSE(helpers::is_acceptable_room_name("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(helpers::is_acceptable_room_name("\xFF"));
}

}  // namespace
