// Options resolution (src/db/collection_options.cc): names, ranges, defaults, stored params.
#include "db/collection_options.h"

#include <gtest/gtest.h>

#include <string>

namespace augurdb::db {
namespace {

TEST(CollectionOptionsTest, NamedOptions) {
  CollectionOptions o;
  ASSERT_TRUE(SetNamedOption("metric", "cosine", &o).ok());
  EXPECT_EQ(o.metric, Metric::kCosine);
  ASSERT_TRUE(SetNamedOption("quantization", "sq4", &o).ok());
  EXPECT_EQ(o.quantization, Quantization::kSq4);
  ASSERT_TRUE(SetNamedOption("durability", "batch", &o).ok());
  EXPECT_EQ(o.durability, Durability::kBatch);
  Status bad = SetNamedOption("metric", "hamming", &o);
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.message(), "unknown metric 'hamming': use 'l2', 'ip' or 'cosine'");
  EXPECT_NE(SetNamedOption("durability", "maybe", &o).message().find("'sync', 'batch'"),
            std::string::npos);
}

TEST(CollectionOptionsTest, ValidateRangesAndCombinations) {
  EXPECT_TRUE(ValidateOptions(CollectionOptions{}).ok());
  CollectionOptions o;
  o.m = 1;
  EXPECT_EQ(ValidateOptions(o).message(), "m must be in 2..512, got 1");
  o = {};
  o.read_only = true;
  EXPECT_NE(ValidateOptions(o).message().find("needs a path"), std::string::npos);
  o = {};
  o.path = "/tmp/x";
  o.vectors_on_disk = true;
  o.quantization = Quantization::kNone;
  EXPECT_NE(ValidateOptions(o).message().find("sq8"), std::string::npos);
}

TEST(CollectionOptionsTest, NewCollectionDefaultsFillOnlyUnsetFields) {
  CollectionOptions o;
  o.m = 32;
  ApplyNewCollectionDefaults(&o);
  EXPECT_EQ(*o.metric, Metric::kL2);
  EXPECT_EQ(*o.quantization, Quantization::kNone);
  EXPECT_EQ(o.m, 32u);
  EXPECT_EQ(o.ef_construction, 200u);
  EXPECT_EQ(o.ef_search, 64u);
}

TEST(CollectionOptionsTest, StoredParamsWinAndMismatchesAreErrors) {
  StoredParams stored;
  stored.dim = 8;
  stored.m = 24;
  stored.ef_search = 80;
  stored.metric = Metric::kInnerProduct;
  CollectionOptions o;
  o.ef_search = 100;  // a per-session default: may differ
  ASSERT_TRUE(ApplyStoredParams(stored, "db", &o).ok());
  EXPECT_EQ(o.m, 24u);
  EXPECT_EQ(o.ef_search, 100u);
  EXPECT_EQ(*o.metric, Metric::kInnerProduct);

  CollectionOptions other;
  other.m = 16;
  EXPECT_NE(ApplyStoredParams(stored, "db", &other).message().find("built with m=24"),
            std::string::npos);
  CollectionOptions wrong_dim;
  wrong_dim.dim = 4;
  EXPECT_EQ(ApplyStoredParams(stored, "db", &wrong_dim).code(), StatusCode::kDimensionMismatch);
}

}  // namespace
}  // namespace augurdb::db
