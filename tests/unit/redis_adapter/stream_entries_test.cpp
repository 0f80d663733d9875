// The stream entries of @socket.io/redis-streams-adapter, against what the Node package wrote in
// the captures of spec/next-features (csr-streams-monitor.txt): the XADD fields byte for byte,
// the base64 msgpack data of a binary broadcast, the session key's value, and what a reader does
// with entries that do not make a message.
#include "redis_adapter/stream_entries.hpp"

#include "redis_adapter/msgpack.hpp"

#include <ignis/common/base64.hpp>
#include <ignis/socketio/json.hpp>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using namespace ignis::redis::detail;
using ignis::redis::reply;
namespace json = boost::json;

reply str(std::string s) {
  reply r;
  r.type = reply::kind::string;
  r.str = std::move(s);
  return r;
}

reply arr(std::vector<reply> e) {
  reply r;
  r.type = reply::kind::array;
  r.elements = std::move(e);
  return r;
}

reply fields(std::vector<std::string> kv) {
  std::vector<reply> e;
  for (auto& s : kv)
    e.push_back(str(std::move(s)));
  return arr(std::move(e));
}

std::vector<reply> kv(std::vector<std::string> pairs) {
  return fields(std::move(pairs)).elements;
}

reply entry(std::string id, std::vector<std::string> kv) {
  return arr({str(std::move(id)), fields(std::move(kv))});
}

// The captured entries (uid 6897939a64c26ad5 = server A).
const char* direct_json =
    R"({"packet":{"type":2,"data":["direct","a"]},"opts":{"rooms":["QQYbt_kBOOJKlC0hAAAA"],"except":[],"flags":{}}})";
const char* binary_b64 =
    "gqZwYWNrZXSCpHR5cGUCpGRhdGGSonIxxAMBAgOkb3B0c4Olcm9vbXORpXJvb20xpmV4Y2VwdJClZmxhZ3OA";
const char* session_b64 =
    "hKNzaWS0UVFZYnRfa0JPT0pLbEMwaEFBQUGjcGlktEc5eHR0MnFnalV3bU9zNy1BQUFCpXJvb21zkrRRUVlidF9rQk9P"
    "SktsQzBoQUFBQaVyb29tMaRkYXRhgaR1c2VypWFsaWNl";

TEST(StreamIds, ParseOrderNext) {
  const auto id = parse_stream_id("1796584981443-0");
  ASSERT_TRUE(id);
  EXPECT_EQ(id->ms, 1796584981443u);
  EXPECT_EQ(id->seq, 0u);
  EXPECT_EQ(id->str(), "1796584981443-0");
  EXPECT_EQ(next_stream_id(*id).str(), "1796584981443-1");
  EXPECT_LT(*parse_stream_id("9-10"), *parse_stream_id("10-0"));
  EXPECT_LT(*parse_stream_id("10-2"), *parse_stream_id("10-10"));
  EXPECT_EQ(next_stream_id({5, UINT64_MAX}).str(), "6-0");
  for (const char* bad : {"", "-", "1-", "-1", "1", "a-1", "1-1-1", "1 -1", "+1-1", "$", "*",
                          "99999999999999999999-0", "Q9Cphfk", "1-0x"}) {
    EXPECT_FALSE(parse_stream_id(bad)) << bad;
  }
}

TEST(StreamEntries, XaddAsNodeWritesIt) {
  stream_message m;
  m.type = cluster_type::broadcast;
  m.uid = "6897939a64c26ad5";
  m.nsp = "/";
  m.data = json::parse(direct_json).as_object();
  const std::vector<std::string> expected{"XADD", "socket.io",        "MAXLEN", "~", "1000", "*",
                                          "uid",  "6897939a64c26ad5", "nsp",    "/", "type", "3",
                                          "data", direct_json};
  EXPECT_EQ(xadd_command("socket.io", 1000, m), expected);

  // A heartbeat has no data: no data field at all.
  stream_message hb;
  hb.type = cluster_type::initial_heartbeat;
  hb.uid = "u";
  hb.nsp = "/chat";
  EXPECT_EQ(xadd_command("s", 10000, hb),
            (std::vector<std::string>{"XADD", "s", "MAXLEN", "~", "10000", "*", "uid", "u", "nsp",
                                      "/chat", "type", "1"}));
}

TEST(StreamEntries, BinaryBroadcastIsBase64Msgpack) {
  // Decodes to {packet:{type:2,data:["r1",<01 02 03>]},opts:{rooms:["room1"],except:[],flags:{}}}
  auto m = decode_stream_fields(
      kv({"uid", "6897939a64c26ad5", "nsp", "/", "type", "3", "data", std::string(binary_b64)}));
  ASSERT_TRUE(m) << m.error().message();
  ASSERT_EQ(m->attachments.size(), 1u);
  EXPECT_EQ(*m->attachments[0], std::string("\x01\x02\x03", 3));
  auto b = decode_stream_broadcast(*m, "/");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->opts.rooms, std::vector<std::string>{"room1"});
  EXPECT_FALSE(b->with_ack);
  EXPECT_EQ(ignis::socketio::serialize_js(*b->packet.data),
            R"(["r1",{"_placeholder":true,"num":0}])");
  // Our encoder writes the same bytes for the same message.
  EXPECT_EQ(encode_stream_data(cluster_type::broadcast, *m->data, m->attachments), binary_b64);
  // Binary in a type that may not carry it is written as JSON, as Node's encode() does.
  EXPECT_EQ(encode_stream_data(cluster_type::sockets_join, *m->data, m->attachments).front(), '{');
}

TEST(StreamEntries, JsonBroadcastRoundTrip) {
  auto m = decode_stream_fields(
      kv({"uid", "6897939a64c26ad5", "nsp", "/", "type", "3", "data", direct_json}));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->uid, "6897939a64c26ad5");
  EXPECT_EQ(m->nsp, "/");
  EXPECT_EQ(m->type, cluster_type::broadcast);
  EXPECT_EQ(encode_stream_data(m->type, *m->data, m->attachments), direct_json);
  auto b = decode_stream_broadcast(*m, "/");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->opts.rooms, std::vector<std::string>{"QQYbt_kBOOJKlC0hAAAA"});

  auto with_ack = decode_stream_fields(kv(
      {"uid", "x", "nsp", "/", "type", "3", "data",
       R"({"packet":{"type":2,"data":["withack","q"],"id":0},"opts":{"rooms":[],"except":[],"flags":{"volatile":true}}})"}));
  ASSERT_TRUE(with_ack);
  auto wb = decode_stream_broadcast(*with_ack, "/");
  ASSERT_TRUE(wb);
  EXPECT_TRUE(wb->with_ack);
  EXPECT_TRUE(wb->opts.flags.volatile_);
}

TEST(StreamEntries, SessionValueAsNodeWritesIt) {
  auto s = decode_session(session_b64);
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(s->sid, "QQYbt_kBOOJKlC0hAAAA");
  EXPECT_EQ(s->pid, "G9xtt2qgjUwmOs7-AAAB");
  EXPECT_EQ(s->rooms, (std::vector<std::string>{"QQYbt_kBOOJKlC0hAAAA", "room1"}));
  EXPECT_EQ(ignis::socketio::serialize_js(s->data), R"({"user":"alice"})");
  EXPECT_EQ(encode_session(*s), session_b64);

  for (const char* bad :
       {"", "!!!", "kw==" /* [] */, "gaNzaWQB" /* {sid:1} */, "hKNzaWS0UVFZ" /* truncated */}) {
    EXPECT_FALSE(decode_session(bad)) << bad;
  }
}

TEST(StreamEntries, ShouldIncludeAsNode) {
  ignis::socketio::broadcast_options all, r1, other, except_r1;
  r1.rooms = {"room1"};
  other.rooms = {"other"};
  except_r1.except = {"room1"};
  const std::vector<std::string> rooms{"sid", "room1"};
  EXPECT_TRUE(session_would_receive(rooms, all));
  EXPECT_TRUE(session_would_receive(rooms, r1));
  EXPECT_FALSE(session_would_receive(rooms, other));
  EXPECT_FALSE(session_would_receive(rooms, except_r1));
}

TEST(StreamEntries, XreadReplies) {
  reply nil;
  auto none = decode_xread(nil);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->entries.empty());

  auto r = arr({arr({str("socket.io"),
                     arr({entry("1-0", {"uid", "a", "nsp", "/", "type", "2"}),
                          entry("1-1", {"uid", "a", "type", "3"}),  // no nsp
                          entry("bad", {"uid", "a", "nsp", "/", "type", "2"}), str("not an entry"),
                          entry("2-0", {"uid", "a", "nsp", "/", "type", "14"}),
                          entry("2-1", {"uid", "a", "nsp", "/", "type", "3", "data", "{nope"}),
                          entry("2-2", {"uid", "a", "nsp", "/", "type", "3", "data", "AAAA"}),
                          entry("2-3", {"uid", "a", "nsp", "/", "type", "3", "data", "kQ=="}),
                          entry("3-0", {"uid", "b", "nsp", "/x", "type", "3", "data",
                                        R"({"packet":{"type":2,"data":["e"]},"opts":{}})"})})})});
  auto out = decode_xread(r);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->bad_entries, 2u);  // the id "bad" and the string
  ASSERT_EQ(out->entries.size(), 7u);
  EXPECT_TRUE(out->entries[0].message);
  EXPECT_FALSE(out->entries[0].message->data);
  for (std::size_t i = 1; i <= 5; ++i)
    EXPECT_FALSE(out->entries[i].message) << i;
  EXPECT_EQ(out->entries[5].id_text, "2-3");
  ASSERT_TRUE(out->entries[6].message);
  EXPECT_EQ(out->entries[6].message->nsp, "/x");
  EXPECT_EQ(out->entries[6].id.str(), "3-0");

  EXPECT_FALSE(decode_xread(str("x")));
  EXPECT_FALSE(decode_xread(arr({str("x")})));
  EXPECT_FALSE(decode_xrange(str("x")));
  auto empty = decode_xrange(arr({}));
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->entries.empty());
}

// Every prefix of a binary entry's data and of a session value is refused or decoded, never more.
TEST(StreamEntries, TruncatedMsgpackRefused) {
  std::string packed;
  ASSERT_TRUE(ignis::base64::decode(binary_b64, packed));
  for (std::size_t n = 0; n < packed.size(); ++n) {
    std::string b64;
    ignis::base64::encode(ignis::as_bytes(std::string_view(packed).substr(0, n)), b64);
    if (b64.empty()) continue;
    auto m = decode_stream_fields(kv({"uid", "a", "nsp", "/", "type", "3", "data", b64}));
    EXPECT_FALSE(m) << n;
  }
}

}  // namespace
