#include <ignis/engineio/packet.hpp>

#include <gtest/gtest.h>

namespace {

using namespace ignis::engineio;

TEST(EngineIoPacket, DecodesEveryTextType) {
  struct vector {
    std::string_view wire;
    packet_type type;
    std::string_view data;
  };
  const vector vectors[] = {
      {"0{\"sid\":\"x\"}", packet_type::open, "{\"sid\":\"x\"}"},
      {"1", packet_type::close, ""},
      {"2", packet_type::ping, ""},
      {"2probe", packet_type::ping, "probe"},
      {"3", packet_type::pong, ""},
      {"3probe", packet_type::pong, "probe"},
      {"4hello", packet_type::message, "hello"},
      {"4", packet_type::message, ""},
      {"4\xc3\xa9t\xc3\xa9", packet_type::message, "\xc3\xa9t\xc3\xa9"},
      {"5", packet_type::upgrade, ""},
      {"6", packet_type::noop, ""},
  };
  for (const auto& v : vectors) {
    auto p = decode_packet(v.wire);
    ASSERT_TRUE(p) << v.wire;
    EXPECT_EQ(p->type, v.type) << v.wire;
    EXPECT_FALSE(p->binary);
    EXPECT_EQ(p->data, v.data);
    std::string encoded;
    encode_packet(*p, encoded);
    EXPECT_EQ(encoded, v.wire);
  }
}

TEST(EngineIoPacket, DecodesBase64Binary) {
  auto p = decode_packet("bAQIDBA==");
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, packet::bytes(std::string("\x01\x02\x03\x04")));
  std::string polling;
  encode_polling_packet(*p, polling);
  EXPECT_EQ(polling, "bAQIDBA==");
}

TEST(EngineIoPacket, BinaryFrameIsABinaryMessage) {
  const std::uint8_t raw[] = {0, 1, 0xff};
  const auto p = decode_binary_packet(raw);
  EXPECT_EQ(p.type, packet_type::message);
  EXPECT_TRUE(p.binary);
  EXPECT_EQ(p.data, std::string("\x00\x01\xff", 3));
  std::string ws;
  encode_packet(p, ws);
  EXPECT_EQ(ws, std::string("\x00\x01\xff", 3));  // raw bytes, no type character
}

TEST(EngineIoPacket, RejectsMalformedPackets) {
  EXPECT_EQ(decode_packet("").error(), codec_error::empty_packet);
  EXPECT_EQ(decode_packet("a123").error(), codec_error::unknown_packet_type);
  EXPECT_EQ(decode_packet("{").error(), codec_error::unknown_packet_type);
  EXPECT_EQ(decode_packet("7").error(), codec_error::unknown_packet_type);
  EXPECT_EQ(decode_packet("/").error(), codec_error::unknown_packet_type);
  EXPECT_EQ(decode_packet("b!!!!").error(), codec_error::invalid_base64);
  EXPECT_EQ(decode_packet("bA").error(), codec_error::invalid_base64);
}

TEST(EngineIoPacket, ErrorsHaveReadableMessages) {
  const ignis::error_code ec = codec_error::unknown_packet_type;
  EXPECT_EQ(ec.message(), "unknown Engine.IO packet type");
  EXPECT_STREQ(ec.category().name(), "ignis.engineio.codec");
}

}  // namespace
