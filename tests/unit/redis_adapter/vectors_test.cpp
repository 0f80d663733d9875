// The captured Node messages (tests/unit/redis_adapter/vectors, from wire-formats.md's capture
// runs): every one decodes to what Node meant, and where the format is deterministic our encoder
// writes the same bytes.
#include "redis_adapter/messages.hpp"
#include "support/json_same.hpp"

#include <ignis/socketio/json.hpp>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

namespace {

using namespace ignis::redis::detail;
namespace json = boost::json;

struct record {
  std::string file;
  std::string name;
  std::string command;
  std::string channel;
  std::string format;
  std::string bytes;
  json::value decoded;
};

std::string unhex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

std::vector<record> load(const std::string& file) {
  std::ifstream in(std::string(IGNIS_REDIS_VECTORS) + "/" + file);
  EXPECT_TRUE(in.good()) << file;
  std::vector<record> out;
  for (std::string line; std::getline(in, line);) {
    const auto v = json::parse(line).as_object();
    if (!v.contains("payload_hex")) continue;
    record r;
    r.file = file;
    r.name = std::string(v.at("name").as_string());
    r.command = std::string(v.at("command").as_string());
    r.channel = std::string(v.at("channel").as_string());
    r.format = std::string(v.at("payload_format").as_string());
    r.bytes = unhex(v.at("payload_hex").as_string());
    r.decoded = v.at("decoded");
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<record> all() {
  std::vector<record> out;
  for (const char* f :
       {"redis-adapter-classic-default.jsonl", "redis-adapter-classic-prefixed.jsonl",
        "redis-adapter-sharded.jsonl", "redis-emitter.jsonl"}) {
    for (auto& r : load(f))
      out.push_back(std::move(r));
  }
  return out;
}

std::string hex(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

// The capture's rendering: msgpack bin as {"$bin": hex}.
json::value render(const json::value& v, const std::vector<ignis::socketio::attachment>& att) {
  if (v.is_array()) {
    json::array a;
    for (const auto& e : v.get_array())
      a.push_back(render(e, att));
    return a;
  }
  if (v.is_object()) {
    if (const auto i = ignis::socketio::placeholder_index(v); i && *i < att.size())
      return json::object{{"$bin", hex(*att[*i])}};
    json::object o;
    for (const auto& [k, e] : v.get_object())
      o[k] = render(e, att);
    return o;
  }
  return v;
}

TEST(RedisVectors, LoadsEveryCapture) {
  // 19 classic messages per run, 15 sharded, 8 emitter.
  EXPECT_EQ(all().size(), 2u * 19u + 15u + 8u);
}

TEST(RedisVectors, EveryMessageDecodesToWhatNodeMeant) {
  for (const auto& r : all()) {
    auto w = decode_message(r.bytes);
    ASSERT_TRUE(w) << r.file << " " << r.name;
    EXPECT_TRUE(ignis::test::same_json(render(w->value, w->attachments), r.decoded))
        << r.file << " " << r.name << ": "
        << ignis::socketio::serialize_js(render(w->value, w->attachments));
  }
}

TEST(RedisVectors, ClassicBroadcastsAreReproducedByteForByte) {
  int checked = 0;
  for (const auto& r : all()) {
    if (r.command != "PUBLISH" || r.channel.find("-re") != std::string::npos) continue;
    auto b = decode_classic_broadcast(r.bytes);
    ASSERT_TRUE(b) << r.name;
    const auto layout = b->uid == "emitter" ? opts_layout::emitter : opts_layout::adapter;
    EXPECT_EQ(hex(encode_classic_broadcast(b->uid, b->packet, b->opts, layout)), hex(r.bytes))
        << r.file << " " << r.name;
    ++checked;
  }
  EXPECT_EQ(checked, 2 * 6 + 4);
}

TEST(RedisVectors, ShardedMessagesAreReproducedByteForByte) {
  int checked = 0;
  for (const auto& r : load("redis-adapter-sharded.jsonl")) {
    auto m = decode_cluster(r.bytes);
    ASSERT_TRUE(m) << r.name;
    EXPECT_EQ(hex(encode_cluster(m->type, m->data, m->uid, m->nsp, m->attachments)), hex(r.bytes))
        << r.name;
    ++checked;
  }
  EXPECT_EQ(checked, 15);
}

TEST(RedisVectors, ClassicRequestsAndResponsesReencodeInTheirOwnFormat) {
  for (const auto& r : all()) {
    if (r.channel.find("-request#") == std::string::npos &&
        r.channel.find("-response#") == std::string::npos)
      continue;
    auto w = decode_message(r.bytes);
    ASSERT_TRUE(w);
    const auto again =
        r.format == "json" ? to_json(w->value) : to_msgpack(w->value, w->attachments);
    EXPECT_EQ(hex(again), hex(r.bytes)) << r.file << " " << r.name;
  }
}

TEST(RedisVectors, ChannelNames) {
  const auto c = make_classic_channels("myapp", "/", "Yn2hqk");
  EXPECT_EQ(c.broadcast, "myapp#/#");
  EXPECT_EQ(c.request, "myapp-request#/#");
  EXPECT_EQ(c.response, "myapp-response#/#");
  EXPECT_EQ(c.specific_response, "myapp-response#/#Yn2hqk#");
  const auto s = make_sharded_channels("socket.io", "/", "2af8eab3f5533554");
  EXPECT_EQ(s.main, "socket.io#/#");
  EXPECT_EQ(s.response, "socket.io#/#2af8eab3f5533554#");
}

TEST(RedisVectors, EveryTruncationIsRefused) {
  for (const auto& r : all()) {
    for (std::size_t n = 0; n < r.bytes.size(); ++n) {
      const auto part = std::string_view(r.bytes).substr(0, n);
      EXPECT_FALSE(decode_message(part)) << r.name << " cut at " << n;
    }
  }
}

}  // namespace
