#include <ignis/socketio/json.hpp>

#include <boost/json/error.hpp>
#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>

namespace {

using ignis::socketio::parse_js;
using ignis::socketio::serialize_js;
namespace json = boost::json;

TEST(SocketIoSerializeJs, IntegersAsIntegers) {
  EXPECT_EQ(serialize_js(json::value(std::int64_t{0})), "0");
  EXPECT_EQ(serialize_js(json::value(std::int64_t{-42})), "-42");
  EXPECT_EQ(serialize_js(json::value(std::numeric_limits<std::int64_t>::min())),
            "-9223372036854775808");
  EXPECT_EQ(serialize_js(json::value(std::uint64_t{1} << 63)), "9223372036854775808");
  EXPECT_EQ(serialize_js(json::value(std::numeric_limits<std::uint64_t>::max())),
            "18446744073709551615");
}

// Expected strings are what Node's JSON.stringify writes for the same double.
TEST(SocketIoSerializeJs, DoublesLikeJavaScript) {
  struct vector {
    double value;
    std::string_view js;
  };
  const vector vectors[] = {
      {0.0, "0"},
      {-0.0, "0"},
      {1.0, "1"},
      {100.0, "100"},
      {1.5, "1.5"},
      {-1.5, "-1.5"},
      {0.1, "0.1"},
      {0.1 + 0.2, "0.30000000000000004"},
      {123.456, "123.456"},
      {1e20, "100000000000000000000"},
      {123456789012345680000.0, "123456789012345680000"},
      {1e21, "1e+21"},
      {1.5e21, "1.5e+21"},
      {-1e21, "-1e+21"},
      {1e-6, "0.000001"},
      {1.234e-6, "0.000001234"},
      {1e-7, "1e-7"},
      {1.5e-7, "1.5e-7"},
      {-1.25e-10, "-1.25e-10"},
      {9007199254740992.0, "9007199254740992"},
      {9223372036854775808.0, "9223372036854776000"},
      {5e-324, "5e-324"},
      {1.7976931348623157e308, "1.7976931348623157e+308"},
      {2.2250738585072014e-308, "2.2250738585072014e-308"},
  };
  for (const auto& v : vectors) {
    EXPECT_EQ(serialize_js(json::value(v.value)), v.js) << v.js;
  }
}

TEST(SocketIoSerializeJs, NonFiniteIsNull) {
  EXPECT_EQ(serialize_js(json::value(std::numeric_limits<double>::quiet_NaN())), "null");
  EXPECT_EQ(serialize_js(json::value(std::numeric_limits<double>::infinity())), "null");
  EXPECT_EQ(serialize_js(json::value(-std::numeric_limits<double>::infinity())), "null");
}

TEST(SocketIoSerializeJs, StringEscapes) {
  EXPECT_EQ(serialize_js(json::value("a\"b\\c/d")), R"("a\"b\\c/d")");
  EXPECT_EQ(serialize_js(json::value("\b\f\n\r\t")), R"("\b\f\n\r\t")");
  EXPECT_EQ(serialize_js(json::value(std::string("\x00\x01\x1f\x7f", 4))),
            "\"\\u0000\\u0001\\u001f\x7f\"");
  EXPECT_EQ(serialize_js(json::value("\x0b\x1b")), R"("\u000b\u001b")");
  // Non-ASCII stays UTF-8, U+2028/U+2029 included (JSON.stringify leaves them alone too).
  EXPECT_EQ(serialize_js(json::value("\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80\xe2\x80\xa8")),
            "\"\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80\xe2\x80\xa8\"");
  EXPECT_EQ(serialize_js(json::value("")), R"("")");
}

TEST(SocketIoSerializeJs, ContainersKeepOrderWithoutSpaces) {
  const auto v = json::parse(R"( { "z" : [1, true, null, {"b":"c"}, 2.5E0, []], "a" : {} } )");
  EXPECT_EQ(serialize_js(v), R"({"z":[1,true,null,{"b":"c"},2.5,[]],"a":{}})");
  // Appends.
  std::string out = "42";
  serialize_js(json::parse(R"(["chat","hi"])"), out);
  EXPECT_EQ(out, R"(42["chat","hi"])");
}

TEST(SocketIoSerializeJs, ParsedTextReserializesIdentically) {
  const std::string_view texts[] = {
      R"(["message",1,"2",{"3":[true]}])",
      R"({"sid":"oSO0OpakMV_3jnilAAAA","pid":"Vuu5Efny8Cjp-_aKAAAB"})",
      R"([0.5,-3,1e+100,1.5e-7,"\u0001\n"])",
  };
  for (const auto t : texts)
    EXPECT_EQ(serialize_js(json::parse(t)), t);
}

// Every double must read back to itself: the digits are the shortest that do.
TEST(SocketIoSerializeJs, DoublesRoundTrip) {
  std::uint64_t state = 0x9e3779b97f4a7c15ull;
  for (int i = 0; i < 20000; ++i) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    double d;
    static_assert(sizeof d == sizeof state);
    std::memcpy(&d, &state, sizeof d);
    if (!std::isfinite(d)) continue;
    const auto text = serialize_js(json::value(d));
    const auto back = parse_js(text);
    ASSERT_TRUE(back && back->is_number()) << text;
    EXPECT_EQ(back->to_number<double>(), d) << text;
  }
}

// Math.random()-like values: boost::json::parse (Boost 1.81) reads about one in ten of them one
// ulp off; parse_js must read every one exactly, as JSON.parse does.
TEST(SocketIoParseJs, DoublesAreCorrectlyRounded) {
  std::uint64_t state = 88172645463325252ull;
  for (int i = 0; i < 100000; ++i) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    const double d = static_cast<double>(state >> 11) / 9007199254740992.0 * (i % 2 ? 1000 : 1);
    const auto text = "[" + serialize_js(json::value(d)) + "]";
    const auto back = parse_js(text);
    ASSERT_TRUE(back) << text;
    ASSERT_EQ(back->as_array()[0].as_double(), d) << text;
  }
  EXPECT_EQ(parse_js("458.12455122160236")->as_double(), 458.12455122160236);
  EXPECT_EQ(parse_js("0.49431128204553837")->as_double(), 0.49431128204553837);
  EXPECT_EQ(parse_js("-2.357739505582337E+100")->as_double(), -2.357739505582337e+100);
}

TEST(SocketIoParseJs, ValuesLikeJsonParse) {
  const auto v = parse_js(R"( {"a":[1,-2,18446744073709551615,1.5e300,1e400,-0.0,"\u00e9"],
                               "a":{"x":null},"b":true} )");
  ASSERT_TRUE(v);
  // A repeated key keeps its first place and its last value, as in JavaScript.
  EXPECT_EQ(serialize_js(*v), R"({"a":{"x":null},"b":true})");
  const auto numbers = parse_js(R"([1,-2,18446744073709551615,1.5e300,1e400,-0.0,1E2])");
  ASSERT_TRUE(numbers);
  const auto& a = numbers->as_array();
  EXPECT_EQ(a[0].as_int64(), 1);
  EXPECT_EQ(a[2].as_uint64(), 18446744073709551615ull);
  EXPECT_EQ(a[3].as_double(), 1.5e300);
  EXPECT_TRUE(std::isinf(a[4].as_double()));  // Infinity, as JSON.parse
  EXPECT_EQ(serialize_js(*numbers), R"([1,-2,18446744073709551615,1.5e+300,null,0,100])");
  // Long mantissas are read exactly too.
  const auto long_number = "0." + std::string(400, '3');
  EXPECT_EQ(parse_js(long_number)->as_double(), 1.0 / 3.0);
}

TEST(SocketIoParseJs, Errors) {
  EXPECT_EQ(parse_js("").error(), json::error::incomplete);
  EXPECT_EQ(parse_js("[1] x").error(), json::error::extra_data);
  EXPECT_EQ(parse_js("[1,]").error(), json::error::syntax);
  EXPECT_EQ(parse_js("[01]").error(), json::error::syntax);
  EXPECT_EQ(parse_js("[1] // c").error(), json::error::extra_data);
  EXPECT_EQ(parse_js("[[[]]]", 2).error(), json::error::too_deep);
  EXPECT_TRUE(parse_js("[[]]", 2));
  EXPECT_FALSE(parse_js("\"\xff\""));
  EXPECT_FALSE(parse_js(R"("\ud800")"));  // a lone surrogate cannot be held as UTF-8
  EXPECT_TRUE(parse_js(R"("\ud83d\ude00")"));
}

}  // namespace
