// Tests of the filter semantics in filter.h: each operator on hand-made records (missing fields,
// lists, int vs float, null), Bitset, empty columns, and a timing of range and equality filters
// over 60,000 slots.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "filter/filter.h"

namespace augurdb::filter {
namespace {

// ---------------------------------------------------------------- operators

std::vector<uint32_t> Slots(const Bitset& bits) {
  std::vector<uint32_t> out;
  for (uint32_t i = 0; i < bits.size(); ++i) {
    if (bits.Test(i)) out.push_back(i);
  }
  return out;
}

class FilterOps : public ::testing::Test {
 protected:
  void SetUp() override {
    using L = Value::List;
    records_ = {
        {{"f", 1}},                                    // 0
        {{"f", 1.0}},                                  // 1
        {{"f", 2.5}},                                  // 2
        {{"f", "1"}},                                  // 3
        {{"f", nullptr}},                              // 4
        {{"f", true}},                                 // 5
        {{"f", L{1, "x", nullptr}}},                   // 6
        {{"f", L{}}},                                  // 7
        {},                                            // 8: no metadata
        {{"g", 1}},                                    // 9: no f
        {{"f", "apple"}},                              // 10
        {{"f", L{"b", "c"}}},                          // 11
        {{"f", false}},                                // 12
        {{"f", int64_t{9007199254740993}}},            // 13: 2^53 + 1
        {{"f", 9007199254740992.0}},                   // 14: 2^53
        {{"f", -0.0}, {"a.b", 1}},                     // 15
        {{"f", std::numeric_limits<int64_t>::min()}},  // 16
        {{"f", -1e300}},                               // 17
    };
    for (uint32_t slot = 0; slot < records_.size(); ++slot) columns_.Set(slot, records_[slot]);
    all_.Resize(records_.size());
    for (uint32_t slot = 0; slot < records_.size(); ++slot) all_.Set(slot);
  }

  std::vector<uint32_t> Match(std::string_view json) { return Match(json, all_); }
  std::vector<uint32_t> Match(std::string_view json, const Bitset& eligible) {
    auto plan = Parse(json);
    EXPECT_TRUE(plan.ok()) << json << " -> " << plan.status().ToString();
    if (!plan.ok()) return {};
    Bitset out;
    columns_.Evaluate(**plan, eligible, records_.size(), &out);
    EXPECT_EQ(out.size(), records_.size());
    return Slots(out);
  }
  // Every slot that has field f, minus `except`.
  std::vector<uint32_t> PresentExcept(std::vector<uint32_t> except) {
    std::vector<uint32_t> out;
    for (uint32_t slot = 0; slot < records_.size(); ++slot) {
      if (records_[slot].count("f") == 0) continue;
      if (std::find(except.begin(), except.end(), slot) != except.end()) continue;
      out.push_back(slot);
    }
    return out;
  }

  std::vector<Metadata> records_;
  MetadataColumns columns_;
  Bitset all_;
};

using V = std::vector<uint32_t>;

TEST_F(FilterOps, EqualityIsTypedAndNumeric) {
  EXPECT_EQ(Match(R"({"f": 1})"), (V{0, 1, 6}));
  EXPECT_EQ(Match(R"({"f": 1.0})"), (V{0, 1, 6}));
  EXPECT_EQ(Match(R"({"f": {"$eq": 1}})"), (V{0, 1, 6}));
  EXPECT_EQ(Match(R"({"f": "1"})"), (V{3}));
  EXPECT_EQ(Match(R"({"f": true})"), (V{5}));    // not 1
  EXPECT_EQ(Match(R"({"f": false})"), (V{12}));  // not 0, not the empty list
  EXPECT_EQ(Match(R"({"f": 2.5})"), (V{2}));
  EXPECT_EQ(Match(R"({"f": 0})"), (V{15}));  // -0.0 == 0
  EXPECT_EQ(Match(R"({"f": -0.0})"), (V{15}));
  EXPECT_EQ(Match(R"({"f": 9007199254740993})"), (V{13}));  // exact, not via double
  EXPECT_EQ(Match(R"({"f": 9007199254740992})"), (V{14}));
  EXPECT_EQ(Match(R"({"f": 9007199254740992.0})"), (V{14}));
  EXPECT_EQ(Match(R"({"f": -9223372036854775808})"), (V{16}));
  EXPECT_EQ(Match(R"({"f": -9223372036854775808.0})"), (V{16}));
  EXPECT_EQ(Match(R"({"f": "apple"})"), (V{10}));
  EXPECT_EQ(Match(R"({"f": "never stored"})"), V{});
  EXPECT_EQ(Match(R"({"f": 7})"), V{});
}

TEST_F(FilterOps, NullEqualityMatchesNullNotMissing) {
  EXPECT_EQ(Match(R"({"f": null})"), (V{4, 6}));  // 6: a list with a null element
  EXPECT_EQ(Match(R"({"g": null})"), V{});
  EXPECT_EQ(Match(R"({"f": {"$ne": null}})"), PresentExcept({4, 6}));
}

TEST_F(FilterOps, ListsMatchWhenAnyElementDoes) {
  EXPECT_EQ(Match(R"({"f": "x"})"), (V{6}));
  EXPECT_EQ(Match(R"({"f": "c"})"), (V{11}));
  EXPECT_EQ(Match(R"({"f": {"$in": ["c", "x"]}})"), (V{6, 11}));
  EXPECT_EQ(Match(R"({"f": {"$gte": "c"}})"), (V{6, 11}));    // "x" and "c"
  EXPECT_EQ(Match(R"({"f": {"$lt": 1}})"), (V{15, 16, 17}));  // 6 holds only 1, not < 1
}

TEST_F(FilterOps, NotEqualNeedsTheField) {
  EXPECT_EQ(Match(R"({"f": {"$ne": 1}})"), PresentExcept({0, 1, 6}));
  EXPECT_EQ(Match(R"({"f": {"$ne": "apple"}})"), PresentExcept({10}));
  EXPECT_EQ(Match(R"({"f": {"$ne": "nowhere"}})"), PresentExcept({}));
  EXPECT_EQ(Match(R"({"g": {"$ne": 2}})"), (V{9}));
  EXPECT_EQ(Match(R"({"nope": {"$ne": 1}})"), V{});
}

TEST_F(FilterOps, InAndNin) {
  EXPECT_EQ(Match(R"({"f": {"$in": [2.5, "apple"]}})"), (V{2, 10}));
  EXPECT_EQ(Match(R"({"f": {"$in": [true, 0]}})"), (V{5, 15}));
  EXPECT_EQ(Match(R"({"f": {"$in": []}})"), V{});
  EXPECT_EQ(Match(R"({"f": {"$nin": []}})"), PresentExcept({}));
  EXPECT_EQ(Match(R"({"f": {"$nin": [1, null]}})"), PresentExcept({0, 1, 4, 6}));
  EXPECT_EQ(Match(R"({"f": {"$nin": ["b"]}})"), PresentExcept({11}));
  EXPECT_EQ(Match(R"({"nope": {"$nin": [1]}})"), V{});
  EXPECT_EQ(Match(R"({"nope": {"$in": [1]}})"), V{});
}

TEST_F(FilterOps, RangesCompareNumbersExactlyAndStringsByBytes) {
  EXPECT_EQ(Match(R"({"f": {"$gt": 1}})"), (V{2, 13, 14}));
  EXPECT_EQ(Match(R"({"f": {"$gte": 1}})"), (V{0, 1, 2, 6, 13, 14}));
  EXPECT_EQ(Match(R"({"f": {"$gt": 1.0}})"), (V{2, 13, 14}));
  EXPECT_EQ(Match(R"({"f": {"$gt": 0.5}})"), (V{0, 1, 2, 6, 13, 14}));
  EXPECT_EQ(Match(R"({"f": {"$lte": 0}})"), (V{15, 16, 17}));
  EXPECT_EQ(Match(R"({"f": {"$lt": -0.0}})"), (V{16, 17}));
  // 2^53 + 1 is greater than 2^53 even though (double)(2^53 + 1) == 2^53.
  EXPECT_EQ(Match(R"({"f": {"$gt": 9007199254740992}})"), (V{13}));
  EXPECT_EQ(Match(R"({"f": {"$gt": 9007199254740992.0}})"), (V{13}));
  EXPECT_EQ(Match(R"({"f": {"$lt": 9007199254740993}})"), (V{0, 1, 2, 6, 14, 15, 16, 17}));
  EXPECT_EQ(Match(R"({"f": {"$gte": 9223372036854775808.0}})"), V{});
  EXPECT_EQ(Match(R"({"f": {"$lt": -9223372036854775808}})"), (V{17}));
  EXPECT_EQ(Match(R"({"f": {"$lte": -9223372036854775808.0}})"), (V{16, 17}));
  EXPECT_EQ(Match(R"({"f": {"$gt": 1e300}})"), V{});
  // Strings: lexicographic by bytes; numbers never compare with strings.
  EXPECT_EQ(Match(R"({"f": {"$lt": "b"}})"), (V{3, 10}));
  EXPECT_EQ(Match(R"({"f": {"$lte": "b"}})"), (V{3, 10, 11}));
  EXPECT_EQ(Match(R"({"f": {"$gt": "apple"}})"), (V{6, 11}));
  EXPECT_EQ(Match(R"({"f": {"$gte": ""}})"), (V{3, 6, 10, 11}));
  EXPECT_EQ(Match(R"({"f": {"$gt": "\u00e9"}})"), V{});  // UTF-8 0xC3.. sorts after ASCII
  EXPECT_EQ(Match(R"({"f": {"$lt": "\u00e9"}})"), (V{3, 6, 10, 11}));
  // Range together in one object.
  EXPECT_EQ(Match(R"({"f": {"$gt": 0, "$lt": 3}})"), (V{0, 1, 2, 6}));
  EXPECT_EQ(Match(R"({"nope": {"$gt": 0}})"), V{});
}

TEST_F(FilterOps, ExistsAndMissingFields) {
  EXPECT_EQ(Match(R"({"f": {"$exists": true}})"), PresentExcept({}));
  EXPECT_EQ(Match(R"({"f": {"$exists": false}})"), (V{8, 9}));
  EXPECT_EQ(Match(R"({"nope": {"$exists": true}})"), V{});
  EXPECT_EQ(Match(R"({"nope": {"$exists": false}})").size(), records_.size());
  EXPECT_EQ(Match(R"({"nope": 1})"), V{});
  EXPECT_EQ(Match(R"({"a.b": 1})"), (V{15}));  // a dotted name is a plain field
  EXPECT_EQ(Match(R"({"a": {"$exists": true}})"), V{});
}

TEST_F(FilterOps, ContainsIsListMembershipOnly) {
  EXPECT_EQ(Match(R"({"f": {"$contains": "x"}})"), (V{6}));
  EXPECT_EQ(Match(R"({"f": {"$contains": 1}})"), (V{6}));  // not the scalar 1 in slots 0, 1
  EXPECT_EQ(Match(R"({"f": {"$contains": 1.0}})"), (V{6}));
  EXPECT_EQ(Match(R"({"f": {"$contains": null}})"), (V{6}));
  EXPECT_EQ(Match(R"({"f": {"$contains": "apple"}})"), V{});  // a string is not a list
  EXPECT_EQ(Match(R"({"f": {"$contains": "pp"}})"), V{});     // and no substring search
  EXPECT_EQ(Match(R"({"f": {"$contains": "b"}})"), (V{11}));
  EXPECT_EQ(Match(R"({"g": {"$contains": 1}})"), V{});
}

TEST_F(FilterOps, CombinatorsAndEligibility) {
  EXPECT_EQ(Match(R"({"$or": [{"f": 1}, {"g": 1}]})"), (V{0, 1, 6, 9}));
  EXPECT_EQ(Match(R"({"$and": [{"f": {"$exists": false}}, {"g": {"$exists": true}}]})"), (V{9}));
  // NOT is relative to the eligible slots and includes records missing the field.
  V not_one;
  for (uint32_t slot = 0; slot < records_.size(); ++slot) {
    if (slot != 0 && slot != 1 && slot != 6) not_one.push_back(slot);
  }
  EXPECT_EQ(Match(R"({"$not": {"f": 1}})"), not_one);
  EXPECT_EQ(Match(R"({"$not": {"$not": {"f": 1}}})"), (V{0, 1, 6}));
  EXPECT_EQ(Match(R"({"$not": {}})"), V{});
  EXPECT_EQ(Match("{}").size(), records_.size());

  Bitset some(records_.size());
  for (uint32_t slot : {0u, 2u, 6u, 8u, 9u}) some.Set(slot);
  EXPECT_EQ(Match(R"({"f": {"$in": [1, 2.5]}})", some), (V{0, 2, 6}));
  EXPECT_EQ(Match(R"({"$not": {"f": 1}})", some), (V{2, 8, 9}));
  EXPECT_EQ(Match(R"({"f": {"$gte": 1}})", some), (V{0, 2, 6}));
  EXPECT_EQ(Match("{}", some), (V{0, 2, 6, 8, 9}));
  EXPECT_EQ(Match(R"({"$or": [{"f": {"$exists": false}}, {"f": 2.5}]})", some), (V{2, 8, 9}));

  // An eligible set shorter than slot_end: the slots beyond it are not eligible.
  Bitset short_set(3);
  short_set.Set(0);
  short_set.Set(1);
  EXPECT_EQ(Match(R"({"f": 1})", short_set), (V{0, 1}));
  EXPECT_EQ(Match(R"({"$not": {"f": 2.5}})", short_set), (V{0, 1}));
}

TEST_F(FilterOps, SetReplacesAndClearRemoves) {
  columns_.Set(0, {{"f", "replaced"}});
  EXPECT_EQ(Match(R"({"f": 1})"), (V{1, 6}));
  EXPECT_EQ(Match(R"({"f": "replaced"})"), (V{0}));
  columns_.Clear(6);
  EXPECT_EQ(Match(R"({"f": 1})"), (V{1}));
  EXPECT_EQ(Match(R"({"f": {"$contains": "x"}})"), V{});
  columns_.Set(1, {});
  EXPECT_EQ(Match(R"({"f": 1})"), V{});
  EXPECT_EQ(Match(R"({"f": {"$exists": false}})"), (V{1, 6, 8, 9}));
  columns_.Clear(1000);  // never set: nothing to do
  // A string whose last holder went away is forgotten, then re-interned.
  columns_.Clear(10);
  EXPECT_EQ(Match(R"({"f": "apple"})"), V{});
  columns_.Set(3, {{"f", "apple"}});
  EXPECT_EQ(Match(R"({"f": "apple"})"), (V{3}));
  EXPECT_EQ(Match(R"({"f": {"$lt": "b"}})"), (V{3}));
  // Slots past slot_end are ignored; out is resized to slot_end.
  columns_.Set(100, {{"f", 1}});
  auto plan = Parse(R"({"f": {"$gte": 0}})");
  ASSERT_TRUE(plan.ok());
  Bitset eligible(200), out;
  for (uint32_t s = 0; s < 200; ++s) eligible.Set(s);
  columns_.Evaluate(**plan, eligible, 50, &out);
  EXPECT_EQ(out.size(), 50u);
  EXPECT_FALSE(out.Test(100));
  columns_.Evaluate(**plan, eligible, 101, &out);
  EXPECT_TRUE(out.Test(100));
  EXPECT_GT(columns_.MemoryBytes(), 0u);
}

TEST(FilterColumns, NanEqualsNothingAndOrdersWithNothing) {
  MetadataColumns columns;
  columns.Set(0, {{"f", std::nan("")}});
  columns.Set(1, {{"f", 1.0}});
  Bitset all(2), out;
  all.Set(0);
  all.Set(1);
  for (const char* json : {R"({"f": {"$gt": 0}})", R"({"f": {"$lte": 5}})"}) {
    auto plan = Parse(json);
    ASSERT_TRUE(plan.ok());
    columns.Evaluate(**plan, all, 2, &out);
    EXPECT_EQ(Slots(out), (V{1})) << json;
  }
  auto ne = Parse(R"({"f": {"$ne": 1}})");
  ASSERT_TRUE(ne.ok());
  columns.Evaluate(**ne, all, 2, &out);
  EXPECT_EQ(Slots(out), (V{0}));
}

TEST(FilterColumns, RangesOnOneFieldAndListElements) {
  // Several ranges on one field run as one scan; a list needs an element in each range, not
  // necessarily the same element (as if each range ran alone).
  MetadataColumns columns;
  columns.Set(0, {{"f", Value::List{1, 10}}});
  columns.Set(1, {{"f", 4}});
  columns.Set(2, {{"f", Value::List{4}}});
  columns.Set(3, {{"f", 4.5}});
  columns.Set(4, {{"f", Value::List{"a", 2.0}}});
  Bitset all(5), out;
  for (uint32_t s = 0; s < 5; ++s) all.Set(s);
  const auto match = [&](const char* json) {
    auto plan = Parse(json);
    EXPECT_TRUE(plan.ok()) << json;
    columns.Evaluate(**plan, all, 5, &out);
    return Slots(out);
  };
  EXPECT_EQ(match(R"({"f": {"$gt": 5, "$lt": 3}})"), (V{0}));
  // [1, 10]: 10 > 3 and 1 < 5, so it matches as well (as in MongoDB without $elemMatch).
  EXPECT_EQ(match(R"({"f": {"$gt": 3, "$lt": 5}})"), (V{0, 1, 2, 3}));
  EXPECT_EQ(match(R"({"f": {"$gte": 4, "$lte": 4}})"), (V{0, 1, 2}));
  EXPECT_EQ(match(R"({"f": {"$gt": 4, "$lte": 4.5}})"), (V{0, 3}));
  EXPECT_EQ(match(R"({"f": {"$gt": 11, "$lt": 5}})"), V{});
  EXPECT_EQ(match(R"({"$and": [{"f": {"$gte": 1}}, {"f": {"$lt": 2.5}}, {"f": {"$lt": 100}}]})"),
            (V{0, 4}));
  EXPECT_EQ(match(R"({"f": {"$gt": 1, "$gte": "a"}})"), (V{4}));  // mixed number and string
  EXPECT_EQ(match(R"({"f": {"$gt": 9223372036854775807, "$lt": 0}})"), V{});
}

TEST(FilterColumns, SubstringAndEmpty) {
  using L = Value::List;
  MetadataColumns columns;
  const std::vector<Metadata> records = {
      {{"s", "Apple pie"}},              // 0
      {{"s", "pineapple"}},              // 1
      {{"s", "\xC3\x84PFEL"}},           // 2: "ÄPFEL"
      {{"s", ""}},                       // 3
      {{"s", nullptr}},                  // 4
      {{"s", L{}}},                      // 5
      {{"s", L{"crab apple", 3}}},       // 6
      {{"s", 7}},                        // 7: a number holds no substring
      {},                                // 8: missing
      {{"s", L{nullptr}}},               // 9: a list holding null is not empty
      {{"s", "\xC3\xA4pfel strudel"}},   // 10: "äpfel strudel"
  };
  const auto n = static_cast<uint32_t>(records.size());
  for (uint32_t slot = 0; slot < n; ++slot) columns.Set(slot, records[slot]);
  Bitset all(n), out;
  for (uint32_t s = 0; s < n; ++s) all.Set(s);
  const auto match = [&](const std::string& json) {
    auto plan = Parse(json);
    EXPECT_TRUE(plan.ok()) << json;
    columns.Evaluate(**plan, all, n, &out);
    return Slots(out);
  };
  // Case-sensitive; the list in slot 6 does not match (lists answer $contains).
  EXPECT_EQ(match(R"({"s": {"$substring": "apple"}})"), (V{1}));
  EXPECT_EQ(match(R"({"s": {"$isubstring": "APPLE"}})"), (V{0, 1}));
  EXPECT_EQ(match(R"({"s": {"$isubstring": "\u00e4pf"}})"), (V{2, 10}));  // Unicode folding
  EXPECT_EQ(match(R"({"s": {"$substring": "\u00c4P"}})"), (V{2}));
  EXPECT_EQ(match(R"({"s": {"$substring": ""}})"), (V{0, 1, 2, 3, 10}));  // every string
  EXPECT_EQ(match(R"({"s": {"$substring": "7"}})"), V{});
  EXPECT_EQ(match(R"({"nope": {"$substring": "a"}})"), V{});
  EXPECT_EQ(match(R"({"s": {"$empty": true}})"), (V{3, 4, 5, 8}));
  EXPECT_EQ(match(R"({"s": {"$empty": false}})"), (V{0, 1, 2, 6, 7, 9, 10}));
  EXPECT_EQ(match(R"({"nope": {"$empty": true}})").size(), n);
  EXPECT_EQ(match(R"({"nope": {"$empty": false}})"), V{});
  EXPECT_EQ(match(R"({"$not": {"s": {"$empty": true}}})"), (V{0, 1, 2, 6, 7, 9, 10}));

  // A dictionary larger than the candidate range (strings of cleared slots stay in it) is
  // searched slot by slot: same answers.
  MetadataColumns wide;
  for (uint32_t slot = 0; slot < 200; ++slot) {
    wide.Set(slot, {{"s", slot == 4 ? std::string("a Needle") : "w" + std::to_string(slot)}});
  }
  for (uint32_t slot = 50; slot < 200; ++slot) wide.Clear(slot);
  Bitset fifty(50);
  for (uint32_t s = 0; s < 50; ++s) fifty.Set(s);
  for (const char* json :
       {R"({"s": {"$isubstring": "NEEDLE"}})", R"({"s": {"$substring": "Need"}})"}) {
    auto plan = Parse(json);
    ASSERT_TRUE(plan.ok());
    wide.Evaluate(**plan, fifty, 50, &out);
    EXPECT_EQ(Slots(out), (V{4})) << json;
  }
}

TEST(Bitset, CountAndBounds) {
  Bitset b(130);
  EXPECT_EQ(b.Count(), 0u);
  b.Set(0);
  b.Set(63);
  b.Set(64);
  b.Set(129);
  EXPECT_EQ(b.Count(), 4u);
  b.Reset(63);
  EXPECT_EQ(b.Count(), 3u);
  EXPECT_FALSE(b.Test(130));
  EXPECT_EQ(Bitset().Count(), 0u);
}

TEST(FilterColumns, EmptyColumnsAndZeroSlots) {
  MetadataColumns columns;
  auto plan = Parse(R"({"$or": [{"a": 1}, {"b": {"$exists": false}}]})");
  ASSERT_TRUE(plan.ok());
  Bitset eligible, out;
  columns.Evaluate(**plan, eligible, 0, &out);
  EXPECT_EQ(out.size(), 0u);
  eligible.Resize(70);
  for (uint32_t s = 0; s < 70; ++s) eligible.Set(s);
  columns.Evaluate(**plan, eligible, 70, &out);
  EXPECT_EQ(out.Count(), 70u);
  EXPECT_GT(columns.MemoryBytes(), 0u);
}

// ---------------------------------------------------------------- speed

TEST(FilterSpeed, RangeAndEqualityOver60kSlots) {
  constexpr uint32_t kSlots = 60000;
  std::mt19937_64 rng(7);
  MetadataColumns columns;
  for (uint32_t slot = 0; slot < kSlots; ++slot) {
    Metadata md;
    md["year"] = static_cast<int64_t>(1900 + rng() % 125);
    md["price"] = static_cast<double>(rng() % 100000) / 100.0;
    md["genre"] = "genre" + std::to_string(rng() % 20);
    Value::List tags;
    for (uint64_t t = rng() % 4; t > 0; --t) tags.push_back("t" + std::to_string(rng() % 50));
    md["tags"] = std::move(tags);
    if (slot % 3 == 0) md["rare"] = static_cast<int64_t>(slot);
    columns.Set(slot, md);
  }
  Bitset eligible(kSlots);
  for (uint32_t slot = 0; slot < kSlots; ++slot) eligible.Set(slot);
  const char* filters[] = {
      R"({"year": {"$gte": 1990, "$lt": 2000}})",
      R"({"year": {"$gt": 2000}})",
      R"({"price": {"$lt": 500.5}})",
      R"({"genre": {"$gt": "genre15"}})",
      R"({"genre": "genre7"})",
      R"({"genre": {"$in": ["genre1", "genre2", "genre3"]}})",
      R"({"rare": 3000})",
      R"({"tags": {"$contains": "t7"}})",
      R"({"genre": "genre7", "year": {"$gte": 1990}})",
      R"({"genre": {"$ne": "genre7"}})",
  };
  std::printf("evaluation over %u slots (all eligible):\n", kSlots);
  for (const char* json : filters) {
    auto plan = Parse(json);
    ASSERT_TRUE(plan.ok()) << json;
    Bitset out;
    columns.Evaluate(**plan, eligible, kSlots, &out);  // warm-up
    constexpr int kReps = 200;
    const std::clock_t cpu_start = std::clock();  // CPU time: less noisy on a shared machine
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < kReps; ++i) columns.Evaluate(**plan, eligible, kSlots, &out);
    const double us =
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
            .count() /
        kReps;
    const double cpu_us =
        1e6 * static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC / kReps;
    std::printf("  %8.1f us wall %8.1f us cpu  %6zu matches  %s\n", us, cpu_us, out.Count(), json);
    // Generous bound (sanitizer and debug builds included); the target is well under 1 ms.
    EXPECT_LT(us, 20000.0) << json;
  }
}

}  // namespace
}  // namespace augurdb::filter
