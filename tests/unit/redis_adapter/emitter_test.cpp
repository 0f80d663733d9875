// The C++ emitter writes what Node's @socket.io/redis-emitter 5.1 wrote in the captures.
#include <ignis/redis/emitter.hpp>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace {

namespace json = boost::json;
using ignis::redis::emitter;

struct published {
  std::string channel;
  std::string bytes;
};

std::string unhex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

std::map<std::string, published> captures() {
  std::ifstream in(std::string(IGNIS_REDIS_VECTORS) + "/redis-emitter.jsonl");
  std::map<std::string, published> out;
  for (std::string line; std::getline(in, line);) {
    const auto v = json::parse(line).as_object();
    if (!v.contains("payload_hex")) continue;
    out[std::string(v.at("name").as_string())] = {std::string(v.at("channel").as_string()),
                                                  unhex(v.at("payload_hex").as_string())};
  }
  return out;
}

class EmitterVectors : public ::testing::Test {
 protected:
  std::vector<published> sent;
  emitter e{[this](std::string channel, std::string payload) {
    sent.push_back({std::move(channel), std::move(payload)});
  }};
  std::map<std::string, published> expected = captures();

  void check(const std::string& name) {
    ASSERT_EQ(sent.size(), 1u) << name;
    ASSERT_TRUE(expected.contains(name)) << name;
    EXPECT_EQ(sent[0].channel, expected[name].channel) << name;
    EXPECT_EQ(sent[0].bytes, expected[name].bytes) << name;
    sent.clear();
  }
};

TEST_F(EmitterVectors, Broadcasts) {
  ignis::socketio::payload args;
  args.args.emplace_back("hi");
  args.args.push_back(args.add_binary(std::string("\xde\xad", 2)));
  e.emit("from-emitter", std::move(args));
  check("emitter-broadcast");
  e.to("room1").emit("emitter-room", ignis::socketio::make_args(1));
  check("emitter-room");
  e.of("custom").emit("emitter-custom");
  check("emitter-custom-nsp");
  e.to("room1").to("room2").except("room3").volatile_().emit(
      "emitter-multi", ignis::socketio::make_args(json::object{{"k", "v"}}));
  check("emitter-rooms-except-flags");
}

TEST_F(EmitterVectors, Requests) {
  e.in("room1").sockets_join({"room-e"});
  check("emitter-sockets-join");
  e.sockets_leave({"room-e"});
  check("emitter-sockets-leave");
  e.server_side_emit("emitter-sse", ignis::socketio::make_args(1, "two"));
  check("emitter-server-side-emit");
  e.in("room-none").disconnect_sockets();
  check("emitter-disconnect-sockets");
}

TEST_F(EmitterVectors, ReservedNamesThrow) {
  EXPECT_THROW(e.emit("connect"), std::invalid_argument);
  EXPECT_THROW(e.server_side_emit("disconnecting"), std::invalid_argument);
  EXPECT_TRUE(sent.empty());
}

}  // namespace
