#include "index/search_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace augurdb::index {
namespace {

TEST(SearchPool, KeepsTheBestSortedAndExpandsInOrder) {
  SearchPool pool;
  pool.Reset(5);
  std::mt19937 rng(7);
  std::vector<float> all;
  for (uint32_t i = 0; i < 100; ++i) {
    const float d = std::uniform_real_distribution<float>(0, 100)(rng);
    all.push_back(d);
    pool.Insert(i, d);
  }
  std::sort(all.begin(), all.end());
  ASSERT_EQ(pool.size(), 5u);
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(pool.at(i).distance, all[i]);
  float last = -1;
  size_t popped = 0;
  while (pool.HasNext()) {
    const uint32_t slot = pool.Pop();
    EXPECT_LT(slot, 100u);
    ++popped;
  }
  EXPECT_EQ(popped, 5u);
  (void)last;
}

// Every capacity from 1 to 9 (odd and even halvings of the branch-free search), few distinct
// distances (many ties): the pool holds the first `capacity` of a stable sort of what was
// inserted, ties in arrival order.
TEST(SearchPool, KeepsTiesInArrivalOrderAtEveryCapacity) {
  std::mt19937 rng(11);
  // Every small size, and larger ones on both sides of powers of two (each way a halving ends).
  for (const size_t capacity : {1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 18, 63, 64, 65, 66, 200}) {
    SearchPool pool;
    pool.Reset(capacity);
    std::vector<Neighbor> all;
    const int levels = capacity < 10 ? 6 : 60;  // many ties at every size
    for (uint32_t i = 0; i < 1000; ++i) {
      const auto d = static_cast<float>(std::uniform_int_distribution<int>(0, levels)(rng));
      all.push_back(Neighbor{d, i});
      pool.Insert(i, d);
    }
    std::stable_sort(all.begin(), all.end(),
                     [](const Neighbor& a, const Neighbor& b) { return a.distance < b.distance; });
    ASSERT_EQ(pool.size(), capacity);
    for (size_t i = 0; i < capacity; ++i) {
      EXPECT_EQ(pool.at(i).distance, all[i].distance) << "capacity " << capacity << " at " << i;
      EXPECT_EQ(pool.at(i).slot, all[i].slot) << "capacity " << capacity << " at " << i;
    }
  }
}

TEST(SearchPool, InsertBeforeCursorIsExpandedNext) {
  SearchPool pool;
  pool.Reset(4);
  pool.Insert(1, 10.f);
  pool.Insert(2, 20.f);
  EXPECT_EQ(pool.Pop(), 1u);
  pool.Insert(3, 5.f);  // better than everything: must be expanded before 2
  EXPECT_EQ(pool.Pop(), 3u);
  EXPECT_EQ(pool.Pop(), 2u);
  EXPECT_FALSE(pool.HasNext());
  EXPECT_FALSE(pool.full());
  EXPECT_TRUE(pool.Admits(1000.f));
}

// A beam narrower than the capacity expands only the best `beam` entries but keeps them all.
TEST(SearchPool, BeamNarrowerThanCapacityKeepsMoreThanItExpands) {
  SearchPool pool;
  pool.Reset(5, 2);
  for (uint32_t i = 0; i < 5; ++i) pool.Insert(i, static_cast<float>(10 * i));
  EXPECT_EQ(pool.size(), 5u);
  EXPECT_EQ(pool.Pop(), 0u);
  EXPECT_EQ(pool.Pop(), 1u);
  EXPECT_FALSE(pool.HasNext());  // entries 2..4 are kept, not expanded
  pool.Insert(9, 5.0f);          // lands inside the beam: expandable again
  ASSERT_TRUE(pool.HasNext());
  EXPECT_EQ(pool.Pop(), 9u);
  EXPECT_FALSE(pool.HasNext());
  EXPECT_EQ(pool.size(), 5u);
  EXPECT_EQ(pool.at(4).slot, 3u);  // the worst (4 at 40) fell out
}

TEST(VisitedTable, EpochsClearAndWrap) {
  VisitedTable v;
  for (int round = 0; round < 70000; ++round) {  // crosses the 16-bit wrap
    v.Prepare(10);
    ASSERT_FALSE(v.Visited(3)) << round;
    EXPECT_FALSE(v.TestAndMark(3));
    EXPECT_TRUE(v.TestAndMark(3));
  }
}

}  // namespace
}  // namespace augurdb::index
