#include "db/slot_table.h"

#include <gtest/gtest.h>

#include <random>
#include <unordered_map>
#include <vector>

namespace augurdb::db {
namespace {

// Random inserts, replacements and erases against std::unordered_map, with ids drawn from a
// small range so that clusters, wrap-around and backward shifts are common.
TEST(SlotTableTest, MatchesAHashMapUnderRandomOperations) {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    std::mt19937_64 rng(seed);
    SlotTable table;
    std::unordered_map<int64_t, uint32_t> oracle;
    std::vector<int64_t> ids;  // ids[slot], as IdMap keeps them
    for (int op = 0; op < 20000; ++op) {
      const int64_t id = static_cast<int64_t>(rng() % 700) - 350;
      const int kind = static_cast<int>(rng() % 3);
      if (kind < 2) {
        const auto slot = static_cast<uint32_t>(ids.size());
        ids.push_back(id);
        const std::optional<uint32_t> old = table.Insert(slot, ids.data());
        auto it = oracle.find(id);
        if (it == oracle.end()) {
          EXPECT_FALSE(old.has_value());
          oracle.emplace(id, slot);
        } else {
          ASSERT_TRUE(old.has_value());
          EXPECT_EQ(*old, it->second);
          it->second = slot;
        }
      } else {
        const std::optional<uint32_t> erased = table.Erase(id, ids.data());
        auto it = oracle.find(id);
        ASSERT_EQ(erased.has_value(), it != oracle.end()) << "seed " << seed << " op " << op;
        if (erased) {
          EXPECT_EQ(*erased, it->second);
          oracle.erase(it);
        }
      }
      ASSERT_EQ(table.size(), oracle.size());
      if (op % 997 == 0) {
        for (int64_t probe = -360; probe < 360; ++probe) {
          auto it = oracle.find(probe);
          const std::optional<uint32_t> found = table.Find(probe, ids.data());
          ASSERT_EQ(found.has_value(), it != oracle.end()) << "seed " << seed << " id " << probe;
          if (found) EXPECT_EQ(*found, it->second);
        }
      }
    }
  }
}

TEST(SlotTableTest, ReserveSizesOnceAndKeepsEntries) {
  std::vector<int64_t> ids = {10, 20, 30};
  SlotTable table;
  EXPECT_FALSE(table.Find(10, ids.data()).has_value());  // empty: no buckets yet
  EXPECT_FALSE(table.Erase(10, ids.data()).has_value());
  for (uint32_t s = 0; s < 3; ++s) table.Insert(s, ids.data());
  table.Reserve(1000, ids.data());
  const size_t buckets = table.bucket_count();
  EXPECT_GE(buckets * 3, 1000u * 4);
  EXPECT_EQ(table.Find(20, ids.data()), 1u);
  for (uint32_t s = 3; s < 1000; ++s) {
    ids.push_back(1000 + s);
    table.Insert(s, ids.data());
  }
  EXPECT_EQ(table.bucket_count(), buckets);  // no rehash below the reservation
  EXPECT_EQ(table.size(), 1000u);
  EXPECT_EQ(table.MemoryBytes(), buckets * sizeof(uint32_t));
  table.Clear();
  EXPECT_EQ(table.size(), 0u);
  EXPECT_FALSE(table.Find(20, ids.data()).has_value());
}

}  // namespace
}  // namespace augurdb::db
