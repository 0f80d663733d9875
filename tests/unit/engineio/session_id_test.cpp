#include <ignis/engineio/server.hpp>

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace {

using namespace ignis::engineio;

// Ids are drawn from a pool the kernel refills every 32 ids: many more than that must all differ,
// keep Node's 20-character base64url form, and name the shard they were made for.
TEST(SessionId, UniqueUrlSafeAndOnTheirShardAcrossPoolRefills) {
  std::set<std::string> seen;
  constexpr unsigned shards = 3;
  for (int i = 0; i < 1000; ++i) {
    const unsigned shard = static_cast<unsigned>(i) % shards;
    const auto id = generate_id(shard, shards).str();
    ASSERT_EQ(id.size(), 20u) << id;
    EXPECT_EQ(
        id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
        std::string::npos)
        << id;
    EXPECT_EQ(shard_of_id(id, shards), shard) << id;
    EXPECT_TRUE(seen.insert(id).second) << "repeated: " << id;
  }
}

}  // namespace
