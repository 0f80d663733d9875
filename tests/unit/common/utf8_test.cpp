#include <ignis/common/utf8.hpp>

#include <gtest/gtest.h>

namespace {

using ignis::utf8::is_valid;

TEST(Utf8, AcceptsValidText) {
  EXPECT_TRUE(is_valid(""));
  EXPECT_TRUE(is_valid("hello"));
  EXPECT_TRUE(is_valid("\xc3\xa9t\xc3\xa9"));  // été
  EXPECT_TRUE(is_valid("\xe2\x82\xac"));       // €
  EXPECT_TRUE(is_valid("\xf0\x9f\x98\x80"));   // 😀
  EXPECT_TRUE(is_valid("\xf4\x8f\xbf\xbf"));   // U+10FFFF
  EXPECT_TRUE(is_valid("\xed\x9f\xbf"));       // U+D7FF, just below the surrogates
}

TEST(Utf8, RejectsInvalidText) {
  EXPECT_FALSE(is_valid("\x80"));              // lone continuation
  EXPECT_FALSE(is_valid("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(is_valid("\xe0\x80\xaf"));      // overlong
  EXPECT_FALSE(is_valid("\xed\xa0\x80"));      // surrogate U+D800
  EXPECT_FALSE(is_valid("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(is_valid("\xf5\x80\x80\x80"));
  EXPECT_FALSE(is_valid("\xff"));
  EXPECT_FALSE(is_valid("\xe2\x82"));  // truncated
}

TEST(Utf8, ValidatesAcrossPieces) {
  const std::string_view text = "a\xf0\x9f\x98\x80z";
  for (std::size_t i = 0; i <= text.size(); ++i) {
    ignis::utf8::validator v;
    ASSERT_TRUE(v.feed(text.substr(0, i)));
    ASSERT_TRUE(v.feed(text.substr(i)));
    EXPECT_TRUE(v.complete());
  }
  ignis::utf8::validator v;
  ASSERT_TRUE(v.feed("a\xf0\x9f"));
  EXPECT_FALSE(v.complete());
}

}  // namespace
