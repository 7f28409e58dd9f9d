#include "index/hnsw_graph.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace augurdb::index {
namespace {

TEST(HnswGraph, TakeSlotsHandsOutFreshThenReclaimedLowestFirst) {
  HnswGraph graph(/*m=*/4, /*seed=*/1);
  graph.GrowTo(16);
  std::vector<Slot> slots;
  graph.TakeSlots(4, &slots);
  EXPECT_EQ(slots, (std::vector<Slot>{0, 1, 2, 3}));
  EXPECT_EQ(graph.slot_end(), 4u);
  for (Slot s : slots) graph.InitNode(s, 0);
  EXPECT_EQ(graph.Publish(slots), 4u);
  EXPECT_EQ(graph.live_count(), 4u);
  const std::vector<Slot> gone{1, 2};
  EXPECT_EQ(graph.Tombstone(gone), 2u);
  EXPECT_EQ(graph.Tombstone(gone), 0u);  // already deleted
  EXPECT_EQ(graph.deleted_count(), 2u);
  EXPECT_EQ(graph.ReclaimDeleted(), 2u);
  EXPECT_EQ(graph.state(1), SlotState::kFree);
  graph.TakeSlots(3, &slots);
  EXPECT_EQ(slots, (std::vector<Slot>{1, 2, 4}));
}

TEST(HnswGraph, EntryPointFollowsTheHighestLevel) {
  HnswGraph graph(4, 1);
  graph.GrowTo(8);
  std::vector<Slot> slots;
  graph.TakeSlots(3, &slots);
  graph.InitNode(0, 0);
  graph.InitNode(1, 2);
  graph.InitNode(2, 1);
  EXPECT_EQ(graph.entry(), 0u);
  EXPECT_TRUE(graph.ClaimEmptyEntry(0, 0));
  EXPECT_FALSE(graph.ClaimEmptyEntry(1, 2));
  graph.RaiseEntry(1, 2);
  graph.RaiseEntry(2, 1);  // lower: ignored
  EXPECT_EQ(EntrySlot(graph.entry()), 1u);
  EXPECT_EQ(EntryLevel(graph.entry()), 2);
  graph.Publish(slots);
  // Deleting the entry point moves it to the highest remaining node.
  graph.Tombstone(std::vector<Slot>{1});
  EXPECT_EQ(EntrySlot(graph.entry()), 2u);
  EXPECT_EQ(EntryLevel(graph.entry()), 1);
}

TEST(HnswGraph, LevelDrawsArePureFunctionsOfSeedAndDraw) {
  HnswGraph a(16, 7), b(16, 7);
  EXPECT_EQ(a.TakeDraws(10), 0u);
  EXPECT_EQ(a.TakeDraws(1), 10u);
  int above_zero = 0;
  for (uint64_t d = 0; d < 1000; ++d) {
    EXPECT_EQ(a.DrawLevel(d), b.DrawLevel(d));
    EXPECT_LE(a.DrawLevel(d), kMaxLevel);
    above_zero += a.DrawLevel(d) > 0;
  }
  EXPECT_GT(above_zero, 0);
  EXPECT_LT(above_zero, 200);  // P(level > 0) = 1/m
}

TEST(HnswGraph, CheckInvariantsRejectsABadLink) {
  HnswGraph graph(4, 1);
  graph.GrowTo(4);
  std::vector<Slot> slots;
  graph.TakeSlots(2, &slots);
  graph.InitNode(0, 0);
  graph.InitNode(1, 0);
  ASSERT_TRUE(graph.ClaimEmptyEntry(0, 0));
  graph.Publish(slots);
  uint32_t* list = graph.links(0, 0);
  EXPECT_EQ(ListSize(list, graph.max_degree(0)), 0u);  // InitNode leaves it empty
  list[0] = 1;
  size_t links = 0;
  ASSERT_TRUE(graph.CheckInvariants(&links).ok());
  EXPECT_EQ(links, 1u);
  EXPECT_TRUE(graph.CheckLinkBounds().ok());
  list[0] = 0;  // a self link
  EXPECT_EQ(graph.CheckInvariants(nullptr).code(), StatusCode::kCorruption);
  EXPECT_EQ(graph.CheckLinkBounds().code(), StatusCode::kCorruption);
  // An id after the list's end: no walk reads it, but the next append would expose it.
  list[0] = kNoLink;
  list[2] = 1;
  EXPECT_EQ(graph.CheckInvariants(nullptr).code(), StatusCode::kCorruption);
  EXPECT_EQ(graph.CheckLinkBounds().code(), StatusCode::kCorruption);
}

TEST(HnswGraph, ListsEndAtTheFirstEmptyPlace) {
  HnswGraph graph(4, 1);
  graph.GrowTo(2);
  std::vector<Slot> slots;
  graph.TakeSlots(1, &slots);
  graph.InitNode(0, 1);
  uint32_t* list = graph.links(0, 0);
  ASSERT_EQ(graph.max_degree(0), 8u);
  const std::vector<uint32_t> five = {5, 4, 3, 2, 1};
  WriteList(list, 8, five.size(), [&](size_t j) { return five[j]; });
  EXPECT_EQ(ListSize(list, 8), 5u);
  WriteList(list, 8, 2, [&](size_t j) { return five[j]; });  // shrinking empties the tail
  std::vector<uint32_t> read;
  EXPECT_EQ(ReadList(list, 8, &read), 2u);
  EXPECT_EQ(read, (std::vector<uint32_t>{5, 4}));
  for (size_t j = 2; j < 8; ++j) EXPECT_EQ(list[j], kNoLink);
  EXPECT_EQ(ListSize(graph.links(0, 1), graph.max_degree(1)), 0u);
}

TEST(HnswGraph, ExportImportRoundTrip) {
  HnswGraph graph(4, 1);
  graph.GrowTo(4);
  std::vector<Slot> slots;
  graph.TakeSlots(3, &slots);
  graph.InitNode(0, 1);
  graph.InitNode(1, 0);
  graph.InitNode(2, 1);
  ASSERT_TRUE(graph.ClaimEmptyEntry(0, 1));
  graph.links(0, 0)[0] = 1;
  graph.links(0, 0)[1] = 2;
  graph.links(0, 1)[0] = 2;
  graph.Publish(slots);
  graph.TakeDraws(3);
  std::string upper;
  const GraphImage image = graph.Export(&upper);
  EXPECT_EQ(image.slot_end, 3u);
  EXPECT_EQ(image.insert_counter, 3u);
  EXPECT_EQ(image.upper.size(), 2 * 4 * sizeof(uint32_t));  // slots 0 and 2, level 1
  EXPECT_EQ(image.links0.size(), 3 * 8 * sizeof(uint32_t));  // 2m places per slot

  // Import adopts the level-0 array in place: give it a copy that outlives the graph.
  auto links0 = std::make_shared<std::vector<char>>(image.links0.begin(), image.links0.end());
  GraphImage copy = image;
  copy.links0 = std::span<char>(links0->data(), links0->size());
  HnswGraph loaded(4, 1);
  ASSERT_TRUE(loaded.Import(copy, links0).ok());
  EXPECT_EQ(loaded.slot_end(), 3u);
  EXPECT_EQ(loaded.live_count(), 3u);
  EXPECT_EQ(loaded.entry(), graph.entry());
  EXPECT_EQ(loaded.insert_counter(), 3u);
  EXPECT_EQ(loaded.links(0, 1)[0], 2u);
  EXPECT_EQ(ListSize(loaded.links(0, 1), 4), 1u);
  EXPECT_EQ(ListSize(loaded.links(0, 0), 8), 2u);
  EXPECT_TRUE(loaded.CheckInvariants(nullptr).ok());

  GraphImage truncated = copy;
  truncated.upper = truncated.upper.first(4);
  HnswGraph bad(4, 1);
  EXPECT_EQ(bad.Import(truncated, links0).code(), StatusCode::kCorruption);
}

// Checkpoint format 3 and older stored [count, ids...] lists, level-0 rows padded to 16 uint32:
// they are converted on import.
TEST(HnswGraph, ImportsLegacyCountPrefixedLists) {
  constexpr size_t kM = 4;
  const size_t stride0 = LegacyLinks0Stride(kM);
  ASSERT_EQ(stride0, 16u);
  auto links0 = std::make_shared<std::vector<uint32_t>>(3 * stride0, 0xdeadbeefu);
  (*links0)[0] = 2;  // slot 0: 1, 2
  (*links0)[1] = 1;
  (*links0)[2] = 2;
  (*links0)[stride0] = 1;  // slot 1: 0
  (*links0)[stride0 + 1] = 0;
  (*links0)[2 * stride0] = 0;  // slot 2: empty
  std::vector<uint32_t> upper = {1, 2, 0xdeadbeefu, 0xdeadbeefu, 0xdeadbeefu,   // slot 0: 2
                                 1, 0, 0xdeadbeefu, 0xdeadbeefu, 0xdeadbeefu};  // slot 2: 0
  std::string levels = {1, 0, 1};
  std::string states(3, static_cast<char>(SlotState::kLive));
  GraphImage image;
  image.slot_end = 3;
  image.entry = PackEntry(0, 1);
  image.links0 = std::span<char>(reinterpret_cast<char*>(links0->data()), links0->size() * 4);
  image.levels = std::span<char>(levels.data(), levels.size());
  image.states = std::span<char>(states.data(), states.size());
  image.upper = std::span<char>(reinterpret_cast<char*>(upper.data()), upper.size() * 4);
  image.legacy_lists = true;
  HnswGraph loaded(kM, 1);
  ASSERT_TRUE(loaded.Import(image, links0).ok());
  std::vector<uint32_t> read;
  EXPECT_EQ(ReadList(loaded.links(0, 0), 8, &read), 2u);
  EXPECT_EQ(read, (std::vector<uint32_t>{1, 2}));
  EXPECT_EQ(ReadList(loaded.links(1, 0), 8, &read), 1u);
  EXPECT_EQ(ListSize(loaded.links(2, 0), 8), 0u);
  EXPECT_EQ(ReadList(loaded.links(2, 1), 4, &read), 1u);
  EXPECT_EQ(read, (std::vector<uint32_t>{0}));
  EXPECT_TRUE(loaded.CheckInvariants(nullptr).ok());
  EXPECT_TRUE(loaded.CheckLinkBounds().ok());
  // A legacy count above the degree is damage, not a longer list.
  (*links0)[stride0] = 9;
  HnswGraph bad(kM, 1);
  EXPECT_EQ(bad.Import(image, links0).code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace augurdb::index
