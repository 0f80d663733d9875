#include "common/block_pool.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <set>
#include <thread>
#include <vector>

namespace {

using ignis::detail::block_pool;

TEST(BlockPool, RoundsToTheAlignmentOnly) {
  // A slab's header takes a few words (under 64 bytes); the rest is blocks.
  const auto per_slab = block_pool(376, 8).blocks_per_slab();
  EXPECT_LE(per_slab * 376, block_pool::slab_size - 16);
  EXPECT_GT((per_slab + 1) * 376, block_pool::slab_size - 64);
  EXPECT_EQ(block_pool(376, 8).block_size(), 376u);
  EXPECT_EQ(block_pool(370, 8).block_size(), 376u);
  EXPECT_EQ(block_pool(370, 16).block_size(), 384u);
  EXPECT_EQ(block_pool(1, 8).block_size(), sizeof(void*));
}

TEST(BlockPool, HandsOutDistinctAlignedWritableBlocks) {
  for (std::size_t alignment : {8u, 16u}) {
    block_pool pool(200, alignment);
    std::vector<void*> blocks;
    for (int i = 0; i < 1000; ++i) {
      void* p = pool.allocate();
      ASSERT_EQ(reinterpret_cast<std::uintptr_t>(p) % alignment, 0u);
      std::memset(p, i & 0xff, 200);
      blocks.push_back(p);
    }
    // No two overlap: sorted, each starts at least a block after the one before.
    auto sorted = blocks;
    std::sort(sorted.begin(), sorted.end());
    for (std::size_t i = 1; i < sorted.size(); ++i) {
      EXPECT_GE(static_cast<std::byte*>(sorted[i]) - static_cast<std::byte*>(sorted[i - 1]),
                static_cast<std::ptrdiff_t>(pool.block_size()));
    }
    // What was written stays (no block was handed out twice).
    for (int i = 0; i < 1000; ++i)
      EXPECT_EQ(*static_cast<unsigned char*>(blocks[i]), static_cast<unsigned char>(i & 0xff));
    for (void* p : blocks)
      pool.deallocate(p);
  }
}

TEST(BlockPool, FillsASlabBeforeMappingAnother) {
  block_pool pool(376, 8);
  const auto n = pool.blocks_per_slab();
  std::vector<void*> blocks;
  for (std::size_t i = 0; i < n; ++i)
    blocks.push_back(pool.allocate());
  EXPECT_EQ(pool.slabs(), 1u);
  blocks.push_back(pool.allocate());
  EXPECT_EQ(pool.slabs(), 2u);
  for (void* p : blocks)
    pool.deallocate(p);
}

TEST(BlockPool, ReusesFreedBlocks) {
  block_pool pool(64, 8);
  void* a = pool.allocate();
  void* b = pool.allocate();
  pool.deallocate(a);
  EXPECT_EQ(pool.allocate(), a);
  pool.deallocate(a);
  pool.deallocate(b);
}

TEST(BlockPool, GivesBackEmptySlabsButOne) {
  block_pool pool(1000, 8);
  const auto n = pool.blocks_per_slab();
  std::vector<void*> blocks;
  for (std::size_t i = 0; i < 5 * n; ++i)
    blocks.push_back(pool.allocate());
  EXPECT_EQ(pool.slabs(), 5u);
  // Freed in an order that empties slabs one after another and leaves holes in others.
  for (std::size_t i = 0; i < blocks.size(); i += 2)
    pool.deallocate(blocks[i]);
  EXPECT_EQ(pool.slabs(), 5u);
  for (std::size_t i = 1; i < blocks.size(); i += 2)
    pool.deallocate(blocks[i]);
  EXPECT_EQ(pool.slabs(), 1u);  // the spare
  // The spare serves the next blocks; a second slab only once it is full.
  blocks.clear();
  for (std::size_t i = 0; i < n; ++i)
    blocks.push_back(pool.allocate());
  EXPECT_EQ(pool.slabs(), 1u);
  for (void* p : blocks)
    pool.deallocate(p);
  EXPECT_EQ(pool.slabs(), 1u);
}

TEST(BlockPool, AllocatesAndFreesFromSeveralThreads) {
  block_pool pool(168, 8);
  // Blocks allocated on one thread and freed on another, as a connection's last reference may
  // go on an application's thread.
  std::vector<void*> handed(20000);
  std::thread producer([&] {
    for (auto& p : handed) {
      p = pool.allocate();
      std::memset(p, 1, 168);
    }
  });
  std::vector<void*> own;
  for (int i = 0; i < 20000; ++i)
    own.push_back(pool.allocate());
  producer.join();
  std::thread freer([&] {
    for (void* p : handed)
      pool.deallocate(p);
  });
  for (void* p : own)
    pool.deallocate(p);
  freer.join();
  std::set<void*> distinct(handed.begin(), handed.end());
  distinct.insert(own.begin(), own.end());
  EXPECT_EQ(distinct.size(), 40000u);
  EXPECT_EQ(pool.slabs(), 1u);
}

struct tracked : std::enable_shared_from_this<tracked> {
  explicit tracked(int& alive) : alive_(alive) { ++alive_; }
  ~tracked() { --alive_; }
  int& alive_;
  char payload[100]{};
};

TEST(BlockPool, MakePooledBuildsAnOrdinarySharedObject) {
  int alive = 0;
  {
    auto p = ignis::detail::make_pooled<tracked>(alive);
    EXPECT_EQ(alive, 1);
    std::weak_ptr<tracked> weak = p;
    EXPECT_EQ(p->shared_from_this(), p);
    p.reset();
    EXPECT_EQ(alive, 0);
    EXPECT_TRUE(weak.expired());
  }
  EXPECT_EQ(alive, 0);
}

}  // namespace
