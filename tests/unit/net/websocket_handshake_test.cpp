#include <ignis/net/websocket.hpp>

#include <gtest/gtest.h>

namespace {

using namespace ignis::net::ws;

TEST(WebSocketHandshake, AcceptKeyOfTheRfcExample) {
  // RFC 6455 §1.3: SHA-1 b3 7a 4f 2c c0 62 4f 16 90 f6 46 06 cf 38 59 45 b2 be c4 ea, in base64.
  EXPECT_EQ(accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  // Another key, its answer computed independently with `openssl sha1 -binary | base64`.
  EXPECT_EQ(accept_key("x3JJHMbDL1EzLkh9GBhXDw=="), "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
}

TEST(WebSocketHandshake, ValidatesKeys) {
  EXPECT_TRUE(is_valid_key("dGhlIHNhbXBsZSBub25jZQ=="));
  EXPECT_TRUE(is_valid_key("AAAAAAAAAAAAAAAAAAAAAA=="));
  EXPECT_FALSE(is_valid_key(""));
  EXPECT_FALSE(is_valid_key("dGhlIHNhbXBsZSBub25jZQ"));     // no padding: 22 characters
  EXPECT_FALSE(is_valid_key("dGhlIHNhbXBsZSBub25jZQ==="));  // 25 characters
  EXPECT_FALSE(is_valid_key("dGhlIHNhbXBsZSBub25jZQAA"));   // 24 characters, 18 bytes
  EXPECT_FALSE(is_valid_key("dGhlIHNhbXBsZSBub25jZ*=="));   // not base64
  EXPECT_FALSE(is_valid_key(" dGhlIHNhbXBsZSBub25jZQ="));   // whitespace is the caller's job
  EXPECT_FALSE(is_valid_key("dGhlIHNhbXBsZSBub25jZQ=A"));   // misplaced padding
}

TEST(WebSocketHandshake, MakesKeysFromNonces) {
  const std::array<std::uint8_t, 16> nonce{'t', 'h', 'e', ' ', 's', 'a', 'm', 'p',
                                           'l', 'e', ' ', 'n', 'o', 'n', 'c', 'e'};
  const auto key = make_key(nonce);
  EXPECT_EQ(key, "dGhlIHNhbXBsZSBub25jZQ==");
  EXPECT_TRUE(is_valid_key(key));
}

}  // namespace
