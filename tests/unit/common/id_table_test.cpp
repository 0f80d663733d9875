#include "common/id_table.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace {

struct item {
  explicit item(std::string i) : key(std::move(i)) {}
  std::string_view id() const noexcept { return key; }
  std::string key;
};

using table = ignis::detail::id_table<item>;

std::vector<std::string> ids_of(const table& t) {
  std::vector<std::string> out;
  t.for_each([&out](const std::shared_ptr<item>& p) { out.push_back(p->key); });
  std::sort(out.begin(), out.end());
  return out;
}

TEST(IdTable, FindsInsertsAndErasesByTheObjectsOwnId) {
  table t;
  EXPECT_EQ(t.find("a"), nullptr);
  auto a = std::make_shared<item>("a");
  auto b = std::make_shared<item>("b");
  EXPECT_TRUE(t.insert(a));
  EXPECT_TRUE(t.insert(b));
  EXPECT_EQ(t.size(), 2u);
  ASSERT_NE(t.find("a"), nullptr);
  EXPECT_EQ(t.find("a")->get(), a.get());
  EXPECT_EQ(t.find("b")->get(), b.get());
  EXPECT_EQ(t.find("c"), nullptr);

  // A second object with a taken id is refused, and erasing it leaves the first in place.
  auto other_a = std::make_shared<item>("a");
  EXPECT_FALSE(t.insert(other_a));
  EXPECT_FALSE(t.erase(*other_a));
  EXPECT_EQ(t.find("a")->get(), a.get());

  EXPECT_TRUE(t.erase(*a));
  EXPECT_FALSE(t.erase(*a));
  EXPECT_EQ(t.find("a"), nullptr);
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(ids_of(t), std::vector<std::string>{"b"});
  EXPECT_FALSE(t.insert(nullptr));
}

TEST(IdTable, StaysConsistentWithAMapUnderRandomChurn) {
  // Many ids in few slots' worth of hash space: long probe clusters that wrap around the array,
  // entries shifted back on every erase, the array growing and shrinking.
  table t;
  std::map<std::string, std::shared_ptr<item>> model;
  std::mt19937 rng(12345);
  std::uniform_int_distribution<int> pick(0, 2999);
  for (int step = 0; step < 200000; ++step) {
    const auto id = "s" + std::to_string(pick(rng));
    const bool grow_phase = (step / 20000) % 2 == 0;
    if (model.count(id) == 0 && (grow_phase || rng() % 4 == 0)) {
      auto p = std::make_shared<item>(id);
      ASSERT_TRUE(t.insert(p));
      model.emplace(id, p);
    } else if (model.count(id) != 0 && (!grow_phase || rng() % 4 == 0)) {
      ASSERT_TRUE(t.erase(*model.at(id)));
      model.erase(id);
    }
    ASSERT_EQ(t.size(), model.size());
    if (step % 997 == 0) {
      for (const auto& [key, p] : model) {
        const auto* found = t.find(key);
        ASSERT_NE(found, nullptr) << key;
        ASSERT_EQ(found->get(), p.get());
      }
      for (int k = 3000; k < 3020; ++k)
        ASSERT_EQ(t.find("s" + std::to_string(k)), nullptr);
    }
  }
  std::vector<std::string> expected;
  for (const auto& [key, p] : model)
    expected.push_back(key);
  EXPECT_EQ(ids_of(t), expected);
  EXPECT_EQ(t.snapshot().size(), model.size());
}

TEST(IdTable, LetsGoOfItsEntriesWhenErasedOrCleared) {
  table t;
  auto a = std::make_shared<item>("a");
  std::weak_ptr<item> watch = a;
  t.insert(std::move(a));
  EXPECT_FALSE(watch.expired());
  t.clear();
  EXPECT_TRUE(watch.expired());
  EXPECT_TRUE(t.empty());
  EXPECT_EQ(t.find("a"), nullptr);

  auto b = std::make_shared<item>("b");
  std::weak_ptr<item> watch_b = b;
  t.insert(b);
  t.erase(*b);
  b.reset();
  EXPECT_TRUE(watch_b.expired());
}

struct shared_item : std::enable_shared_from_this<shared_item> {
  explicit shared_item(std::string i) : key(std::move(i)) {}
  std::string_view id() const noexcept { return key; }
  std::string key;
};

using plain_table = ignis::detail::id_table<shared_item, false>;

TEST(IdTable, WithoutOwningHoldsPlainPointersThroughChurn) {
  static_assert(sizeof(plain_table::pointer) == sizeof(void*));
  // The owners live in a map; the table only finds them, across growth, shrinking and the
  // backward shifts of erasure (which must leave no stale copy of a moved pointer behind).
  plain_table t;
  std::map<std::string, std::shared_ptr<shared_item>> owners;
  std::mt19937 rng(777);
  std::uniform_int_distribution<int> pick(0, 1999);
  for (int step = 0; step < 100000; ++step) {
    const auto id = "p" + std::to_string(pick(rng));
    const bool grow_phase = (step / 10000) % 2 == 0;
    if (owners.count(id) == 0 && (grow_phase || rng() % 4 == 0)) {
      auto p = std::make_shared<shared_item>(id);
      ASSERT_TRUE(t.insert(p.get()));
      owners.emplace(id, std::move(p));
    } else if (owners.count(id) != 0 && (!grow_phase || rng() % 4 == 0)) {
      const auto& owner = owners.at(id);
      ASSERT_EQ(t.take(*owner), owner.get());
      owners.erase(id);  // gone only after it left the table
    }
    ASSERT_EQ(t.size(), owners.size());
    if (step % 991 == 0) {
      std::size_t seen = 0;
      t.for_each([&](shared_item* p) {
        ASSERT_EQ(owners.count(p->key), 1u);
        ASSERT_EQ(owners.at(p->key).get(), p);
        ++seen;
      });
      ASSERT_EQ(seen, owners.size());
    }
  }
  // A snapshot shares ownership with the owners.
  const auto snap = t.snapshot();
  ASSERT_EQ(snap.size(), owners.size());
  for (const auto& p : snap)
    EXPECT_EQ(p, owners.at(p->key));
}

}  // namespace
