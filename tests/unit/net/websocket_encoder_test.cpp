#include "unit/net/websocket_test_support.hpp"

#include <ignis/net/websocket.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace {

using namespace ignis::net::ws;
using ignis::test::decode_every_way;
using ignis::test::decode_pieces;
using ignis::test::wire;

const mask_key rfc_key{0x37, 0xfa, 0x21, 0x3d};

std::string encoded(opcode op, std::string_view payload, bool fin = true,
                    std::optional<mask_key> mask = std::nullopt) {
  std::string out;
  encode_frame(out, op, payload, fin, mask);
  return out;
}

TEST(WebSocketEncoder, EncodesTheRfcExamples) {
  EXPECT_EQ(encoded(opcode::text, "Hello"), wire({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
  EXPECT_EQ(encoded(opcode::text, "Hello", true, rfc_key),
            wire({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
  EXPECT_EQ(encoded(opcode::text, "Hel", false), wire({0x01, 0x03, 0x48, 0x65, 0x6c}));
  EXPECT_EQ(encoded(opcode::continuation, "lo"), wire({0x80, 0x02, 0x6c, 0x6f}));
  EXPECT_EQ(encoded(opcode::ping, "Hello"), wire({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
  EXPECT_EQ(encoded(opcode::pong, "Hello", true, rfc_key),
            wire({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));

  const std::string p256(256, 'x');
  EXPECT_EQ(encoded(opcode::binary, p256), wire({0x82, 0x7E, 0x01, 0x00}) + p256);
  const std::string p64k(65536, 'y');
  EXPECT_EQ(encoded(opcode::binary, p64k),
            wire({0x82, 0x7F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00}) + p64k);
}

TEST(WebSocketEncoder, AppendsToWhatIsThere) {
  std::string out = "prefix";
  encode_frame(out, opcode::text, "Hello");
  EXPECT_EQ(out, "prefix" + wire({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
}

TEST(WebSocketEncoder, HeaderSizes) {
  EXPECT_EQ(frame_header_size(0, false), 2u);
  EXPECT_EQ(frame_header_size(125, false), 2u);
  EXPECT_EQ(frame_header_size(126, false), 4u);
  EXPECT_EQ(frame_header_size(65535, false), 4u);
  EXPECT_EQ(frame_header_size(65536, false), 10u);
  EXPECT_EQ(frame_header_size(0, true), 6u);
  EXPECT_EQ(frame_header_size(126, true), 8u);
  EXPECT_EQ(frame_header_size(65536, true), 14u);
  for (const std::size_t n : {0u, 1u, 125u, 126u, 65535u, 65536u}) {
    EXPECT_EQ(encoded(opcode::binary, std::string(n, 'a')).size(), frame_header_size(n, false) + n);
    EXPECT_EQ(encoded(opcode::binary, std::string(n, 'a'), true, rfc_key).size(),
              frame_header_size(n, true) + n);
  }
}

TEST(WebSocketEncoder, HeaderThenPayloadEqualsTheEncodedFrame) {
  for (const std::size_t n : {0u, 1u, 125u, 126u, 65535u, 65536u}) {
    for (const bool fin : {true, false}) {
      const std::string payload(n, 'h');
      std::string out = "before";
      encode_frame_header(out, opcode::text, n, fin);
      EXPECT_EQ(out.size(), 6 + frame_header_size(n, false)) << n;
      out.append(payload);
      EXPECT_EQ(out, "before" + encoded(opcode::text, payload, fin)) << n << ' ' << fin;
    }
  }
}

TEST(WebSocketEncoder, SharedFrameEqualsEncodedFrame) {
  for (const std::size_t n : {0u, 5u, 125u, 126u, 1000u, 65535u, 65536u, 70000u}) {
    const std::string payload(n, 'z');
    const shared_frame frame = make_shared_frame(opcode::text, payload);
    ASSERT_TRUE(frame);
    EXPECT_EQ(*frame, encoded(opcode::text, payload)) << n;
    EXPECT_EQ(frame->capacity() - frame->size() < 16, true) << "sized to fit: " << n;
  }
  EXPECT_EQ(*make_shared_frame(opcode::binary, "\x01\x02"), encoded(opcode::binary, "\x01\x02"));
}

TEST(WebSocketEncoder, RoundTripsInBothRoles) {
  std::string big(70000, '\0');
  for (std::size_t i = 0; i < big.size(); ++i)
    big[i] = static_cast<char>('a' + i % 26);
  const std::string payloads[] = {"",
                                  "a",
                                  std::string(125, 'b'),
                                  std::string(126, 'c'),
                                  std::string(65535, 'd'),
                                  std::string(65536, 'e'),
                                  big};
  for (const auto r : {role::server, role::client}) {
    // What the peer of a decoder in role `r` sends: a client masks, a server does not.
    const std::optional<mask_key> mask =
        r == role::server ? std::optional<mask_key>(mask_key{0xde, 0xad, 0xbe, 0xef})
                          : std::nullopt;
    for (const auto& payload : payloads) {
      for (const auto op : {opcode::text, opcode::binary}) {
        const auto d = decode_pieces(r, {encoded(op, payload, true, mask)});
        ASSERT_FALSE(d.ec) << payload.size();
        ASSERT_EQ(d.events.size(), 1u);
        EXPECT_EQ(d.events[0].kind, op == opcode::text ? event_kind::text : event_kind::binary);
        EXPECT_EQ(d.events[0].payload, payload);
      }
    }

    // The big payload in fragments of uneven sizes, with control frames between them.
    std::string in;
    std::size_t pos = 0;
    std::size_t step = 1;
    bool first = true;
    while (pos < big.size()) {
      const std::size_t n = std::min(step, big.size() - pos);
      const bool fin = pos + n == big.size();
      encode_frame(in, first ? opcode::text : opcode::continuation,
                   std::string_view(big).substr(pos, n), fin, mask);
      if (!fin) encode_frame(in, opcode::ping, std::to_string(pos), true, mask);
      first = false;
      pos += n;
      step = step * 3 + 1;
    }
    const auto d = decode_pieces(r, {in});
    ASSERT_FALSE(d.ec);
    ASSERT_FALSE(d.events.empty());
    EXPECT_EQ(d.events.back(), (event{event_kind::text, big}));
    for (std::size_t i = 0; i + 1 < d.events.size(); ++i)
      EXPECT_EQ(d.events[i].kind, event_kind::ping);
  }
}

TEST(WebSocketEncoder, MaskedRoundTripAtEverySplit) {
  // Every split position puts the mask phase at a different offset inside a piece.
  std::string in;
  encode_frame(in, opcode::text, "The quick brown fox jumps over the lazy dog", false, rfc_key);
  encode_frame(in, opcode::continuation, "!", true, mask_key{1, 2, 3, 4});
  const auto d = decode_every_way(role::server, in);
  ASSERT_FALSE(d.ec);
  EXPECT_EQ(d.events,
            (std::vector{event{event_kind::text, "The quick brown fox jumps over the lazy dog!"}}));
}

TEST(WebSocketEncoder, CloseFrames) {
  std::string out;
  encode_close_frame(out, 1000, "");
  EXPECT_EQ(out, wire({0x88, 0x02, 0x03, 0xE8}));
  out.clear();
  encode_close_frame(out, 1001, "bye");
  EXPECT_EQ(out, wire({0x88, 0x05, 0x03, 0xE9, 'b', 'y', 'e'}));
  out.clear();
  encode_close_frame(out, 0, "ignored");
  EXPECT_EQ(out, wire({0x88, 0x00}));
  out.clear();
  encode_close_frame(out, 4001, "x", rfc_key);
  const auto d = decode_pieces(role::server, {out});
  ASSERT_FALSE(d.ec);
  EXPECT_EQ(d.events, (std::vector{event{event_kind::close, "x", 4001}}));
}

TEST(WebSocketEncoder, CloseReasonIsCutAtAUtf8Boundary) {
  // 122 ASCII bytes and then "é" (2 bytes): 124 bytes do not fit in 123, and cutting at 123 would
  // split the "é", so the reason keeps 122 bytes.
  const std::string reason = std::string(122, 'a') + "\xc3\xa9" + "tail";
  std::string out;
  encode_close_frame(out, 1000, reason);
  auto d = decode_pieces(role::client, {out});
  ASSERT_FALSE(d.ec);
  ASSERT_EQ(d.events.size(), 1u);
  EXPECT_EQ(d.events[0].payload, std::string(122, 'a'));

  // A 123-byte reason is kept whole; the frame is the largest control frame.
  out.clear();
  encode_close_frame(out, 1000, std::string(123, 'b') + "more");
  EXPECT_EQ(out.size(), 2u + 125u);
  d = decode_pieces(role::client, {out});
  ASSERT_FALSE(d.ec);
  EXPECT_EQ(d.events[0].payload, std::string(123, 'b'));

  // 4-byte code points straddling the limit.
  const std::string emoji = "\xf0\x9f\x98\x80";
  std::string many;
  for (int i = 0; i < 40; ++i)
    many += emoji;
  out.clear();
  encode_close_frame(out, 3000, many);
  d = decode_pieces(role::client, {out});
  ASSERT_FALSE(d.ec);
  EXPECT_EQ(d.events[0].payload.size(), 120u);  // 30 whole code points
}

}  // namespace
