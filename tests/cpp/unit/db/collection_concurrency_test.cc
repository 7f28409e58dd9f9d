// Readers and writers on one collection at once, in memory and on disk. Meant to run under TSan
// (make test-tsan) as well as in the plain build.
#include <augurdb/collection.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "unit/db/collection_test_support.h"

namespace augurdb {
namespace {

using namespace augurdb::testing;  // NOLINT(google-build-using-namespace)

// Contract checked (collection.h): readers see each record entirely before or after a change,
// never a record already deleted when the reader started; stable records never disappear.
// A result row may come back short (Search: fewer hits; SearchBatch: -1/+inf padding at the
// end) when a hit was deleted between the graph walk and the id lookup: the engine drops it
// rather than search again, so that much is tolerated here (padding only at the end).

std::vector<float> VectorOf(int64_t id) {
  return RandomVectors(1, kDim, static_cast<uint64_t>(id) * 7919u + 1u);
}

TEST_P(CollectionTest, ReadersRunBesideOneWriter) {
  CollectionOptions o = Options();
  o.m = 8;
  o.ef_construction = 32;
  o.durability = Durability::kNone;
  o.checkpoint_wal_bytes = 16 << 10;  // on disk: several automatic checkpoints during the run
  auto col = OpenOrFail(o);
  ASSERT_NE(col, nullptr);

  constexpr int64_t kStable = 300;       // ids [0, kStable): never deleted
  constexpr int64_t kChurn = 1'000'000;  // churn ids: kChurn + round * kBatch + i
  constexpr int64_t kBatch = 16;
  constexpr int kRounds = 100;  // > 1024 slots in all, so the index grows mid-run
  auto rows_of = [](const std::vector<int64_t>& ids) {
    std::vector<float> rows;
    for (int64_t id : ids) {
      const std::vector<float> v = VectorOf(id);
      rows.insert(rows.end(), v.begin(), v.end());
    }
    return rows;
  };
  {
    const std::vector<int64_t> stable = Iota(0, kStable);
    ASSERT_OK(col->Add(IdsView::Ints(stable), View(rows_of(stable), kDim)));
  }

  // Every churn id below this was deleted (and is never added again).
  std::atomic<int64_t> deleted_below{kChurn};
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::atomic<uint64_t> reads{0};
  auto fail = [&](const std::string& what) {
    if (failures.fetch_add(1) < 10) ADD_FAILURE() << what;
  };

  auto check_hit = [&](int64_t id, float distance, std::span<const float> query, int64_t below,
                       const char* where) {
    if (id >= kChurn && id < below) {
      fail(std::string(where) + " returned id " + std::to_string(id) +
           ", deleted before the search started");
    }
    if (id < 0 || (id >= kStable && id < kChurn)) {
      fail(std::string(where) + " returned unknown id " + std::to_string(id));
      return;
    }
    // Every id always has the same vector, so the distance must be that vector's.
    const float want = RefDistance(Metric::kL2, query, VectorOf(id));
    if (!Near(distance, want)) {
      fail(std::string(where) + " id " + std::to_string(id) + " has distance " +
           std::to_string(distance) + ", its vector is at " + std::to_string(want));
    }
  };

  auto reader = [&](int seed) {
    std::mt19937_64 rng(static_cast<uint64_t>(seed));
    while (!done.load(std::memory_order_acquire)) {
      const int64_t below = deleted_below.load(std::memory_order_acquire);
      const int64_t target = static_cast<int64_t>(rng() % kStable);
      const std::vector<float> query = VectorOf(target);
      Result<std::vector<Hit>> hits = col->Search(query, {.k = 10, .include_metadata = true});
      if (!hits.ok()) {
        fail("Search: " + hits.status().ToString());
        continue;
      }
      if (hits->empty() || hits->size() > 10) {
        fail("Search returned " + std::to_string(hits->size()) + " hits");
      }
      for (size_t j = 0; j < hits->size(); ++j) {
        check_hit(IntId((*hits)[j].id), (*hits)[j].distance, query, below, "Search");
        if (j > 0 && (*hits)[j].distance < (*hits)[j - 1].distance) fail("Search out of order");
      }

      std::vector<float> queries = query;
      const std::vector<float> other = VectorOf(static_cast<int64_t>(rng() % kStable));
      queries.insert(queries.end(), other.begin(), other.end());
      Result<BatchResults> batch = col->SearchBatch(View(queries, kDim), {.k = 5});
      if (!batch.ok()) {
        fail("SearchBatch: " + batch.status().ToString());
        continue;
      }
      for (size_t i = 0; i < batch->int_ids.size(); ++i) {
        if (batch->int_ids[i] == -1) {
          if (!std::isinf(batch->distances[i])) fail("SearchBatch padding without +inf");
          if (i % 5 == 0) fail("SearchBatch row without any hit");
          if (i % 5 != 4 && batch->int_ids[i + 1] != -1) fail("SearchBatch padding mid-row");
          continue;
        }
        check_hit(batch->int_ids[i], batch->distances[i], Row(queries, kDim, i / 5), below,
                  "SearchBatch");
      }

      const std::vector<int64_t> probe = {target, (target + 1) % kStable};
      Result<std::vector<std::optional<Record>>> got = col->Get(IdsView::Ints(probe));
      if (!got.ok()) {
        fail("Get: " + got.status().ToString());
        continue;
      }
      for (size_t i = 0; i < probe.size(); ++i) {
        if (!(*got)[i].has_value()) {
          fail("Get lost stable id " + std::to_string(probe[i]));
        } else if ((*got)[i]->vector != VectorOf(probe[i])) {
          fail("Get returned a wrong vector for stable id " + std::to_string(probe[i]));
        }
      }
      if (!col->Contains(Id{target})) fail("Contains lost stable id " + std::to_string(target));
      if (col->size() < static_cast<size_t>(kStable)) fail("size() below the stable count");
      const CollectionStats st = col->Stats();
      if (st.count < static_cast<size_t>(kStable)) fail("Stats().count below the stable count");
      if (rng() % 8 == 0 && col->Ids().size() < static_cast<size_t>(kStable)) {
        fail("Ids() below the stable count");
      }
      reads.fetch_add(1, std::memory_order_relaxed);
    }
  };

  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) readers.emplace_back(reader, t + 1);

  for (int round = 0; round < kRounds && failures.load() == 0; ++round) {
    const std::vector<int64_t> churn = Iota(kChurn + round * kBatch, kBatch);
    Status s = col->Add(IdsView::Ints(churn), View(rows_of(churn), kDim));
    if (!s.ok()) fail("Add: " + s.ToString());
    // Re-put a few stable records with their own vector and new metadata.
    const std::vector<int64_t> again = {round % kStable, (round * 7 + 3) % kStable};
    const std::vector<Metadata> meta(2, Metadata{{"round", round}});
    s = col->Upsert(IdsView::Ints(again), View(rows_of(again), kDim), meta);
    if (!s.ok()) fail("Upsert: " + s.ToString());
    if (round > 0) {
      const std::vector<int64_t> previous = Iota(kChurn + (round - 1) * kBatch, kBatch);
      Result<size_t> removed = col->Delete(IdsView::Ints(previous));
      if (!removed.ok() || *removed != static_cast<size_t>(kBatch)) {
        fail("Delete: " + removed.status().ToString());
      }
      deleted_below.store(kChurn + round * kBatch, std::memory_order_release);
    }
    if (round >= kRounds / 2 && round % 5 == 0) {
      s = col->Compact();
      if (!s.ok()) fail("Compact: " + s.ToString());
    }
    if (disk() && round % 25 == 24) {
      s = col->Flush();
      if (!s.ok()) fail("Flush: " + s.ToString());
    }
  }
  // Let the readers overlap the end state too.
  while (reads.load(std::memory_order_relaxed) < 20 && failures.load() == 0) {
    std::this_thread::yield();
  }
  done.store(true, std::memory_order_release);
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(col->size(), static_cast<size_t>(kStable + kBatch));
  if (disk()) {
    EXPECT_GT(col->Stats().checkpoint_sequence, 1u) << "no automatic checkpoint ran";
  }
  EXPECT_OK(col->Close());
}

// Several threads writing at once are serialised: no lost or duplicated records.
TEST_P(CollectionTest, ConcurrentWritersAreSerialised) {
  CollectionOptions o = Options();
  o.m = 8;
  o.ef_construction = 32;
  o.durability = Durability::kBatch;
  auto col = OpenOrFail(o);
  ASSERT_NE(col, nullptr);
  constexpr int kThreads = 3, kPerThread = 40;
  std::atomic<int> failures{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::vector<int64_t> id = {t * 1000 + i};
        const std::vector<float> v = VectorOf(id[0]);
        if (!col->Add(IdsView::Ints(id), View(v, kDim)).ok()) failures.fetch_add(1);
        // Every writer also tries one id that all of them share: exactly one Add wins.
        if (i == 0) {
          const std::vector<int64_t> shared = {999999};
          const Status s = col->Add(IdsView::Ints(shared), View(v, kDim));
          if (!s.ok() && s.code() != StatusCode::kAlreadyExists) failures.fetch_add(1);
        }
      }
    });
  }
  for (std::thread& t : writers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(col->size(), static_cast<size_t>(kThreads * kPerThread + 1));
  EXPECT_OK(col->Close());
}

}  // namespace
}  // namespace augurdb
