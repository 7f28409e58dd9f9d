// MetadataColumns as the only copy of the records' metadata: Get gives back what Set stored.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "filter/filter.h"

namespace augurdb::filter {
namespace {

TEST(MetadataColumnsTest, GetGivesBackWhatSetStored) {
  MetadataColumns columns;
  const Metadata a = {{"b", Value(false)},
                      {"d", Value(std::numeric_limits<double>::infinity())},
                      {"i", Value(int64_t{-3})},
                      {"l", Value(Value::List{Value("x"), Value(int64_t{2}), Value(nullptr),
                                              Value(true), Value(0.5)})},
                      {"n", Value(nullptr)},
                      {"s", Value("shared")}};
  const Metadata b = {{"s", Value("shared")}, {"z", Value(Value::List{})}};
  columns.Set(0, a);
  columns.Set(5, b);
  EXPECT_EQ(columns.Get(0), a);
  EXPECT_EQ(columns.Get(5), b);
  EXPECT_TRUE(columns.Has(5));
  EXPECT_FALSE(columns.Has(1));
  EXPECT_TRUE(columns.Get(1).empty());
  EXPECT_TRUE(columns.Get(1000).empty());

  columns.Clear(0);  // the shared string stays for slot 5
  EXPECT_FALSE(columns.Has(0));
  EXPECT_EQ(columns.Get(5), b);
  columns.Set(5, {{"i", Value(int64_t{1})}});
  EXPECT_EQ(columns.Get(5), (Metadata{{"i", Value(int64_t{1})}}));
}

TEST(MetadataColumnsTest, NanAndNegativeZeroKeepTheirBits) {
  MetadataColumns columns;
  columns.Set(0, {{"d", Value(-0.0)}, {"n", Value(std::nan(""))}});
  const Metadata got = columns.Get(0);
  EXPECT_TRUE(std::signbit(got.at("d").as_double()));
  EXPECT_TRUE(std::isnan(got.at("n").as_double()));
}

TEST(MetadataColumnsTest, MemoryGrowsWithStoredValues) {
  MetadataColumns columns;
  const size_t empty = columns.MemoryBytes();
  for (uint32_t s = 0; s < 100; ++s) {
    columns.Set(s, {{"s", Value(std::string(64, 'a') + std::to_string(s))}});
  }
  EXPECT_GT(columns.MemoryBytes(), empty + 100 * 64);
}

}  // namespace
}  // namespace augurdb::filter
