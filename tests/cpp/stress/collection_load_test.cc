// Load test (issue 10, item 6): N threads add, upsert, delete, get and search (plain, filtered
// and batched) against one persistent collection for a bounded time, with automatic and
// explicit checkpoints running beside them; then the collection must hold exactly what the
// threads were told was written, pass Verify(), and reopen to the same state.
//
// Each thread owns a disjoint id range and keeps a model of its own records (id -> version), so
// the final state is known whatever the interleaving, and a thread can check its own records
// while others write: a Get or a search filtered to its own records must agree with its model.
//
// AUGURDB_STRESS_SECONDS (default 5) and AUGURDB_STRESS_THREADS (default 4) size the run;
// AUGUR_TEST_SEED fixes the per-thread operation mix. Meant to run under TSan too
// (make test-tsan).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include <augurdb/collection.h>

#include "support/file_helpers.h"

namespace augurdb {
namespace {

constexpr size_t kDim = 16;
constexpr int64_t kRangePerThread = int64_t{1} << 32;

uint64_t EnvNumber(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

// The vector of (id, version): distinct for every write of every id.
std::vector<float> VectorOf(int64_t id, uint32_t version) {
  std::vector<float> v(kDim);
  uint64_t x = static_cast<uint64_t>(id) * 0x9E3779B97F4A7C15ull + version * 0xBF58476D1CE4E5B9ull;
  for (size_t j = 0; j < kDim; ++j) {
    x ^= x >> 31;
    x *= 0x94D049BB133111EBull;
    v[j] = static_cast<float>(x >> 40) / static_cast<float>(1 << 24);  // [0, 1)
  }
  return v;
}

Metadata MetadataOf(int thread, uint32_t version) {
  return {{"thread", Value(static_cast<int64_t>(thread))},
          {"version", Value(static_cast<int64_t>(version))}};
}

float L2(const std::vector<float>& a, const std::vector<float>& b) {
  float d = 0;
  for (size_t j = 0; j < a.size(); ++j) d += (a[j] - b[j]) * (a[j] - b[j]);
  return d;
}

struct Counters {
  uint64_t adds = 0, upserts = 0, deletes = 0, gets = 0, searches = 0, filtered = 0, batches = 0,
           checkpoints = 0, counts = 0, rows_written = 0;
  uint64_t total() const {
    return adds + upserts + deletes + gets + searches + filtered + batches + checkpoints + counts;
  }
};

class Worker {
 public:
  Worker(Collection* col, int thread, uint64_t seed)
      : col_(col), thread_(thread), rng_(seed), base_(thread * kRangePerThread) {}

  // Runs until `stop`; every failure is recorded (no ASSERT: keep the other threads going).
  void Run(const std::atomic<bool>& stop) {
    while (!stop.load(std::memory_order_relaxed) && errors_.size() < 20) Step();
  }

  const std::map<int64_t, uint32_t>& model() const { return model_; }
  const std::vector<std::string>& errors() const { return errors_; }
  const Counters& counters() const { return counters_; }
  int thread() const { return thread_; }

 private:
  void Fail(const std::string& what) { errors_.push_back("thread " + std::to_string(thread_) + ": " + what); }

  std::optional<int64_t> RandomLiveId() {
    if (model_.empty()) return std::nullopt;
    auto it = model_.lower_bound(base_ + static_cast<int64_t>(rng_() % static_cast<uint64_t>(next_id_ + 1)));
    if (it == model_.end()) it = model_.begin();
    return it->first;
  }

  void Put(bool upsert, const std::vector<int64_t>& ids) {
    std::vector<float> flat;
    std::vector<Metadata> metadata;
    const uint32_t version = ++version_;
    for (int64_t id : ids) {
      const std::vector<float> v = VectorOf(id, version);
      flat.insert(flat.end(), v.begin(), v.end());
      metadata.push_back(MetadataOf(thread_, version));
    }
    const MatrixView matrix{flat.data(), ids.size(), kDim, 0};
    const Status s = upsert ? col_->Upsert(IdsView::Ints(ids), matrix, metadata)
                            : col_->Add(IdsView::Ints(ids), matrix, metadata);
    if (!s.ok()) return Fail((upsert ? "upsert: " : "add: ") + s.ToString());
    for (int64_t id : ids) model_[id] = version;
    (upsert ? counters_.upserts : counters_.adds)++;
    counters_.rows_written += ids.size();
  }

  void Step() {
    const uint32_t dice = static_cast<uint32_t>(rng_() % 100);
    if (dice < 30 || model_.size() < 8) {  // add new ids
      std::vector<int64_t> ids;
      const size_t n = 1 + rng_() % 8;
      for (size_t i = 0; i < n; ++i) ids.push_back(base_ + next_id_++);
      Put(false, ids);
    } else if (dice < 42) {  // upsert: existing and new ids
      std::vector<int64_t> ids;
      if (std::optional<int64_t> id = RandomLiveId()) ids.push_back(*id);
      if (std::optional<int64_t> id = RandomLiveId();
          id && std::find(ids.begin(), ids.end(), *id) == ids.end()) {
        ids.push_back(*id);
      }
      ids.push_back(base_ + next_id_++);
      Put(true, ids);
    } else if (dice < 55) {  // delete: existing ids and one never written
      std::vector<int64_t> ids;
      for (int i = 0; i < 3; ++i) {
        std::optional<int64_t> id = RandomLiveId();
        if (id && std::find(ids.begin(), ids.end(), *id) == ids.end()) ids.push_back(*id);
      }
      ids.push_back(base_ + kRangePerThread - 1);  // never written: ignored
      Result<size_t> removed = col_->Delete(IdsView::Ints(ids));
      if (!removed.ok()) return Fail("delete: " + removed.status().ToString());
      if (*removed != ids.size() - 1) {
        Fail("delete removed " + std::to_string(*removed) + " of " + std::to_string(ids.size() - 1) +
             " live ids");
      }
      for (int64_t id : ids) model_.erase(id);
      ++counters_.deletes;
    } else if (dice < 65) {  // read back own records: nobody else touches them
      std::vector<int64_t> ids;
      for (int i = 0; i < 4; ++i) {
        if (std::optional<int64_t> id = RandomLiveId()) ids.push_back(*id);
      }
      ids.push_back(base_ + kRangePerThread - 1);
      Result<std::vector<std::optional<Record>>> got = col_->Get(IdsView::Ints(ids));
      if (!got.ok()) return Fail("get: " + got.status().ToString());
      for (size_t i = 0; i < ids.size(); ++i) {
        auto it = model_.find(ids[i]);
        const std::optional<Record>& r = (*got)[i];
        if (it == model_.end()) {
          if (r) Fail("get: id " + std::to_string(ids[i]) + " was never written but is present");
        } else if (!r || r->vector != VectorOf(ids[i], it->second) ||
                   r->metadata != MetadataOf(thread_, it->second)) {
          Fail("get: id " + std::to_string(ids[i]) + " does not hold its last write");
        }
      }
      ++counters_.gets;
    } else if (dice < 80) {  // unfiltered search: sorted, ids from some thread's range
      const std::vector<float> q = VectorOf(static_cast<int64_t>(rng_()), 0);
      Result<std::vector<Hit>> hits = col_->Search(q, {.k = 10});
      if (!hits.ok()) return Fail("search: " + hits.status().ToString());
      for (size_t i = 1; i < hits->size(); ++i) {
        if ((*hits)[i].distance < (*hits)[i - 1].distance) Fail("search: results out of order");
      }
      ++counters_.searches;
    } else if (dice < 92) {  // search filtered to own records: every hit live, exact distance
      const std::vector<float> q = VectorOf(static_cast<int64_t>(rng_()), 0);
      SearchOptions options;
      options.k = 5;
      options.filter = "{\"thread\": " + std::to_string(thread_) + "}";
      Result<std::vector<Hit>> hits = col_->Search(q, options);
      if (!hits.ok()) return Fail("filtered search: " + hits.status().ToString());
      for (const Hit& hit : *hits) {
        const int64_t id = std::get<int64_t>(hit.id);
        auto it = model_.find(id);
        if (it == model_.end()) {
          Fail("filtered search returned id " + std::to_string(id) + ", not a live record of this thread");
        } else if (std::fabs(hit.distance - L2(q, VectorOf(id, it->second))) > 1e-3f) {
          Fail("filtered search: id " + std::to_string(id) + " has a stale distance");
        }
      }
      ++counters_.filtered;
    } else if (dice < 98) {  // batched search
      std::vector<float> queries;
      for (int i = 0; i < 4; ++i) {
        const std::vector<float> q = VectorOf(static_cast<int64_t>(rng_()), 0);
        queries.insert(queries.end(), q.begin(), q.end());
      }
      Result<BatchResults> batch = col_->SearchBatch({queries.data(), 4, kDim, 0}, {.k = 5});
      if (!batch.ok()) return Fail("search batch: " + batch.status().ToString());
      ++counters_.batches;
    } else if (rng_() % 8 == 0) {  // explicit checkpoint beside everything else
      const Status s = col_->Checkpoint();
      if (!s.ok()) return Fail("checkpoint: " + s.ToString());
      ++counters_.checkpoints;
    } else {  // count own records through the filter columns
      Result<size_t> n = col_->Count("{\"thread\": " + std::to_string(thread_) + "}");
      if (!n.ok()) return Fail("count: " + n.status().ToString());
      if (*n != model_.size()) {
        Fail("count says " + std::to_string(*n) + " records of this thread, the model " +
             std::to_string(model_.size()));
      }
      ++counters_.counts;
    }
  }

  Collection* col_;
  const int thread_;
  std::mt19937_64 rng_;
  const int64_t base_;
  int64_t next_id_ = 0;
  uint32_t version_ = 0;
  std::map<int64_t, uint32_t> model_;  // live id -> version of its last write
  std::vector<std::string> errors_;
  Counters counters_;
};

// Every record of every model present with its last write, and nothing else.
std::string CheckAgainstModels(const Collection& col, const std::vector<std::unique_ptr<Worker>>& workers) {
  std::string errors;
  size_t expected = 0;
  for (const auto& w : workers) {
    expected += w->model().size();
    std::vector<int64_t> ids;
    for (const auto& [id, version] : w->model()) ids.push_back(id);
    Result<std::vector<std::optional<Record>>> got = col.Get(IdsView::Ints(ids));
    if (!got.ok()) return "get: " + got.status().ToString();
    size_t i = 0;
    for (const auto& [id, version] : w->model()) {
      const std::optional<Record>& r = (*got)[i++];
      if (!r || r->vector != VectorOf(id, version) || r->metadata != MetadataOf(w->thread(), version)) {
        errors += "id " + std::to_string(id) + " does not hold its last acknowledged write\n";
        if (errors.size() > 2000) return errors;
      }
    }
  }
  if (col.size() != expected) {
    errors += "size() is " + std::to_string(col.size()) + ", the threads acknowledged " +
              std::to_string(expected) + " live records\n";
  }
  Result<VerifyReport> verified = col.Verify();
  if (!verified.ok()) errors += "Verify: " + verified.status().ToString() + "\n";
  return errors;
}

// The plain run, and one with SQ8 codes and vectors_on_disk, where every automatic checkpoint
// also swaps the fp32 rows searches and Gets read over to the new file mapping.
class CollectionLoadTest : public ::testing::TestWithParam<bool> {};

TEST_P(CollectionLoadTest, ThreadsWritingAndSearchingTogetherLoseNothing) {
  const bool on_disk = GetParam();
  const uint64_t seconds = EnvNumber("AUGURDB_STRESS_SECONDS", 5);
  const int threads = static_cast<int>(EnvNumber("AUGURDB_STRESS_THREADS", 4));
  const uint64_t seed = EnvNumber("AUGUR_TEST_SEED", std::random_device{}());
  std::printf("load test: %d threads, %llu s, seed %llu (AUGUR_TEST_SEED replays the mix)\n",
              threads, static_cast<unsigned long long>(seconds),
              static_cast<unsigned long long>(seed));
  const std::string dir = augurdb::testing::MakeTempDir("load");
  CollectionOptions options;
  options.path = dir;
  options.dim = kDim;
  options.m = 12;
  options.ef_construction = 64;
  options.threads = 2;
  options.durability = Durability::kSync;  // group commit under contention
  options.checkpoint_wal_bytes = 128 << 10;  // automatic checkpoints during the run
  if (on_disk) {
    options.quantization = Quantization::kSq8;
    options.vectors_on_disk = true;
  }

  std::vector<std::unique_ptr<Worker>> workers;
  const auto start = std::chrono::steady_clock::now();
  {
    Result<std::unique_ptr<Collection>> opened = Collection::Open(options);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    Collection& col = **opened;
    for (int t = 0; t < threads; ++t) {
      workers.push_back(std::make_unique<Worker>(&col, t, seed * 1000003 + static_cast<uint64_t>(t)));
    }
    std::atomic<bool> stop{false};
    std::vector<std::thread> running;
    for (auto& w : workers) running.emplace_back([&w, &stop] { w->Run(stop); });
    std::this_thread::sleep_for(std::chrono::seconds(seconds));
    stop.store(true);
    for (std::thread& t : running) t.join();
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    Counters sum;
    for (const auto& w : workers) {
      for (const std::string& e : w->errors()) ADD_FAILURE() << e;
      const Counters& c = w->counters();
      sum.adds += c.adds;
      sum.upserts += c.upserts;
      sum.deletes += c.deletes;
      sum.gets += c.gets;
      sum.searches += c.searches;
      sum.filtered += c.filtered;
      sum.batches += c.batches;
      sum.checkpoints += c.checkpoints;
      sum.counts += c.counts;
      sum.rows_written += c.rows_written;
    }
    std::printf("load test: %llu ops in %.1f s (%.0f ops/s): %llu adds, %llu upserts, %llu "
                "deletes (%llu rows written), %llu gets, %llu searches, %llu filtered, %llu "
                "batches, %llu counts, %llu explicit checkpoints; %zu live records, checkpoint "
                "sequence %llu\n",
                static_cast<unsigned long long>(sum.total()), elapsed,
                static_cast<double>(sum.total()) / elapsed,
                static_cast<unsigned long long>(sum.adds),
                static_cast<unsigned long long>(sum.upserts),
                static_cast<unsigned long long>(sum.deletes),
                static_cast<unsigned long long>(sum.rows_written),
                static_cast<unsigned long long>(sum.gets),
                static_cast<unsigned long long>(sum.searches),
                static_cast<unsigned long long>(sum.filtered),
                static_cast<unsigned long long>(sum.batches),
                static_cast<unsigned long long>(sum.counts),
                static_cast<unsigned long long>(sum.checkpoints), col.size(),
                static_cast<unsigned long long>(col.Stats().checkpoint_sequence));
    EXPECT_GT(sum.adds, 0u);
    EXPECT_EQ(CheckAgainstModels(col, workers), "");
    ASSERT_TRUE(col.Close().ok());
  }
  // Reopen: a clean close leaves one checkpoint holding everything.
  CollectionOptions again;
  again.path = dir;
  again.vectors_on_disk = on_disk;
  Result<std::unique_ptr<Collection>> reopened = Collection::Open(again);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_EQ(CheckAgainstModels(**reopened, workers), "") << "after reopening";
  ASSERT_TRUE((*reopened)->Close().ok());
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

INSTANTIATE_TEST_SUITE_P(Storage, CollectionLoadTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Sq8VectorsOnDisk" : "Fp32"; });

}  // namespace
}  // namespace augurdb
