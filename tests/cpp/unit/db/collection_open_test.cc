// Collection::Open as an application calls it: options validation (in memory; nothing touches
// the disk) and the defaults a new collection reports, in memory and on disk.
#include <augurdb/collection.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "unit/db/collection_test_support.h"

namespace augurdb {
namespace {

using namespace augurdb::testing;  // NOLINT(google-build-using-namespace)

TEST(Open, RejectsBadOptions) {
  std::vector<std::pair<std::string, CollectionOptions>> bad;
  auto add = [&](std::string what, auto edit) {
    CollectionOptions o;
    edit(o);
    bad.emplace_back(std::move(what), o);
  };
  add("dim too large", [](CollectionOptions& o) { o.dim = 65537; });
  add("m too small", [](CollectionOptions& o) { o.m = 1; });
  add("m too large", [](CollectionOptions& o) { o.m = 513; });
  add("ef_construction too large", [](CollectionOptions& o) { o.ef_construction = 100001; });
  add("ef_search too large", [](CollectionOptions& o) { o.ef_search = 100001; });
  add("threads too many", [](CollectionOptions& o) { o.threads = 1025; });
  add("unknown durability",
      [](CollectionOptions& o) { o.durability = static_cast<Durability>(3); });
  add("read_only in memory", [](CollectionOptions& o) { o.read_only = true; });
  for (const auto& [what, options] : bad) {
    EXPECT_CODE(Collection::Open(options), kInvalidArgument) << what;
  }
  // The edges of each range are accepted.
  CollectionOptions edges;
  edges.dim = 65536;
  edges.m = 512;
  edges.ef_construction = 100000;
  edges.ef_search = 100000;
  edges.threads = 1;
  EXPECT_OK(Collection::Open(edges));
  edges.dim = 1;
  edges.m = 2;
  edges.ef_construction = 1;
  edges.ef_search = 1;
  EXPECT_OK(Collection::Open(edges));
}

// The one instantiation of CollectionTest (collection_test_support.h): every TEST_P of the db
// test files runs once in memory and once on disk.
INSTANTIATE_TEST_SUITE_P(Where, CollectionTest, ::testing::Values(Where::kMemory, Where::kDisk),
                         [](const ::testing::TestParamInfo<Where>& param_info) {
                           return param_info.param == Where::kMemory ? "Memory" : "Disk";
                         });

TEST_P(CollectionTest, OpenDefaults) {
  CollectionOptions o = Options(0);
  o.threads = 0;
  auto col = OpenOrFail(o);
  ASSERT_NE(col, nullptr);
  EXPECT_EQ(col->size(), 0u);
  EXPECT_EQ(col->dim(), 0u);
  EXPECT_EQ(col->metric(), Metric::kL2);
  EXPECT_EQ(col->id_kind(), IdKind::kUnset);
  EXPECT_FALSE(col->read_only());
  EXPECT_EQ(col->path(), o.path);
  EXPECT_TRUE(col->Ids().empty());
  EXPECT_FALSE(col->Contains(Id{int64_t{1}}));
  EXPECT_FALSE(col->Contains(Id{std::string("a")}));
  const CollectionStats st = col->Stats();
  EXPECT_EQ(st.count, 0u);
  EXPECT_EQ(st.m, 16u);
  EXPECT_EQ(st.ef_construction, 200u);
  EXPECT_EQ(st.ef_search, 64u);
  EXPECT_EQ(st.quantization, Quantization::kNone);
  EXPECT_GE(st.threads, 1u);  // 0 = all cores
  if (std::thread::hardware_concurrency() != 0) {
    EXPECT_EQ(st.threads, std::thread::hardware_concurrency());
  }
  if (disk()) {
    EXPECT_TRUE(fs::is_directory(o.path));
  }
  EXPECT_OK(col->Close());
}

}  // namespace
}  // namespace augurdb
