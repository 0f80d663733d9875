// The C++ emitter in streams mode: the XADD commands of @socket.io/redis-streams-emitter 0.1 (uid
// "emitter", the entry fields of @socket.io/redis-streams-adapter, packet.nsp added), checked byte
// for byte against the entries Node's streams adapter wrote in the captures of spec/next-features
// (csr-streams-monitor.txt), and read back by the streams adapters' entry decoder.
#include "redis_adapter/stream_entries.hpp"

#include <ignis/redis/emitter.hpp>
#include <ignis/socketio/json.hpp>

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace ignis::redis::detail;
using ignis::redis::emitter;
using ignis::redis::reply;
using ignis::socketio::make_args;
using command = std::vector<std::string>;

command xadd(std::string nsp, std::string type, std::string data, std::string stream = "socket.io",
             std::string max_len = "10000") {
  return {"XADD",
          std::move(stream),
          "MAXLEN",
          "~",
          std::move(max_len),
          "*",
          "uid",
          "emitter",
          "nsp",
          std::move(nsp),
          "type",
          std::move(type),
          "data",
          std::move(data)};
}

/// A captured entry's data with the packet's nsp after its data array, where the emitter puts it.
std::string with_packet_nsp(std::string captured, std::string_view nsp) {
  const auto at = captured.find("},\"opts\"");
  return captured.insert(at, ",\"nsp\":\"" + std::string(nsp) + "\"");
}

// Entries Node's streams adapter XADDed in the captures (server B, uid 6ba612689a764ded).
const char* missed_all =
    R"({"packet":{"type":2,"data":["missed-all","m1"]},"opts":{"rooms":[],"except":[],"flags":{}}})";
const char* missed_r1 =
    R"({"packet":{"type":2,"data":["missed-r1","m2"]},"opts":{"rooms":["room1"],"except":[],"flags":{}}})";
const char* missed_except =
    R"({"packet":{"type":2,"data":["missed-except","m4"]},"opts":{"rooms":[],"except":["room1"],"flags":{}}})";
const char* volatile_entry =
    R"({"packet":{"type":2,"data":["vol","v"]},"opts":{"rooms":[],"except":[],"flags":{"volatile":true}}})";
// The captured binary broadcast, base64 of the msgpack of
//   {packet:{type:2,data:["r1",<01 02 03>]},opts:{rooms:["room1"],except:[],flags:{}}}
// ("gqZwYWNrZXSCpHR5cGUC..."); the emitter's has packet {type, data, nsp: "/"}: the packet's map
// header 0x82 becomes 0x83 and a3 "nsp" a1 "/" follows the data array, the rest is unchanged.
const char* binary_b64 =
    "gqZwYWNrZXSDpHR5cGUCpGRhdGGSonIxxAMBAgOjbnNwoS+kb3B0c4Olcm9vbXORpXJvb20xpmV4Y2VwdJClZmxhZ3OA";

class StreamsEmitter : public ::testing::Test {
 protected:
  std::vector<command> sent;
  emitter e = emitter::streams([this](command c) { sent.push_back(std::move(c)); });

  command take() {
    EXPECT_EQ(sent.size(), 1u);
    if (sent.empty()) return {};
    auto c = std::move(sent.front());
    sent.clear();
    return c;
  }
  template <class F>
  command take_after(F send) {
    send();
    return take();
  }
};

TEST_F(StreamsEmitter, BroadcastsAreTheCapturedEntriesWithPacketNsp) {
  EXPECT_TRUE(e.streams_mode());
  e.emit("missed-all", make_args("m1"));
  EXPECT_EQ(take(), xadd("/", "3", with_packet_nsp(missed_all, "/")));
  e.to("room1").emit("missed-r1", make_args("m2"));
  EXPECT_EQ(take(), xadd("/", "3", with_packet_nsp(missed_r1, "/")));
  e.except("room1").emit("missed-except", make_args("m4"));
  EXPECT_EQ(take(), xadd("/", "3", with_packet_nsp(missed_except, "/")));
  e.volatile_().emit("vol", make_args("v"));
  EXPECT_EQ(take(), xadd("/", "3", with_packet_nsp(volatile_entry, "/")));
  // Spelled out once, so that the helper above cannot hide a difference.
  EXPECT_EQ(
      take_after([&] { e.emit("missed-all", make_args("m1")); }),
      xadd(
          "/", "3",
          R"({"packet":{"type":2,"data":["missed-all","m1"],"nsp":"/"},"opts":{"rooms":[],"except":[],"flags":{}}})"));
}

TEST_F(StreamsEmitter, RoomsExceptAndFlagsTogether) {
  e.to("a")
      .to(std::vector<std::string>{"b", "a"})
      .except("c")
      .volatile_()
      .compress(false)
      .emit("multi", make_args(1, boost::json::object{{"k", "v"}}));
  EXPECT_EQ(
      take(),
      xadd(
          "/", "3",
          R"({"packet":{"type":2,"data":["multi",1,{"k":"v"}],"nsp":"/"},"opts":{"rooms":["a","b"],"except":["c"],"flags":{"volatile":true,"compress":false}}})"));
}

TEST_F(StreamsEmitter, BinaryIsBase64MsgpackOfTheData) {
  ignis::socketio::payload args;
  args.args.push_back(args.add_binary(std::string("\x01\x02\x03", 3)));
  e.to("room1").emit("r1", std::move(args));
  auto c = take();
  ASSERT_EQ(c.size(), 14u);
  EXPECT_EQ(c[13], binary_b64);
  EXPECT_EQ(c[11], "3");
}

TEST_F(StreamsEmitter, JoinLeaveDisconnectAndServerSideEmit) {
  e.in("room1").except("room2").sockets_join({"joined"});
  EXPECT_EQ(
      take(),
      xadd("/", "4",
           R"({"opts":{"rooms":["room1"],"except":["room2"],"flags":{}},"rooms":["joined"]})"));
  e.in("room1").sockets_leave({"joined", "other"});
  EXPECT_EQ(
      take(),
      xadd("/", "5",
           R"({"opts":{"rooms":["room1"],"except":[],"flags":{}},"rooms":["joined","other"]})"));
  e.disconnect_sockets();
  EXPECT_EQ(take(),
            xadd("/", "6", R"({"opts":{"rooms":[],"except":[],"flags":{}},"close":false})"));
  e.in("room1").disconnect_sockets(true);
  EXPECT_EQ(take(),
            xadd("/", "6", R"({"opts":{"rooms":["room1"],"except":[],"flags":{}},"close":true})"));
  // No requestId: the servers run their handlers and answer nobody.
  e.server_side_emit("notify", make_args(1, "two"));
  EXPECT_EQ(take(), xadd("/", "9", R"({"packet":["notify",1,"two"]})"));

  ignis::socketio::payload bin;
  bin.args.push_back(bin.add_binary(std::string("\xff", 1)));
  e.server_side_emit("b", std::move(bin));
  // base64 of msgpack {packet: ["b", bin8 ff]}.
  EXPECT_EQ(take(), xadd("/", "9", "gaZwYWNrZXSSoWLEAf8="));
}

TEST_F(StreamsEmitter, NamespacesAndStreamOptions) {
  e.of("chat").to("r").emit("hello");
  EXPECT_EQ(
      take(),
      xadd(
          "/chat", "3",
          R"({"packet":{"type":2,"data":["hello"],"nsp":"/chat"},"opts":{"rooms":["r"],"except":[],"flags":{}}})"));
  // of() starts from no rooms, as Node's of() does.
  e.to("r").of("/admin").server_side_emit("x");
  EXPECT_EQ(take(), xadd("/admin", "9", R"({"packet":["x"]})"));

  std::vector<command> other;
  auto custom = emitter::streams([&](command c) { other.push_back(std::move(c)); },
                                 {.stream_name = "app-stream", .max_len = 500}, "/ns");
  custom.emit("e");
  ASSERT_EQ(other.size(), 1u);
  EXPECT_EQ(
      other[0],
      xadd(
          "/ns", "3",
          R"({"packet":{"type":2,"data":["e"],"nsp":"/ns"},"opts":{"rooms":[],"except":[],"flags":{}}})",
          "app-stream", "500"));
}

TEST_F(StreamsEmitter, AcknowledgementsAndReservedNamesRefused) {
  bool answered = false;
  EXPECT_THROW(e.server_side_emit("ping", make_args(1), [&](auto) { answered = true; }),
               std::invalid_argument);
  EXPECT_THROW(e.emit("disconnect"), std::invalid_argument);
  EXPECT_THROW(e.server_side_emit("connect_error"), std::invalid_argument);
  EXPECT_TRUE(sent.empty());
  EXPECT_FALSE(answered);
  // The classic emitter refuses them too.
  emitter classic([](std::string, std::string) { FAIL() << "published"; });
  EXPECT_FALSE(classic.streams_mode());
  EXPECT_THROW(classic.server_side_emit("ping", {}, [](auto) {}), std::invalid_argument);
}

TEST_F(StreamsEmitter, TheServersReaderReadsWhatItWrites) {
  ignis::socketio::payload args;
  args.args.emplace_back("x");
  args.args.push_back(args.add_binary(std::string("\x00\x07", 2)));
  e.of("/chat").to("r1").except("r2").volatile_().emit("ev", std::move(args));
  auto c = take();
  ASSERT_EQ(c.size(), 14u);
  std::vector<reply> fields;
  for (std::size_t i = 6; i < c.size(); ++i) {
    reply r;
    r.type = reply::kind::string;
    r.str = c[i];
    fields.push_back(std::move(r));
  }
  auto m = decode_stream_fields(fields);
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->uid, "emitter");
  EXPECT_EQ(m->nsp, "/chat");
  EXPECT_EQ(m->type, cluster_type::broadcast);
  auto b = decode_stream_broadcast(*m, "/chat");
  ASSERT_TRUE(b) << b.error().message();
  EXPECT_EQ(b->packet.nsp, "/chat");
  EXPECT_EQ(ignis::socketio::serialize_js(*b->packet.data),
            R"(["ev","x",{"_placeholder":true,"num":0}])");
  ASSERT_EQ(b->packet.attachments.size(), 1u);
  EXPECT_EQ(*b->packet.attachments[0], std::string("\x00\x07", 2));
  EXPECT_EQ(b->opts.rooms, std::vector<std::string>{"r1"});
  EXPECT_EQ(b->opts.except, std::vector<std::string>{"r2"});
  EXPECT_TRUE(b->opts.flags.volatile_);
  EXPECT_FALSE(b->with_ack);
}

}  // namespace
