#include <ignis/common/header_list.hpp>

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace {

using pairs = std::vector<std::pair<std::string, std::string>>;

pairs all_of(const ignis::header_list& h) {
  pairs out;
  for (const auto [name, value] : h)
    out.emplace_back(name, value);
  return out;
}

TEST(HeaderList, KeepsOrderDuplicatesAndEmptyValues) {
  ignis::header_list h;
  h.reserve(60, 4);
  h.add("host", "127.0.0.1:3000");
  h.add("cookie", "a=1");
  h.add("x-empty", "");
  h.add("cookie", "b=2");
  EXPECT_EQ(
      all_of(h),
      (pairs{{"host", "127.0.0.1:3000"}, {"cookie", "a=1"}, {"x-empty", ""}, {"cookie", "b=2"}}));
  EXPECT_EQ(h.size(), 4u);
  EXPECT_EQ(h.get("cookie"), "a=1");  // the first of duplicates, as before
  EXPECT_EQ(h.get("x-empty"), "");
  EXPECT_EQ(h.get("Host"), "");  // names are compared exactly; callers store lower case
  EXPECT_EQ(h.get("absent"), "");
}

// A connection keeps its list for hours: reserve() takes what the headers need and no more, for
// the short lists between std::string's inline capacity and twice that too.
TEST(HeaderList, ReservesExactlyWhatTheHeadersTake) {
  ignis::header_list h;
  h.reserve(19, 1);  // "host" + "127.0.0.1:20181" and two separators
  EXPECT_EQ(h.capacity(), 21u);
  h.add("host", "127.0.0.1:20181");
  EXPECT_EQ(h.capacity(), 21u);
  EXPECT_EQ(all_of(h), (pairs{{"host", "127.0.0.1:20181"}}));
  h.reserve(40, 2);  // grows, keeping what is there
  EXPECT_EQ(h.capacity(), 44u);
  h.add("cookie", "a=1");
  EXPECT_EQ(all_of(h), (pairs{{"host", "127.0.0.1:20181"}, {"cookie", "a=1"}}));
}

TEST(HeaderList, EmptyAndMoved) {
  ignis::header_list h;
  EXPECT_TRUE(h.empty());
  EXPECT_EQ(h.size(), 0u);
  EXPECT_EQ(h.begin(), h.end());
  h.add("a", "1");
  ignis::header_list moved = std::move(h);
  EXPECT_EQ(all_of(moved), (pairs{{"a", "1"}}));
}

TEST(HeaderList, NulCannotShiftTheEntries) {
  ignis::header_list h;
  h.add(std::string_view("x-a\0b", 5), std::string_view("v\0w", 3));
  h.add("next", "ok");
  EXPECT_EQ(all_of(h), (pairs{{"x-a", "v"}, {"next", "ok"}}));
}

TEST(HeaderList, AddLowercaseLowersOnlyTheName) {
  ignis::header_list h;
  h.add_lowercase("Sec-WebSocket-Version", "13");
  h.add_lowercase("X-Mixed_Case-9", "Value-Kept");
  h.add_lowercase(std::string_view("X-A\0B", 5), "v");
  EXPECT_EQ(
      all_of(h),
      (pairs{{"sec-websocket-version", "13"}, {"x-mixed_case-9", "Value-Kept"}, {"x-a", "v"}}));
}

}  // namespace
