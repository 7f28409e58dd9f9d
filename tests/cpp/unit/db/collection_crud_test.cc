// Writes and reads through the public API, in memory and on disk, with integer and string ids:
// Add, Upsert, Delete, Get and their errors, Compact, Flush/checkpoint/stats, and Close.
#include <augurdb/collection.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "test_data.h"
#include "unit/db/collection_test_support.h"

namespace augurdb {
namespace {

using namespace augurdb::testing;  // NOLINT(google-build-using-namespace)

TEST_P(CollectionTest, AddAndGetIntIdsWithMetadata) {
  auto col = Open();
  ASSERT_NE(col, nullptr);
  // The whole id range, 0 .. 2^63-1 (negative ids are refused: see InvalidIdValues... below).
  const std::vector<int64_t> ids = {0, 5, 42, std::numeric_limits<int64_t>::max(),
                                    int64_t{1} << 40};
  const std::vector<float> data = RandomVectors(ids.size(), kDim, 1);
  std::vector<Metadata> meta;
  for (size_t i = 0; i < ids.size(); ++i) meta.push_back(RichMetadata(static_cast<int64_t>(i)));
  meta[2] = Metadata{};  // a row without metadata
  ASSERT_OK(col->Add(IdsView::Ints(ids), View(data, kDim), meta));
  EXPECT_EQ(col->size(), ids.size());
  EXPECT_EQ(col->id_kind(), IdKind::kInt);

  auto check = [&](const Collection& c) {
    Result<std::vector<std::optional<Record>>> got = c.Get(IdsView::Ints(ids));
    ASSERT_OK(got);
    ASSERT_EQ(got->size(), ids.size());
    for (size_t i = 0; i < ids.size(); ++i) {
      ASSERT_TRUE((*got)[i].has_value()) << ids[i];
      const Record& rec = *(*got)[i];
      EXPECT_EQ(IntId(rec.id), ids[i]);
      EXPECT_EQ(rec.vector,
                std::vector<float>(Row(data, kDim, i).begin(), Row(data, kDim, i).end()));
      EXPECT_EQ(rec.metadata, meta[i]) << "id " << ids[i];
      EXPECT_TRUE(c.Contains(Id{ids[i]}));
    }
    std::vector<Id> all = c.Ids();  // insertion-slot order
    ASSERT_EQ(all.size(), ids.size());
    for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(IntId(all[i]), ids[i]);
  };
  check(*col);
  EXPECT_FALSE(col->Contains(Id{int64_t{7}}));
  EXPECT_FALSE(col->Contains(Id{std::string("0")}));  // other id kind: simply absent
  ASSERT_NO_FATAL_FAILURE(ReopenAndCheck(col, check));
}

// A batch large enough for HnswIndex::PlaceRows, which gives its rows slots by similarity rather
// than in row order: every record keeps its own vector, metadata and document, and finds itself.
TEST_P(CollectionTest, LargeBatchKeepsEachRowsVectorMetadataAndDocument) {
  auto col = Open();
  ASSERT_NE(col, nullptr);
  constexpr size_t kRows = 12000;
  const std::vector<float> data = ClusteredData(kRows, kDim, 5);
  const std::vector<int64_t> ids = Iota(100, kRows);
  std::vector<Metadata> meta(kRows);
  std::vector<std::optional<std::string>> docs(kRows);
  for (size_t i = 0; i < kRows; ++i) {
    meta[i] = Metadata{{"row", Value(static_cast<int64_t>(i))}};
    if (i % 1000 == 0) docs[i] = "marker" + std::to_string(i);
  }
  ASSERT_OK(col->Add(IdsView::Ints(ids), View(data, kDim), meta, docs));
  auto check = [&](const Collection& c) {
    auto got = c.Get(IdsView::Ints(ids));
    ASSERT_OK(got);
    for (size_t i = 0; i < kRows; ++i) {
      ASSERT_TRUE((*got)[i].has_value()) << i;
      const Record& rec = *(*got)[i];
      ASSERT_EQ(rec.vector,
                std::vector<float>(Row(data, kDim, i).begin(), Row(data, kDim, i).end()))
          << "row " << i;
      ASSERT_EQ(rec.metadata, meta[i]) << "row " << i;
    }
    for (size_t i = 0; i < kRows; i += 1000) {
      auto hits = c.SearchText("marker" + std::to_string(i), {.k = 1});
      ASSERT_OK(hits);
      ASSERT_EQ(hits->size(), 1u);
      EXPECT_EQ(IntId((*hits)[0].id), ids[i]);
      auto near = c.Search(Row(data, kDim, i), {.k = 1, .ef = 64, .filter = "{\"row\": " +
                                                                      std::to_string(i) + "}"});
      ASSERT_OK(near);
      ASSERT_EQ(near->size(), 1u);
      EXPECT_EQ(IntId((*near)[0].id), ids[i]);
    }
  };
  check(*col);
  ASSERT_NO_FATAL_FAILURE(ReopenAndCheck(col, check));
}

TEST_P(CollectionTest, AddAndGetStringIds) {
  auto col = Open();
  ASSERT_NE(col, nullptr);
  const std::vector<std::string> ids = {"alpha", "b", std::string(300, 'z'),
                                        "na\xc3\xafve \xe2\x98\x83", "with space"};
  const std::vector<float> data = RandomVectors(ids.size(), kDim, 2);
  std::vector<Metadata> meta(ids.size());
  meta[1] = Metadata{{"k", "v"}};
  ASSERT_OK(col->Add(IdsView::Strings(ids), View(data, kDim), meta));
  EXPECT_EQ(col->id_kind(), IdKind::kString);
  EXPECT_EQ(col->size(), ids.size());

  auto check = [&](const Collection& c) {
    std::vector<std::string> query = ids;
    query.push_back("absent");
    auto got = c.Get(IdsView::Strings(query));
    ASSERT_OK(got);
    ASSERT_EQ(got->size(), query.size());
    for (size_t i = 0; i < ids.size(); ++i) {
      ASSERT_TRUE((*got)[i].has_value()) << ids[i];
      EXPECT_EQ(StrId((*got)[i]->id), ids[i]);
      EXPECT_EQ((*got)[i]->vector[0], data[i * kDim]);
      EXPECT_EQ((*got)[i]->metadata, meta[i]);
      EXPECT_TRUE(c.Contains(Id{ids[i]}));
    }
    EXPECT_FALSE(got->back().has_value());
    std::vector<Id> all = c.Ids();
    ASSERT_EQ(all.size(), ids.size());
    for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(StrId(all[i]), ids[i]);
  };
  check(*col);
  EXPECT_FALSE(col->Contains(Id{int64_t{0}}));
  ASSERT_NO_FATAL_FAILURE(ReopenAndCheck(col, [&](const Collection& c) {
    EXPECT_EQ(c.id_kind(), IdKind::kString);
    check(c);
  }));
}

TEST_P(CollectionTest, RowStrideAndDimFromFirstAdd) {
  auto col = Open(0);
  ASSERT_NE(col, nullptr);
  EXPECT_EQ(col->dim(), 0u);
  // Three rows of 3 floats inside rows of 5: the 2 padding floats must be ignored.
  const std::vector<float> padded = {1, 2, 3, 99, 99, 4, 5, 6, 99, 99, 7, 8, 9, 99, 99};
  ASSERT_OK(col->Add(IdsView::Ints(Iota(1, 3)), MatrixView{padded.data(), 3, 3, 5}));
  EXPECT_EQ(col->dim(), 3u);
  EXPECT_EQ(col->Stats().dim, 3u);
  auto got = col->Get(IdsView::Ints(Iota(1, 3)));
  ASSERT_OK(got);
  EXPECT_EQ((*got)[1]->vector, (std::vector<float>{4, 5, 6}));
  EXPECT_EQ((*got)[2]->vector, (std::vector<float>{7, 8, 9}));
  // The dim is now fixed.
  const std::vector<float> four = {1, 2, 3, 4};
  EXPECT_CODE(col->Add(IdsView::Ints(Iota(10, 1)), View(four, 4)), kDimensionMismatch);
  ASSERT_NO_FATAL_FAILURE(
      ReopenAndCheck(col, [](const Collection& c) { EXPECT_EQ(c.dim(), 3u); }, /*dim=*/0));
  // A query with a stride.
  const std::vector<float> queries = {4, 5, 6, -1, 1, 2, 3, -1};
  auto batch = col->SearchBatch(MatrixView{queries.data(), 2, 3, 4}, {.k = 1});
  ASSERT_OK(batch);
  EXPECT_EQ(batch->int_ids, (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(batch->distances, (std::vector<float>{0.0f, 0.0f}));
}

// -1 pads short search results and "" is almost always a bug in the caller's data: both are
// refused by Add and Upsert, naming the offending row, and nothing of the batch is written.
TEST_P(CollectionTest, InvalidIdValuesAreRejectedAndNothingIsWritten) {
  auto col = Open();
  ASSERT_NE(col, nullptr);
  const std::vector<float> two = RandomVectors(2, kDim, 3);
  const std::vector<int64_t> negative = {4, -1};
  Status s = col->Add(IdsView::Ints(negative), View(two, kDim));
  EXPECT_CODE(s, kInvalidArgument);
  EXPECT_NE(s.message().find("negative id -1 (ids[1])"), std::string::npos) << s.ToString();
  EXPECT_CODE(col->Upsert(IdsView::Ints(negative), View(two, kDim)), kInvalidArgument);
  const std::vector<int64_t> min_id = {std::numeric_limits<int64_t>::min(), 3};
  EXPECT_CODE(col->Add(IdsView::Ints(min_id), View(two, kDim)), kInvalidArgument);
  EXPECT_EQ(col->size(), 0u);
  EXPECT_FALSE(col->Contains(Id{int64_t{4}}));
  const std::vector<int64_t> edges = {0, std::numeric_limits<int64_t>::max()};
  ASSERT_OK(col->Add(IdsView::Ints(edges), View(two, kDim)));
  EXPECT_EQ(col->size(), 2u);
}

TEST_P(CollectionTest, EmptyOrNonUtf8StringIdsAreRejected) {
  auto col = Open();
  ASSERT_NE(col, nullptr);
  const std::vector<float> two = RandomVectors(2, kDim, 3);
  const std::vector<std::string> empty = {"a", ""};
  Status s = col->Add(IdsView::Strings(empty), View(two, kDim));
  EXPECT_CODE(s, kInvalidArgument);
  EXPECT_NE(s.message().find("ids[1] is an empty string"), std::string::npos) << s.ToString();
  const std::vector<std::string> bad_utf8 = {"ok", "caf\xC3"};
  s = col->Upsert(IdsView::Strings(bad_utf8), View(two, kDim));
  EXPECT_CODE(s, kInvalidArgument);
  EXPECT_NE(s.message().find("not valid UTF-8"), std::string::npos) << s.ToString();
  EXPECT_EQ(col->size(), 0u);
  EXPECT_FALSE(col->Contains(Id{std::string("a")}));
  const std::vector<std::string> good = {"caf\xC3\xA9", "\xF0\x9F\x98\x80"};
  ASSERT_OK(col->Add(IdsView::Strings(good), View(two, kDim)));
  EXPECT_EQ(col->size(), 2u);
}

TEST_P(CollectionTest, AddErrorsLeaveTheCollectionUnchanged) {
  auto col = Open();
  ASSERT_NE(col, nullptr);
  const std::vector<float> two = RandomVectors(2, kDim, 3);
  ASSERT_OK(col->Add(IdsView::Ints(Iota(100, 2)), View(two, kDim)));
  const size_t before = col->size();

  const std::vector<float> one = RandomVectors(1, kDim, 4);
  const std::vector<int64_t> none;
  EXPECT_CODE(col->Add(IdsView::Ints(none), MatrixView{one.data(), 0, kDim, 0}), kInvalidArgument)
      << "empty batch";
  EXPECT_CODE(col->Add(IdsView::Ints(Iota(1, 2)), View(one, kDim)), kInvalidArgument)
      << "2 ids, 1 vector";
  const std::vector<int64_t> dup = {5, 6, 5};
  const std::vector<float> three = RandomVectors(3, kDim, 5);
  EXPECT_CODE(col->Add(IdsView::Ints(dup), View(three, kDim)), kInvalidArgument) << "duplicate";
  const std::vector<std::string> strs = {"a"};
  EXPECT_CODE(col->Add(IdsView::Strings(strs), View(one, kDim)), kInvalidArgument)
      << "string ids in an int collection";
  const std::vector<Metadata> meta(2);
  EXPECT_CODE(col->Add(IdsView::Ints(Iota(1, 1)), View(one, kDim), meta), kInvalidArgument)
      << "metadata count";
  EXPECT_CODE(col->Add(IdsView::Ints(Iota(1, 1)), MatrixView{nullptr, 1, kDim, 0}),
              kInvalidArgument)
      << "null data";
  // One existing id fails the whole batch: the other rows are not inserted either.
  const std::vector<int64_t> mixed = {7, 101, 8};
  EXPECT_CODE(col->Add(IdsView::Ints(mixed), View(three, kDim)), kAlreadyExists);
  EXPECT_FALSE(col->Contains(Id{int64_t{7}}));
  EXPECT_FALSE(col->Contains(Id{int64_t{8}}));
  const std::vector<float> wrong_dim = RandomVectors(1, kDim + 1, 6);
  EXPECT_CODE(col->Add(IdsView::Ints(Iota(1, 1)), View(wrong_dim, kDim + 1)), kDimensionMismatch);
  EXPECT_CODE(col->Add(IdsView::Ints(Iota(1, 1)), MatrixView{one.data(), 1, 0, 0}),
              kDimensionMismatch)
      << "dim 0";
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                    -std::numeric_limits<float>::infinity()}) {
    std::vector<float> rows = RandomVectors(2, kDim, 7);
    rows[kDim + 3] = bad;  // row 1, position 3
    const Status s = col->Add(IdsView::Ints(Iota(1, 2)), View(rows, kDim));
    EXPECT_CODE(s, kInvalidVector) << bad;
    EXPECT_NE(s.message().find("row 1"), std::string::npos) << s.ToString();
    EXPECT_FALSE(col->Contains(Id{int64_t{1}}));  // row 0 was fine but the batch is atomic
  }
  // A zero vector is fine under L2.
  const std::vector<float> zero(kDim, 0.0f);
  EXPECT_OK(col->Add(IdsView::Ints(Iota(200, 1)), View(zero, kDim)));
  EXPECT_EQ(col->size(), before + 1);
  EXPECT_EQ(col->Ids().size(), before + 1);
}

TEST_P(CollectionTest, StringIdErrors) {
  auto col = Open();
  ASSERT_NE(col, nullptr);
  const std::vector<std::string> ids = {"x", "y", "x"};
  const std::vector<float> three = RandomVectors(3, kDim, 8);
  EXPECT_CODE(col->Add(IdsView::Strings(ids), View(three, kDim)), kInvalidArgument);
  EXPECT_EQ(col->id_kind(), IdKind::kUnset);
  const std::vector<std::string> ok_ids = {"x", "y", "z"};
  ASSERT_OK(col->Add(IdsView::Strings(ok_ids), View(three, kDim)));
  EXPECT_CODE(col->Add(IdsView::Strings(ok_ids), View(three, kDim)), kAlreadyExists);
  EXPECT_CODE(col->Add(IdsView::Ints(Iota(1, 3)), View(three, kDim)), kInvalidArgument);
  EXPECT_CODE(col->Upsert(IdsView::Ints(Iota(1, 3)), View(three, kDim)), kInvalidArgument);
  EXPECT_CODE(col->Delete(IdsView::Ints(Iota(1, 3))), kInvalidArgument);
  EXPECT_CODE(col->Get(IdsView::Ints(Iota(1, 3))), kInvalidArgument);
  EXPECT_EQ(col->size(), 3u);
}

TEST_P(CollectionTest, CosineRejectsZeroVectorsAndNormalises) {
  auto col = Open(kDim, Metric::kCosine);
  ASSERT_NE(col, nullptr);
  EXPECT_EQ(col->metric(), Metric::kCosine);
  std::vector<float> rows = RandomVectors(2, kDim, 9);
  std::fill(rows.begin() + kDim, rows.end(), 0.0f);
  EXPECT_CODE(col->Add(IdsView::Ints(Iota(1, 2)), View(rows, kDim)), kInvalidVector);
  EXPECT_CODE(col->Upsert(IdsView::Ints(Iota(1, 2)), View(rows, kDim)), kInvalidVector);
  EXPECT_EQ(col->size(), 0u);
  const std::vector<float> good = {3, 4, 0, 0, 0, 0, 0, 0};
  ASSERT_OK(col->Add(IdsView::Ints(Iota(1, 1)), View(good, kDim)));
  auto got = col->Get(IdsView::Ints(Iota(1, 1)));
  ASSERT_OK(got);
  ASSERT_TRUE((*got)[0].has_value());
  // Stored as unit length.
  EXPECT_NEAR((*got)[0]->vector[0], 0.6f, 1e-6f);
  EXPECT_NEAR((*got)[0]->vector[1], 0.8f, 1e-6f);
  const std::vector<float> zero(kDim, 0.0f);
  EXPECT_CODE(col->Search(zero, {}), kInvalidVector);
  EXPECT_CODE(col->SearchBatch(View(zero, kDim), {}), kInvalidVector);
}

TEST_P(CollectionTest, UpsertReplacesAndInserts) {
  auto col = Open();
  ASSERT_NE(col, nullptr);
  const std::vector<float> old_rows = RandomVectors(3, kDim, 10);
  const std::vector<Metadata> old_meta = {{{"v", 1}}, {{"v", 1}}, {{"v", 1}}};
  ASSERT_OK(col->Add(IdsView::Ints(Iota(1, 3)), View(old_rows, kDim), old_meta));
  // Replace 2 and 3, insert 4; 3 gets no metadata, which clears its old metadata.
  const std::vector<int64_t> ids = {2, 3, 4};
  const std::vector<float> new_rows = RandomVectors(3, kDim, 11);
  const std::vector<Metadata> new_meta = {{{"v", 2}}, {}, {{"v", 2}}};
  ASSERT_OK(col->Upsert(IdsView::Ints(ids), View(new_rows, kDim), new_meta));
  EXPECT_EQ(col->size(), 4u);
  auto check = [&](const Collection& c) {
    auto got = c.Get(IdsView::Ints(Iota(1, 4)));
    ASSERT_OK(got);
    EXPECT_EQ((*got)[0]->vector[0], old_rows[0]);
    EXPECT_EQ((*got)[0]->metadata, old_meta[0]);
    for (size_t i = 0; i < 3; ++i) {
      ASSERT_TRUE((*got)[i + 1].has_value());
      EXPECT_EQ((*got)[i + 1]->vector,
                std::vector<float>(Row(new_rows, kDim, i).begin(), Row(new_rows, kDim, i).end()));
      EXPECT_EQ((*got)[i + 1]->metadata, new_meta[i]);
    }
    // Searching for an old vector no longer finds it at distance 0; the new one does.
    auto hit_old = c.Search(Row(old_rows, kDim, 1), {.k = 1});
    ASSERT_OK(hit_old);
    ASSERT_EQ(hit_old->size(), 1u);
    EXPECT_GT((*hit_old)[0].distance, 0.0f);
    auto hit_new = c.Search(Row(new_rows, kDim, 0), {.k = 1});
    ASSERT_OK(hit_new);
    EXPECT_EQ(IntId((*hit_new)[0].id), 2);
    EXPECT_EQ((*hit_new)[0].distance, 0.0f);
    EXPECT_EQ(c.Ids().size(), 4u);
  };
  check(*col);
  // Upserting the same ids again with the same data is idempotent.
  ASSERT_OK(col->Upsert(IdsView::Ints(ids), View(new_rows, kDim), new_meta));
  EXPECT_EQ(col->size(), 4u);
  check(*col);
  ASSERT_NO_FATAL_FAILURE(ReopenAndCheck(col, check));
}

TEST_P(CollectionTest, UpsertErrors) {
  auto col = Open();
  ASSERT_NE(col, nullptr);
  const std::vector<float> one = RandomVectors(1, kDim, 12);
  const std::vector<int64_t> none;
  EXPECT_CODE(col->Upsert(IdsView::Ints(none), MatrixView{one.data(), 0, kDim, 0}),
              kInvalidArgument);
  const std::vector<int64_t> dup = {1, 1};
  const std::vector<float> two = RandomVectors(2, kDim, 13);
  EXPECT_CODE(col->Upsert(IdsView::Ints(dup), View(two, kDim)), kInvalidArgument);
  const std::vector<Metadata> meta(3);
  EXPECT_CODE(col->Upsert(IdsView::Ints(Iota(1, 2)), View(two, kDim), meta), kInvalidArgument);
  const std::vector<float> wrong = RandomVectors(1, kDim - 1, 14);
  EXPECT_CODE(col->Upsert(IdsView::Ints(Iota(1, 1)), View(wrong, kDim - 1)), kDimensionMismatch);
  std::vector<float> nan_row = one;
  nan_row[0] = std::nanf("");
  EXPECT_CODE(col->Upsert(IdsView::Ints(Iota(1, 1)), View(nan_row, kDim)), kInvalidVector);
  EXPECT_EQ(col->size(), 0u);
  // Upsert of an existing id is not kAlreadyExists.
  ASSERT_OK(col->Upsert(IdsView::Ints(Iota(1, 1)), View(one, kDim)));
  EXPECT_OK(col->Upsert(IdsView::Ints(Iota(1, 1)), View(one, kDim)));
  EXPECT_EQ(col->size(), 1u);
}

TEST_P(CollectionTest, DeleteCounts) {
  auto col = Open();
  ASSERT_NE(col, nullptr);
  // Deleting from a collection that never had a record.
  Result<size_t> none = col->Delete(IdsView::Ints(Iota(1, 3)));
  ASSERT_OK(none);
  EXPECT_EQ(*none, 0u);
  const std::vector<float> data = RandomVectors(10, kDim, 15);
  ASSERT_OK(col->Add(IdsView::Ints(Iota(0, 10)), View(data, kDim)));

  const std::vector<int64_t> some = {1, 3, 3, 99, 5};  // 3 twice, 99 unknown
  Result<size_t> removed = col->Delete(IdsView::Ints(some));
  ASSERT_OK(removed);
  EXPECT_EQ(*removed, 3u);
  EXPECT_EQ(col->size(), 7u);
  removed = col->Delete(IdsView::Ints(some));  // nothing left to remove
  ASSERT_OK(removed);
  EXPECT_EQ(*removed, 0u);
  const std::vector<int64_t> empty;
  removed = col->Delete(IdsView::Ints(empty));
  ASSERT_OK(removed);
  EXPECT_EQ(*removed, 0u);

  auto check = [&](const Collection& c) {
    EXPECT_EQ(c.size(), 7u);
    for (int64_t id : {1, 3, 5}) {
      EXPECT_FALSE(c.Contains(Id{id}));
      auto hits = c.Search(Row(data, kDim, static_cast<size_t>(id)), {.k = 10});
      ASSERT_OK(hits);
      EXPECT_EQ(hits->size(), 7u);
      for (const Hit& h : *hits) EXPECT_NE(IntId(h.id), id);
    }
    auto got = c.Get(IdsView::Ints(Iota(0, 10)));
    ASSERT_OK(got);
    for (int64_t id = 0; id < 10; ++id) {
      EXPECT_EQ((*got)[static_cast<size_t>(id)].has_value(), id != 1 && id != 3 && id != 5) << id;
    }
    EXPECT_EQ(c.Ids().size(), 7u);
    EXPECT_EQ(c.Stats().count, 7u);
  };
  check(*col);
  ASSERT_NO_FATAL_FAILURE(ReopenAndCheck(col, check));
  // A deleted id can be added again.
  ASSERT_OK(
      col->Add(IdsView::Ints(Iota(3, 1)),
               View(std::vector<float>(data.begin() + 3 * kDim, data.begin() + 4 * kDim), kDim)));
  EXPECT_TRUE(col->Contains(Id{int64_t{3}}));
  EXPECT_EQ(col->size(), 8u);
}

TEST_P(CollectionTest, GetOfMissingIds) {
  auto col = Open();
  ASSERT_NE(col, nullptr);
  // Before any record: every position is nullopt, whatever the id kind.
  auto empty_int = col->Get(IdsView::Ints(Iota(1, 2)));
  ASSERT_OK(empty_int);
  ASSERT_EQ(empty_int->size(), 2u);
  EXPECT_FALSE((*empty_int)[0].has_value());
  const std::vector<std::string> strs = {"a"};
  auto empty_str = col->Get(IdsView::Strings(strs));
  ASSERT_OK(empty_str);
  EXPECT_FALSE((*empty_str)[0].has_value());
  auto no_ids = col->Get(IdsView::Ints({}));
  ASSERT_OK(no_ids);
  EXPECT_TRUE(no_ids->empty());

  const std::vector<float> data = RandomVectors(2, kDim, 16);
  ASSERT_OK(col->Add(IdsView::Ints(Iota(10, 2)), View(data, kDim)));
  const std::vector<int64_t> ask = {9, 10, 12, 11, 10};
  auto got = col->Get(IdsView::Ints(ask));
  ASSERT_OK(got);
  ASSERT_EQ(got->size(), ask.size());
  EXPECT_FALSE((*got)[0].has_value());
  EXPECT_TRUE((*got)[1].has_value());
  EXPECT_FALSE((*got)[2].has_value());
  ASSERT_TRUE((*got)[3].has_value());
  EXPECT_EQ(IntId((*got)[3]->id), 11);
  ASSERT_TRUE((*got)[4].has_value());  // asking twice answers twice
  EXPECT_EQ(IntId((*got)[4]->id), 10);
}

TEST_P(CollectionTest, CompactReclaimsDeletedSlots) {
  auto col = Open();
  ASSERT_NE(col, nullptr);
  const size_t n = 200;
  const std::vector<float> data = RandomVectors(n, kDim, 30);
  ASSERT_OK(col->Add(IdsView::Ints(Iota(0, n)), View(data, kDim)));
  ASSERT_OK(col->Delete(IdsView::Ints(Iota(0, 50))));
  EXPECT_EQ(col->Stats().deleted, 50u);
  EXPECT_OK(col->Compact());
  EXPECT_EQ(col->Stats().deleted, 0u);
  EXPECT_EQ(col->size(), n - 50);
  EXPECT_OK(col->Compact());  // nothing to do
  // Reclaimed slots are reused by new records and everything is still found.
  const std::vector<float> more = RandomVectors(50, kDim, 31);
  ASSERT_OK(col->Add(IdsView::Ints(Iota(10000, 50)), View(more, kDim)));
  for (size_t r = 0; r < 50; r += 7) {
    auto hits = col->Search(Row(more, kDim, r), {.k = 1, .ef = 300});
    ASSERT_OK(hits);
    EXPECT_EQ(IntId((*hits)[0].id), 10000 + static_cast<int64_t>(r));
  }
  for (size_t r = 50; r < n; r += 13) {
    auto hits = col->Search(Row(data, kDim, r), {.k = 1, .ef = 300});
    ASSERT_OK(hits);
    EXPECT_EQ(IntId((*hits)[0].id), static_cast<int64_t>(r));
  }
  // Empty collection: Compact is a no-op.
  TempDir local;
  CollectionOptions o = Options(0);
  if (disk()) o.path = local.Sub("db");
  auto empty = OpenOrFail(o);
  ASSERT_NE(empty, nullptr);
  EXPECT_OK(empty->Compact());
}

TEST_P(CollectionTest, ReserveMakesRoomWithoutChangingRecords) {
  auto col = Open();
  ASSERT_NE(col, nullptr);
  const std::vector<float> data = RandomVectors(300, kDim, 34);
  const std::vector<float> first(data.begin(), data.begin() + 100 * kDim);
  ASSERT_OK(col->Add(IdsView::Ints(Iota(0, 100)), View(first, kDim)));
  const CollectionStats before = col->Stats();
  EXPECT_LT(before.capacity, 5000u);
  ASSERT_OK(col->Reserve(5000));
  const CollectionStats room = col->Stats();
  EXPECT_EQ(room.capacity, 5000u);
  EXPECT_GT(room.index_bytes, before.index_bytes);
  EXPECT_OK(col->Reserve(10));  // below the capacity: nothing to do
  EXPECT_EQ(col->Stats().capacity, 5000u);
  EXPECT_EQ(col->size(), 100u);
  // Adds within the reservation do not grow the arrays, and everything is found.
  const std::vector<float> rest(data.begin() + 100 * kDim, data.end());
  ASSERT_OK(col->Add(IdsView::Ints(Iota(100, 200)), View(rest, kDim)));
  EXPECT_EQ(col->Stats().capacity, 5000u);
  for (size_t r = 0; r < 300; r += 17) {
    auto hits = col->Search(Row(data, kDim, r), {.k = 1, .ef = 300});
    ASSERT_OK(hits);
    EXPECT_EQ(IntId((*hits)[0].id), static_cast<int64_t>(r));
  }
  EXPECT_CODE(col->Reserve(size_t{1} << 40), kInvalidArgument);
  EXPECT_EQ(col->Stats().capacity, 5000u);
  EXPECT_EQ(col->size(), 300u);

  // Before the dimension is known the reservation waits for the first Add, which applies it.
  TempDir local;
  CollectionOptions o = Options(0);
  if (disk()) o.path = local.Sub("db");
  auto lazy = OpenOrFail(o);
  ASSERT_NE(lazy, nullptr);
  ASSERT_OK(lazy->Reserve(5000));
  EXPECT_EQ(lazy->Stats().capacity, 5000u);
  ASSERT_OK(lazy->Add(IdsView::Ints(Iota(0, 100)), View(first, kDim)));
  EXPECT_EQ(lazy->Stats().capacity, 5000u);
  EXPECT_OK(lazy->Close());
  EXPECT_CODE(lazy->Reserve(10), kInvalidArgument);  // closed
}

TEST_P(CollectionTest, FlushCheckpointAndStats) {
  auto col = Open();
  ASSERT_NE(col, nullptr);
  const CollectionStats fresh = col->Stats();
  EXPECT_EQ(fresh.count, 0u);
  EXPECT_EQ(fresh.dim, kDim);
  EXPECT_EQ(fresh.metric, Metric::kL2);
  EXPECT_EQ(fresh.id_kind, IdKind::kUnset);
  EXPECT_EQ(fresh.threads, 2u);
  EXPECT_EQ(fresh.deleted, 0u);
  EXPECT_FALSE(fresh.simd.empty());

  const std::vector<float> data = RandomVectors(100, kDim, 32);
  std::vector<Metadata> meta(100, Metadata{{"payload", std::string(100, 'm')}});
  ASSERT_OK(col->Add(IdsView::Ints(Iota(0, 100)), View(data, kDim), meta));
  ASSERT_OK(col->Delete(IdsView::Ints(Iota(0, 10))));
  EXPECT_OK(col->Flush());
  CollectionStats st = col->Stats();
  EXPECT_EQ(st.count, 90u);
  EXPECT_EQ(st.deleted, 10u);
  EXPECT_EQ(st.id_kind, IdKind::kInt);
  EXPECT_GE(st.index_bytes, 100 * kDim * sizeof(float));
  EXPECT_GT(st.memory_bytes, st.index_bytes);  // ids and metadata come on top
  // At least the 100 slots' int ids and the payload (equal values may be stored once).
  EXPECT_GE(st.memory_bytes - st.index_bytes, 100u * sizeof(int64_t) + 100u);
  EXPECT_EQ(st.m, 16u);
  EXPECT_EQ(st.ef_construction, 200u);
  EXPECT_EQ(st.ef_search, 64u);
  if (disk()) {
    EXPECT_GT(st.wal_bytes, 100 * kDim * sizeof(float));  // the Add is in the WAL
    EXPECT_GT(st.checkpoint_bytes, 0u);                   // the empty one written at creation
    const uint64_t seq = st.checkpoint_sequence;
    EXPECT_GE(seq, 1u);
    ASSERT_OK(col->Checkpoint());
    st = col->Stats();
    EXPECT_EQ(st.wal_bytes, 0u);
    EXPECT_EQ(st.checkpoint_sequence, seq + 1);
    EXPECT_GT(st.checkpoint_bytes, 90 * kDim * sizeof(float));
    EXPECT_EQ(st.count, 90u);
  } else {
    EXPECT_EQ(st.wal_bytes, 0u);
    EXPECT_EQ(st.checkpoint_bytes, 0u);
    EXPECT_EQ(st.checkpoint_sequence, 0u);
    EXPECT_OK(col->Checkpoint());  // a no-op in memory
  }
  EXPECT_OK(col->Flush());
  EXPECT_OK(col->Close());
}

TEST_P(CollectionTest, CloseThenEveryCallFails) {
  auto col = Open();
  ASSERT_NE(col, nullptr);
  const std::vector<float> data = RandomVectors(3, kDim, 33);
  ASSERT_OK(col->Add(IdsView::Ints(Iota(0, 3)), View(data, kDim)));
  ASSERT_OK(col->Close());
  EXPECT_OK(col->Close());  // idempotent
  EXPECT_CODE(col->Add(IdsView::Ints(Iota(10, 3)), View(data, kDim)), kInvalidArgument);
  EXPECT_CODE(col->Upsert(IdsView::Ints(Iota(0, 3)), View(data, kDim)), kInvalidArgument);
  EXPECT_CODE(col->Delete(IdsView::Ints(Iota(0, 3))), kInvalidArgument);
  EXPECT_CODE(col->Compact(), kInvalidArgument);
  EXPECT_CODE(col->Flush(), kInvalidArgument);
  EXPECT_CODE(col->Checkpoint(), kInvalidArgument);
  // The header: "Later calls return kInvalidArgument" -- reads included.
  EXPECT_CODE(col->Get(IdsView::Ints(Iota(0, 3))), kInvalidArgument);
  EXPECT_CODE(col->Search(Row(data, kDim, 0), {}), kInvalidArgument);
  EXPECT_CODE(col->SearchBatch(View(data, kDim), {}), kInvalidArgument);
  // Accessors without a Status must not crash.
  (void)col->size();
  (void)col->dim();
  (void)col->Contains(Id{int64_t{0}});
  (void)col->Ids();
  (void)col->Stats();
  if (disk()) {
    // Close released the writer lock: the database opens again, with its records.
    auto again = Open();
    ASSERT_NE(again, nullptr);
    EXPECT_EQ(again->size(), 3u);
  }
}

}  // namespace
}  // namespace augurdb
