#include "redis/resp_reader.hpp"

#include "support/split.hpp"

#include <ignis/redis/error.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ignis::redis::detail {
namespace {

using kind = reply::kind;

std::vector<reply> read_all(resp_reader& r, const std::vector<std::string_view>& pieces) {
  std::vector<reply> out;
  for (auto piece : pieces) {
    EXPECT_FALSE(r.feed(piece));
    for (;;) {
      auto next = r.next();
      EXPECT_TRUE(next) << r.error_text();
      if (!next || !*next) break;
      out.push_back(std::move(**next));
    }
  }
  return out;
}

// Every RESP2 type, empty and nil forms, binary bulk strings and nesting.
const std::string stream = std::string(
                               "+OK\r\n"
                               "-ERR unknown command\r\n"
                               ":-42\r\n"
                               "$5\r\nhello\r\n"
                               "$0\r\n\r\n"
                               "$-1\r\n"
                               "*-1\r\n"
                               "*0\r\n"
                               "$6\r\n") +
                           std::string(
                               "\r\n\0\xff"
                               "a\n",
                               6) +
                           "\r\n"
                           "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n*2\r\n:1\r\n$-1\r\n";

void expect_stream_replies(const std::vector<reply>& got) {
  ASSERT_EQ(got.size(), 10u);
  EXPECT_EQ(got[0].type, kind::status);
  EXPECT_EQ(got[0].str, "OK");
  EXPECT_EQ(got[1].type, kind::error);
  EXPECT_EQ(got[1].str, "ERR unknown command");
  EXPECT_EQ(got[2].type, kind::integer);
  EXPECT_EQ(got[2].integer, -42);
  EXPECT_EQ(got[3].type, kind::string);
  EXPECT_EQ(got[3].str, "hello");
  EXPECT_EQ(got[4].type, kind::string);
  EXPECT_EQ(got[4].str, "");
  EXPECT_EQ(got[5].type, kind::nil);
  EXPECT_EQ(got[6].type, kind::nil);
  EXPECT_EQ(got[7].type, kind::array);
  EXPECT_TRUE(got[7].elements.empty());
  EXPECT_EQ(got[8].str, std::string("\r\n\0\xff"
                                    "a\n",
                                    6));
  const reply& msg = got[9];
  ASSERT_EQ(msg.type, kind::array);
  ASSERT_EQ(msg.elements.size(), 3u);
  EXPECT_EQ(msg.elements[0].str, "message");
  EXPECT_EQ(msg.elements[1].str, "ch");
  ASSERT_EQ(msg.elements[2].elements.size(), 2u);
  EXPECT_EQ(msg.elements[2].elements[0].integer, 1);
  EXPECT_EQ(msg.elements[2].elements[1].type, kind::nil);
}

TEST(RespReader, SameRepliesWhereverTheBytesAreSplit) {
  test::for_each_split(stream, [](const std::vector<std::string_view>& pieces) {
    resp_reader r;
    expect_stream_replies(read_all(r, pieces));
  });
}

TEST(RespReader, NeedsMoreBytesIsNotAnError) {
  resp_reader r;
  ASSERT_FALSE(r.feed("$10\r\nhel"));
  auto next = r.next();
  ASSERT_TRUE(next);
  EXPECT_FALSE(*next);
}

TEST(RespReader, GarbageIsAStickyProtocolError) {
  resp_reader r;
  ASSERT_FALSE(r.feed("+OK\r\n!garbage\r\n"));
  auto first = r.next();
  ASSERT_TRUE(first && *first);
  EXPECT_EQ((*first)->str, "OK");
  auto bad = r.next();
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), make_error_code(error::protocol_error));
  EXPECT_FALSE(r.error_text().empty());
  EXPECT_EQ(r.feed("+OK\r\n"), make_error_code(error::protocol_error));
  EXPECT_FALSE(r.next());
  r.reset();
  ASSERT_FALSE(r.feed("+OK\r\n"));
  auto again = r.next();
  ASSERT_TRUE(again && *again);
}

TEST(RespReader, ForgedHugeArrayAllocatesNothingUpFront) {
  resp_reader r;
  ASSERT_FALSE(r.feed("*2000000000\r\n:1\r\n:2\r\n"));
  auto next = r.next();
  ASSERT_TRUE(next);
  EXPECT_FALSE(*next);  // waits for elements that will never come, holding only two of them
}

TEST(RespReader, BufferedBytesAreBounded) {
  resp_reader r(64);
  ASSERT_FALSE(r.feed("$1000\r\n"));
  ASSERT_FALSE(r.feed(std::string(50, 'x')));
  EXPECT_EQ(r.feed(std::string(50, 'x')), make_error_code(error::protocol_error));
}

TEST(RespReader, TooDeepNestingIsAnErrorNotACrash) {
  std::string nested;
  for (int i = 0; i < 40; ++i)
    nested += "*1\r\n";
  nested += ":1\r\n";
  resp_reader r;
  ASSERT_FALSE(r.feed(nested));
  auto next = r.next();
  ASSERT_FALSE(next);
  EXPECT_EQ(next.error(), make_error_code(error::protocol_error));
}

}  // namespace
}  // namespace ignis::redis::detail
