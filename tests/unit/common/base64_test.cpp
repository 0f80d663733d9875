#include <ignis/common/base64.hpp>

#include <gtest/gtest.h>

namespace {

std::string enc(std::string_view s) {
  std::string out;
  ignis::base64::encode(ignis::as_bytes(s), out);
  return out;
}

TEST(Base64, Rfc4648Vectors) {
  EXPECT_EQ(enc(""), "");
  EXPECT_EQ(enc("f"), "Zg==");
  EXPECT_EQ(enc("fo"), "Zm8=");
  EXPECT_EQ(enc("foo"), "Zm9v");
  EXPECT_EQ(enc("foob"), "Zm9vYg==");
  EXPECT_EQ(enc("fooba"), "Zm9vYmE=");
  EXPECT_EQ(enc("foobar"), "Zm9vYmFy");
  EXPECT_EQ(enc("\x01\x02\x03\x04"), "AQIDBA==");
}

TEST(Base64, RoundTripsEveryByteValue) {
  std::string all;
  for (int i = 0; i < 256; ++i)
    all.push_back(static_cast<char>(i));
  for (std::size_t len = 0; len <= all.size(); len += 7) {
    const auto input = all.substr(0, len);
    std::string decoded;
    ASSERT_TRUE(ignis::base64::decode(enc(input), decoded));
    EXPECT_EQ(decoded, input);
  }
}

TEST(Base64, AcceptsMissingPadding) {
  std::string out;
  ASSERT_TRUE(ignis::base64::decode("AQIDBA", out));
  EXPECT_EQ(out, std::string("\x01\x02\x03\x04"));
}

TEST(Base64, RejectsInvalidInput) {
  for (std::string_view bad :
       {"A", "AQ=D", "AQ==AQ==", "AQI*", "====", "A===", "AQIDB", "\xff\xff"}) {
    std::string out;
    EXPECT_FALSE(ignis::base64::decode(bad, out)) << bad;
  }
}

}  // namespace
