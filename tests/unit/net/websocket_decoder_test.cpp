#include "unit/net/websocket_test_support.hpp"

#include <ignis/common/utf8.hpp>
#include <ignis/net/websocket.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace {

using namespace ignis::net::ws;
using ignis::as_bytes;
using ignis::test::decode_every_way;
using ignis::test::wire;

const std::string hello = "Hello";

event text(std::string s) {
  return {event_kind::text, std::move(s)};
}
event binary(std::string s) {
  return {event_kind::binary, std::move(s)};
}

// RFC 6455 §5.7, byte for byte.
const std::string rfc_unmasked_text = wire({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f});
const std::string rfc_masked_text =
    wire({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
const std::string rfc_fragmented_text =
    wire({0x01, 0x03, 0x48, 0x65, 0x6c}) + wire({0x80, 0x02, 0x6c, 0x6f});
const std::string rfc_unmasked_ping = wire({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f});
const std::string rfc_masked_pong =
    wire({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});

std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i)
    s[i] = static_cast<char>((i * 7 + 3) & 0xFF);
  return s;
}

TEST(WebSocketDecoder, DecodesTheRfcExamples) {
  auto d = decode_every_way(role::client, rfc_unmasked_text);
  EXPECT_FALSE(d.ec);
  EXPECT_EQ(d.events, std::vector{text(hello)});

  d = decode_every_way(role::server, rfc_masked_text);
  EXPECT_FALSE(d.ec);
  EXPECT_EQ(d.events, std::vector{text(hello)});

  d = decode_every_way(role::client, rfc_fragmented_text);
  EXPECT_FALSE(d.ec);
  EXPECT_EQ(d.events, std::vector{text(hello)});

  d = decode_every_way(role::client, rfc_unmasked_ping);
  EXPECT_FALSE(d.ec);
  EXPECT_EQ(d.events, (std::vector{event{event_kind::ping, hello}}));

  d = decode_every_way(role::server, rfc_masked_pong);
  EXPECT_FALSE(d.ec);
  EXPECT_EQ(d.events, (std::vector{event{event_kind::pong, hello}}));
}

TEST(WebSocketDecoder, DecodesRfcLengthExamples) {
  const auto p256 = pattern(256);
  auto d = decode_every_way(role::client, wire({0x82, 0x7E, 0x01, 0x00}) + p256);
  EXPECT_FALSE(d.ec);
  EXPECT_EQ(d.events, std::vector{binary(p256)});

  const auto p64k = pattern(65536);
  d = decode_every_way(role::client,
                       wire({0x82, 0x7F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00}) + p64k);
  EXPECT_FALSE(d.ec);
  EXPECT_EQ(d.events, std::vector{binary(p64k)});
}

TEST(WebSocketDecoder, DecodesSeveralFramesInOneRead) {
  const auto d =
      decode_every_way(role::client, rfc_unmasked_text + rfc_unmasked_ping + rfc_fragmented_text);
  EXPECT_FALSE(d.ec);
  EXPECT_EQ(d.events, (std::vector{text(hello), event{event_kind::ping, hello}, text(hello)}));
  EXPECT_TRUE(d.idle);
}

TEST(WebSocketDecoder, EmitsControlFramesBetweenFragmentsAtOnce) {
  const mask_key key{1, 2, 3, 4};
  std::string in;
  encode_frame(in, opcode::binary, "ab", false, key);
  encode_frame(in, opcode::ping, "p1", true, key);
  encode_frame(in, opcode::continuation, "", false, key);
  encode_frame(in, opcode::pong, "", true, key);
  encode_frame(in, opcode::continuation, "cd", false, key);
  encode_close_frame(in, 1000, "bye", key);
  encode_frame(in, opcode::continuation, "e", true, key);
  const auto d = decode_every_way(role::server, in);
  EXPECT_FALSE(d.ec);
  EXPECT_EQ(d.events, (std::vector{event{event_kind::ping, "p1"}, event{event_kind::pong, ""},
                                   event{event_kind::close, "bye", 1000}, binary("abcde")}));
}

TEST(WebSocketDecoder, EmptyFramesCompleteWithoutMoreInput) {
  ignis::net::ws::frame_decoder decoder(role::client);
  std::vector<event> out;
  ASSERT_FALSE(decoder.feed(as_bytes(wire({0x81, 0x00})), out));
  EXPECT_EQ(out, std::vector{text("")});
  ASSERT_FALSE(decoder.feed(as_bytes(wire({0x02, 0x00})), out));
  EXPECT_FALSE(decoder.idle());
  ASSERT_FALSE(decoder.feed(as_bytes(wire({0x80, 0x00})), out));
  EXPECT_EQ(out, (std::vector{text(""), binary("")}));
  EXPECT_TRUE(decoder.idle());
}

TEST(WebSocketDecoder, IdleOnlyBetweenMessages) {
  frame_decoder decoder(role::server);
  std::vector<event> out;
  EXPECT_TRUE(decoder.idle());
  const mask_key key{9, 8, 7, 6};
  std::string first;
  encode_frame(first, opcode::text, "Hel", false, key);
  std::string ping;
  encode_frame(ping, opcode::ping, "x", true, key);
  std::string last;
  encode_frame(last, opcode::continuation, "lo", true, key);

  ASSERT_FALSE(decoder.feed(as_bytes(std::string_view(first).substr(0, 1)), out));
  EXPECT_FALSE(decoder.idle());  // inside a header
  ASSERT_FALSE(decoder.feed(as_bytes(std::string_view(first).substr(1, 6)), out));
  EXPECT_FALSE(decoder.idle());  // inside a payload
  ASSERT_FALSE(decoder.feed(as_bytes(std::string_view(first).substr(7)), out));
  EXPECT_FALSE(decoder.idle());  // between fragments
  ASSERT_FALSE(decoder.feed(as_bytes(ping), out));
  EXPECT_FALSE(decoder.idle());  // a control frame does not end the message
  ASSERT_FALSE(decoder.feed(as_bytes(last), out));
  EXPECT_TRUE(decoder.idle());
  EXPECT_EQ(out, (std::vector{event{event_kind::ping, "x"}, text(hello)}));
}

TEST(WebSocketDecoder, AnIdleDecoderIsItsLimitsRoleAndAPointer) {
  // Every idle connection carries one: the frame in progress lives on the heap only while a frame
  // or a message is unfinished.
  EXPECT_LE(sizeof(frame_decoder), sizeof(ignis::net::ws::decoder_limits) + 2 * sizeof(void*));
}

TEST(WebSocketDecoder, AFailureInsideAHeldMessageDropsIt) {
  frame_decoder decoder(role::client);
  std::vector<event> out;
  std::string first;
  encode_frame(first, opcode::text, "Hel", false);
  ASSERT_FALSE(decoder.feed(as_bytes(first), out));
  EXPECT_FALSE(decoder.idle());
  // A new data frame where a continuation is due.
  std::string again;
  encode_frame(again, opcode::text, "lo", true);
  EXPECT_EQ(decoder.feed(as_bytes(again), out), frame_error::expected_continuation);
  EXPECT_TRUE(decoder.idle());
  EXPECT_EQ(decoder.feed(as_bytes(again), out), frame_error::expected_continuation);  // sticky
  EXPECT_TRUE(out.empty());
}

TEST(WebSocketDecoder, ValidatesUtf8AcrossFragments) {
  // "é" = c3 a9, cut between its two bytes by the fragment boundary.
  std::string in;
  encode_frame(in, opcode::text, "caf\xc3", false);
  encode_frame(in, opcode::continuation, "\xa9!", true);
  auto d = decode_every_way(role::client, in);
  EXPECT_FALSE(d.ec);
  EXPECT_EQ(d.events, std::vector{text("caf\xc3\xa9!")});

  // A 4-byte code point spread over three fragments.
  in.clear();
  encode_frame(in, opcode::text, "\xf0\x9f", false);
  encode_frame(in, opcode::continuation, "\x98", false);
  encode_frame(in, opcode::continuation, "\x80", true);
  d = decode_every_way(role::client, in);
  EXPECT_FALSE(d.ec);
  EXPECT_EQ(d.events, std::vector{text("\xf0\x9f\x98\x80")});

  // Binary messages are not validated.
  in.clear();
  encode_frame(in, opcode::binary, "\xff\xc3", true);
  d = decode_every_way(role::client, in);
  EXPECT_FALSE(d.ec);
  EXPECT_EQ(d.events, std::vector{binary("\xff\xc3")});
}

TEST(WebSocketDecoder, FailsAsSoonAsAFragmentIsInvalidUtf8) {
  // The first fragment alone is known bad (0xff never appears in UTF-8): no need to wait for FIN.
  frame_decoder decoder(role::client);
  std::vector<event> out;
  std::string first;
  encode_frame(first, opcode::text, "ok\xff", false);
  EXPECT_EQ(decoder.feed(as_bytes(first), out), frame_error::invalid_utf8);

  // Even inside one frame, before the frame is complete.
  frame_decoder partial(role::client);
  const std::string head = wire({0x81, 0x10}) + "\xc0";  // 0xc0 is never valid
  EXPECT_EQ(partial.feed(as_bytes(head), out), frame_error::invalid_utf8);
  EXPECT_TRUE(out.empty());

  // Overlong, surrogate, and an incomplete code point at FIN.
  for (const std::string_view bad : {"\xc0\xaf", "\xed\xa0\x80", "abc\xe2\x82"}) {
    std::string in;
    encode_frame(in, opcode::text, bad, true);
    EXPECT_EQ(decode_every_way(role::client, in).ec, frame_error::invalid_utf8) << bad;
  }
  std::string in;
  encode_frame(in, opcode::text, "abc\xe2", false);
  encode_frame(in, opcode::continuation, "\x82", true);
  EXPECT_EQ(decode_every_way(role::client, in).ec, frame_error::invalid_utf8);
}

TEST(WebSocketDecoder, ValidatesUtf8AroundAsciiRuns) {
  // ASCII is skipped a word at a time: put valid and invalid sequences at every offset around
  // the word boundaries, with ASCII on both sides.
  for (const std::string_view seq : {"\xc3\xa9", "\xf0\x9f\x98\x80", "\xe2\x82\xac", "\xff", "\xc3",
                                     "\xed\xa0\x80", "\xe2\x82", "\x80", "\xf4\x90\x80\x80"}) {
    for (std::size_t pos = 0; pos <= 24; ++pos) {
      const std::string payload = std::string(pos, 'a') + std::string(seq) + std::string(20, 'b');
      std::string in;
      encode_frame(in, opcode::text, payload, true, mask_key{5, 6, 7, 8});
      const auto d = decode_every_way(role::server, in);
      if (ignis::utf8::is_valid(payload)) {
        EXPECT_FALSE(d.ec) << pos;
        EXPECT_EQ(d.events, std::vector{text(payload)});
      } else {
        EXPECT_EQ(d.ec, frame_error::invalid_utf8) << pos;
      }
    }
  }
}

TEST(WebSocketDecoder, DecodesCloseFrames) {
  std::string in;
  encode_frame(in, opcode::close, "");
  auto d = decode_every_way(role::client, in);
  EXPECT_FALSE(d.ec);
  EXPECT_EQ(d.events, (std::vector{event{event_kind::close, "", 0}}));

  for (const std::uint16_t code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013,
                                   1014, 3000, 3999, 4000, 4999}) {
    in.clear();
    encode_close_frame(in, code, "r\xc3\xa9sum\xc3\xa9");
    d = decode_every_way(role::client, in);
    EXPECT_FALSE(d.ec) << code;
    EXPECT_EQ(d.events, (std::vector{event{event_kind::close, "r\xc3\xa9sum\xc3\xa9", code}}));
  }
}

struct malformed_case {
  const char* name;
  role r;
  std::string input;
  frame_error expected;
};

std::vector<malformed_case> malformed_cases() {
  const mask_key key{0x11, 0x22, 0x33, 0x44};
  auto masked = [&](opcode op, std::string_view payload, bool fin = true) {
    std::string s;
    encode_frame(s, op, payload, fin, key);
    return s;
  };
  auto close_with = [&](std::uint16_t code) {
    std::string s;
    encode_close_frame(s, code, "", key);
    return s;
  };
  std::vector<malformed_case> cases = {
      {"rsv1", role::client, wire({0xC1, 0x00}), frame_error::reserved_bits_set},
      {"rsv2", role::client, wire({0xA1, 0x00}), frame_error::reserved_bits_set},
      {"rsv3", role::client, wire({0x91, 0x00}), frame_error::reserved_bits_set},
      {"opcode 3", role::client, wire({0x83, 0x00}), frame_error::reserved_opcode},
      {"opcode 7", role::client, wire({0x87, 0x00}), frame_error::reserved_opcode},
      {"opcode 11", role::client, wire({0x8B, 0x00}), frame_error::reserved_opcode},
      {"opcode 15", role::client, wire({0x8F, 0x00}), frame_error::reserved_opcode},
      {"unmasked to server", role::server, rfc_unmasked_text, frame_error::unmasked_frame},
      {"masked to client", role::client, rfc_masked_text, frame_error::masked_frame},
      {"ping of 126", role::client, wire({0x89, 0x7E, 0x00, 0x7E}) + std::string(126, 'x'),
       frame_error::control_frame_too_big},
      {"close of 127 (64-bit length)", role::client,
       wire({0x88, 0x7F, 0, 0, 0, 0, 0, 0, 0, 0x7F}) + std::string(127, 'x'),
       frame_error::control_frame_too_big},
      {"ping without FIN", role::client, wire({0x09, 0x00}), frame_error::fragmented_control_frame},
      {"continuation first", role::client, wire({0x80, 0x01, 'x'}),
       frame_error::unexpected_continuation},
      {"continuation after a complete message", role::client,
       rfc_unmasked_text + wire({0x80, 0x00}), frame_error::unexpected_continuation},
      {"text inside a fragmented message", role::client,
       wire({0x01, 0x01, 'a'}) + wire({0x81, 0x01, 'b'}), frame_error::expected_continuation},
      {"binary inside a fragmented message", role::server,
       masked(opcode::text, "a", false) + masked(opcode::binary, "b"),
       frame_error::expected_continuation},
      {"64-bit length with the top bit", role::client,
       wire({0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0x01}), frame_error::invalid_length},
      {"declared length over the limit", role::client,
       wire({0x82, 0x7F, 0, 0, 0, 0x01, 0, 0, 0, 0}), frame_error::message_too_big},
      {"invalid UTF-8", role::server, masked(opcode::text, "\xff"), frame_error::invalid_utf8},
      {"close of 1 byte", role::server, masked(opcode::close, "\x03"),
       frame_error::close_payload_too_short},
      {"close code 0", role::server, masked(opcode::close, std::string(2, '\0')),
       frame_error::invalid_close_code},
      {"close code 999", role::server, close_with(999), frame_error::invalid_close_code},
      {"close code 1004", role::server, close_with(1004), frame_error::invalid_close_code},
      {"close code 1005", role::server, close_with(1005), frame_error::invalid_close_code},
      {"close code 1006", role::server, close_with(1006), frame_error::invalid_close_code},
      {"close code 1015", role::server, close_with(1015), frame_error::invalid_close_code},
      {"close code 1016", role::server, close_with(1016), frame_error::invalid_close_code},
      {"close code 2999", role::server, close_with(2999), frame_error::invalid_close_code},
      {"close code 5000", role::server, close_with(5000), frame_error::invalid_close_code},
      {"close code 65535", role::server, close_with(65535), frame_error::invalid_close_code},
      {"close reason not UTF-8", role::server, masked(opcode::close, "\x03\xe8\xc3("),
       frame_error::invalid_close_reason},
  };
  return cases;
}

TEST(WebSocketDecoder, RejectsEachMalformedInputWithItsOwnError) {
  for (const auto& c : malformed_cases()) {
    SCOPED_TRACE(c.name);
    const auto d = decode_every_way(c.r, c.input, {.max_message_size = 1 << 20});
    EXPECT_EQ(d.ec, c.expected) << d.ec.message();
    EXPECT_TRUE(d.idle);
  }
}

TEST(WebSocketDecoder, ErrorsAreSticky) {
  frame_decoder decoder(role::client);
  std::vector<event> out;
  EXPECT_EQ(decoder.feed(as_bytes(rfc_unmasked_text + wire({0xC1, 0x00})), out),
            frame_error::reserved_bits_set);
  EXPECT_EQ(out, std::vector{text(hello)});  // completed before the violation
  EXPECT_EQ(decoder.feed(as_bytes(rfc_unmasked_text), out), frame_error::reserved_bits_set);
  EXPECT_EQ(decoder.feed({}, out), frame_error::reserved_bits_set);
  EXPECT_EQ(decoder.error(), frame_error::reserved_bits_set);
  EXPECT_EQ(out.size(), 1u);
  EXPECT_TRUE(decoder.idle());
}

TEST(WebSocketDecoder, ChecksTheDeclaredLengthBeforeBuffering) {
  // A 2^62-byte frame announced in a 10-byte header fails at once, before any payload.
  frame_decoder decoder(role::client);
  std::vector<event> out;
  EXPECT_EQ(decoder.feed(as_bytes(wire({0x82, 0x7F, 0x40, 0, 0, 0, 0, 0, 0, 0})), out),
            frame_error::message_too_big);

  // The limit covers the whole message, fragments together; exactly the limit is fine.
  const decoder_limits limits{.max_message_size = 10};
  std::string in;
  encode_frame(in, opcode::binary, "12345", false);
  encode_frame(in, opcode::continuation, "67890", true);
  auto d = decode_every_way(role::client, in, limits);
  EXPECT_FALSE(d.ec);
  EXPECT_EQ(d.events, std::vector{binary("1234567890")});

  in.clear();
  encode_frame(in, opcode::binary, "12345", false);
  encode_frame(in, opcode::continuation, "6789", false);
  encode_frame(in, opcode::continuation, "01", true);
  d = decode_every_way(role::client, in, limits);
  EXPECT_EQ(d.ec, frame_error::message_too_big);
  EXPECT_TRUE(d.events.empty());

  // Control frames do not count against the message limit.
  in.clear();
  encode_frame(in, opcode::ping, std::string(125, 'p'));
  d = decode_every_way(role::client, in, limits);
  EXPECT_FALSE(d.ec);
  EXPECT_EQ(d.events.size(), 1u);
}

TEST(WebSocketDecoder, AcceptsLengthsThatAreNotMinimallyEncoded) {
  // RFC 6455 asks senders for the shortest form; receivers lose nothing by being lenient.
  const auto d =
      decode_every_way(role::client, wire({0x82, 0x7E, 0x00, 0x03}) + "abc" +
                                         wire({0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0, 2}) + "de");
  EXPECT_FALSE(d.ec);
  EXPECT_EQ(d.events, (std::vector{binary("abc"), binary("de")}));
}

TEST(WebSocketDecoder, CloseCodeForEachError) {
  EXPECT_EQ(close_code_for({}), 1000);
  EXPECT_EQ(close_code_for(frame_error::invalid_utf8), 1007);
  EXPECT_EQ(close_code_for(frame_error::invalid_close_reason), 1007);
  EXPECT_EQ(close_code_for(frame_error::message_too_big), 1009);
  for (const auto e :
       {frame_error::reserved_bits_set, frame_error::reserved_opcode, frame_error::unmasked_frame,
        frame_error::masked_frame, frame_error::control_frame_too_big,
        frame_error::fragmented_control_frame, frame_error::unexpected_continuation,
        frame_error::expected_continuation, frame_error::invalid_length,
        frame_error::close_payload_too_short, frame_error::invalid_close_code}) {
    EXPECT_EQ(close_code_for(e), 1002) << ignis::error_code(e).message();
  }
  EXPECT_EQ(close_code_for(make_error_code(boost::system::errc::io_error)), 1011);
}

TEST(WebSocketDecoder, ErrorsHaveMessages) {
  EXPECT_STREQ(frame_category().name(), "ignis.net.websocket");
  for (int e = 1; e <= static_cast<int>(frame_error::invalid_close_reason); ++e) {
    const ignis::error_code ec(static_cast<frame_error>(e));
    EXPECT_NE(ec.message(), "unknown WebSocket frame error") << e;
  }
  EXPECT_EQ(ignis::error_code(static_cast<frame_error>(99)).message(),
            "unknown WebSocket frame error");
}

TEST(WebSocketDecoder, ValidCloseCodes) {
  for (int code = 0; code <= 0xFFFF; ++code) {
    const bool expected = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
                          (code >= 3000 && code <= 4999);
    EXPECT_EQ(is_valid_close_code(static_cast<std::uint16_t>(code)), expected) << code;
  }
}

}  // namespace
