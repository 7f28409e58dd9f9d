#include "text/posting_list.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <random>
#include <vector>

#include "test_data.h"

namespace augurdb::text {
namespace {

// The fixed default seed, or AUGUR_TEST_SEED to replay another.
uint64_t Seed() {
  const uint64_t seed = testing::TestSeed();
  std::printf("AUGUR_TEST_SEED=%llu\n", static_cast<unsigned long long>(seed));
  return seed;
}

// Inserts and erases in random slot order (so blocks get split, shrunk and emptied) against a
// std::map, walking the list with Next and SeekGE after each round.
TEST(PostingListTest, RandomInsertEraseMatchesModel) {
  std::mt19937_64 rng(Seed());
  constexpr Slot kSlots = 3000;
  std::vector<uint32_t> doc_len(kSlots);
  for (auto& dl : doc_len) dl = 1 + static_cast<uint32_t>(rng() % 50);
  PostingList list;
  std::map<Slot, uint32_t> model;
  for (int round = 0; round < 30; ++round) {
    for (int op = 0; op < 400; ++op) {
      const Slot slot = static_cast<Slot>(rng() % kSlots);
      if (model.count(slot) != 0 && rng() % 3 == 0) {
        ASSERT_TRUE(list.Erase(slot, doc_len));
        model.erase(slot);
      } else if (model.count(slot) == 0) {
        const uint32_t tf = 1 + static_cast<uint32_t>(rng() % 9);
        list.Insert(slot, tf, doc_len);
        model[slot] = tf;
      } else {
        ASSERT_FALSE(list.Erase(slot + kSlots, doc_len));
      }
    }
    ASSERT_EQ(list.CheckInvariants(doc_len), "");
    ASSERT_EQ(list.size(), model.size());
    PostingCursor cursor(&list);
    for (const auto& [slot, tf] : model) {
      ASSERT_EQ(cursor.slot(), slot);
      ASSERT_EQ(cursor.tf(), tf);
      const auto b = cursor.BoundAt(slot);
      bool covered = false;
      for (uint32_t j = 0; j < b.stats.count; ++j) {
        covered |= b.stats.impacts[j].tf >= tf && b.stats.impacts[j].dl <= doc_len[slot];
      }
      ASSERT_TRUE(covered) << "slot " << slot;
      ASSERT_GE(b.last_slot, slot);
      cursor.Next();
    }
    ASSERT_EQ(cursor.slot(), kNoSlot);
    PostingCursor seeker(&list);
    for (Slot target = 0; target < kSlots + 5; target += 1 + static_cast<Slot>(rng() % 200)) {
      seeker.SeekGE(target);
      const auto it = model.lower_bound(target);
      ASSERT_EQ(seeker.slot(), it == model.end() ? kNoSlot : it->first) << "target " << target;
    }
  }
  list.Compact([](Slot s) { return s % 2 == 0; }, doc_len);
  std::erase_if(model, [](const auto& e) { return e.first % 2 != 0; });
  ASSERT_EQ(list.CheckInvariants(doc_len), "");
  std::vector<Slot> slots;
  std::vector<uint32_t> tfs;
  list.DecodeAll(&slots, &tfs);
  ASSERT_EQ(slots.size(), model.size());
  EXPECT_EQ(list.blocks().size(), model.size() / kBlockSize);
}

TEST(PostingListTest, AppendsSealFullBlocks) {
  std::vector<uint32_t> doc_len(1000, 7);
  PostingList list;
  for (Slot s = 0; s < 300; ++s) list.Insert(s * 3, 1 + s % 4, doc_len);
  ASSERT_EQ(list.blocks().size(), 2u);
  EXPECT_EQ(list.tail_slots().size(), 300u - 2 * kBlockSize);
  // All lengths equal: tf 4 dominates every other posting, one impact remains.
  ASSERT_EQ(list.blocks()[0].bound.count, 1u);
  EXPECT_EQ(list.blocks()[0].bound.impacts[0].tf, 4u);
  EXPECT_EQ(list.blocks()[0].bound.impacts[0].dl, 7u);
  EXPECT_EQ(list.CheckInvariants(doc_len), "");
  PostingCursor empty_cursor(&list);
  EXPECT_EQ(empty_cursor.BoundAt(5000).stats.count, 0u);
}

TEST(PostingListTest, BlockImpactsKeepTheNonDominatedPairs) {
  // Long documents with high tf, short ones with tf 1: (max tf, min dl) alone would pair the
  // highest tf with the shortest length, which no document has.
  std::vector<uint32_t> doc_len(kBlockSize);
  PostingList list;
  for (Slot s = 0; s < kBlockSize; ++s) {
    doc_len[s] = s % 2 == 0 ? 200 : 3;
    list.Insert(s, s % 2 == 0 ? 9 : 1, doc_len);
  }
  ASSERT_EQ(list.blocks().size(), 1u);
  const BoundStats& b = list.blocks()[0].bound;
  ASSERT_EQ(b.count, 2u);
  EXPECT_EQ(b.impacts[0].tf, 9u);
  EXPECT_EQ(b.impacts[0].dl, 200u);
  EXPECT_EQ(b.impacts[1].tf, 1u);
  EXPECT_EQ(b.impacts[1].dl, 3u);
}

}  // namespace
}  // namespace augurdb::text
