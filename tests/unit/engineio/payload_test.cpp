#include "support/split.hpp"

#include <ignis/engineio/packet.hpp>

#include <gtest/gtest.h>

namespace {

using namespace ignis::engineio;

TEST(EngineIoPayload, EncodesSpecExamples) {
  const packet three[] = {packet::text(packet_type::message, "hello"),
                          packet::text(packet_type::ping),
                          packet::text(packet_type::message, "world")};
  EXPECT_EQ(encode_payload(three),
            "4hello\x1e"
            "2\x1e"
            "4world");
  const packet mixed[] = {packet::text(packet_type::message, "hello"),
                          packet::bytes(std::string("\x01\x02\x03\x04"))};
  EXPECT_EQ(encode_payload(mixed),
            "4hello\x1e"
            "bAQIDBA==");
  EXPECT_EQ(encode_payload({}), "");
}

TEST(EngineIoPayload, DecodesTheParserTestVector) {
  auto packets = decode_payload(
      "0\x1e"
      "1\x1e"
      "2probe\x1e"
      "3probe\x1e"
      "4test");
  ASSERT_TRUE(packets);
  ASSERT_EQ(packets->size(), 5u);
  EXPECT_EQ((*packets)[2], packet::text(packet_type::ping, "probe"));
  EXPECT_EQ((*packets)[4], packet::text(packet_type::message, "test"));
}

TEST(EngineIoPayload, RoundTripsAtEverySplit) {
  const std::vector<packet> packets = {
      packet::text(packet_type::message, "hello"), packet::bytes(std::string("\x00\xff\x10", 3)),
      packet::text(packet_type::pong), packet::text(packet_type::message, "")};
  const auto body = encode_payload(packets);
  ignis::test::for_each_split(body, [&](const std::vector<std::string_view>& pieces) {
    payload_decoder decoder;
    std::vector<packet> out;
    for (auto piece : pieces)
      ASSERT_FALSE(decoder.feed(piece, out));
    ASSERT_FALSE(decoder.finish(out));
    EXPECT_EQ(out, packets);
  });
}

TEST(EngineIoPayload, RejectsMalformedPayloads) {
  EXPECT_EQ(decode_payload("").error(), codec_error::empty_packet);
  EXPECT_EQ(decode_payload("4a\x1e").error(), codec_error::empty_packet);
  EXPECT_EQ(decode_payload("\x1e"
                           "4a")
                .error(),
            codec_error::empty_packet);
  EXPECT_EQ(decode_payload("4a\x1e"
                           "9")
                .error(),
            codec_error::unknown_packet_type);
  EXPECT_EQ(decode_payload("4a\x1e"
                           "b*")
                .error(),
            codec_error::invalid_base64);
}

TEST(EngineIoPayload, LimitsThePacketCount) {
  std::string body = "4";
  for (int i = 0; i < 10; ++i)
    body +=
        "\x1e"
        "4";
  EXPECT_TRUE(decode_payload(body, {.max_packets = 11}));
  EXPECT_EQ(decode_payload(body, {.max_packets = 10}).error(), codec_error::too_many_packets);
}

TEST(EngineIoPayload, ErrorsAreSticky) {
  payload_decoder decoder;
  std::vector<packet> out;
  EXPECT_TRUE(decoder.feed("x\x1e", out));
  EXPECT_TRUE(decoder.feed("4ok\x1e", out));
  EXPECT_TRUE(decoder.finish(out));
  EXPECT_TRUE(out.empty());
}

}  // namespace
