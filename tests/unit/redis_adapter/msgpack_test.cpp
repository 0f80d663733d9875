// notepack.io's encoding choices, and the decoder's refusals of malformed input.
#include "redis_adapter/msgpack.hpp"

#include "redis_adapter/messages.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using namespace ignis::redis::detail;
namespace json = boost::json;

std::string hex(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

std::string encoded(const json::value& v) {
  std::string out;
  msgpack_encode(v, {}, out);
  return hex(out);
}

TEST(Msgpack, IntegersTakeTheSmallestForm) {
  EXPECT_EQ(encoded(0), "00");
  EXPECT_EQ(encoded(127), "7f");
  EXPECT_EQ(encoded(128), "cc80");
  EXPECT_EQ(encoded(256), "cd0100");
  EXPECT_EQ(encoded(65536), "ce00010000");
  EXPECT_EQ(encoded(4294967296LL), "cf0000000100000000");
  EXPECT_EQ(encoded(-1), "ff");
  EXPECT_EQ(encoded(-32), "e0");
  EXPECT_EQ(encoded(-33), "d0df");
  EXPECT_EQ(encoded(-129), "d1ff7f");
  EXPECT_EQ(encoded(-32769), "d2ffff7fff");
  EXPECT_EQ(encoded(-2147483649LL), "d3ffffffff7fffffff");
}

TEST(Msgpack, WholeDoublesAreIntegersOtherNumbersFloat64) {
  EXPECT_EQ(encoded(2.0), "02");
  EXPECT_EQ(encoded(-40.0), "d0d8");
  EXPECT_EQ(encoded(1.5), "cb3ff8000000000000");
  EXPECT_EQ(encoded(-0.25), "cbbfd0000000000000");
}

TEST(Msgpack, StringsArraysMapsByLength) {
  EXPECT_EQ(encoded(json::string(31, 'a')).substr(0, 2), "bf");
  EXPECT_EQ(encoded(json::string(32, 'a')).substr(0, 4), "d920");
  EXPECT_EQ(encoded(json::string(256, 'a')).substr(0, 6), "da0100");
  json::array a(16, json::value(nullptr));
  EXPECT_EQ(encoded(a).substr(0, 6), "dc0010");
  json::object o;
  for (int i = 0; i < 16; ++i)
    o[std::to_string(i + 10)] = true;
  EXPECT_EQ(encoded(o).substr(0, 6), "de0010");
  EXPECT_EQ(encoded(json::parse(R"({"a":null,"b":[true,false]})")), "82a161c0a16292c3c2");
}

TEST(Msgpack, PlaceholdersBecomeBinAndBack) {
  ignis::socketio::payload p;
  json::array data{"ev", p.add_binary(std::string("\x01\x02", 2)),
                   p.add_binary(std::string(300, 'x'))};
  std::string out;
  msgpack_encode(data, p.attachments, out);
  EXPECT_EQ(hex(out).substr(0, 16), "93a26576c4020102");
  EXPECT_EQ(hex(out).substr(16, 6), "c5012c");
  std::vector<ignis::socketio::attachment> att;
  auto back = msgpack_decode(out, att);
  ASSERT_TRUE(back);
  ASSERT_EQ(att.size(), 2u);
  EXPECT_EQ(*att[0], std::string("\x01\x02", 2));
  EXPECT_EQ(att[1]->size(), 300u);
  EXPECT_EQ(*back, data);
}

TEST(Msgpack, DecodesNotepackSpecials) {
  std::vector<ignis::socketio::attachment> att;
  // The legacy undefined (fixext 1, type 0, 0) and float32.
  auto v = msgpack_decode(std::string("\x92\xd4\x00\x00\xca\x3f\xc0\x00\x00", 9), att);
  ASSERT_TRUE(v);
  EXPECT_EQ(*v, json::parse("[null,1.5]"));
  // A Date: timestamp 32 (ext -1) of 1e9 seconds.
  v = msgpack_decode(std::string("\xd6\xff\x3b\x9a\xca\x00", 6), att);
  ASSERT_TRUE(v);
  EXPECT_EQ(*v, json::value("2001-09-09T01:46:40.000Z"));
}

// A msgpack timestamp 96 (ext 8, type -1): nanoseconds (uint32) then seconds (int64), big-endian.
std::string timestamp96(std::uint32_t nanos, std::int64_t seconds) {
  std::string out("\xc7\x0c\xff", 3);
  for (int i = 3; i >= 0; --i)
    out.push_back(static_cast<char>(nanos >> (8 * i)));
  const auto s = static_cast<std::uint64_t>(seconds);
  for (int i = 7; i >= 0; --i)
    out.push_back(static_cast<char>(s >> (8 * i)));
  return out;
}

TEST(Msgpack, DatesCoverJavaScriptsWholeRange) {
  std::vector<ignis::socketio::attachment> att;
  // Past the year 2262, where nanoseconds since the epoch overflow 64 bits.
  auto v = msgpack_decode(timestamp96(0, 7'258'118'400), att);
  ASSERT_TRUE(v);
  EXPECT_EQ(*v, json::value("2200-01-01T00:00:00.000Z"));
  v = msgpack_decode(timestamp96(5'000'000, 8'639'999'999'999), att);
  ASSERT_TRUE(v);
  EXPECT_EQ(*v, json::value("+275760-09-12T23:59:59.005Z"));
  v = msgpack_decode(timestamp96(0, -8'639'999'999'999), att);
  ASSERT_TRUE(v);
  EXPECT_EQ(*v, json::value("-271821-04-20T00:00:01.000Z"));
  // Beyond JavaScript's Date: refused, not an overflow.
  EXPECT_FALSE(msgpack_decode(timestamp96(5'000'000, 8'640'000'000'000), att));
  EXPECT_FALSE(msgpack_decode(timestamp96(0, 9'664'597'518'058), att));
  EXPECT_FALSE(msgpack_decode(timestamp96(0, INT64_MIN), att));
}

TEST(Msgpack, MalformedInputIsRefused) {
  std::vector<ignis::socketio::attachment> att;
  const std::vector<std::string> bad = {
      "",
      std::string("\xc1", 1),                  // reserved
      std::string("\x91", 1),                  // array of 1, nothing follows
      std::string("\xdd\xff\xff\xff\xff", 5),  // array claiming 4G elements
      std::string("\xdf\xff\xff\xff\xff", 5),  // map claiming 4G pairs
      std::string("\xdb\xff\xff\xff\xff", 5),  // str32 claiming 4G bytes
      std::string("\x81\x01\x02", 3),          // non-string map key
      std::string("\xa2\xff\xfe", 3),          // invalid UTF-8
      std::string("\xc0\xc0", 2),              // trailing bytes
      std::string("\xd5\x07\x00\x00", 4),      // unknown ext type
      std::string("\xd5\xff\x00\x00", 4),      // timestamp of a bad size
  };
  for (const auto& b : bad) {
    EXPECT_FALSE(msgpack_decode(b, att)) << hex(b);
    EXPECT_TRUE(att.empty()) << hex(b);
  }
}

TEST(Msgpack, NestingIsBounded) {
  std::vector<ignis::socketio::attachment> att;
  EXPECT_TRUE(msgpack_decode(std::string(31, '\x91') + "\xc0", att));
  EXPECT_FALSE(msgpack_decode(std::string(33, '\x91') + "\xc0", att));
  EXPECT_FALSE(msgpack_decode(std::string(100000, '\x91') + "\xc0", att));
}

TEST(Messages, ClassicBroadcastNeedsAnEvent) {
  ignis::socketio::packet p;
  p.data = json::parse(R"(["hello",1])");
  const auto bytes = encode_classic_broadcast("abcdef", p, {}, opts_layout::adapter);
  auto b = decode_classic_broadcast(bytes);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->uid, "abcdef");
  EXPECT_EQ(*b->packet.data, *p.data);
  // [uid, {type:2, data: 42}, {}] and [uid] are refused.
  std::string no_event;
  msgpack_encode(json::parse(R"(["u",{"type":2,"data":42},{}])"), {}, no_event);
  EXPECT_FALSE(decode_classic_broadcast(no_event));
  std::string short_array;
  msgpack_encode(json::parse(R"(["u"])"), {}, short_array);
  EXPECT_FALSE(decode_classic_broadcast(short_array));
}

TEST(Messages, OptionsAndFlagsRoundTrip) {
  ignis::socketio::broadcast_options o;
  o.rooms = {"a", "b"};
  o.except = {"c"};
  o.flags.volatile_ = true;
  o.flags.compress = false;
  o.flags.timeout = std::chrono::milliseconds(2000);
  const auto v = json::value(encode_opts(o, opts_layout::adapter));
  EXPECT_EQ(
      to_json(v),
      R"({"rooms":["a","b"],"except":["c"],"flags":{"volatile":true,"compress":false,"timeout":2000}})");
  const auto back = decode_opts(&v);
  EXPECT_EQ(back.rooms, o.rooms);
  EXPECT_EQ(back.except, o.except);
  EXPECT_TRUE(back.flags.volatile_);
  EXPECT_FALSE(back.flags.compress);
  EXPECT_EQ(back.flags.timeout, o.flags.timeout);
  EXPECT_EQ(to_json(json::value(encode_opts({}, opts_layout::without_flags))),
            R"({"rooms":[],"except":[]})");
}

TEST(Messages, ClusterMessagesWithBinaryAreMsgpack) {
  ignis::socketio::payload p;
  json::array data{"bin", p.add_binary("\x01")};
  json::object d{{"packet", json::object{{"type", 2}, {"data", data}}}};
  const auto bin = encode_cluster(cluster_type::broadcast, d, "u", "/", p.attachments);
  EXPECT_NE(bin.front(), '{');
  // Join carries no binary by definition: JSON even with attachments at hand.
  const auto join = encode_cluster(cluster_type::sockets_join, d, "u", "/", p.attachments);
  EXPECT_EQ(join.front(), '{');
  auto m = decode_cluster(bin);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->type, cluster_type::broadcast);
  ASSERT_EQ(m->attachments.size(), 1u);
  EXPECT_FALSE(decode_cluster(R"({"type":99,"data":{}})"));
  EXPECT_FALSE(decode_cluster(R"({"type":3,"data":[]})"));
  EXPECT_FALSE(decode_cluster("{"));
}

}  // namespace
