#include "redis/resp_encoder.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ignis::redis::detail {
namespace {

TEST(RespEncoder, MultiBulkOfBulkStrings) {
  std::string out;
  const std::vector<std::string> args = {"SET", "key", "value"};
  encode_command(out, args);
  EXPECT_EQ(out, "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n");
}

TEST(RespEncoder, BinarySafeAndEmptyArguments) {
  std::string out;
  const std::string binary("a\r\n\0b", 5);
  const std::vector<std::string_view> args = {"PUBLISH", "", binary};
  encode_command(out, args);
  static constexpr char expected[] = "*3\r\n$7\r\nPUBLISH\r\n$0\r\n\r\n$5\r\na\r\n\0b\r\n";
  EXPECT_EQ(out, std::string(expected, sizeof expected - 1));
}

TEST(RespEncoder, AppendsAndCountsLongArguments) {
  std::string out = "prefix";
  const std::vector<std::string> args = {std::string(12345, 'x')};
  encode_command(out, args);
  EXPECT_EQ(out.substr(0, 20), "prefix*1\r\n$12345\r\nxx");
  EXPECT_EQ(out.size(), 6 + 4 + 8 + 12345 + 2);
}

TEST(RespEncoder, NoArguments) {
  std::string out;
  encode_command(out, std::vector<std::string>{});
  EXPECT_EQ(out, "*0\r\n");
}

}  // namespace
}  // namespace ignis::redis::detail
