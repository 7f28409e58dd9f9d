#include "index/hnsw_index.h"
#include "index/hnsw_walk.h"

#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>
#include <unordered_set>

#include "test_data.h"

namespace augurdb::index {
namespace {

using augurdb::testing::BruteForce;
using augurdb::testing::ClusteredData;
using augurdb::testing::TestSeed;

std::unique_ptr<HnswIndex> MakeIndex(size_t dim, Metric metric = Metric::kL2, size_t m = 12,
                                     size_t efc = 100, uint64_t seed = 42,
                                     Quantization quantization = Quantization::kNone) {
  HnswParams p;
  p.dim = dim;
  p.metric = metric;
  p.quantization = quantization;
  p.m = m;
  p.ef_construction = efc;
  p.seed = seed;
  auto r = HnswIndex::Create(p, simd::ActiveKernels());
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return std::move(r).value();
}

std::vector<Slot> AddAll(HnswIndex& index, const std::vector<float>& data, ThreadPool* pool,
                         size_t threads) {
  const size_t n = data.size() / index.dim();
  std::vector<Slot> slots;
  EXPECT_TRUE(index.AllocateSlots(n, &slots).ok());
  index.Insert(slots, data.data(), index.dim(), pool, threads);
  index.Publish(slots);
  return slots;
}

// Recall@k of the index against brute force over `alive` rows; row i lives in slot i.
double Recall(const HnswIndex& index, const std::vector<float>& data, const std::vector<float>& queries,
              size_t k, size_t ef, const std::vector<bool>* alive = nullptr) {
  const size_t dim = index.dim();
  const size_t nq = queries.size() / dim;
  std::vector<Neighbor> out(k);
  size_t hits = 0;
  const simd::DistanceFn dist = simd::DistanceFor(simd::ActiveKernels(), index.params().metric);
  for (size_t q = 0; q < nq; ++q) {
    const float* query = queries.data() + q * dim;
    std::vector<float> normed;
    if (index.params().metric == Metric::kCosine) {
      // The oracle compares against the stored (normalised) vectors.
      normed.assign(query, query + dim);
      float norm = 0;
      for (float x : normed) norm += x * x;
      for (float& x : normed) x /= std::sqrt(norm);
      query = normed.data();
    }
    std::vector<float> stored;
    const size_t n = data.size() / dim;
    stored.reserve(data.size());
    for (size_t i = 0; i < n; ++i) stored.insert(stored.end(), index.vector(static_cast<Slot>(i)),
                                                  index.vector(static_cast<Slot>(i)) + dim);
    const auto truth = BruteForce(stored, dim, query, k, dist, alive);
    SearchParams sp;
    sp.k = k;
    sp.ef = ef;
    const size_t found = index.Search(queries.data() + q * dim, sp, out.data());
    EXPECT_EQ(found, std::min(k, truth.size()));
    const float kth = truth.back().first;
    for (size_t i = 0; i < found; ++i) {
      if (alive != nullptr) {
        EXPECT_TRUE((*alive)[out[i].slot]) << "deleted slot " << out[i].slot << " returned";
      }
      if (out[i].distance <= kth + 1e-4f * (1 + std::fabs(kth))) ++hits;
    }
  }
  return static_cast<double>(hits) / static_cast<double>(nq * k);
}

// Well-separated clusters given in random order: after PlaceRows each cluster holds one run of
// slots, and the slots are a permutation of those handed in. 20,000 rows make 16 groups whose
// centres are rows c * n / 16; those rows are put one in each cluster.
TEST(HnswIndex, PlaceRowsGivesNearbyRowsNearbySlots) {
  constexpr size_t kDim = 8, kClusters = 16, kN = 20000;
  std::mt19937_64 rng(TestSeed());
  std::normal_distribution<float> noise(0.0f, 0.01f);
  std::vector<float> data(kN * kDim);
  std::vector<size_t> cluster(kN);
  for (size_t i = 0; i < kN; ++i) {
    cluster[i] = i % (kN / kClusters) == 0 ? i / (kN / kClusters) : rng() % kClusters;
    for (size_t d = 0; d < kDim; ++d) {
      // Cluster c sits on axis c % 8, on its positive side for c < 8: 16 directions.
      const float at = cluster[i] < kDim ? 10.0f : -10.0f;
      data[i * kDim + d] = (d == cluster[i] % kDim ? at : 0.0f) + noise(rng);
    }
  }
  for (Metric metric : {Metric::kL2, Metric::kCosine}) {
    auto index = MakeIndex(kDim, metric);
    std::vector<Slot> slots;
    ASSERT_TRUE(index->AllocateSlots(kN, &slots).ok());
    std::vector<Slot> placed = slots;
    ThreadPool pool(2);
    index->PlaceRows(data.data(), kDim, placed, &pool, 2);
    std::vector<Slot> sorted = placed;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, slots);  // a permutation
    // Slot ranges per cluster: every cluster has its own centre (and direction), so its rows
    // fill a run exactly.
    std::vector<Slot> lo(kClusters, kInvalidSlot), hi(kClusters, 0);
    std::vector<size_t> count(kClusters, 0);
    for (size_t i = 0; i < kN; ++i) {
      const size_t c = cluster[i];
      lo[c] = std::min(lo[c], placed[i]);
      hi[c] = std::max(hi[c], placed[i]);
      ++count[c];
    }
    size_t spread = 0, rows = 0;
    for (size_t c = 0; c < kClusters; ++c) {
      if (count[c] == 0) continue;
      spread += hi[c] - lo[c] + 1;
      rows += count[c];
    }
    EXPECT_EQ(spread, rows) << "metric " << static_cast<int>(metric);
    // Inserting with the placed slots stores each row in its own slot.
    index->Insert(placed, data.data(), kDim, &pool, 2);
    index->Publish(placed);
    std::vector<float> back(kDim);
    for (size_t i = 0; i < kN; i += 997) {
      index->CopyVector(placed[i], back.data());
      if (metric == Metric::kL2) {
        EXPECT_EQ(back, std::vector<float>(data.begin() + i * kDim, data.begin() + (i + 1) * kDim));
      }
      std::vector<Neighbor> out(1);
      ASSERT_EQ(index->Search(data.data() + i * kDim, {.k = 1, .ef = 32}, out.data(), nullptr,
                              nullptr),
                1u);
      EXPECT_NEAR(out[0].distance, 0.0f, 1e-4f);
    }
  }
  // Below the batch threshold the slots are left as they are.
  auto small = MakeIndex(kDim);
  std::vector<Slot> few;
  ASSERT_TRUE(small->AllocateSlots(100, &few).ok());
  std::vector<Slot> same = few;
  small->PlaceRows(data.data(), kDim, same, nullptr, 1);
  EXPECT_EQ(same, few);
}

TEST(HnswIndex, RejectsBadParams) {
  HnswParams p;
  p.dim = 0;
  EXPECT_EQ(HnswIndex::Create(p, simd::ActiveKernels()).status().code(), StatusCode::kInvalidArgument);
  p.dim = 8;
  p.m = 1;
  EXPECT_EQ(HnswIndex::Create(p, simd::ActiveKernels()).status().code(), StatusCode::kInvalidArgument);
}

TEST(HnswIndex, EmptyIndexReturnsNothing) {
  auto index = MakeIndex(8);
  const std::vector<float> q(8, 0.0f);
  Neighbor out[4];
  EXPECT_EQ(index->Search(q.data(), SearchParams{4, 16}, out), 0u);
  EXPECT_TRUE(index->CheckInvariants().ok());
}

TEST(HnswIndex, SingleAndKLargerThanSize) {
  auto index = MakeIndex(4);
  const std::vector<float> data = {1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 1};
  AddAll(*index, data, nullptr, 1);
  Neighbor out[10];
  const float q[4] = {1, 2, 3, 4};
  ASSERT_EQ(index->Search(q, SearchParams{10, 16}, out), 3u);
  EXPECT_EQ(out[0].slot, 0u);
  EXPECT_EQ(out[0].distance, 0.0f);
  EXPECT_LE(out[0].distance, out[1].distance);
  EXPECT_LE(out[1].distance, out[2].distance);
}

class HnswRecall : public ::testing::TestWithParam<Metric> {
 protected:
  // BulkCallsWalkingBuildCodesKeepRecall for one quantization.
  void BulkVersusSmallCalls(Quantization quantization, size_t dim);
};

TEST_P(HnswRecall, MatchesBruteForceOnClusteredData) {
  const size_t dim = 24, n = 4000;
  const auto data = ClusteredData(n, dim, TestSeed());
  const auto queries = ClusteredData(100, dim, TestSeed() + 1);
  auto index = MakeIndex(dim, GetParam());
  ThreadPool pool(2);
  AddAll(*index, data, &pool, 2);
  ASSERT_TRUE(index->CheckInvariants().ok()) << index->CheckInvariants().ToString();
  EXPECT_EQ(index->live_count(), n);
  const double recall = Recall(*index, data, queries, 10, 128);
  EXPECT_GE(recall, 0.95) << "metric " << MetricName(GetParam()) << " seed " << TestSeed();
}

// ef below k: the walk expands fewer nodes but still returns k results, and recall grows with
// ef up to the ef = k search (which used to be the floor).
TEST(HnswIndex, EfBelowKNarrowsTheWalkButReturnsK) {
  const size_t dim = 24, n = 4000;
  const auto data = ClusteredData(n, dim, TestSeed());
  const auto queries = ClusteredData(100, dim, TestSeed() + 1);
  auto index = MakeIndex(dim);
  AddAll(*index, data, nullptr, 1);
  SearchStats narrow, full;
  std::vector<Neighbor> out(10);
  for (size_t q = 0; q < 100; ++q) {
    ASSERT_EQ(index->Search(queries.data() + q * dim, SearchParams{10, 2, 0}, out.data(), &narrow),
              10u);
    for (size_t i = 1; i < 10; ++i) ASSERT_LE(out[i - 1].distance, out[i].distance);
    index->Search(queries.data() + q * dim, SearchParams{10, 10, 0}, out.data(), &full);
  }
  EXPECT_LT(narrow.hops, full.hops);
  EXPECT_LT(narrow.distances, full.distances);
  const double r2 = Recall(*index, data, queries, 10, 2), r5 = Recall(*index, data, queries, 10, 5);
  const double r10 = Recall(*index, data, queries, 10, 10);
  // Not monotonic query by query, but over 100 queries the gaps (~0.2) dwarf the noise.
  EXPECT_LT(r2, r5 + 0.02);
  EXPECT_LT(r5, r10 + 0.02);
  EXPECT_GT(r2, 0.3) << "a beam of 2 still finds neighbours";
}

// An fp32 or SQ8 bulk call (>= kBuildCodesMinBatch rows, dim >= kBuildCodesMinDim, at least a
// quarter of the index) walks codes made for the call (SQ4, or SQ8 below
// kBuildCodesSq4MinDim), encoding the nodes already in the
// graph too, and from kLocalityMinBatch rows links them in locality order. The graph must be as
// good as one built by small calls, which walk the fp32 rows (SQ8: the index's codes) in the
// caller's order.
TEST_P(HnswRecall, BulkCallsWalkingBuildCodesKeepRecall) {
  // SQ8 build codes (fp32 below kBuildCodesSq4MinDim; SQ8 walks its own there) and SQ4 ones.
  for (const size_t dim : {HnswIndex::kBuildCodesMinDim, HnswIndex::kBuildCodesSq4MinDim}) {
    for (const Quantization quantization : {Quantization::kNone, Quantization::kSq8}) {
      SCOPED_TRACE((quantization == Quantization::kNone ? "fp32 dim " : "sq8 dim ") +
                   std::to_string(dim));
      BulkVersusSmallCalls(quantization, dim);
    }
  }
}

void HnswRecall::BulkVersusSmallCalls(Quantization quantization, size_t dim) {
  const size_t first = HnswIndex::kLocalityMinBatch;
  const size_t n = first + 3000;
  static_assert(n - first >= HnswIndex::kBuildCodesMinBatch);
  const auto data = ClusteredData(n, dim, TestSeed());
  const auto queries = ClusteredData(100, dim, TestSeed() + 1);
  ThreadPool pool(2);
  auto add = [&](HnswIndex& index, size_t begin, size_t end) {
    std::vector<Slot> slots;
    ASSERT_TRUE(index.AllocateSlots(end - begin, &slots).ok());
    for (size_t i = 0; i < slots.size(); ++i) ASSERT_EQ(slots[i], begin + i);
    index.Insert(slots, data.data() + begin * dim, dim, &pool, 2);
    index.Publish(slots);
  };
  auto bulk = MakeIndex(dim, GetParam(), 12, 100, 42, quantization);
  add(*bulk, 0, first);  // into an empty index
  add(*bulk, first, n);  // into a non-empty one: the existing nodes are encoded as well
  auto small = MakeIndex(dim, GetParam(), 12, 100, 42, quantization);
  for (size_t begin = 0; begin < n; begin += HnswIndex::kBuildCodesMinBatch / 2) {
    add(*small, begin, std::min(n, begin + HnswIndex::kBuildCodesMinBatch / 2));
  }
  ASSERT_TRUE(bulk->CheckInvariants().ok()) << bulk->CheckInvariants().ToString();
  for (size_t ef : {16, 64}) {
    const double bulk_recall = Recall(*bulk, data, queries, 10, ef);
    const double small_recall = Recall(*small, data, queries, 10, ef);
    EXPECT_GE(bulk_recall, small_recall - 0.02)
        << "ef " << ef << " metric " << MetricName(GetParam()) << " seed " << TestSeed();
    if (ef == 64) EXPECT_GE(bulk_recall, 0.95);
  }
}

INSTANTIATE_TEST_SUITE_P(Metrics, HnswRecall,
                         ::testing::Values(Metric::kL2, Metric::kInnerProduct, Metric::kCosine),
                         [](const auto& info) { return std::string(MetricName(info.param)); });

TEST(HnswIndex, SingleThreadBuildIsDeterministic) {
  const size_t dim = 16, n = 2000;
  const auto data = ClusteredData(n, dim, TestSeed());
  auto a = MakeIndex(dim, Metric::kL2, 8, 64, 7);
  auto b = MakeIndex(dim, Metric::kL2, 8, 64, 7);
  AddAll(*a, data, nullptr, 1);
  AddAll(*b, data, nullptr, 1);
  for (Slot s = 0; s < n; ++s) {
    ASSERT_EQ(a->Degree(s, 0), b->Degree(s, 0)) << s;
  }
  Neighbor ra[10], rb[10];
  for (size_t q = 0; q < 50; ++q) {
    const size_t fa = a->Search(data.data() + q * dim, SearchParams{10, 32}, ra);
    const size_t fb = b->Search(data.data() + q * dim, SearchParams{10, 32}, rb);
    ASSERT_EQ(fa, fb);
    for (size_t i = 0; i < fa; ++i) ASSERT_EQ(ra[i].slot, rb[i].slot);
  }
}

// The neighbour heuristic as the HNSW paper (Algorithm 4) and Vamana state it, candidate by
// candidate with every distance recomputed: the strict pass, then the pass relaxed by the
// index's factor over the candidates not yet kept. SelectNeighbors computes the strict pass a
// column at a time and skips distances it already knows; it must choose exactly these.
std::vector<Neighbor> ReferenceSelection(const HnswIndex& index, std::vector<Neighbor> candidates,
                                         size_t max_count) {
  if (candidates.size() <= max_count) return candidates;
  const simd::DistanceFn dist = simd::DistanceFor(simd::ActiveKernels(), index.params().metric);
  std::vector<Neighbor> kept;
  std::vector<bool> is_kept(candidates.size(), false);
  auto pass = [&](float factor) {
    for (size_t i = 0; i < candidates.size() && kept.size() < max_count; ++i) {
      if (is_kept[i]) continue;
      bool keep = true;
      for (const Neighbor& s : kept) {
        const float d = dist(index.vector(candidates[i].slot), index.vector(s.slot), index.dim());
        if (factor * d < candidates[i].distance) {
          keep = false;
          break;
        }
      }
      if (keep) {
        is_kept[i] = true;
        kept.push_back(candidates[i]);
      }
    }
  };
  pass(1.0f);
  if (index.prune_factor() != 1.0f) pass(index.prune_factor());
  std::sort(kept.begin(), kept.end(), ByDistance);
  return kept;
}

TEST(HnswIndex, NeighbourSelectionMatchesTheReferenceHeuristic) {
  // Small-integer coordinates in clusters: every distance is an exact integer in float, so the
  // four-row and one-row kernels agree bit for bit and any difference is a different decision.
  const size_t dim = 24, n = 600;
  std::mt19937 rng(TestSeed());
  std::uniform_int_distribution<int> centre(0, 30), noise(-4, 4), pick(0, 7);
  std::vector<std::vector<int>> centres(8, std::vector<int>(dim));
  for (auto& c : centres) {
    for (int& x : c) x = centre(rng);
  }
  std::vector<float> data(n * dim);
  for (size_t i = 0; i < n; ++i) {
    const auto& c = centres[static_cast<size_t>(pick(rng))];
    for (size_t j = 0; j < dim; ++j) data[i * dim + j] = static_cast<float>(c[j] + noise(rng));
  }
  for (Metric metric : {Metric::kL2, Metric::kInnerProduct}) {
    SCOPED_TRACE(metric == Metric::kL2 ? "l2" : "ip");
    auto index = MakeIndex(dim, metric, 8, 32);
    AddAll(*index, data, nullptr, 1);
    const simd::DistanceFn dist = simd::DistanceFor(simd::ActiveKernels(), metric);
    size_t chosen = 0;
    for (Slot base = 0; base < n; ++base) {
      std::vector<Neighbor> all;
      for (Slot s = 0; s < n; ++s) {
        if (s != base) all.push_back({dist(index->vector(base), index->vector(s), dim), s});
      }
      std::sort(all.begin(), all.end(), ByDistance);
      all.resize(150);
      for (size_t max_count : {4u, 8u, 16u, 32u}) {
        std::vector<Neighbor> got = all;
        index->TEST_SelectNeighbors(got, max_count);
        const std::vector<Neighbor> want = ReferenceSelection(*index, all, max_count);
        ASSERT_EQ(got.size(), want.size()) << "base " << base << " max " << max_count;
        for (size_t i = 0; i < got.size(); ++i) {
          ASSERT_EQ(got[i].slot, want[i].slot) << "base " << base << " max " << max_count;
          ASSERT_EQ(got[i].distance, want[i].distance);
        }
        chosen += got.size();
      }
    }
    EXPECT_GT(chosen, n * 4);  // the selections were not trivially empty
  }
}

TEST(HnswIndex, DeleteRepairsListsAndKeepsRecall) {
  const size_t dim = 24, n = 4000;
  const auto data = ClusteredData(n, dim, TestSeed());
  const auto queries = ClusteredData(100, dim, TestSeed() + 2);
  auto index = MakeIndex(dim);
  ThreadPool pool(2);
  AddAll(*index, data, &pool, 2);
  std::vector<bool> alive(n, true);
  const double before = Recall(*index, data, queries, 10, 64, &alive);

  std::mt19937 rng(static_cast<uint32_t>(TestSeed()));
  std::vector<Slot> victims;
  for (Slot s = 0; s < n; ++s) {
    if (rng() % 10 < 3) {
      victims.push_back(s);
      alive[s] = false;
    }
  }
  EXPECT_EQ(index->Delete(victims, &pool, 2), victims.size());
  EXPECT_EQ(index->Delete(victims, &pool, 2), 0u);  // already deleted: ignored
  ASSERT_TRUE(index->CheckInvariants().ok()) << index->CheckInvariants().ToString();
  EXPECT_EQ(index->live_count(), n - victims.size());
  const double after = Recall(*index, data, queries, 10, 64, &alive);
  EXPECT_GE(after, before - 0.01) << "before " << before << " after " << after;
}

TEST(HnswIndex, ReclaimReusesSlotsAndStaysSearchable) {
  const size_t dim = 16, n = 1000;
  const auto data = ClusteredData(n, dim, TestSeed());
  auto index = MakeIndex(dim);
  AddAll(*index, data, nullptr, 1);
  std::vector<Slot> victims;
  for (Slot s = 0; s < n; s += 2) victims.push_back(s);
  index->Delete(victims, nullptr, 1);
  EXPECT_EQ(index->Reclaim(), victims.size());
  EXPECT_EQ(index->deleted_count(), 0u);
  std::vector<Slot> slots;
  ASSERT_TRUE(index->AllocateSlots(10, &slots).ok());
  for (Slot s : slots) EXPECT_EQ(s % 2, 0u) << "expected a reclaimed slot, got " << s;
  EXPECT_EQ(index->slot_end(), n);
  index->Insert(slots, data.data(), dim, nullptr, 1);
  index->Publish(slots);
  ASSERT_TRUE(index->CheckInvariants().ok()) << index->CheckInvariants().ToString();
  Neighbor out[1];
  ASSERT_EQ(index->Search(data.data(), SearchParams{1, 32}, out), 1u);
  EXPECT_EQ(out[0].distance, 0.0f);  // row 0 was re-added into a reclaimed slot
}

TEST(HnswIndex, DeletingEverythingEmptiesTheIndex) {
  const size_t dim = 8, n = 300;
  const auto data = ClusteredData(n, dim, TestSeed());
  auto index = MakeIndex(dim);
  auto slots = AddAll(*index, data, nullptr, 1);
  EXPECT_EQ(index->Delete(slots, nullptr, 1), n);
  ASSERT_TRUE(index->CheckInvariants().ok()) << index->CheckInvariants().ToString();
  Neighbor out[5];
  EXPECT_EQ(index->Search(data.data(), SearchParams{5, 16}, out), 0u);
  index->Reclaim();
  AddAll(*index, data, nullptr, 1);
  EXPECT_EQ(index->Search(data.data(), SearchParams{5, 16}, out), 5u);
}

// Searches run on several threads while one writer inserts (in parallel) and deletes. Run under
// TSan by `make test-tsan`; here it also checks that results are always well-formed.
TEST(HnswIndex, ConcurrentInsertSearchDelete) {
  const size_t dim = 16, n = 6000;
  const auto data = ClusteredData(n, dim, TestSeed());
  auto index = MakeIndex(dim, Metric::kL2, 8, 48);
  ThreadPool pool(3);
  std::atomic<bool> stop{false};
  std::atomic<size_t> searches{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&, t] {
      Neighbor out[10];
      size_t q = static_cast<size_t>(t);
      while (!stop.load()) {
        const size_t found = index->Search(data.data() + (q % n) * dim, SearchParams{10, 32}, out);
        for (size_t i = 1; i < found; ++i) ASSERT_LE(out[i - 1].distance, out[i].distance);
        for (size_t i = 0; i < found; ++i) ASSERT_LT(out[i].slot, index->slot_end());
        q += 7;
        searches++;
      }
    });
  }
  const size_t batch = 500;
  std::vector<Slot> all;
  for (size_t start = 0; start < n; start += batch) {
    std::vector<Slot> slots;
    ASSERT_TRUE(index->AllocateSlots(batch, &slots).ok());
    index->Insert(slots, data.data() + start * dim, dim, &pool, 3);
    index->Publish(slots);
    all.insert(all.end(), slots.begin(), slots.end());
    if (start % 1500 == 0) {
      std::vector<Slot> victims(all.end() - 100, all.end());
      index->Delete(victims, &pool, 2);
    }
    if (start % 3000 == 0) index->Reclaim();
  }
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_GT(searches.load(), 0u);
  ASSERT_TRUE(index->CheckInvariants().ok()) << index->CheckInvariants().ToString();
}

// A filter correlated with the data (a cluster label): most queries lie in other clusters, so
// the filtered walk starts among non-matches and must reach matches through bridges (two or
// three hops, or the lazily added seeds). It must return only matches, k of them, with recall
// against brute force over the matches; a count above the scan threshold forces the walk.
TEST(HnswFilter, CorrelatedLabelFilterWalkKeepsRecallAndReturnsOnlyMatches) {
  const size_t dim = 16, n = 12000, clusters = 4;
  std::mt19937_64 rng(TestSeed());
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> centres(clusters * dim);
  for (float& x : centres) x = 3.0f * normal(rng);
  auto draw = [&](size_t count, std::vector<uint8_t>* labels) {
    std::vector<float> out(count * dim);
    for (size_t i = 0; i < count; ++i) {
      const size_t c = rng() % clusters;
      if (labels != nullptr) labels->push_back(static_cast<uint8_t>(c));
      for (size_t d = 0; d < dim; ++d) out[i * dim + d] = centres[c * dim + d] + normal(rng);
    }
    return out;
  };
  std::vector<uint8_t> labels;
  const auto data = draw(n, &labels);
  const auto queries = draw(200, nullptr);
  auto index = MakeIndex(dim);
  ThreadPool pool(2);
  AddAll(*index, data, &pool, 2);
  std::vector<uint64_t> words((n + 63) / 64, 0);
  std::vector<bool> alive(n, false);
  size_t count = 0;
  for (size_t i = 0; i < n; ++i) {
    if (labels[i] != 0) continue;
    words[i >> 6] |= uint64_t{1} << (i & 63);
    alive[i] = true;
    ++count;
  }
  const SlotFilter filter{words.data(), n, count};
  SearchParams sp;
  sp.k = 10;
  sp.ef = 64;
  ASSERT_GT(count, HnswIndex::BruteForceThreshold(sp.ef)) << "the test must exercise the walk";
  const simd::DistanceFn dist = simd::DistanceFor(simd::ActiveKernels(), Metric::kL2);
  std::vector<Neighbor> out(sp.k);
  size_t hits = 0;
  SearchStats stats;
  for (size_t q = 0; q < 200; ++q) {
    const float* query = queries.data() + q * dim;
    const auto truth = BruteForce(data, dim, query, sp.k, dist, &alive);
    const size_t found = index->Search(query, sp, out.data(), &stats, &filter);
    ASSERT_EQ(found, sp.k) << "query " << q << " seed " << TestSeed();
    for (size_t i = 0; i < found; ++i) {
      ASSERT_TRUE(alive[out[i].slot]) << "slot " << out[i].slot << " fails the filter";
      if (out[i].distance <= truth.back().first * (1 + 1e-4f) + 1e-4f) ++hits;
    }
  }
  EXPECT_LT(stats.distances, 200 * count / 2) << "the walk should not degrade to scans";
  EXPECT_GE(static_cast<double>(hits) / (200.0 * sp.k), 0.95) << "seed " << TestSeed();
}

}  // namespace
}  // namespace augurdb::index
