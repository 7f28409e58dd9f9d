// IdMap: ids <-> slots and the invariant "used(s) iff exactly one id maps to s".
#include "db/id_map.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace augurdb::db {
namespace {

TEST(IdMapTest, BindFindAndUnbind) {
  IdMap map;
  const std::vector<int64_t> ids = {7, 9};
  const IdsView view = IdsView::Ints(ids);
  map.Reserve(view, 2);
  EXPECT_EQ(map.kind(), IdKind::kInt);
  map.SetSlotId(0, view, 0);
  map.SetSlotId(1, view, 1);
  EXPECT_FALSE(map.used(0));  // stored but not published
  EXPECT_FALSE(map.Find(view, 0));
  EXPECT_FALSE(map.Bind(view, 0, 0));
  EXPECT_FALSE(map.Bind(view, 1, 1));
  EXPECT_EQ(map.size(), 2u);
  EXPECT_EQ(*map.Find(view, 1), 1u);
  EXPECT_TRUE(map.Contains(Id{int64_t{7}}));
  EXPECT_EQ(std::get<int64_t>(map.IdOf(1)), 9);
  EXPECT_TRUE(map.used_bits().Test(1));

  EXPECT_EQ(*map.Unbind(view, 0), 0u);
  EXPECT_FALSE(map.Unbind(view, 0));
  EXPECT_FALSE(map.used(0));
  EXPECT_FALSE(map.used_bits().Test(0));
  EXPECT_EQ(map.size(), 1u);
  EXPECT_TRUE(map.CheckInvariants().ok());
}

TEST(IdMapTest, RebindingMovesTheIdAndFreesTheOldSlot) {
  IdMap map;
  const std::vector<std::string> ids = {"a"};
  const IdsView view = IdsView::Strings(ids);
  map.Reserve(view, 2);
  map.SetSlotId(0, view, 0);
  ASSERT_FALSE(map.Bind(view, 0, 0));
  map.SetSlotId(1, view, 0);
  EXPECT_EQ(map.Bind(view, 0, 1), std::optional<IdMap::Slot>(0));
  EXPECT_FALSE(map.used(0));
  EXPECT_TRUE(map.used(1));
  EXPECT_EQ(map.size(), 1u);
  EXPECT_EQ(std::get<std::string>(map.IdOf(1)), "a");
  EXPECT_TRUE(map.CheckInvariants().ok());
}

TEST(IdMapTest, KindIsFixedByTheFirstBatch) {
  IdMap map;
  const std::vector<int64_t> ints = {1};
  const std::vector<std::string> strs = {"x"};
  EXPECT_TRUE(map.CheckKind(IdsView::Strings(strs)).ok());
  map.Reserve(IdsView::Ints(ints), 1);
  Status s = map.CheckKind(IdsView::Strings(strs));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("integer ids"), std::string::npos);
}

TEST(IdMapTest, GrowthKeepsUsedSlots) {
  IdMap map;
  std::vector<int64_t> ids(100);
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int64_t>(i) * 3;
  const IdsView view = IdsView::Ints(ids);
  for (size_t i = 0; i < ids.size(); ++i) {
    map.Reserve(view, i + 1);
    map.SetSlotId(static_cast<IdMap::Slot>(i), view, i);
    map.Bind(view, i, static_cast<IdMap::Slot>(i));
  }
  EXPECT_EQ(map.size(), 100u);
  EXPECT_EQ(map.used_bits().Count(), 100u);
  EXPECT_TRUE(map.CheckInvariants().ok());
  EXPECT_GT(map.MemoryBytes(), 100 * sizeof(int64_t));
}

TEST(IdMapTest, ReserveRoomSizesEverythingOnceTheKindIsKnown) {
  for (const bool strings : {false, true}) {
    IdMap map;
    map.ReserveRoom(1000);  // no kind yet: nothing to size
    EXPECT_EQ(map.slot_end(), 0u);
    std::vector<int64_t> ints = {5, 6, 7};
    std::vector<std::string> strs = {"a", "b", "c"};
    const IdsView view = strings ? IdsView::Strings(strs) : IdsView::Ints(ints);
    map.Reserve(view, 3);
    for (size_t i = 0; i < 3; ++i) {
      map.SetSlotId(static_cast<IdMap::Slot>(i), view, i);
      map.Bind(view, i, static_cast<IdMap::Slot>(i));
    }
    map.Unbind(view, 1);
    const size_t before = map.MemoryBytes();
    map.ReserveRoom(1000);
    EXPECT_EQ(map.slot_end(), 1000u);
    EXPECT_GT(map.MemoryBytes(), before);
    // Every slot keeps its state; later batches within the room do not grow the arrays.
    EXPECT_TRUE(map.used(0) && !map.used(1) && map.used(2));
    EXPECT_TRUE(map.used_bits().Test(2) && !map.used_bits().Test(1));
    EXPECT_TRUE(map.CheckInvariants().ok());
    map.Reserve(view, 900);
    EXPECT_EQ(map.slot_end(), 1000u);
    map.ReserveRoom(10);  // below: nothing shrinks
    EXPECT_EQ(map.slot_end(), 1000u);
    EXPECT_EQ(map.size(), 2u);
  }
}

TEST(IdMapTest, LoadChecksTheTables) {
  IdMap map;
  const std::vector<char> used = {1, 0, 1};
  ASSERT_TRUE(map.Load(IdKind::kInt, used, {5, 0, 6}, {}).ok());
  EXPECT_EQ(map.size(), 2u);
  EXPECT_EQ(*map.Find(IdsView::Ints(std::vector<int64_t>{6}), 0), 2u);
  EXPECT_TRUE(map.CheckInvariants().ok());

  Status twice = map.Load(IdKind::kInt, used, {5, 0, 5}, {});
  EXPECT_EQ(twice.code(), StatusCode::kCorruption);
  EXPECT_NE(twice.message().find("appears twice"), std::string::npos);
  const std::vector<char> bad_flag = {2};
  EXPECT_EQ(map.Load(IdKind::kInt, bad_flag, {1}, {}).code(), StatusCode::kCorruption);
  const std::vector<char> one = {1};
  EXPECT_EQ(map.Load(IdKind::kUnset, one, {}, {}).code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace augurdb::db
