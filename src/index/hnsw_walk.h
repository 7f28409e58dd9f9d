// Private to index/: the beam walk that insertion and search share (HNSW paper, Algorithms 1
// and 2), the per-walk scratch, and the exact rescoring of candidates. The walk is a template
// over its distance functor (Fp32Distance in vector_store.h, quant::SqDistance in
// quant/code_store.h) so each representation gets its own instantiation with the kernel calls
// inlined: no virtual call or branch on the representation per distance.
//
// Thread safety: the functions only read the graph (acquire loads, see hnsw_graph.h); each walk
// owns its WalkScratch, leased from a ScratchPool.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "index/hnsw_graph.h"
#include "index/search_pool.h"
#include "index/vector_store.h"
#include "util/aligned_buffer.h"
#include "util/prefetch.h"

namespace augurdb::index {

// Per-walk buffers, reused across walks so that nothing is allocated in the hot loop.
struct WalkScratch {
  VisitedTable visited;
  SearchPool pool;
  std::vector<uint32_t> batch;        // unvisited neighbours of one expansion
  std::vector<float> query;           // normalised query copy (cosine)
  std::vector<Neighbor> candidates;   // neighbour selection input/output
  std::vector<Neighbor> kept;         // SelectNeighbors: the chosen neighbours
  std::vector<float> pruner;          // SelectNeighbors: distance to a candidate's pruner
  std::vector<uint32_t> checked;      // SelectNeighbors: kept ones already tested per candidate
  std::vector<uint32_t> open;         // SelectNeighbors: candidates not yet dropped or kept
  std::vector<uint32_t> list_copy;    // a neighbour list copied out of its lock
  std::vector<std::vector<Neighbor>> selected;  // the new node's neighbours, per level
  AlignedBuffer<int16_t> prepared;    // quantized query (int16, padded and aligned)
};

class ScratchPool;

// Returns its WalkScratch to the pool on destruction. REQUIRES: the pool outlives the lease.
class ScratchLease {
 public:
  ScratchLease(const ScratchPool& pool, std::unique_ptr<WalkScratch> scratch)
      : pool_(pool), scratch_(std::move(scratch)) {}
  ~ScratchLease();
  ScratchLease(const ScratchLease&) = delete;
  ScratchLease& operator=(const ScratchLease&) = delete;
  WalkScratch& get() noexcept { return *scratch_; }

 private:
  const ScratchPool& pool_;
  std::unique_ptr<WalkScratch> scratch_;
};

// Scratch for concurrent walks, created on demand and kept for reuse. Thread safe.
class ScratchPool {
 public:
  // `batch`: neighbour ids one expansion may gather (max degree + 1).
  explicit ScratchPool(size_t batch) : batch_(batch) {}

  std::unique_ptr<ScratchLease> Lease() const {
    std::unique_ptr<WalkScratch> scratch;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!free_.empty()) {
        scratch = std::move(free_.back());
        free_.pop_back();
      }
    }
    if (!scratch) {
      scratch = std::make_unique<WalkScratch>();
      scratch->batch.resize(batch_);
    }
    return std::make_unique<ScratchLease>(*this, std::move(scratch));
  }

 private:
  friend class ScratchLease;
  const size_t batch_;
  mutable std::mutex mutex_;
  mutable std::vector<std::unique_ptr<WalkScratch>> free_;
};

inline ScratchLease::~ScratchLease() {
  std::lock_guard<std::mutex> lock(pool_.mutex_);
  pool_.free_.push_back(std::move(scratch_));
}

// A beam search's widths: the best `expand` candidates are expanded, the best `keep`
// (>= expand) are kept as results (SearchPool::Reset).
struct Beam {
  size_t expand;
  size_t keep;
};

// Closest first, ties by slot. A function object, not a function: std::sort called through a
// function pointer did not inline it (1.4% of a Fashion-MNIST build in the comparator calls).
struct ByDistanceOrder {
  bool operator()(const Neighbor& a, const Neighbor& b) const noexcept {
    return a.distance < b.distance || (a.distance == b.distance && a.slot < b.slot);
  }
};
inline constexpr ByDistanceOrder ByDistance{};

// The walk functions have internal linkage: each .cc that walks gets its own copy, and GCC
// inlines a helper called once (ScoreInto into the SQ beam) as it did when all of this lived in
// one file; with vague linkage it kept ScoreInto<SqDistance> out of line, a call per expansion.
namespace {

// Scores batch[0, n) into the pool, four at a time, prefetching the next group while the
// current one is computed. `before_last` runs just before the last group of four is computed, or
// before the first distance when there is no group of four (SearchLayer starts the next hop's
// misses there).
template <class Dist, class BeforeLast>
void ScoreInto(const Dist& dist, const uint32_t* batch, size_t n, SearchPool& pool,
               BeforeLast&& before_last) {
  for (size_t p = 0; p < std::min<size_t>(n, 4); ++p) dist.Prefetch(batch[p]);
  size_t j = 0;
  float d4[4];
  const size_t last = n >= 4 ? (n - 4) / 4 * 4 : 0;
  for (; j + 4 <= n; j += 4) {
    for (size_t p = j + 4; p < std::min(j + 8, n); ++p) dist.Prefetch(batch[p]);
    if (j == last) before_last();
    dist.Four(batch + j, d4);
    for (size_t t = 0; t < 4; ++t) pool.Insert(batch[j + t], d4[t]);
  }
  if (n < 4) before_last();
  for (; j < n; ++j) pool.Insert(batch[j], dist.One(batch[j]));
}

// Exact distances from `exact`'s query to the rows of slot_at(0..n), four rows at a time,
// handed to emit(i, distance). Every row is a cache miss: the first lines of the next
// kRowsAhead rows are prefetched (the hardware prefetcher follows a stream after its first
// lines), a window so a long run does not evict its own rows.
template <class SlotAt, class Emit>
void ScoreExact(const Fp32Distance& exact, size_t n, SlotAt&& slot_at, Emit&& emit) {
  constexpr size_t kRowsAhead = 12, kLinesPerRow = 8;
  const size_t lines = std::min((exact.dim * sizeof(float) + 63) / 64, kLinesPerRow);
  auto prefetch = [&](size_t from, size_t to) {
    for (size_t i = from; i < std::min(to, n); ++i) PrefetchLines(exact.row(slot_at(i)), lines);
  };
  prefetch(0, kRowsAhead);
  size_t j = 0;
  uint32_t slots4[4];
  float d4[4];
  for (; j + 4 <= n; j += 4) {
    prefetch(j + kRowsAhead, j + kRowsAhead + 4);
    for (size_t t = 0; t < 4; ++t) slots4[t] = slot_at(j + t);
    exact.Four(slots4, d4);
    for (size_t t = 0; t < 4; ++t) emit(j + t, d4[t]);
  }
  for (; j < n; ++j) emit(j, exact.One(slot_at(j)));
}

// Replaces each candidate's distance by the exact one.
inline void RescoreExact(const Fp32Distance& exact, std::vector<Neighbor>& candidates) {
  ScoreExact(
      exact, candidates.size(), [&](size_t i) { return candidates[i].slot; },
      [&](size_t i, float d) { candidates[i].distance = d; });
}

// Greedy descent from `entry` through levels from_level..to_level (upper levels, degree <= m):
// moves to the closest neighbour until none is closer. Returns the node reached.
template <class Dist>
Slot GreedyDescend(const HnswGraph& graph, const Dist& dist, Slot entry, int from_level,
                   int to_level, SearchStats* stats) {
  Slot cur = entry;
  float cur_dist = dist.One(cur);
  uint64_t distances = 1;
  // One list at a time, scored four at a time like the level-0 beam; then the same first-best
  // scan as the one-by-one greedy walk, so the path is identical.
  uint32_t next[kMaxUpperDegree];
  float d[kMaxUpperDegree];
  for (int level = from_level; level >= to_level; --level) {
    for (bool changed = true; changed;) {
      changed = false;
      const uint32_t* list = graph.links(cur, level);
      size_t count = 0;
      for (; count < graph.m(); ++count) {
        next[count] = LoadAcquire(list + count);
        if (next[count] == kNoLink) break;
      }
      for (size_t j = 0; j < count; ++j) dist.Prefetch(next[j]);
      size_t j = 0;
      for (; j + 4 <= count; j += 4) dist.Four(next + j, d + j);
      for (; j < count; ++j) d[j] = dist.One(next[j]);
      distances += count;
      for (j = 0; j < count; ++j) {
        if (d[j] < cur_dist) {
          cur_dist = d[j];
          cur = next[j];
          changed = true;
        }
      }
    }
  }
  if (stats != nullptr) stats->distances += distances;
  return cur;
}

// Beam search on one level from `entry`; leaves the best `beam.keep` in scratch.pool.
template <class Dist>
void SearchLayer(const HnswGraph& graph, const Dist& dist, Slot entry, Beam beam, int level,
                 WalkScratch& scratch, SearchStats* stats) {
  VisitedTable& visited = scratch.visited;
  SearchPool& pool = scratch.pool;
  uint32_t* batch = scratch.batch.data();
  const size_t max_degree = graph.max_degree(level);
  visited.Prepare(graph.capacity());
  pool.Reset(beam.keep, beam.expand);
  pool.Insert(entry, dist.One(entry));
  visited.Mark(entry);
  uint64_t distances = 1, hops = 0;
  while (pool.HasNext()) {
    const Slot node = pool.Pop();
    ++hops;
    // The likely next node's list is a cache miss of its own (glass prefetches it too); start
    // it now so that it overlaps this node's distances.
    if (pool.HasNext()) PrefetchLines(graph.links(pool.PeekNext(), level), 2);
    const uint32_t* list = graph.links(node, level);
    // Gather the unvisited neighbours first, so their data can be prefetched while the
    // distances of the earlier ones are computed.
    size_t n = 0;
    for (size_t j = 0; j < max_degree; ++j) {
      const Slot next = LoadAcquire(list + j);
      if (next == kNoLink) break;
      if (!visited.TestAndMark(next)) batch[n++] = next;
    }
    if (n == 0) continue;
    // Each hop starts with a full miss on its first codes: they are known only once its node
    // is popped. The node popped next is most likely the best unexpanded one now (this hop's
    // last inserts rarely displace it), and its list was prefetched above, so before the last
    // group its first unvisited neighbours' codes are started. This pays a search on compact
    // codes, not an insert walk (it sets dist.next_hop_rows to 0); fp32 rows are compute-bound
    // and gain nothing (Fp32Distance::kNextHopRows is 0).
    auto prefetch_next_hop = [&] {
      if constexpr (Dist::kNextHopRows > 0) {
        if (!pool.HasNext()) return;
        const uint32_t* next = graph.links(pool.PeekNext(), level);
        size_t started = 0;
        for (size_t j = 0; j < max_degree && started < dist.next_hop_rows; ++j) {
          const Slot slot = LoadAcquire(next + j);
          if (slot == kNoLink) break;
          if (!visited.Visited(slot)) {
            dist.Prefetch(slot);
            ++started;
          }
        }
      }
    };
    ScoreInto(dist, batch, n, pool, prefetch_next_hop);
    distances += n;
  }
  if (stats != nullptr) {
    stats->distances += distances;
    stats->hops += hops;
  }
}

}  // namespace

}  // namespace augurdb::index
