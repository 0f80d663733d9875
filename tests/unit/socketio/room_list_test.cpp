#include <ignis/socketio/room_list.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using ignis::socketio::detail::room_list;

std::vector<std::string> names(const room_list& l) {
  return {l.begin(), l.end()};
}

TEST(RoomList, StartsEmptyWithoutABlock) {
  room_list l;
  EXPECT_TRUE(l.empty());
  EXPECT_EQ(l.size(), 0u);
  EXPECT_EQ(l.begin(), nullptr);
  EXPECT_EQ(l.begin(), l.end());
}

TEST(RoomList, KeepsTheOrderJoinedAcrossGrowth) {
  room_list l;
  std::vector<std::string> expected;
  for (int i = 0; i < 40; ++i) {
    // Long names too: their characters live outside the string and must move with it.
    auto name = (i % 2 ? "room-" : "a-room-name-longer-than-inline-storage-") + std::to_string(i);
    expected.push_back(name);
    const auto& stored = l.push_back(name);
    EXPECT_EQ(stored, name);
    EXPECT_EQ(&stored, l.end() - 1);
  }
  EXPECT_EQ(names(l), expected);
}

TEST(RoomList, EraseKeepsTheOthersInOrderAndTheLastFreesTheBlock) {
  room_list l;
  for (const char* r : {"a", "b-with-a-name-past-fifteen-characters", "c", "d"})
    l.push_back(r);
  l.erase(l.begin() + 1);
  EXPECT_EQ(names(l), (std::vector<std::string>{"a", "c", "d"}));
  l.erase(l.end() - 1);
  EXPECT_EQ(names(l), (std::vector<std::string>{"a", "c"}));
  l.erase(l.begin());
  l.erase(l.begin());
  EXPECT_TRUE(l.empty());
  EXPECT_EQ(l.begin(), nullptr);
  l.push_back("again");
  EXPECT_EQ(names(l), std::vector<std::string>{"again"});
}

TEST(RoomList, ClearEmptiesIt) {
  room_list l;
  l.push_back("x");
  l.push_back("y");
  l.clear();
  EXPECT_TRUE(l.empty());
  EXPECT_EQ(l.begin(), l.end());
}

}  // namespace
