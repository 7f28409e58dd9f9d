// The logged-write path (src/db/logged_write.cc) as seen through the public API: metadata is
// stored once (in the filter columns) and given back exactly, counted in stats, replayed from
// the WAL, and refused up front where it could not be stored.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <augurdb/collection.h>

namespace augurdb {
namespace {

std::unique_ptr<Collection> OpenAt(const std::string& path) {
  CollectionOptions options;
  options.dim = 2;
  options.path = path;
  options.threads = 1;
  Result<std::unique_ptr<Collection>> c = Collection::Open(options);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? std::move(c).value() : nullptr;
}

Status AddOne(Collection& c, int64_t id, Metadata metadata) {
  const std::vector<int64_t> ids = {id};
  const std::vector<float> v = {static_cast<float>(id), 1.0f};
  const std::vector<Metadata> meta = {std::move(metadata)};
  return c.Add(IdsView::Ints(ids), MatrixView{v.data(), 1, 2, 0}, meta);
}

Metadata Sample(int64_t i) {
  return {{"b", Value(i % 2 == 0)},
          {"d", Value(-0.0)},
          {"i", Value(i)},
          {"l", Value(Value::List{Value(int64_t{1}), Value("x"), Value(2.5), Value(nullptr)})},
          {"n", Value(nullptr)},
          {"s", Value(std::string(40, 'a') + std::to_string(i))}};
}

TEST(LoggedWriteTest, MetadataComesBackExactly) {
  auto c = OpenAt("");
  ASSERT_TRUE(AddOne(*c, 1, Sample(1)).ok());
  ASSERT_TRUE(AddOne(*c, 2, {}).ok());
  const std::vector<int64_t> ids = {1, 2};
  auto got = c->Get(IdsView::Ints(ids));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ((*got)[0]->metadata, Sample(1));
  EXPECT_TRUE(std::signbit((*got)[0]->metadata.at("d").as_double()));
  EXPECT_TRUE((*got)[1]->metadata.empty());
  // Upsert replaces the metadata; the old record's is gone from filters too.
  const std::vector<int64_t> one = {1};
  const std::vector<float> v = {0.0f, 1.0f};
  const std::vector<Metadata> meta = {{{"i", Value(int64_t{7})}}};
  ASSERT_TRUE(c->Upsert(IdsView::Ints(one), MatrixView{v.data(), 1, 2, 0}, meta).ok());
  EXPECT_EQ(*c->Count(R"({"i": 1})"), 0u);
  EXPECT_EQ(*c->Count(R"({"i": 7})"), 1u);
  EXPECT_EQ((*c->Get(IdsView::Ints(one)))[0]->metadata, meta[0]);
}

TEST(LoggedWriteTest, MemoryGrowsWithMetadata) {
  auto plain = OpenAt("");
  auto tagged = OpenAt("");
  for (int64_t i = 0; i < 500; ++i) {
    ASSERT_TRUE(AddOne(*plain, i, {}).ok());
    ASSERT_TRUE(AddOne(*tagged, i, Sample(i)).ok());
  }
  const size_t without = plain->Stats().memory_bytes;
  const size_t with = tagged->Stats().memory_bytes;
  // At least the 500 distinct 40+ byte strings.
  EXPECT_GT(with, without + 500 * 40) << without << " vs " << with;
  // Deleting the records releases (most of) it again.
  ASSERT_TRUE(tagged->DeleteWhere(R"({"b": true})").ok());
  EXPECT_EQ(tagged->size(), 250u);
}

TEST(LoggedWriteTest, NestedListsAreRefused) {
  auto c = OpenAt("");
  Metadata nested = {{"l", Value(Value::List{Value(Value::List{Value(int64_t{1})})})}};
  Status s = AddOne(*c, 1, nested);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("not a list"), std::string::npos) << s.ToString();
  EXPECT_EQ(c->size(), 0u);
}

TEST(LoggedWriteTest, MetadataSurvivesReplayAndCheckpoint) {
  const std::string dir =
      (std::filesystem::temp_directory_path() / "augurdb_logged_write_test").string();
  std::filesystem::remove_all(dir);
  {
    auto c = OpenAt(dir);
    ASSERT_TRUE(AddOne(*c, 1, Sample(1)).ok());
    ASSERT_TRUE(c->Checkpoint().ok());
    ASSERT_TRUE(AddOne(*c, 2, Sample(2)).ok());  // only in the WAL
    ASSERT_TRUE(c->Delete(IdsView::Ints(std::vector<int64_t>{1})).ok());
    ASSERT_TRUE(c->Flush().ok());
    // Skip the checkpoint at close: reopen must replay the WAL.
    Result<std::unique_ptr<Collection>> reader = [&] {
      CollectionOptions ro;
      ro.path = dir;
      ro.read_only = true;
      return Collection::Open(ro);
    }();
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    const std::vector<int64_t> ids = {1, 2};
    auto got = (*reader)->Get(IdsView::Ints(ids));
    ASSERT_TRUE(got.ok());
    EXPECT_FALSE((*got)[0].has_value());
    EXPECT_EQ((*got)[1]->metadata, Sample(2));
  }
  auto c = OpenAt(dir);  // after the close-time checkpoint
  const std::vector<int64_t> two = {2};
  EXPECT_EQ((*c->Get(IdsView::Ints(two)))[0]->metadata, Sample(2));
  EXPECT_TRUE(c->Verify().ok());
  c.reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace augurdb
