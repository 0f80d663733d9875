#include <ignis/socketio/packet.hpp>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <numeric>
#include <string>
#include <variant>
#include <vector>

namespace {

using namespace ignis::socketio;
namespace json = boost::json;

packet make(packet_type type, std::string nsp, std::optional<std::uint64_t> id,
            std::optional<std::string_view> data, std::vector<std::string> attachments = {}) {
  packet p;
  p.type = type;
  p.nsp = std::move(nsp);
  p.id = id;
  if (data) p.data = json::parse(*data);
  for (auto& a : attachments)
    p.attachments.push_back(make_attachment(std::move(a)));
  return p;
}

// Feeds the text and then the attachments; expects nothing before the last message.
ignis::result<packet> decode_all(decoder& d, std::string_view text,
                                 const std::vector<std::string>& attachments = {}) {
  auto r = d.feed_text(text);
  if (!r) return r.error();
  for (std::size_t i = 0; i < attachments.size(); ++i) {
    if (r->has_value()) return codec_error::unexpected_binary;  // completed too early
    r = d.feed_binary(attachments[i]);
    if (!r) return r.error();
  }
  if (!r->has_value()) return codec_error::unexpected_text;  // still waiting: test failure
  return std::move(**r);
}

ignis::error_code decode_error(std::string_view text, decoder_limits limits = {}) {
  decoder d(limits);
  auto r = d.feed_text(text);
  if (r) return {};
  EXPECT_FALSE(d.awaiting_attachments());
  return r.error();
}

const std::string ph0 = R"({"_placeholder":true,"num":0})";
const std::string ph1 = R"({"_placeholder":true,"num":1})";

struct wire_vector {
  std::string text;  // the Engine.IO message data (the spec's examples show it after the '4')
  std::vector<std::string> attachments;
  packet expected;  // as the decoder returns it: binary packets come out as EVENT/ACK
};

// Every example of wire-formats.md §2 and of the socket.io-protocol v5 spec. Each decodes to the
// expected packet and encodes back to the same bytes.
std::vector<wire_vector> spec_vectors() {
  using t = packet_type;
  return {
      {"0", {}, make(t::connect, "/", {}, {})},
      {"0/admin,", {}, make(t::connect, "/admin", {}, {})},
      {R"(0/admin,{"token":"123"})", {}, make(t::connect, "/admin", {}, R"({"token":"123"})")},
      {R"(0{"sid":"oSO0OpakMV_3jnilAAAA"})",
       {},
       make(t::connect, "/", {}, R"({"sid":"oSO0OpakMV_3jnilAAAA"})")},
      {R"(0{"sid":"OCUX1wQFY_NqdVoHAAAA","pid":"Vuu5Efny8Cjp-_aKAAAB"})",
       {},
       make(t::connect, "/", {}, R"({"sid":"OCUX1wQFY_NqdVoHAAAA","pid":"Vuu5Efny8Cjp-_aKAAAB"})")},
      {R"(0{"pid":"Vuu5Efny8Cjp-_aKAAAB","offset":"Q8KjdTj"})",
       {},
       make(t::connect, "/", {}, R"({"pid":"Vuu5Efny8Cjp-_aKAAAB","offset":"Q8KjdTj"})")},
      {"1", {}, make(t::disconnect, "/", {}, {})},
      {"1/admin,", {}, make(t::disconnect, "/admin", {}, {})},
      {R"(2["foo"])", {}, make(t::event, "/", {}, R"(["foo"])")},
      {R"(2/admin,["bar"])", {}, make(t::event, "/admin", {}, R"(["bar"])")},
      {R"(212["foo"])", {}, make(t::event, "/", 12, R"(["foo"])")},
      {R"(2["message",1,"2",{"3":[true]}])",
       {},
       make(t::event, "/", {}, R"(["message",1,"2",{"3":[true]}])")},
      {R"(2["message-back",1,"2",{"3":[true]}])",
       {},
       make(t::event, "/", {}, R"(["message-back",1,"2",{"3":[true]}])")},
      {R"(2456["message-with-ack",1])", {}, make(t::event, "/", 456, R"(["message-with-ack",1])")},
      {R"(2456["message-with-ack",1,"2",{"3":[false]}])",
       {},
       make(t::event, "/", 456, R"(["message-with-ack",1,"2",{"3":[false]}])")},
      {R"(2["news","b","Q8KjdTj"])", {}, make(t::event, "/", {}, R"(["news","b","Q8KjdTj"])")},
      {R"(3456[1,"2",{"3":[false]}])", {}, make(t::ack, "/", 456, R"([1,"2",{"3":[false]}])")},
      {R"(3/admin,13["bar"])", {}, make(t::ack, "/admin", 13, R"(["bar"])")},
      {R"(4{"message":"Not authorized"})",
       {},
       make(t::connect_error, "/", {}, R"({"message":"Not authorized"})")},
      {R"(4/random,{"message":"Invalid namespace"})",
       {},
       make(t::connect_error, "/random", {}, R"({"message":"Invalid namespace"})")},
      {R"(4{"message":"auth","data":{"code":401}})",
       {},
       make(t::connect_error, "/", {}, R"({"message":"auth","data":{"code":401}})")},
      {"51-[\"baz\"," + ph0 + "]",
       {"\x01\x02\x03"},
       make(t::event, "/", {}, "[\"baz\"," + ph0 + "]", {"\x01\x02\x03"})},
      {"61-/admin,15[\"bar\"," + ph0 + "]",
       {std::string("\x00\xff", 2)},
       make(t::ack, "/admin", 15, "[\"bar\"," + ph0 + "]", {std::string("\x00\xff", 2)})},
      {"52-[\"message\"," + ph0 + "," + ph1 + "]",
       {"\x01\x02\x03", "\x04\x05\x06"},
       make(t::event, "/", {}, "[\"message\"," + ph0 + "," + ph1 + "]",
            {"\x01\x02\x03", "\x04\x05\x06"})},
      {"62-789[" + ph0 + "," + ph1 + "]",
       {"a", "b"},
       make(t::ack, "/", 789, "[" + ph0 + "," + ph1 + "]", {"a", "b"})},
  };
}

TEST(SocketIoCodec, SpecVectorsDecode) {
  for (const auto& v : spec_vectors()) {
    decoder d;
    auto p = decode_all(d, v.text, v.attachments);
    ASSERT_TRUE(p) << v.text << ": " << p.error().message();
    EXPECT_EQ(*p, v.expected) << v.text;
    EXPECT_FALSE(d.awaiting_attachments());
  }
}

TEST(SocketIoCodec, SpecVectorsEncodeByteForByte) {
  for (const auto& v : spec_vectors()) {
    const auto e = encode(v.expected);
    EXPECT_EQ(e.text, v.text);
    ASSERT_EQ(e.attachments.size(), v.attachments.size()) << v.text;
    for (std::size_t i = 0; i < v.attachments.size(); ++i)
      EXPECT_EQ(*e.attachments[i], v.attachments[i]);
    std::string appended = "4";
    encode_to(v.expected, appended);
    EXPECT_EQ(appended, "4" + v.text);
  }
}

TEST(SocketIoCodec, BinaryHeaderWaitsForItsAttachments) {
  decoder d;
  auto r = d.feed_text("52-[\"message\"," + ph0 + "," + ph1 + "]");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->has_value());
  EXPECT_TRUE(d.awaiting_attachments());
  r = d.feed_binary("\x01\x02\x03");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->has_value());
  EXPECT_TRUE(d.awaiting_attachments());
  r = d.feed_binary("\x04\x05\x06");
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->has_value());
  EXPECT_FALSE(d.awaiting_attachments());
  const auto& p = **r;
  EXPECT_EQ(p.type, packet_type::event);
  ASSERT_EQ(p.attachments.size(), 2u);
  EXPECT_EQ(*p.attachments[1], "\x04\x05\x06");
  EXPECT_EQ(placeholder_index(p.data->as_array()[2]), 1u);
}

TEST(SocketIoCodec, NamespaceWithoutCommaIsAccepted) {
  decoder d;
  auto p = decode_all(d, "0/custom");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->nsp, "/custom");
  EXPECT_FALSE(p->data);
  EXPECT_EQ(encode(*p).text, "0/custom,");  // encoders always write the comma
  p = decode_all(d, "1/custom");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->type, packet_type::disconnect);
  EXPECT_EQ(p->nsp, "/custom");
}

TEST(SocketIoCodec, LenientDetailsNodeAccepts) {
  decoder d;
  // "/" followed by a comma is the main namespace.
  auto p = decode_all(d, R"(2/,["x"])");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->nsp, "/");
  EXPECT_EQ(encode(*p).text, R"(2["x"])");
  // Leading zeros in the ack id and the attachment count; JSON whitespace around the payload.
  p = decode_all(d, R"(3007 [1] )");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->id, 7u);
  p = decode_all(d, "501-[\"x\"," + ph0 + "]", {"z"});
  ASSERT_TRUE(p);
  EXPECT_EQ(p->attachments.size(), 1u);
  // Whitespace after the type or namespace is part of the ack id for socket.io-parser, since
  // Number(" ") is 0: "2 [..]" is an event with ack id 0.
  p = decode_all(d, R"(2 ["x"])");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->id, 0u);
  EXPECT_EQ(encode(*p).text, R"(20["x"])");
  p = decode_all(d, "0/admin,\t {\"token\":\"123\"}");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->id, 0u);
  p = decode_all(d, "1/admin, ");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->id, 0u);
  p = decode_all(d, "3\n12\r[]");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->id, 12u);
  // A number is an acceptable event name; so is "connect" inside the arguments.
  p = decode_all(d, R"(2[42,"connect"])");
  ASSERT_TRUE(p);
  // CONNECT_ERROR with a plain string (older servers).
  p = decode_all(d, R"(4"Not authorized")");
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->data->is_string());
  // A placeholder in a packet sent as text is just an object, as in Node.
  p = decode_all(d, "2[\"x\"," + ph1 + "]");
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->attachments.empty());
  // Largest exact JavaScript integer as ack id.
  p = decode_all(d, R"(39007199254740991[])");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->id, 9007199254740991u);
  // A CONNECT with an ack id is odd but valid for socket.io-parser.
  p = decode_all(d, "01");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->id, 1u);
  // num 1.0 is 1 in JavaScript.
  p = decode_all(d, R"(62-[{"_placeholder":true,"num":1.0}])", {"a", "b"});
  ASSERT_TRUE(p);
}

TEST(SocketIoCodec, EncodeNormalisesTheBinaryType) {
  auto p = make(packet_type::binary_event, "/", {}, R"(["x"])");
  EXPECT_EQ(encode(p).text, R"(2["x"])");  // no attachments: plain EVENT
  p = make(packet_type::ack, "/chat", 3, "[" + ph0 + "]", {"bytes"});
  auto e = encode(p);
  EXPECT_EQ(e.text, "61-/chat,3[" + ph0 + "]");
  ASSERT_EQ(e.attachments.size(), 1u);
  EXPECT_EQ(e.attachments[0], p.attachments[0]);  // shared, not copied
  // Only events and acks carry attachments.
  p = make(packet_type::connect, "/", {}, "{}", {"ignored"});
  e = encode(p);
  EXPECT_EQ(e.text, "0{}");
  EXPECT_TRUE(e.attachments.empty());
  // An empty namespace is written like "/", as socket.io-parser does.
  p = make(packet_type::disconnect, "", {}, {});
  EXPECT_EQ(encode(p).text, "1");
}

TEST(SocketIoCodec, RoundTrips) {
  using t = packet_type;
  const packet packets[] = {
      make(t::connect, "/", {}, {}),
      make(t::connect, "/a/b-c_d", {}, R"({"token":"x","n":[1,2.5,-0.125,1e300]})"),
      make(t::disconnect, "/ns", {}, {}),
      make(t::event, "/", 0, R"(["e"])"),
      make(t::event, "/", 9007199254740991, R"(["e",null,true,false,{"":""}])"),
      make(t::event, "/x", {}, R"([7,"\u0000\t\"\\\u00e9\ud83d\ude00"])"),
      make(t::ack, "/", 1, "[]"),
      make(t::ack, "/", 2, R"([[[[{}]]]])"),
      make(t::connect_error, "/", {}, R"("text")"),
      make(t::connect_error, "/z", {}, R"({"message":"m","data":null})"),
      make(t::event, "/", 5, "[\"bin\",{\"deep\":[" + ph1 + "," + ph0 + "]}]",
           {"", std::string(1000, '\xab')}),
      make(t::ack, "/n", 6, "[" + ph0 + "," + ph0 + "]", {"same"}),
  };
  for (const auto& p : packets) {
    const auto e = encode(p);
    std::vector<std::string> bytes;
    for (const auto& a : e.attachments)
      bytes.push_back(*a);
    decoder d;
    auto back = decode_all(d, e.text, bytes);
    ASSERT_TRUE(back) << e.text << ": " << back.error().message();
    EXPECT_EQ(*back, p) << e.text;
    EXPECT_EQ(encode(*back).text, e.text);
  }
}

TEST(SocketIoCodec, ReservedEventNames) {
  for (const auto name : {"connect", "connect_error", "disconnect", "disconnecting", "newListener",
                          "removeListener"}) {
    EXPECT_TRUE(is_reserved_event(name)) << name;
    EXPECT_EQ(decode_error("2[\"" + std::string(name) + "\"]"), codec_error::invalid_payload);
    EXPECT_EQ(decode_error("51-[\"" + std::string(name) + "\"," + ph0 + "]"),
              codec_error::invalid_payload);
  }
  for (const auto name : {"", "Connect", "connected", "message", "reconnect", "error"})
    EXPECT_FALSE(is_reserved_event(name)) << name;
}

TEST(SocketIoCodec, Placeholders) {
  const auto p = make_placeholder(3);
  EXPECT_EQ(serialize_js(p), R"({"_placeholder":true,"num":3})");
  EXPECT_EQ(p, json::parse(R"({"_placeholder":true,"num":3})"));
  EXPECT_EQ(placeholder_index(p), 3u);
  EXPECT_EQ(placeholder_index(json::parse(R"({"num":0,"_placeholder":true,"x":1})")), 0u);
  EXPECT_EQ(placeholder_index(json::parse(R"({"_placeholder":true,"num":2.0})")), 2u);
  EXPECT_EQ(placeholder_index(json::parse(R"({"_placeholder":true,"num":-0.0})")), 0u);
  EXPECT_FALSE(placeholder_index(json::parse(R"({"_placeholder":true,"num":-1})")));
  EXPECT_FALSE(placeholder_index(json::parse(R"({"_placeholder":true,"num":0.5})")));
  EXPECT_FALSE(placeholder_index(json::parse(R"({"_placeholder":true,"num":"0"})")));
  EXPECT_FALSE(placeholder_index(json::parse(R"({"_placeholder":true})")));
  EXPECT_FALSE(placeholder_index(json::parse(R"({"_placeholder":1,"num":0})")));
  EXPECT_FALSE(placeholder_index(json::parse(R"({"_placeholder":false,"num":0})")));
  EXPECT_FALSE(placeholder_index(json::parse(R"([true,0])")));
  EXPECT_FALSE(placeholder_index(json::value(nullptr)));
}

// --- malformed input ---------------------------------------------------------------------------

TEST(SocketIoCodec, MalformedTextPackets) {
  struct vector {
    std::string text;
    codec_error error;
  };
  const vector vectors[] = {
      {"", codec_error::empty_packet},
      {"7", codec_error::unknown_packet_type},
      {"9[]", codec_error::unknown_packet_type},
      {"a", codec_error::unknown_packet_type},
      {"[\"x\"]", codec_error::unknown_packet_type},
      {" 2[\"x\"]", codec_error::unknown_packet_type},
      {"4abc", codec_error::invalid_json},
      {"4", codec_error::invalid_payload},
      {"4[]", codec_error::invalid_payload},
      {"44", codec_error::invalid_payload},  // "4" is an ack id, then nothing
      {"2{}", codec_error::invalid_payload},
      {"2abc[\"x\"]", codec_error::invalid_json},
      {"2[\"x\"]x", codec_error::invalid_json},
      {"2[\"x\"", codec_error::invalid_json},
      {"2[\"x\",]", codec_error::invalid_json},
      {"2['x']", codec_error::invalid_json},
      {"2[\"\xff\"]", codec_error::invalid_json},
      {"2", codec_error::invalid_payload},
      {"2/admin,", codec_error::invalid_payload},
      {"2/admin[\"x\"]", codec_error::invalid_payload},  // all of it is the namespace
      {"212", codec_error::invalid_payload},
      {"2[]", codec_error::invalid_payload},
      {"2[null]", codec_error::invalid_payload},
      {"2[[\"x\"]]", codec_error::invalid_payload},
      {"2\"x\"", codec_error::invalid_payload},
      {"0\"x\"", codec_error::invalid_payload},
      {"0[]", codec_error::invalid_payload},
      {"0null", codec_error::invalid_payload},
      {"1{}", codec_error::invalid_payload},
      {"1/admin,[]", codec_error::invalid_payload},
      {"1null", codec_error::invalid_payload},
      {"3", codec_error::invalid_payload},
      {"3{}", codec_error::invalid_payload},
      {"3\"x\"", codec_error::invalid_payload},
      {"5", codec_error::invalid_attachment_count},
      {"5[\"x\"]", codec_error::invalid_attachment_count},
      {"5-[\"x\"]", codec_error::invalid_attachment_count},
      {"51[\"x\"]", codec_error::invalid_attachment_count},
      {"51", codec_error::invalid_attachment_count},
      {"5a-[\"x\"]", codec_error::invalid_attachment_count},
      {"5 1-[\"x\"]", codec_error::invalid_attachment_count},
      {"51a-[\"x\"]", codec_error::invalid_attachment_count},
      {"50-[\"x\"]", codec_error::invalid_attachment_count},
      {"60-[]", codec_error::invalid_attachment_count},
      {"511-[\"x\"]", codec_error::too_many_attachments},
      {"699999999999999999999999999-[]", codec_error::too_many_attachments},
      {"51-{}", codec_error::invalid_payload},
      {"51-[]", codec_error::invalid_payload},
      {"61-\"x\"", codec_error::invalid_payload},
      {"51-[\"x\"", codec_error::invalid_json},
      {"29007199254740992[\"x\"]", codec_error::invalid_ack_id},
      {"399999999999999999999999999999[]", codec_error::invalid_ack_id},
      {"31 2[]", codec_error::invalid_ack_id},          // Number("1 2") is NaN
      {"2\xc2\xa0[\"x\"]", codec_error::invalid_json},  // NBSP: Node reads ack id 0
  };
  for (const auto& v : vectors) {
    EXPECT_EQ(decode_error(v.text), v.error) << v.text;
  }
}

TEST(SocketIoCodec, AttachmentLimitIsConfigurable) {
  EXPECT_FALSE(decode_error("510-[\"x\"]"));  // 10 is allowed by default
  EXPECT_EQ(decode_error("510-[\"x\"]", {.max_attachments = 9}), codec_error::too_many_attachments);
  EXPECT_FALSE(decode_error("5100-[\"x\"]", {.max_attachments = 100}));
  EXPECT_EQ(decode_error("59-[\"x\"]", {.max_attachments = 5}), codec_error::too_many_attachments);
  EXPECT_EQ(decode_error("51-[\"x\"]", {.max_attachments = 0}), codec_error::too_many_attachments);
  EXPECT_EQ(decode_error("599999999999999999999999-[]",
                         {.max_attachments = std::numeric_limits<std::size_t>::max()}),
            codec_error::too_many_attachments);
}

TEST(SocketIoCodec, DepthLimit) {
  const auto nested = [](std::size_t depth) {
    return "3" + std::string(depth, '[') + std::string(depth, ']');
  };
  EXPECT_FALSE(decode_error(nested(32)));
  EXPECT_EQ(decode_error(nested(33)), codec_error::json_too_deep);
  EXPECT_EQ(decode_error(nested(100000)), codec_error::json_too_deep);
  EXPECT_EQ(decode_error(nested(5), {.max_json_depth = 4}), codec_error::json_too_deep);
  EXPECT_EQ(decode_error(R"(2["x",{"a":{"b":{"c":1}}}])", {.max_json_depth = 3}),
            codec_error::json_too_deep);
}

TEST(SocketIoCodec, SizeLimit) {
  const decoder_limits limits{.max_packet_size = 16};
  EXPECT_FALSE(decode_error(R"(2["0123456789a"])", limits));  // 16 bytes
  EXPECT_EQ(decode_error(R"(2["0123456789ab"])", limits), codec_error::packet_too_large);

  decoder d(limits);
  EXPECT_EQ(d.feed_text("51-[\"x\"," + ph0 + "]").error(), codec_error::packet_too_large);
  EXPECT_FALSE(d.awaiting_attachments());
  ASSERT_TRUE(d.feed_text("51-[1]"));  // a short header; the attachment limit is separate
  ASSERT_TRUE(d.awaiting_attachments());
  EXPECT_EQ(d.feed_binary(std::string(17, 'x')).error(), codec_error::packet_too_large);
  EXPECT_FALSE(d.awaiting_attachments());
  ASSERT_TRUE(d.feed_text("51-[1]"));
  auto r = d.feed_binary(std::string(16, 'x'));
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->has_value());
}

TEST(SocketIoCodec, TextWhileAwaitingAttachments) {
  decoder d;
  auto r = d.feed_text("51-");  // no payload: only refused once complete, as in Node
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->has_value());
  EXPECT_EQ(d.feed_text(R"(2["x"])").error(), codec_error::unexpected_text);
  EXPECT_FALSE(d.awaiting_attachments());
  // The decoder is usable again.
  r = d.feed_text(R"(2["x"])");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->has_value());
  // And a header without payload is refused when its attachment arrives.
  ASSERT_TRUE(d.feed_text("51-"));
  EXPECT_EQ(d.feed_binary("a").error(), codec_error::invalid_payload);
  EXPECT_FALSE(d.awaiting_attachments());
}

TEST(SocketIoCodec, BinaryWithNothingPending) {
  decoder d;
  EXPECT_EQ(d.feed_binary("abc").error(), codec_error::unexpected_binary);
  EXPECT_EQ(d.feed_binary("").error(), codec_error::unexpected_binary);
  ASSERT_TRUE(d.feed_text("51-[\"x\"," + ph0 + "]"));
  auto r = d.feed_binary("1");
  ASSERT_TRUE(r && r->has_value());
  EXPECT_EQ(d.feed_binary("2").error(), codec_error::unexpected_binary);
}

TEST(SocketIoCodec, PlaceholderErrorsWhenTheLastAttachmentArrives) {
  struct vector {
    std::string text;
    std::size_t attachments;
    codec_error error;
  };
  const vector vectors[] = {
      {R"(51-["x",{"_placeholder":true,"num":1}])", 1, codec_error::placeholder_out_of_range},
      {R"(52-["x",{"a":[{"_placeholder":true,"num":2}]}])", 2,
       codec_error::placeholder_out_of_range},
      {R"(61-[{"_placeholder":true,"num":1e300}])", 1, codec_error::placeholder_out_of_range},
      {R"(51-["x",{"_placeholder":true,"num":-1}])", 1, codec_error::invalid_placeholder},
      {R"(51-["x",{"_placeholder":true,"num":0.5}])", 1, codec_error::invalid_placeholder},
      {R"(51-["x",{"_placeholder":true,"num":"0"}])", 1, codec_error::invalid_placeholder},
      {R"(51-["x",{"_placeholder":true,"num":null}])", 1, codec_error::invalid_placeholder},
      {R"(51-["x",{"_placeholder":true}])", 1, codec_error::invalid_placeholder},
      {R"(61-[[[{"k":{"_placeholder":true}}]]])", 1, codec_error::invalid_placeholder},
  };
  for (const auto& v : vectors) {
    decoder d;
    auto r = d.feed_text(v.text);
    ASSERT_TRUE(r) << v.text;
    for (std::size_t i = 0; i + 1 < v.attachments; ++i) {
      r = d.feed_binary("b");
      ASSERT_TRUE(r && !r->has_value()) << v.text;
    }
    r = d.feed_binary("last");
    ASSERT_FALSE(r) << v.text;
    EXPECT_EQ(r.error(), v.error) << v.text;
    EXPECT_FALSE(d.awaiting_attachments());
  }
  // Not placeholders: "_placeholder" other than true is ordinary data.
  decoder d;
  auto p = decode_all(d, R"(51-["x",{"_placeholder":false},{"_placeholder":1,"num":9}])", {"a"});
  EXPECT_TRUE(p);
}

TEST(SocketIoCodec, ResetDropsThePendingPacket) {
  decoder d;
  ASSERT_TRUE(d.feed_text("52-[\"x\"," + ph0 + "]"));
  ASSERT_TRUE(d.feed_binary("a"));
  d.reset();
  EXPECT_FALSE(d.awaiting_attachments());
  EXPECT_EQ(d.feed_binary("b").error(), codec_error::unexpected_binary);
}

TEST(SocketIoCodec, ErrorsHaveReadableMessages) {
  const ignis::error_code ec = codec_error::unexpected_text;
  EXPECT_EQ(ec.message(), "text packet received while waiting for binary attachments");
  EXPECT_STREQ(ec.category().name(), "ignis.socketio.codec");
  for (int e = 1; e <= static_cast<int>(codec_error::placeholder_out_of_range); ++e) {
    const ignis::error_code code = static_cast<codec_error>(e);
    EXPECT_NE(code.message(), "unknown Socket.IO codec error") << e;
  }
}

// --- message sequences -------------------------------------------------------------------------

struct message {
  bool binary;
  std::string data;
  std::size_t announces = 0;  // for a binary header: its attachment count
};

// One connection's messages in order: plain packets, a binary event, a binary ack with two
// attachments.
const std::vector<message>& sequence() {
  static const std::vector<message> messages = {
      {false, R"(2["a"])"},  {false, "51-[\"b\"," + ph0 + "]", 1},
      {true, "bin0"},        {false, "62-/x,7[" + ph0 + "," + ph1 + "]", 2},
      {true, "bin1"},        {true, "bin2"},
      {false, R"(3/x,1[])"},
  };
  return messages;
}

TEST(SocketIoCodec, SequenceInOrder) {
  decoder d;
  std::vector<packet> out;
  for (const auto& m : sequence()) {
    auto r = m.binary ? d.feed_binary(m.data) : d.feed_text(m.data);
    ASSERT_TRUE(r) << m.data << ": " << r.error().message();
    if (r->has_value()) out.push_back(std::move(**r));
  }
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0], make(packet_type::event, "/", {}, R"(["a"])"));
  EXPECT_EQ(out[1], make(packet_type::event, "/", {}, "[\"b\"," + ph0 + "]", {"bin0"}));
  EXPECT_EQ(out[2], make(packet_type::ack, "/x", 7, "[" + ph0 + "," + ph1 + "]", {"bin1", "bin2"}));
  EXPECT_EQ(out[3], make(packet_type::ack, "/x", 1, "[]"));
}

// Every order of the same messages: each step gives exactly what a model of the protocol says
// (a packet, "waiting", or the reordering error), and the attachments of a completed packet are
// the binary messages that followed its header.
TEST(SocketIoCodec, EveryReorderingGivesTheModelsAnswer) {
  const auto& messages = sequence();
  std::vector<std::size_t> order(messages.size());
  std::iota(order.begin(), order.end(), 0);
  std::size_t permutations = 0;
  do {
    ++permutations;
    decoder d;
    std::size_t waiting = 0;  // model: attachments still expected
    std::vector<std::string> collected;
    for (const auto index : order) {
      const auto& m = messages[index];
      if (!m.binary) {
        auto r = d.feed_text(m.data);
        if (waiting != 0) {
          ASSERT_FALSE(r);
          EXPECT_EQ(r.error(), codec_error::unexpected_text);
          waiting = 0;
          collected.clear();
          continue;
        }
        ASSERT_TRUE(r);
        EXPECT_EQ(r->has_value(), m.announces == 0);
        waiting = m.announces;
      } else {
        auto r = d.feed_binary(m.data);
        if (waiting == 0) {
          ASSERT_FALSE(r);
          EXPECT_EQ(r.error(), codec_error::unexpected_binary);
          continue;
        }
        ASSERT_TRUE(r);
        collected.push_back(m.data);
        if (--waiting != 0) {
          EXPECT_FALSE(r->has_value());
          continue;
        }
        ASSERT_TRUE(r->has_value());
        const auto& p = **r;
        ASSERT_EQ(p.attachments.size(), collected.size());
        for (std::size_t i = 0; i < collected.size(); ++i)
          EXPECT_EQ(*p.attachments[i], collected[i]);
        collected.clear();
      }
      EXPECT_EQ(d.awaiting_attachments(), waiting != 0);
    }
  } while (std::next_permutation(order.begin(), order.end()));
  EXPECT_EQ(permutations, 5040u);
}

TEST(SocketIoCodec, NamespaceNamesGetTheirSlash) {
  EXPECT_EQ(normalize_namespace(""), "/");
  EXPECT_EQ(normalize_namespace("/"), "/");
  EXPECT_EQ(normalize_namespace("chat"), "/chat");
  EXPECT_EQ(normalize_namespace("/chat"), "/chat");
}

}  // namespace
