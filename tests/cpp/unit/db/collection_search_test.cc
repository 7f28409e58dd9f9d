// Search and SearchBatch through the public API, in memory and on disk: exactness against brute
// force, ef and k handling, padding, metadata, errors, and SQ8 rerank.
#include <augurdb/collection.h>

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <exception>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "unit/db/collection_test_support.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define AUGUR_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define AUGUR_TEST_SANITIZED 1
#endif
#endif

namespace augurdb {
namespace {

using namespace augurdb::testing;  // NOLINT(google-build-using-namespace)

TEST_P(CollectionTest, SearchIsExactOnSmallCollections) {
  for (Metric metric : {Metric::kL2, Metric::kInnerProduct, Metric::kCosine}) {
    SCOPED_TRACE(std::string(MetricName(metric)));
    TempDir local;  // one database per metric
    CollectionOptions o = Options(kDim, metric);
    if (disk()) o.path = local.Sub("db");
    auto col = OpenOrFail(o);
    ASSERT_NE(col, nullptr);
    const size_t n = 60;
    const std::vector<float> data = RandomVectors(n, kDim, 17);
    ASSERT_OK(col->Add(IdsView::Ints(Iota(0, n)), View(data, kDim)));
    const std::vector<float> queries = RandomVectors(5, kDim, 18);
    for (size_t q = 0; q < 5; ++q) {
      auto hits = col->Search(Row(queries, kDim, q), {.k = 5, .ef = 100});
      ASSERT_OK(hits);
      ASSERT_EQ(hits->size(), 5u);
      const std::vector<size_t> want = BruteForce(metric, data, kDim, Row(queries, kDim, q), 5);
      for (size_t j = 0; j < 5; ++j) {
        EXPECT_EQ(IntId((*hits)[j].id), static_cast<int64_t>(want[j])) << "q" << q << " j" << j;
        const float ref = RefDistance(metric, Row(queries, kDim, q),
                                      Row(data, kDim, static_cast<size_t>(IntId((*hits)[j].id))));
        EXPECT_TRUE(Near((*hits)[j].distance, ref)) << (*hits)[j].distance << " vs " << ref;
        if (j > 0) {
          EXPECT_LE((*hits)[j - 1].distance, (*hits)[j].distance);
        }
        EXPECT_TRUE((*hits)[j].metadata.empty());
      }
    }
  }
}

TEST_P(CollectionTest, SearchFindsNeighboursOnLargerCollections) {
  // Past the exact-scan threshold the graph answers; an exact copy of a record is its own
  // nearest neighbour.
  auto col = Open();
  ASSERT_NE(col, nullptr);
  const size_t n = 2000;
  const std::vector<float> data = RandomVectors(n, kDim, 19);
  ASSERT_OK(col->Add(IdsView::Ints(Iota(0, n)), View(data, kDim)));
  size_t found = 0;
  for (size_t r = 0; r < n; r += 97) {
    auto hits = col->Search(Row(data, kDim, r), {.k = 1, .ef = 64});
    ASSERT_OK(hits);
    ASSERT_EQ(hits->size(), 1u);
    found += IntId((*hits)[0].id) == static_cast<int64_t>(r);
  }
  EXPECT_GE(found, 20u);  // of 21
}

// Without an ef in the call the collection's ef_search is raised to k (asking for many results
// keeps its recall); an ef given in the call is the beam as given, even below k, and still
// returns k results (a beam that runs dry walks again as wide as k).
TEST_P(CollectionTest, DefaultEfIsRaisedToKButAnExplicitOneIsNot) {
  auto col = Open();
  ASSERT_NE(col, nullptr);
  const size_t n = 3000;
  const std::vector<float> data = RandomVectors(n, kDim, 23);
  ASSERT_OK(col->Add(IdsView::Ints(Iota(0, n)), View(data, kDim)));
  ASSERT_EQ(col->Stats().ef_search, 64u);
  size_t narrower = 0;
  for (size_t r = 0; r < n; r += 150) {
    auto by_default = col->Search(Row(data, kDim, r), {.k = 200});
    auto at_k = col->Search(Row(data, kDim, r), {.k = 200, .ef = 200});
    auto dry = col->Search(Row(data, kDim, r), {.k = 200, .ef = 2});
    ASSERT_OK(by_default);
    ASSERT_OK(at_k);
    ASSERT_OK(dry);
    ASSERT_EQ(by_default->size(), 200u);
    ASSERT_EQ(dry->size(), 200u);
    for (size_t i = 0; i < 200; ++i) ASSERT_EQ((*by_default)[i].id, (*at_k)[i].id) << r << " " << i;
    auto narrow = col->Search(Row(data, kDim, r), {.k = 20, .ef = 2});
    auto wide = col->Search(Row(data, kDim, r), {.k = 20, .ef = 20});
    ASSERT_OK(narrow);
    ASSERT_OK(wide);
    ASSERT_EQ(narrow->size(), 20u);
    narrower += (*narrow)[19].distance > (*wide)[19].distance;
  }
  EXPECT_GT(narrower, 0u) << "a beam of 2 should miss some of the 20 nearest";
}

TEST_P(CollectionTest, IncludeMetadata) {
  auto col = Open();
  ASSERT_NE(col, nullptr);
  const std::vector<float> data = RandomVectors(3, kDim, 20);
  const std::vector<Metadata> meta = {RichMetadata(0), {}, RichMetadata(2)};
  ASSERT_OK(col->Add(IdsView::Ints(Iota(0, 3)), View(data, kDim), meta));
  auto with = col->Search(Row(data, kDim, 0), {.k = 3, .include_metadata = true});
  ASSERT_OK(with);
  ASSERT_EQ(with->size(), 3u);
  for (const Hit& h : *with) EXPECT_EQ(h.metadata, meta[static_cast<size_t>(IntId(h.id))]);
  auto without = col->Search(Row(data, kDim, 0), {.k = 3});
  ASSERT_OK(without);
  for (const Hit& h : *without) EXPECT_TRUE(h.metadata.empty());
}

TEST_P(CollectionTest, PaddingWhenKExceedsSize) {
  for (bool strings : {false, true}) {
    SCOPED_TRACE(strings ? "string ids" : "int ids");
    TempDir local;
    CollectionOptions o = Options();
    if (disk()) o.path = local.Sub("db");
    auto col = OpenOrFail(o);
    ASSERT_NE(col, nullptr);
    const std::vector<float> data = RandomVectors(3, kDim, 21);
    const std::vector<std::string> sids = {"a", "b", "c"};
    if (strings) {
      ASSERT_OK(col->Add(IdsView::Strings(sids), View(data, kDim)));
    } else {
      ASSERT_OK(col->Add(IdsView::Ints(Iota(0, 3)), View(data, kDim)));
    }
    auto hits = col->Search(Row(data, kDim, 0), {.k = 10});
    ASSERT_OK(hits);
    EXPECT_EQ(hits->size(), 3u);  // Search returns what exists, no padding

    const std::vector<float> queries = RandomVectors(2, kDim, 22);
    auto batch = col->SearchBatch(View(queries, kDim), {.k = 5});
    ASSERT_OK(batch);
    EXPECT_EQ(batch->rows, 2u);
    EXPECT_EQ(batch->k, 5u);
    ASSERT_EQ(batch->distances.size(), 10u);
    if (strings) {
      ASSERT_EQ(batch->string_ids.size(), 10u);
      EXPECT_TRUE(batch->int_ids.empty());
    } else {
      ASSERT_EQ(batch->int_ids.size(), 10u);
      EXPECT_TRUE(batch->string_ids.empty());
    }
    for (size_t q = 0; q < 2; ++q) {
      for (size_t j = 0; j < 5; ++j) {
        const size_t at = q * 5 + j;
        if (j < 3) {
          EXPECT_TRUE(std::isfinite(batch->distances[at]));
          if (strings) {
            EXPECT_TRUE(batch->string_ids[at].has_value());
          } else {
            EXPECT_GE(batch->int_ids[at], 0);
          }
        } else {
          EXPECT_TRUE(std::isinf(batch->distances[at]) && batch->distances[at] > 0) << at;
          if (strings) {
            EXPECT_FALSE(batch->string_ids[at].has_value()) << at;
          } else {
            EXPECT_EQ(batch->int_ids[at], -1) << at;
          }
        }
      }
    }
  }
}

TEST_P(CollectionTest, SearchOnEmptyCollections) {
  // No dim yet: any query dimension is accepted and nothing is found.
  auto col = Open(0);
  ASSERT_NE(col, nullptr);
  const std::vector<float> q = RandomVectors(2, 5, 23);
  auto hits = col->Search(Row(q, 5, 0), {});
  ASSERT_OK(hits);
  EXPECT_TRUE(hits->empty());
  auto batch = col->SearchBatch(View(q, 5), {.k = 3});
  ASSERT_OK(batch);
  EXPECT_EQ(batch->rows, 2u);
  ASSERT_EQ(batch->distances.size(), 6u);
  ASSERT_EQ(batch->int_ids.size(), 6u);  // no id kind yet: int padding
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_TRUE(std::isinf(batch->distances[i]));
    EXPECT_EQ(batch->int_ids[i], -1);
  }
  col.reset();

  // A dim but no records; then records all deleted.
  TempDir local;
  CollectionOptions o = Options();
  if (disk()) o.path = local.Sub("db");
  col = OpenOrFail(o);
  ASSERT_NE(col, nullptr);
  const std::vector<float> data = RandomVectors(2, kDim, 24);
  hits = col->Search(Row(data, kDim, 0), {});
  ASSERT_OK(hits);
  EXPECT_TRUE(hits->empty());
  ASSERT_OK(col->Add(IdsView::Ints(Iota(0, 2)), View(data, kDim)));
  ASSERT_OK(col->Delete(IdsView::Ints(Iota(0, 2))));
  hits = col->Search(Row(data, kDim, 0), {});
  ASSERT_OK(hits);
  EXPECT_TRUE(hits->empty());
  batch = col->SearchBatch(View(data, kDim), {.k = 2});
  ASSERT_OK(batch);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(batch->int_ids[i], -1);
  // An empty batch of queries.
  batch = col->SearchBatch(MatrixView{data.data(), 0, kDim, 0}, {.k = 2});
  ASSERT_OK(batch);
  EXPECT_EQ(batch->rows, 0u);
  EXPECT_TRUE(batch->distances.empty());
}

TEST_P(CollectionTest, SearchErrors) {
  auto col = Open();
  ASSERT_NE(col, nullptr);
  const std::vector<float> data = RandomVectors(4, kDim, 25);
  ASSERT_OK(col->Add(IdsView::Ints(Iota(0, 4)), View(data, kDim)));
  EXPECT_CODE(col->Search(Row(data, kDim, 0), {.k = 0}), kInvalidArgument);
  EXPECT_CODE(col->SearchBatch(View(data, kDim), {.k = 0}), kInvalidArgument);
  const std::vector<float> short_q(kDim - 1, 0.5f);
  EXPECT_CODE(col->Search(short_q, {}), kDimensionMismatch);
  EXPECT_CODE(col->Search(std::span<const float>(), {}), kDimensionMismatch);
  EXPECT_CODE(col->SearchBatch(View(short_q, kDim - 1), {}), kDimensionMismatch);
  std::vector<float> bad(data.begin(), data.begin() + kDim);
  bad[2] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_CODE(col->Search(bad, {}), kInvalidVector);
  bad[2] = std::numeric_limits<float>::infinity();
  EXPECT_CODE(col->Search(bad, {}), kInvalidVector);
  std::vector<float> batch = data;
  batch[3 * kDim] = -std::numeric_limits<float>::infinity();
  EXPECT_CODE(col->SearchBatch(View(batch, kDim), {}), kInvalidVector);
  EXPECT_CODE(col->SearchBatch(MatrixView{nullptr, 2, kDim, 0}, {}), kInvalidArgument);
  // ef below k is raised to k, never an error.
  auto small_ef = col->Search(Row(data, kDim, 0), {.k = 4, .ef = 1});
  ASSERT_OK(small_ef);
  EXPECT_EQ(small_ef->size(), 4u);
}

TEST_P(CollectionTest, HugeKIsNeverAnException) {
#ifdef AUGUR_TEST_SANITIZED
  GTEST_SKIP() << "sanitizer allocators abort on impossible allocations instead of throwing "
                  "std::bad_alloc, so this path cannot be exercised under ASan/TSan";
#else
  auto col = Open();
  ASSERT_NE(col, nullptr);
  const std::vector<float> data = RandomVectors(2, kDim, 26);
  ASSERT_OK(col->Add(IdsView::Ints(Iota(0, 2)), View(data, kDim)));
  // k * sizeof(result) passes the overflow checks but no machine can allocate it.
  const size_t huge_k = std::numeric_limits<size_t>::max() / 16;
  try {
    EXPECT_CODE(col->SearchBatch(View(data, kDim), {.k = huge_k / 2}), kResourceExhausted);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "SearchBatch threw " << e.what() << " (no exception may leave the API)";
  }
  try {
    // Search may bound k by the record count (then it returns every record) or report
    // kResourceExhausted; it may not throw.
    Result<std::vector<Hit>> hits = col->Search(Row(data, kDim, 0), {.k = huge_k});
    if (hits.ok()) {
      EXPECT_EQ(hits->size(), 2u);
    } else {
      EXPECT_CODE(hits, kResourceExhausted);
    }
  } catch (const std::exception& e) {
    ADD_FAILURE() << "Search threw " << e.what() << " (no exception may leave the API)";
  }
  // k * rows overflowing size_t is rejected up front.
  EXPECT_CODE(col->SearchBatch(View(data, kDim), {.k = std::numeric_limits<size_t>::max()}),
              kInvalidArgument);
#endif
}

TEST_P(CollectionTest, SearchBatchMatchesSearchAndIgnoresThreadCount) {
  auto col = Open();
  ASSERT_NE(col, nullptr);
  const size_t n = 500;
  const std::vector<float> data = RandomVectors(n, kDim, 27);
  ASSERT_OK(col->Add(IdsView::Ints(Iota(1000, n)), View(data, kDim)));
  const size_t rows = 17, k = 7;
  const std::vector<float> queries = RandomVectors(rows, kDim, 28);
  auto one = col->SearchBatch(View(queries, kDim), {.k = k, .threads = 1});
  auto many = col->SearchBatch(View(queries, kDim), {.k = k, .threads = 2});
  ASSERT_OK(one);
  ASSERT_OK(many);
  EXPECT_EQ(one->int_ids, many->int_ids);
  EXPECT_EQ(one->distances, many->distances);
  ASSERT_EQ(one->int_ids.size(), rows * k);
  for (size_t q = 0; q < rows; ++q) {
    auto hits = col->Search(Row(queries, kDim, q), {.k = k});
    ASSERT_OK(hits);
    ASSERT_EQ(hits->size(), k);
    for (size_t j = 0; j < k; ++j) {
      EXPECT_EQ(IntId((*hits)[j].id), one->int_ids[q * k + j]);
      EXPECT_EQ((*hits)[j].distance, one->distances[q * k + j]);
    }
  }
}

TEST_P(CollectionTest, SearchBatchStringIds) {
  auto col = Open();
  ASSERT_NE(col, nullptr);
  const std::vector<std::string> ids = {"p", "q", "r", "s"};
  const std::vector<float> data = RandomVectors(4, kDim, 29);
  ASSERT_OK(col->Add(IdsView::Strings(ids), View(data, kDim)));
  auto batch = col->SearchBatch(View(data, kDim), {.k = 1});
  ASSERT_OK(batch);
  ASSERT_EQ(batch->string_ids.size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    ASSERT_TRUE(batch->string_ids[i].has_value());
    EXPECT_EQ(*batch->string_ids[i], ids[i]);
    EXPECT_EQ(batch->distances[i], 0.0f);
  }
  auto hits = col->Search(Row(data, kDim, 2), {.k = 1});
  ASSERT_OK(hits);
  EXPECT_EQ(StrId((*hits)[0].id), "r");
}

TEST_P(CollectionTest, Sq8QuantizationRerankReturnsExactDistances) {
  for (Metric metric : {Metric::kL2, Metric::kInnerProduct, Metric::kCosine}) {
    SCOPED_TRACE(std::string(MetricName(metric)));
    TempDir local;
    CollectionOptions o = Options(kDim, metric);
    if (disk()) o.path = local.Sub("db");
    o.quantization = Quantization::kSq8;
    o.rerank = 20;
    auto col = OpenOrFail(o);
    ASSERT_NE(col, nullptr);
    EXPECT_EQ(col->Stats().quantization, Quantization::kSq8);
    const size_t n = 1500;
    const std::vector<float> data = RandomVectors(n, kDim, 60);
    ASSERT_OK(col->Add(IdsView::Ints(Iota(0, n)), View(data, kDim)));
    // Get returns the fp32 vectors, not the codes.
    auto got = col->Get(IdsView::Ints(Iota(7, 1)));
    ASSERT_OK(got);
    if (metric != Metric::kCosine) {
      EXPECT_EQ((*got)[0]->vector,
                std::vector<float>(data.begin() + 7 * kDim, data.begin() + 8 * kDim));
    }
    const std::vector<float> queries = RandomVectors(20, kDim, 61);
    size_t agree = 0;
    for (size_t q = 0; q < 20; ++q) {
      auto hits = col->Search(Row(queries, kDim, q), {.k = 5, .ef = 100, .rerank = 50});
      ASSERT_OK(hits);
      ASSERT_EQ(hits->size(), 5u);
      for (size_t j = 0; j < hits->size(); ++j) {
        // Reranked: the distances are the exact fp32 ones, in order.
        const float ref = RefDistance(metric, Row(queries, kDim, q),
                                      Row(data, kDim, static_cast<size_t>(IntId((*hits)[j].id))));
        EXPECT_TRUE(Near((*hits)[j].distance, ref)) << (*hits)[j].distance << " vs " << ref;
        if (j > 0) {
          EXPECT_LE((*hits)[j - 1].distance, (*hits)[j].distance);
        }
      }
      const std::vector<size_t> want = BruteForce(metric, data, kDim, Row(queries, kDim, q), 1);
      agree += IntId((*hits)[0].id) == static_cast<int64_t>(want[0]);
    }
    EXPECT_GE(agree, 18u) << "top-1 agreement with exact search over 20 queries";
    // Batch and single searches agree; the collection-wide rerank default applies.
    auto batch = col->SearchBatch(View(queries, kDim), {.k = 3, .ef = 100});
    ASSERT_OK(batch);
    for (size_t q = 0; q < 20; ++q) {
      auto hits = col->Search(Row(queries, kDim, q), {.k = 3, .ef = 100});
      ASSERT_OK(hits);
      for (size_t j = 0; j < 3; ++j) EXPECT_EQ(IntId((*hits)[j].id), batch->int_ids[q * 3 + j]);
    }
    if (disk()) {
      ASSERT_OK(col->Close());
      CollectionOptions none = o;
      none.quantization = Quantization::kNone;
      EXPECT_CODE(Collection::Open(none), kInvalidArgument) << "quantization cannot change";
      CollectionOptions unset = o;
      unset.quantization.reset();
      col = OpenOrFail(unset);
      ASSERT_NE(col, nullptr);
      EXPECT_EQ(col->Stats().quantization, Quantization::kSq8);
      auto again = col->SearchBatch(View(queries, kDim), {.k = 3, .ef = 100});
      ASSERT_OK(again);
      EXPECT_EQ(again->int_ids, batch->int_ids);
      EXPECT_EQ(again->distances, batch->distances);
    }
  }
}

}  // namespace
}  // namespace augurdb
