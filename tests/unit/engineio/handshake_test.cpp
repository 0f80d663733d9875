#include <ignis/engineio/packet.hpp>

#include <gtest/gtest.h>

namespace {

using namespace ignis::engineio;

TEST(EngineIoHandshake, EncodesInNodeKeyOrder) {
  const handshake h{"DoZanV6v8lkv5Sg5AAAA", {"websocket"}, 300, 200, 1'000'000};
  EXPECT_EQ(
      encode_handshake(h),
      R"({"sid":"DoZanV6v8lkv5Sg5AAAA","upgrades":["websocket"],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000})");
  const handshake ws{"abc", {}, 25000, 20000, 1'000'000};
  EXPECT_EQ(
      encode_handshake(ws),
      R"({"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000})");
}

TEST(EngineIoHandshake, DecodesNodesHandshake) {
  auto h = decode_handshake(
      R"({"sid":"DoZanV6v8lkv5Sg5AAAA","upgrades":["websocket"],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000})");
  ASSERT_TRUE(h);
  EXPECT_EQ(*h, (handshake{"DoZanV6v8lkv5Sg5AAAA", {"websocket"}, 300, 200, 1'000'000}));
  EXPECT_EQ(decode_handshake(encode_handshake(*h)).value(), *h);
}

TEST(EngineIoHandshake, RejectsInvalidHandshakes) {
  for (std::string_view bad : {
           "",
           "[]",
           "{",
           R"({"upgrades":[],"pingInterval":1,"pingTimeout":1})",
           R"({"sid":"","upgrades":[],"pingInterval":1,"pingTimeout":1})",
           R"({"sid":"a","upgrades":[1],"pingInterval":1,"pingTimeout":1})",
           R"({"sid":"a","upgrades":[],"pingInterval":-1,"pingTimeout":1})",
           R"({"sid":"a","upgrades":[],"pingInterval":1.5,"pingTimeout":1})",
           R"({"sid":"a","upgrades":[],"pingInterval":1,"pingTimeout":99999999999})",
           R"({"sid":"a","upgrades":[],"pingInterval":1,"pingTimeout":1,"maxPayload":"x"})",
       }) {
    EXPECT_EQ(decode_handshake(bad).error(), codec_error::invalid_handshake) << bad;
  }
}

}  // namespace
