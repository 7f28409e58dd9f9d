#include "index/hnsw_index.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <new>
#include <string>
#include <type_traits>
#include <functional>
#include <limits>

#include "util/check.h"
#include "util/hash.h"
#include "util/spinlock.h"

namespace augurdb::index {
namespace {

constexpr int kMaxLevel = 30;
constexpr size_t kMaxUpperDegree = 512;  // Create() caps m here

// SelectNeighbors runs the HNSW heuristic twice, as DiskANN's RobustPrune does over a rising
// alpha (Subramanya et al., NeurIPS 2019; Vamana's occlude_list): first plain (drop candidate c
// when a kept neighbour s is closer to it than the base is: d(c, s) < d(c, base)), then over the
// dropped ones with the rule relaxed by alpha (drop c only if alpha * d(c, s) < d(c, base)) to
// fill the slots the first pass left free. The first pass keeps hnswlib's diverse set, long
// edges between clusters included; the second adds near neighbours that shorten walks.
// A single relaxed pass (commit 0b9a60f) filled the budget with near neighbours before the long
// edges came up in distance order: recall fell well below hnswlib's on clustered and
// high-dimensional data (issue 24). alpha = 1.1 (1.21 on squared distances); the data-set
// matrix (python -m augurdb.bench.graph_quality) measured it. Applies to L2 and cosine (1 - dot
// on unit vectors is half the squared L2); the inner product's -dot is no distance to scale,
// so it keeps the plain pass only.
constexpr float kPruneAlphaSquared = 1.21f;

inline uint32_t LoadAcquire(const uint32_t* p) noexcept {
  return std::atomic_ref<uint32_t>(*const_cast<uint32_t*>(p)).load(std::memory_order_acquire);
}
inline void StoreRelease(uint32_t* p, uint32_t v) noexcept {
  std::atomic_ref<uint32_t>(*p).store(v, std::memory_order_release);
}

constexpr uint64_t PackEntry(Slot slot, int level) noexcept {
  return (static_cast<uint64_t>(level + 1) << 32) | slot;
}
constexpr Slot EntrySlot(uint64_t packed) noexcept { return static_cast<Slot>(packed); }
constexpr int EntryLevel(uint64_t packed) noexcept { return static_cast<int>(packed >> 32) - 1; }

size_t RoundUp(size_t n, size_t multiple) { return (n + multiple - 1) / multiple * multiple; }

bool ByDistance(const Neighbor& a, const Neighbor& b) noexcept {
  return a.distance < b.distance || (a.distance == b.distance && a.slot < b.slot);
}

}  // namespace

struct HnswIndex::Scratch {
  VisitedTable visited;
  SearchPool pool;
  std::vector<uint32_t> batch;        // unvisited neighbours of one expansion
  std::vector<float> query;           // normalised query copy (cosine)
  std::vector<Neighbor> candidates;   // neighbour selection input/output
  std::vector<Neighbor> kept;         // SelectNeighbors: the chosen neighbours
  std::vector<float> pruner;          // SelectNeighbors: distance to a candidate's pruner
  std::vector<uint32_t> list_copy;    // a neighbour list copied out of its lock
  std::vector<std::vector<Neighbor>> selected;  // the new node's neighbours, per level
  AlignedBuffer<int16_t> prepared;    // quantized query (int16, padded and aligned)
};

// Returns its Scratch to the pool on destruction.
class HnswIndex::ScratchLease {
 public:
  ScratchLease(const HnswIndex& owner, std::unique_ptr<Scratch> scratch)
      : owner_(owner), scratch_(std::move(scratch)) {}
  ~ScratchLease() {
    std::lock_guard<std::mutex> lock(owner_.scratch_mutex_);
    owner_.scratch_pool_.push_back(std::move(scratch_));
  }
  Scratch& get() noexcept { return *scratch_; }

 private:
  const HnswIndex& owner_;
  std::unique_ptr<Scratch> scratch_;
};

std::unique_ptr<HnswIndex::ScratchLease> HnswIndex::LeaseScratch() const {
  std::unique_ptr<Scratch> scratch;
  {
    std::lock_guard<std::mutex> lock(scratch_mutex_);
    if (!scratch_pool_.empty()) {
      scratch = std::move(scratch_pool_.back());
      scratch_pool_.pop_back();
    }
  }
  if (!scratch) {
    scratch = std::make_unique<Scratch>();
    scratch->batch.resize(m0_ + 1);
  }
  return std::make_unique<ScratchLease>(*this, std::move(scratch));
}

Result<std::unique_ptr<HnswIndex>> HnswIndex::Create(const HnswParams& params,
                                                     const simd::KernelTable& kernels) {
  if (params.dim == 0 || params.dim > 65536) {
    return Status::InvalidArgument("dim must be in 1..65536, got " + std::to_string(params.dim));
  }
  if (params.m < 2 || params.m > 512) {
    return Status::InvalidArgument("m must be in 2..512, got " + std::to_string(params.m));
  }
  if (params.vectors_on_disk && params.quantization == Quantization::kNone) {
    // An fp32 walk reads the full rows at every step: from the file that is page faults.
    return Status::InvalidArgument("vectors on disk need a quantized index ('sq8' or 'sq4')");
  }
  if (params.ef_construction < 1 || params.ef_construction > 100000) {
    return Status::InvalidArgument("ef_construction must be in 1..100000, got " +
                                   std::to_string(params.ef_construction));
  }
  return std::unique_ptr<HnswIndex>(new HnswIndex(params, kernels));
}

HnswIndex::HnswIndex(const HnswParams& params, const simd::KernelTable& kernels)
    : params_(params),
      kernels_(kernels),
      distance_(simd::DistanceFor(kernels, params.metric)),
      distance4_(simd::Distance4For(kernels, params.metric)),
      m0_(2 * params.m),
      stride_(RoundUp(params.dim, 16)),
      links0_stride_(RoundUp(1 + 2 * params.m, 16)),
      upper_stride_(1 + params.m),
      level_mult_(1.0 / std::log(static_cast<double>(params.m))),
      prune_factor_(params.metric == Metric::kInnerProduct ? 1.0f : kPruneAlphaSquared) {
  // Prefetching a whole 784-d fp32 vector (49 lines) competes for bandwidth; a few lines start
  // the hardware stream prefetcher, which fetches the rest (PERFORMANCE.md technique 2).
  prefetch_lines_ = std::min<size_t>(stride_ * sizeof(float) / 64, 4);
  if (params.quantization != Quantization::kNone) {
    const bool sq4 = params.quantization == Quantization::kSq4;
    sq_ = std::make_unique<quant::ScalarQuantizer>(params.dim, sq4 ? 4 : 8, kernels);
    sq_ip_ = sq4 ? kernels.sq4_ip : kernels.sq8_ip;
    sq_ipx4_ = sq4 ? kernels.sq4_ipx4 : kernels.sq8_ipx4;
  }
}

HnswIndex::~HnswIndex() = default;

uint32_t* HnswIndex::Links(Slot slot, int level) noexcept {
  if (level == 0) return links0_.data() + static_cast<size_t>(slot) * links0_stride_;
  return upper_links_[slot].get() + static_cast<size_t>(level - 1) * upper_stride_;
}
const uint32_t* HnswIndex::Links(Slot slot, int level) const noexcept {
  return const_cast<HnswIndex*>(this)->Links(slot, level);
}
int HnswIndex::Level(Slot slot) const noexcept { return levels_[slot]; }

HnswIndex::SlotState HnswIndex::state(Slot slot) const noexcept {
  return static_cast<SlotState>(std::atomic_ref<uint8_t>(const_cast<uint8_t&>(states_[slot]))
                                    .load(std::memory_order_acquire));
}

namespace {
inline void SetState(AlignedBuffer<uint8_t>& states, Slot slot, HnswIndex::SlotState s) noexcept {
  std::atomic_ref<uint8_t>(states[slot]).store(static_cast<uint8_t>(s), std::memory_order_release);
}
}  // namespace


void HnswIndex::GrowTo(size_t new_capacity) {
  vectors_.Resize((new_capacity - mapped_rows_) * stride_);
  links0_.Resize(new_capacity * links0_stride_);
  levels_.Resize(new_capacity);
  states_.Resize(new_capacity);
  if (sq_) {
    codes_.Resize(new_capacity * sq_->code_stride());
    if (params_.metric == Metric::kL2) code_norms_.Resize(new_capacity);
  }
  upper_links_.resize(new_capacity);
  auto locks = std::make_unique<std::atomic<uint8_t>[]>(new_capacity);
  for (size_t i = 0; i < new_capacity; ++i) locks[i].store(0, std::memory_order_relaxed);
  node_locks_ = std::move(locks);  // no lock is held: growth runs under the exclusive lock
  capacity_ = new_capacity;
}

Status HnswIndex::AllocateSlots(size_t count, std::vector<Slot>* out) {
  out->clear();
  const size_t reused = std::min(count, free_slots_.size());
  const size_t fresh = count - reused;
  const size_t end = slot_end_.load(std::memory_order_relaxed);
  if (end + fresh > kMaxSlots) {
    return Status::ResourceExhausted("collection is full: at most " + std::to_string(kMaxSlots) +
                                     " vectors per collection");
  }
  if (end + fresh > capacity_) {
    size_t target = std::max<size_t>({end + fresh, capacity_ + capacity_ / 2, 1024});
    target = std::min(target, kMaxSlots);
    std::unique_lock<std::shared_mutex> lock(resize_mutex_);
    try {
      GrowTo(target);
    } catch (const std::bad_alloc&) {
      return Status::ResourceExhausted("out of memory growing the index to " +
                                       std::to_string(target) + " vectors");
    }
  }
  out->reserve(count);
  for (size_t i = 0; i < reused; ++i) {
    out->push_back(free_slots_.back());
    free_slots_.pop_back();
  }
  for (size_t i = 0; i < fresh; ++i) out->push_back(static_cast<Slot>(end + i));
  slot_end_.store(end + fresh, std::memory_order_release);
  return Status::OK();
}

void HnswIndex::Insert(std::span<const Slot> slots, const float* vectors, size_t row_stride,
                       ThreadPool* pool, size_t threads) {
  if (slots.empty()) return;
  std::shared_lock<std::shared_mutex> lock(resize_mutex_);
  const uint64_t first_draw = insert_counter_;
  insert_counter_ += slots.size();
  const size_t workers = (pool == nullptr || threads <= 1) ? 1 : std::min(threads, pool->size());
  std::vector<std::unique_ptr<ScratchLease>> leases(workers);
  for (auto& lease : leases) lease = LeaseScratch();

  auto run = [&](auto&& fn) {
    if (workers == 1) {
      for (size_t i = 0; i < slots.size(); ++i) fn(size_t{0}, i);
    } else {
      pool->ParallelFor(slots.size(), workers, fn);
    }
  };
  // Pass 1: copy (and normalise) the vectors into their rows.
  run([&](size_t, size_t i) {
    const Slot slot = slots[i];
    AUGUR_CHECK(slot < capacity_);
    float* dst = MutableRow(slot);  // a reused mapped row is copied on write (private mapping)
    std::memcpy(dst, vectors + i * row_stride, params_.dim * sizeof(float));
    if (params_.metric == Metric::kCosine) {
      const float norm = std::sqrt(kernels_.dot(dst, dst, params_.dim));
      if (norm > 0) {
        const float inv = 1.0f / norm;
        for (size_t d = 0; d < params_.dim; ++d) dst[d] *= inv;
      }
    }
  });
  // Quantizer range: fitted on the first batch into an empty index (no reader can use codes yet).
  if (sq_ && !sq_->fitted()) {
    std::vector<float> sample(slots.size() * params_.dim);
    for (size_t i = 0; i < slots.size(); ++i) {
      std::memcpy(sample.data() + i * params_.dim, vector(slots[i]), params_.dim * sizeof(float));
    }
    sq_->Fit(sample.data(), slots.size(), params_.dim);
  }
  // Pass 2: link each node into the graph.
  run([&](size_t worker, size_t i) {
    const Slot slot = slots[i];
    if (sq_) EncodeSlot(slot);
    // Level ~ floor(-ln(U) * mL), U uniform in (0, 1] from (seed, insertion number).
    const double u = UnitInterval(params_.seed, first_draw + i);
    const int level = std::min(kMaxLevel, static_cast<int>(-std::log(u) * level_mult_));
    levels_[slot] = static_cast<uint8_t>(level);
    if (level > 0) {
      upper_links_[slot] = std::make_unique<uint32_t[]>(static_cast<size_t>(level) * upper_stride_);
      upper_bytes_.fetch_add(static_cast<size_t>(level) * upper_stride_ * sizeof(uint32_t),
                             std::memory_order_relaxed);
    } else {
      upper_links_[slot].reset();
    }
    StoreRelease(Links(slot, 0), 0);
    SetState(states_, slot, SlotState::kInserting);
    InsertOne(slot, leases[worker]->get());
  });
}

void HnswIndex::EncodeSlot(Slot slot) {
  uint8_t* code = codes_.data() + static_cast<size_t>(slot) * sq_->code_stride();
  sq_->Encode(vector(slot), code);
  if (params_.metric == Metric::kL2) code_norms_[slot] = sq_->CodeNorm(code);
}

bool HnswIndex::RefitIfDrifted(double threshold) {
  if (!sq_ || !sq_->fitted() ||
      sq_->clamped_fraction() - sq_->expected_clamped_fraction() <= threshold) {
    return false;
  }
  std::unique_lock<std::shared_mutex> lock(resize_mutex_);
  const size_t end = slot_end();
  std::vector<float> sample;
  size_t rows = 0;
  for (size_t i = 0; i < end; ++i) {
    if (state(static_cast<Slot>(i)) == SlotState::kFree) continue;
    sample.insert(sample.end(), vector(static_cast<Slot>(i)), vector(static_cast<Slot>(i)) + params_.dim);
    ++rows;
  }
  sq_->Fit(sample.data(), rows, params_.dim);
  for (size_t i = 0; i < end; ++i) {
    if (state(static_cast<Slot>(i)) != SlotState::kFree) EncodeSlot(static_cast<Slot>(i));
  }
  return true;
}

Fp32Distance HnswIndex::ExactDistance(const float* query) const noexcept {
  return Fp32Distance{query, Rows(), params_.dim, distance_, distance4_, prefetch_lines_};
}

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

// Replaces each candidate's distance by the exact one, four rows at a time. Every row is a cache
// miss: the first lines of the next kRowsAhead rows are prefetched (the hardware prefetcher
// follows a stream after its first lines), a window so a large rerank does not evict its own rows.
void RescoreExact(const Fp32Distance& exact, std::vector<Neighbor>& candidates) {
  constexpr size_t kRowsAhead = 12, kLinesPerRow = 8;
  const size_t lines = std::min((exact.dim * sizeof(float) + 63) / 64, kLinesPerRow);
  const size_t n = candidates.size();
  auto prefetch = [&](size_t from, size_t to) {
    for (size_t i = from; i < std::min(to, n); ++i) {
      PrefetchLines(exact.row(candidates[i].slot), lines);
    }
  };
  prefetch(0, kRowsAhead);
  size_t j = 0;
  uint32_t slots4[4];
  float d4[4];
  for (; j + 4 <= n; j += 4) {
    prefetch(j + kRowsAhead, j + kRowsAhead + 4);
    for (size_t t = 0; t < 4; ++t) slots4[t] = candidates[j + t].slot;
    exact.Four(slots4, d4);
    for (size_t t = 0; t < 4; ++t) candidates[j + t].distance = d4[t];
  }
  for (; j < n; ++j) candidates[j].distance = exact.One(candidates[j].slot);
}

}  // namespace

template <class Dist>
Slot HnswIndex::GreedyDescend(const Dist& dist, Slot entry, int from_level, int to_level,
                              SearchStats* stats) const {
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
      const uint32_t* list = Links(cur, level);
      const size_t count = std::min<size_t>(LoadAcquire(list), params_.m);
      for (size_t j = 0; j < count; ++j) next[j] = LoadAcquire(list + 1 + j);
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

template <class Dist>
void HnswIndex::SearchLayer(const Dist& dist, Slot entry, Beam beam, int level,
                            Scratch& scratch, SearchStats* stats) const {
  VisitedTable& visited = scratch.visited;
  SearchPool& pool = scratch.pool;
  uint32_t* batch = scratch.batch.data();
  const size_t max_degree = MaxDegree(level);
  visited.Prepare(capacity_);
  pool.Reset(beam.keep, beam.expand);
  pool.Insert(entry, dist.One(entry));
  visited.Mark(entry);
  uint64_t distances = 1, hops = 0;
  while (pool.HasNext()) {
    const Slot node = pool.Pop();
    ++hops;
    // The likely next node's list is a cache miss of its own (glass prefetches it too); start
    // it now so that it overlaps this node's distances.
    if (pool.HasNext()) PrefetchLines(Links(pool.PeekNext(), level), 2);
    const uint32_t* list = Links(node, level);
    const size_t count = std::min<size_t>(LoadAcquire(list), max_degree);
    // Gather the unvisited neighbours first, so their data can be prefetched while the
    // distances of the earlier ones are computed.
    size_t n = 0;
    for (size_t j = 1; j <= count; ++j) {
      const Slot next = LoadAcquire(list + j);
      if (!visited.TestAndMark(next)) batch[n++] = next;
    }
    if (n == 0) continue;
    // Each hop starts with a full miss on its first codes: they are known only once its node
    // is popped. The node popped next is most likely the best unexpanded one now (this hop's
    // last inserts rarely displace it), and its list was prefetched above, so before the last
    // group its first unvisited neighbours' codes are started. SQ8/SQ4 on Fashion-MNIST: +10%
    // QPS at ef 12 and 24; fp32 rows (compute-bound, 49 lines) gain nothing: kNextHopRows 0.
    auto prefetch_next_hop = [&] {
      if constexpr (Dist::kNextHopRows > 0) {
        if (!pool.HasNext()) return;
        const uint32_t* next = Links(pool.PeekNext(), level);
        const size_t next_count = std::min<size_t>(LoadAcquire(next), max_degree);
        size_t started = 0;
        for (size_t j = 1; j <= next_count && started < Dist::kNextHopRows; ++j) {
          const Slot slot = LoadAcquire(next + j);
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

template <class Dist>
void HnswIndex::SearchLayerFiltered(const Dist& dist, Slot entry, Beam beam, Scratch& scratch,
                                    SearchStats* stats, const SlotFilter& filter) const {
  // Matches found per expansion, at most: direct (m0) + two hops (m0 * m0) + three hops
  // (kFarBridges * m0).
  constexpr size_t kFarBridges = 64;
  VisitedTable& visited = scratch.visited;
  SearchPool& pool = scratch.pool;
  const size_t batch_size = m0_ * (m0_ + 1 + kFarBridges);
  if (scratch.batch.size() < batch_size) scratch.batch.resize(batch_size);
  uint32_t* batch = scratch.batch.data();
  uint32_t bridges[2 * kMaxUpperDegree];  // m0 <= 2 * kMaxUpperDegree
  uint32_t far[kFarBridges];
  visited.Prepare(capacity_);
  pool.Reset(beam.keep, beam.expand);
  uint64_t distances = 0, hops = 0;
  // Collects the unvisited matches around `node`: direct neighbours that match, the matching
  // neighbours of those that do not (two hops, ACORN-1), and, when that finds almost nothing,
  // the matches three hops away through up to kFarBridges further non-matching nodes.
  auto gather = [&](Slot node) -> size_t {
    size_t n = 0, bridge_count = 0;
    const uint32_t* list = Links(node, 0);
    const size_t count = std::min<size_t>(LoadAcquire(list), m0_);
    for (size_t j = 1; j <= count; ++j) {
      const Slot next = LoadAcquire(list + j);
      if (visited.TestAndMark(next)) continue;
      if (filter.Test(next)) {
        batch[n++] = next;
      } else {
        bridges[bridge_count++] = next;
      }
    }
    // Each bridge list is a cache miss of its own: start them all before reading the first.
    for (size_t i = 0; i < bridge_count; ++i) PrefetchLines(Links(bridges[i], 0), 2);
    for (size_t i = 0; i < bridge_count; ++i) {
      const uint32_t* bridge = Links(bridges[i], 0);
      const size_t bridge_size = std::min<size_t>(LoadAcquire(bridge), m0_);
      for (size_t b = 1; b <= bridge_size; ++b) {
        const Slot two = LoadAcquire(bridge + b);
        if (filter.Test(two) && !visited.TestAndMark(two)) batch[n++] = two;
      }
    }
    if (n > 2) return n;
    // Sparse region (a filter correlated with the data, queried from outside its matches): the
    // nearest matches are often joined to the walk only through two non-matching nodes in a
    // row, so two hops strand them (recall stalled near 0.98 at any ef on Fashion-MNIST's
    // label filter). The bridge lists are in cache now; the third hop costs list reads only.
    size_t far_count = 0;
    for (size_t i = 0; i < bridge_count && far_count < kFarBridges; ++i) {
      const uint32_t* bridge = Links(bridges[i], 0);
      const size_t bridge_size = std::min<size_t>(LoadAcquire(bridge), m0_);
      for (size_t b = 1; b <= bridge_size && far_count < kFarBridges; ++b) {
        const Slot two = LoadAcquire(bridge + b);
        if (!filter.Test(two) && !visited.TestAndMark(two)) far[far_count++] = two;
      }
    }
    for (size_t i = 0; i < far_count; ++i) PrefetchLines(Links(far[i], 0), 2);
    for (size_t i = 0; i < far_count; ++i) {
      const uint32_t* three = Links(far[i], 0);
      const size_t three_size = std::min<size_t>(LoadAcquire(three), m0_);
      for (size_t b = 1; b <= three_size; ++b) {
        const Slot slot = LoadAcquire(three + b);
        if (filter.Test(slot) && !visited.TestAndMark(slot)) batch[n++] = slot;
      }
    }
    return n;
  };
  auto score = [&](size_t n) {
    ScoreInto(dist, batch, n, pool, [] {});
    distances += n;
  };
  // Seeds spread over the match set, for a walk that ran dry before filling the beam: when the
  // matches lie away from the query's region, the walk from `entry` may find no bridge to
  // them; a few matching seeds restart it inside the match set. Added only then, since up
  // front they cost distances and expansions far from the query in every search.
  auto seed = [&] {
    constexpr size_t kSeeds = 8;
    const size_t step = std::max<size_t>(1, filter.count / kSeeds);
    size_t seen = 0, seeded = 0, n = 0;
    const size_t words = (filter.size + 63) / 64;
    for (size_t w = 0; w < words && seeded < kSeeds; ++w) {
      const uint64_t bits = filter.words[w];
      const size_t here = static_cast<size_t>(__builtin_popcountll(bits));
      if (seen + here <= seeded * step) {
        seen += here;
        continue;
      }
      for (uint64_t b = bits; b != 0 && seeded < kSeeds; b &= b - 1, ++seen) {
        if (seen < seeded * step) continue;
        const Slot slot = static_cast<Slot>(w * 64 + static_cast<size_t>(__builtin_ctzll(b)));
        ++seeded;
        if (slot < slot_end() && !visited.TestAndMark(slot)) batch[n++] = slot;
      }
    }
    score(n);
  };
  visited.Mark(entry);
  if (filter.Test(entry)) {
    pool.Insert(entry, dist.One(entry));
    ++distances;
  } else {
    score(gather(entry));
    ++hops;
  }
  for (bool seeded = false;; seeded = true) {
    while (pool.HasNext()) {
      const Slot node = pool.Pop();
      ++hops;
      score(gather(node));
    }
    if (seeded || pool.size() >= beam.keep) break;
    seed();
  }
  if (stats != nullptr) {
    stats->distances += distances;
    stats->hops += hops;
  }
}

void HnswIndex::ScanExact(const Fp32Distance& exact, size_t k, Scratch& scratch,
                          SearchStats* stats, const SlotFilter* filter) const {
  SearchPool& pool = scratch.pool;
  pool.Reset(k);
  const size_t end = slot_end();
  uint64_t distances = 0;
  auto consider = [&](Slot slot) {
    if (state(slot) != SlotState::kLive) return;
    pool.Insert(slot, exact.One(slot));
    ++distances;
  };
  if (filter == nullptr) {
    for (size_t i = 0; i < end; ++i) consider(static_cast<Slot>(i));
  } else {
    const size_t words = (std::min(end, filter->size) + 63) / 64;
    for (size_t w = 0; w < words; ++w) {
      for (uint64_t bits = filter->words[w]; bits != 0; bits &= bits - 1) {
        const Slot slot = static_cast<Slot>(w * 64 + static_cast<size_t>(__builtin_ctzll(bits)));
        if (slot < end) consider(slot);
      }
    }
  }
  if (stats != nullptr) stats->distances += distances;
}

template <class Dist>
size_t HnswIndex::SearchGraph(const Dist& dist, uint64_t entry, Beam beam, size_t k,
                              Scratch& scratch, SearchStats* stats,
                              const SlotFilter* filter) const {
  Slot start = EntrySlot(entry);
  const int top = EntryLevel(entry);
  if (top > 0) start = GreedyDescend(dist, start, top, 1, stats);
  for (;;) {
    if (filter != nullptr) {
      SearchLayerFiltered(dist, start, beam, scratch, stats, *filter);
    } else {
      SearchLayer(dist, start, beam, 0, scratch, stats);
    }
    size_t live = 0;
    for (size_t i = 0; i < scratch.pool.size(); ++i) {
      live += state(scratch.pool.at(i).slot) == SlotState::kLive;
    }
    if (live >= k) return live;
    // A beam narrower than k can run dry before it has scored k nodes: walk again with the beam
    // as wide as the pool (the ef = k search), so that fewer than k results still means fewer
    // reachable nodes.
    if (beam.expand < beam.keep) {
      beam.expand = beam.keep;
      continue;
    }
    // Nodes being inserted or deleted concurrently take pool places without being results. If
    // they crowded out live ones, widen the beam (rare: only beside a writer).
    if (scratch.pool.size() < beam.keep || beam.keep >= live_count()) return live;
    beam.expand *= 2;
    beam.keep *= 2;
  }
}

SqDistance HnswIndex::ApproxDistance(const float* q, Scratch& scratch) const {
  scratch.prepared.Resize(sq_->query_dim());
  const bool l2 = params_.metric == Metric::kL2;
  quant::ScalarQuantizer::PreparedQuery prep = l2 ? sq_->PrepareL2(q, scratch.prepared.data())
                                               : sq_->PrepareDot(q, scratch.prepared.data());
  if (!l2) {  // distance = -dot (inner product) or 1 - dot (cosine)
    prep.bias = (params_.metric == Metric::kCosine ? 1.0f : 0.0f) - prep.bias;
    prep.gain = -prep.gain;
  }
  return SqDistance{scratch.prepared.data(), codes_.data(), l2 ? code_norms_.data() : nullptr,
                    sq_->code_stride(), sq_->query_dim(), prep.bias, prep.gain, sq_ip_, sq_ipx4_,
                    sq_->code_stride() / 64};
}

size_t HnswIndex::Search(const float* query, const SearchParams& params, Neighbor* out,
                         SearchStats* stats, const SlotFilter* filter) const {
  if (params.k == 0) return 0;
  std::shared_lock<std::shared_mutex> lock(resize_mutex_);
  const uint64_t entry = entry_.load(std::memory_order_acquire);
  if (entry == 0) return 0;
  if (filter != nullptr && filter->count == 0) return 0;
  auto lease = LeaseScratch();
  Scratch& scratch = lease->get();
  const float* q = query;
  if (params_.metric == Metric::kCosine) {
    scratch.query.assign(query, query + params_.dim);
    const float norm = std::sqrt(kernels_.dot(q, q, params_.dim));
    if (norm > 0) {
      for (float& x : scratch.query) x /= norm;
    }
    q = scratch.query.data();
  }
  const Fp32Distance exact = ExactDistance(q);
  // ef below k narrows the walk (fewer expansions) while k results are still kept; hnswlib
  // raises ef to k instead, which leaves no setting between ef = k and an exact scan.
  const Beam beam{std::max<size_t>(params.ef, 1), std::max(params.ef, params.k)};
  SearchPool& pool = scratch.pool;
  auto emit = [&](size_t limit) {
    size_t found = 0;
    for (size_t i = 0; i < pool.size() && found < limit; ++i) {
      const Neighbor nb = pool.at(i);
      if (state(nb.slot) == SlotState::kLive) out[found++] = nb;
    }
    return found;
  };
  // Exact scan when the beam would cover every candidate anyway (cheaper, and immune to graph
  // pathologies such as many exact duplicates; Qdrant's full_scan_threshold idea) or when a
  // filter leaves few enough matches (cost model: BruteForceThreshold).
  const bool scan = filter == nullptr ? live_count() <= beam.keep
                                      : filter->count <= BruteForceThreshold(beam.keep);
  if (scan) {
    ScanExact(exact, params.k, scratch, stats, filter);
    return emit(params.k);
  }
  if (sq_ == nullptr || !sq_->fitted()) {
    const size_t live = SearchGraph(exact, entry, beam, params.k, scratch, stats, filter);
    if (filter != nullptr && live < params.k && live < filter->count) {
      ScanExact(exact, params.k, scratch, stats, filter);  // the filtered walk fell short
    }
    return emit(params.k);
  }
  // Quantized: walk on the codes, then re-score the best candidates with the exact vectors.
  const SqDistance approx = ApproxDistance(q, scratch);
  const size_t live = SearchGraph(approx, entry, beam, params.k, scratch, stats, filter);
  if (filter != nullptr && live < params.k && live < filter->count) {
    ScanExact(exact, params.k, scratch, stats, filter);
    return emit(params.k);
  }
  // SQ4's coarser codes misorder more candidates (most on low-dimensional, tightly clustered
  // data), so its default re-scores twice as many.
  const size_t rerank = std::max(
      params.k, params.rerank != 0 ? params.rerank : (sq_->bits() == 4 ? 4 : 2) * params.k);
  std::vector<Neighbor>& candidates = scratch.candidates;
  candidates.clear();
  for (size_t i = 0; i < pool.size() && candidates.size() < rerank; ++i) {
    const Neighbor nb = pool.at(i);
    if (state(nb.slot) == SlotState::kLive) candidates.push_back(nb);
  }
  RescoreExact(exact, candidates);
  if (stats != nullptr) stats->distances += candidates.size();
  const size_t found = std::min(params.k, candidates.size());
  std::partial_sort(candidates.begin(), candidates.begin() + static_cast<ptrdiff_t>(found),
                    candidates.end(), ByDistance);
  std::copy(candidates.begin(), candidates.begin() + static_cast<ptrdiff_t>(found), out);
  return found;
}

void HnswIndex::SelectNeighbors(std::vector<Neighbor>& candidates, size_t max_count,
                                Scratch& scratch) const {
  if (candidates.size() <= max_count) return;
  // pruner[i]: d(c_i, s) for the kept s that last dropped candidate i (+inf: not tested yet,
  // -inf: kept). The relaxed pass retests a dropped candidate against that neighbour first, which
  // settles most of them without a new distance.
  std::vector<float>& pruner = scratch.pruner;
  pruner.assign(candidates.size(), std::numeric_limits<float>::infinity());
  std::vector<Neighbor>& kept = scratch.kept;
  kept.clear();
  auto pass = [&](float factor) {
    for (size_t i = 0; i < candidates.size() && kept.size() < max_count; ++i) {
      const Neighbor c = candidates[i];
      if (factor * pruner[i] < c.distance) continue;  // kept already, or dropped again
      bool keep = true;
      for (const Neighbor& s : kept) {
        const float d = distance_(vector(c.slot), vector(s.slot), params_.dim);
        if (factor * d < c.distance) {
          keep = false;
          pruner[i] = d;
          break;
        }
      }
      if (keep) {
        pruner[i] = -std::numeric_limits<float>::infinity();
        kept.push_back(c);
      }
    }
  };
  pass(1.0f);
  if (prune_factor_ != 1.0f) pass(prune_factor_);
  std::sort(kept.begin(), kept.end(), ByDistance);
  candidates.assign(kept.begin(), kept.end());
}

void HnswIndex::InsertOne(Slot slot, Scratch& scratch) {
  const int level = Level(slot);
  const float* q = vector(slot);
  uint64_t entry = entry_.load(std::memory_order_acquire);
  if (entry == 0) {
    std::lock_guard<std::mutex> lock(entry_mutex_);
    entry = entry_.load(std::memory_order_relaxed);
    if (entry == 0) {
      // Pairs with the acquire loads of entry_: the node's vector and level are visible.
      entry_.store(PackEntry(slot, level), std::memory_order_release);
      return;
    }
  }
  const int top = EntryLevel(entry);
  const Fp32Distance exact = ExactDistance(q);
  const int linked_top = std::min(level, top);
  if (scratch.selected.size() < static_cast<size_t>(linked_top) + 1) {
    scratch.selected.resize(static_cast<size_t>(linked_top) + 1);
  }
  // Phase 1: find and write this node's own lists on every level, top down. Nobody links to the
  // node yet, so no reader can reach it while a lower list is still empty.
  auto find_lists = [&](const auto& dist) {
    constexpr bool kApproximate = std::is_same_v<std::decay_t<decltype(dist)>, SqDistance>;
    Slot cur = EntrySlot(entry);
    if (top > level) cur = GreedyDescend(dist, cur, top, level + 1, nullptr);
    for (int l = linked_top; l >= 0; --l) {
      SearchLayer(dist, cur, Beam{params_.ef_construction, params_.ef_construction}, l, scratch,
                  nullptr);
      std::vector<Neighbor>& candidates = scratch.candidates;
      candidates.clear();
      for (size_t i = 0; i < scratch.pool.size(); ++i) {
        const Neighbor nb = scratch.pool.at(i);
        if (nb.slot != slot && state(nb.slot) != SlotState::kDeleted) candidates.push_back(nb);
      }
      std::vector<Neighbor>& selected = scratch.selected[static_cast<size_t>(l)];
      selected.clear();
      if (candidates.empty()) continue;
      if constexpr (kApproximate) {  // the heuristic compares exact distances: re-score, sort
        RescoreExact(exact, candidates);
        std::sort(candidates.begin(), candidates.end(), ByDistance);
      }
      cur = candidates.front().slot;
      SelectNeighbors(candidates, params_.m, scratch);
      selected.assign(candidates.begin(), candidates.end());
      SpinGuard guard(node_locks_[slot]);
      uint32_t* list = Links(slot, l);
      for (size_t j = 0; j < selected.size(); ++j) StoreRelease(list + 1 + j, selected[j].slot);
      StoreRelease(list, static_cast<uint32_t>(selected.size()));
    }
  };
  // Quantized: the beam walks on the codes like a search (every linked node has its code: it is
  // encoded before it is linked), and only the final candidates are re-scored exactly for the
  // neighbour heuristic. Fashion-MNIST: build +27% (SQ8) / +38% (SQ4) vectors/s, recall at every
  // ef unchanged within 0.001.
  if (sq_ != nullptr && sq_->fitted()) {
    find_lists(ApproxDistance(q, scratch));
  } else {
    find_lists(exact);
  }
  // Phase 2: publish the node by linking it from its neighbours, bottom up, so that a reader who
  // reaches it on some level finds its lists on every lower level complete.
  for (int l = 0; l <= linked_top; ++l) {
    for (const Neighbor& nb : scratch.selected[static_cast<size_t>(l)]) {
      AddReverseLink(nb.slot, slot, nb.distance, l, scratch);
    }
  }

  if (level > top) {
    std::lock_guard<std::mutex> lock(entry_mutex_);
    if (level > EntryLevel(entry_.load(std::memory_order_relaxed))) {
      entry_.store(PackEntry(slot, level), std::memory_order_release);
    }
  }
}

void HnswIndex::AddReverseLink(Slot target, Slot source, float distance, int level,
                               Scratch& scratch) {
  const size_t max_degree = MaxDegree(level);
  std::atomic<uint8_t>& lock = node_locks_[target];
  uint32_t* list = Links(target, level);
  std::vector<uint32_t>& copy = scratch.list_copy;
  std::vector<Neighbor>& candidates = scratch.candidates;
  for (int attempt = 0;; ++attempt) {
    // After two lost races, prune while holding the lock (hnswlib's way) to guarantee progress.
    const bool hold = attempt >= 2;
    SpinLock(lock);
    const uint32_t count = LoadAcquire(list);
    if (count < max_degree) {
      StoreRelease(list + 1 + count, source);
      StoreRelease(list, count + 1);
      SpinUnlock(lock);
      return;
    }
    copy.assign(list + 1, list + 1 + count);
    if (!hold) SpinUnlock(lock);
    // Full: re-select among the old neighbours and the new one, distances outside the lock.
    candidates.clear();
    const float* base = vector(target);
    for (uint32_t other : copy) {
      candidates.push_back(Neighbor{distance_(base, vector(other), params_.dim), other});
    }
    candidates.push_back(Neighbor{distance, source});
    std::sort(candidates.begin(), candidates.end(), ByDistance);
    SelectNeighbors(candidates, max_degree, scratch);
    if (!hold) {
      SpinLock(lock);
      bool unchanged = LoadAcquire(list) == copy.size();
      for (size_t j = 0; unchanged && j < copy.size(); ++j) {
        unchanged = LoadAcquire(list + 1 + j) == copy[j];
      }
      if (!unchanged) {  // another thread edited the list meanwhile: start over
        SpinUnlock(lock);
        continue;
      }
    }
    for (size_t j = 0; j < candidates.size(); ++j) StoreRelease(list + 1 + j, candidates[j].slot);
    StoreRelease(list, static_cast<uint32_t>(candidates.size()));
    SpinUnlock(lock);
    return;
  }
}

void HnswIndex::Publish(std::span<const Slot> slots) {
  size_t published = 0;
  for (Slot slot : slots) {
    if (state(slot) == SlotState::kInserting) {
      SetState(states_, slot, SlotState::kLive);
      ++published;
    }
  }
  live_count_.fetch_add(published, std::memory_order_relaxed);
}

size_t HnswIndex::Tombstone(std::span<const Slot> slots) {
  const size_t end = slot_end();
  size_t deleted = 0;
  for (Slot slot : slots) {
    if (slot < end && state(slot) == SlotState::kLive) {
      SetState(states_, slot, SlotState::kDeleted);
      ++deleted;
    }
  }
  if (deleted == 0) return 0;
  live_count_.fetch_sub(deleted, std::memory_order_relaxed);
  deleted_count_.fetch_add(deleted, std::memory_order_relaxed);
  const uint64_t entry = entry_.load(std::memory_order_acquire);
  if (entry != 0 && state(EntrySlot(entry)) == SlotState::kDeleted) ResetEntryPoint();
  return deleted;
}

size_t HnswIndex::Delete(std::span<const Slot> slots, ThreadPool* pool, size_t threads) {
  const size_t deleted = Tombstone(slots);
  if (deleted > 0) RepairDeleted(pool, threads);
  return deleted;
}

void HnswIndex::RepairDeleted(ThreadPool* pool, size_t threads) {
  std::shared_lock<std::shared_mutex> lock(resize_mutex_);
  const size_t end = slot_end();
  // Repair every surviving node that links to a deleted one (FreshDiskANN, Singh et al. 2021,
  // Algorithm 4: replace the deleted neighbour by its own neighbours, then prune with the same
  // heuristic).
  const size_t workers = (pool == nullptr || threads <= 1) ? 1 : std::min(threads, pool->size());
  std::vector<std::unique_ptr<ScratchLease>> leases(workers);
  for (auto& lease : leases) lease = LeaseScratch();
  auto task = [&](size_t worker, size_t i) {
    const Slot slot = static_cast<Slot>(i);
    const SlotState s = state(slot);
    if (s != SlotState::kLive && s != SlotState::kInserting) return;
    for (int level = 0; level <= Level(slot); ++level) {
      const uint32_t* list = Links(slot, level);
      const uint32_t count = LoadAcquire(list);
      for (uint32_t j = 1; j <= count; ++j) {
        if (state(LoadAcquire(list + j)) == SlotState::kDeleted) {
          RepairNode(slot, level, leases[worker]->get());
          break;
        }
      }
    }
  };
  if (workers == 1) {
    for (size_t i = 0; i < end; ++i) task(0, i);
  } else {
    pool->ParallelFor(end, workers, task);
  }
}

void HnswIndex::RepairNode(Slot slot, int level, Scratch& scratch) {
  const size_t max_degree = MaxDegree(level);
  uint32_t* list = Links(slot, level);
  std::vector<uint32_t>& copy = scratch.list_copy;
  {
    SpinGuard guard(node_locks_[slot]);
    const uint32_t count = LoadAcquire(list);
    copy.assign(list + 1, list + 1 + count);
  }
  std::vector<Neighbor>& candidates = scratch.candidates;
  candidates.clear();
  VisitedTable& seen = scratch.visited;
  seen.Prepare(capacity_);
  seen.Mark(slot);
  const float* base = vector(slot);
  auto consider = [&](Slot other) {
    if (seen.TestAndMark(other)) return;
    const SlotState s = state(other);
    if (s == SlotState::kDeleted || s == SlotState::kFree) return;
    candidates.push_back(Neighbor{distance_(base, vector(other), params_.dim), other});
  };
  for (Slot other : copy) {
    if (state(other) != SlotState::kDeleted) consider(other);
  }
  for (Slot other : copy) {
    if (state(other) != SlotState::kDeleted) continue;
    const uint32_t* via = Links(other, level);
    const uint32_t via_count = LoadAcquire(via);
    for (uint32_t j = 1; j <= via_count; ++j) consider(LoadAcquire(via + j));
  }
  std::sort(candidates.begin(), candidates.end(), ByDistance);
  // Refill with pruned candidates, closest first, back up to the degree the node had (the paper's
  // keepPrunedConnections, bounded): otherwise a node that lost neighbours to deletion ends up
  // with fewer links than before and recall at small ef drops; filling past the old degree
  // would leave no room for later inserts' reverse links.
  const size_t target_degree = std::min(max_degree, copy.size());
  scratch.selected.resize(std::max<size_t>(scratch.selected.size(), 1));
  std::vector<Neighbor>& all = scratch.selected[0];
  all.assign(candidates.begin(), candidates.end());
  SelectNeighbors(candidates, max_degree, scratch);
  for (size_t a = 0; a < all.size() && candidates.size() < target_degree; ++a) {
    bool kept = false;
    for (const Neighbor& c : candidates) kept = kept || c.slot == all[a].slot;
    if (!kept) candidates.push_back(all[a]);
  }
  SpinGuard guard(node_locks_[slot]);
  for (size_t j = 0; j < candidates.size(); ++j) StoreRelease(list + 1 + j, candidates[j].slot);
  StoreRelease(list, static_cast<uint32_t>(candidates.size()));
}

void HnswIndex::ResetEntryPoint() {
  std::lock_guard<std::mutex> lock(entry_mutex_);
  const size_t end = slot_end();
  Slot best = kInvalidSlot;
  int best_level = -1;
  for (size_t i = 0; i < end; ++i) {
    const Slot slot = static_cast<Slot>(i);
    const SlotState s = state(slot);
    if ((s == SlotState::kLive || s == SlotState::kInserting) && Level(slot) > best_level) {
      best = slot;
      best_level = Level(slot);
    }
  }
  entry_.store(best == kInvalidSlot ? 0 : PackEntry(best, best_level), std::memory_order_release);
}

size_t HnswIndex::Reclaim() {
  std::unique_lock<std::shared_mutex> lock(resize_mutex_);
  const size_t end = slot_end();
  size_t reclaimed = 0;
  for (size_t i = 0; i < end; ++i) {
    const Slot slot = static_cast<Slot>(i);
    if (state(slot) != SlotState::kDeleted) continue;
    SetState(states_, slot, SlotState::kFree);
    links0_[static_cast<size_t>(slot) * links0_stride_] = 0;
    upper_bytes_.fetch_sub(static_cast<size_t>(levels_[slot]) * upper_stride_ * sizeof(uint32_t),
                           std::memory_order_relaxed);
    upper_links_[slot].reset();
    levels_[slot] = 0;
    free_slots_.push_back(slot);
    ++reclaimed;
  }
  // Reused LIFO: push in descending order so the lowest slots are reused first.
  std::sort(free_slots_.begin(), free_slots_.end(), std::greater<Slot>());
  deleted_count_.store(0, std::memory_order_relaxed);
  return reclaimed;
}

size_t HnswIndex::Degree(Slot slot, int level) const {
  std::shared_lock<std::shared_mutex> lock(resize_mutex_);
  if (slot >= slot_end() || level > Level(slot)) return 0;
  return LoadAcquire(Links(slot, level));
}

size_t HnswIndex::MemoryBytes() const {
  std::shared_lock<std::shared_mutex> lock(resize_mutex_);
  return vectors_.bytes() + links0_.bytes() + levels_.bytes() + states_.bytes() + codes_.bytes() +
         code_norms_.bytes() +
         capacity_ * (sizeof(std::atomic<uint8_t>) + sizeof(std::unique_ptr<uint32_t[]>)) +
         upper_bytes_.load(std::memory_order_relaxed);
}

size_t HnswIndex::MappedVectorBytes() const {
  std::shared_lock<std::shared_mutex> lock(resize_mutex_);
  return mapped_rows_ * stride_ * sizeof(float);
}

void HnswIndex::RemapVectors(float* rows, std::shared_ptr<void> owner) {
  std::unique_lock<std::shared_mutex> lock(resize_mutex_);
  const size_t end = slot_end();
  AlignedBuffer<float> tail;
  tail.Resize((capacity_ - end) * stride_);  // may throw: nothing changed yet
  mapped_vectors_ = rows;
  mapped_rows_ = end;
  mapped_owner_ = std::move(owner);
  vectors_ = std::move(tail);
}

void HnswIndex::CopyVector(Slot slot, float* out) const {
  std::shared_lock<std::shared_mutex> lock(resize_mutex_);
  std::memcpy(out, vector(slot), params_.dim * sizeof(float));
}

HnswImage HnswIndex::ExportImage(std::string* upper_storage,
                                 std::string* quantizer_storage) const {
  const size_t end = slot_end();
  HnswImage image;
  image.slot_end = end;
  image.entry = entry_.load(std::memory_order_acquire);
  image.insert_counter = insert_counter_;
  auto bytes = [](const void* p, size_t n) {
    return std::span<char>(static_cast<char*>(const_cast<void*>(p)), n);
  };
  const size_t mapped = std::min(end, mapped_rows_);
  image.vectors = bytes(mapped_rows_ > 0 ? mapped_vectors_ : vectors_.data(),
                        (mapped_rows_ > 0 ? mapped : end) * stride_ * sizeof(float));
  if (mapped_rows_ > 0) {
    image.vectors_tail = bytes(vectors_.data(), (end - mapped) * stride_ * sizeof(float));
  }
  image.links0 = bytes(links0_.data(), end * links0_stride_ * sizeof(uint32_t));
  image.levels = bytes(levels_.data(), end);
  image.states = bytes(states_.data(), end);
  upper_storage->clear();
  for (size_t i = 0; i < end; ++i) {
    const int level = levels_[i];
    if (level == 0 || state(static_cast<Slot>(i)) == SlotState::kFree) continue;
    upper_storage->append(reinterpret_cast<const char*>(upper_links_[i].get()),
                          static_cast<size_t>(level) * upper_stride_ * sizeof(uint32_t));
  }
  image.upper = std::span<char>(upper_storage->data(), upper_storage->size());
  quantizer_storage->clear();
  if (sq_ && sq_->fitted()) {
    image.codes = bytes(codes_.data(), end * sq_->code_stride());
    quantizer_storage->resize(sq_->serialized_bytes());
    sq_->Serialize(quantizer_storage->data());
    image.quantizer = std::span<char>(quantizer_storage->data(), quantizer_storage->size());
  }
  return image;
}

Result<std::unique_ptr<HnswIndex>> HnswIndex::FromImage(const HnswParams& params,
                                                        const simd::KernelTable& kernels,
                                                        const HnswImage& image,
                                                        std::shared_ptr<void> owner) {
  AUGUR_ASSIGN_OR_RETURN(std::unique_ptr<HnswIndex> index, Create(params, kernels));
  HnswIndex& x = *index;
  const size_t end = image.slot_end;
  auto bad = [](const std::string& why) { return Status::Corruption("index image: " + why); };
  uint64_t entry = 0;
  if (end > kMaxSlots) return bad("slot count " + std::to_string(end) + " is impossible");
  if (image.vectors.size() != end * x.stride_ * sizeof(float) ||
      image.links0.size() != end * x.links0_stride_ * sizeof(uint32_t) ||
      image.levels.size() != end || image.states.size() != end) {
    return bad("array sizes do not match " + std::to_string(end) + " slots of dim " +
               std::to_string(params.dim));
  }
  if (reinterpret_cast<uintptr_t>(image.vectors.data()) % 64 != 0 ||
      reinterpret_cast<uintptr_t>(image.links0.data()) % 64 != 0) {
    return bad("arrays are not 64-byte aligned");
  }
  try {
    if (end > 0 && params.vectors_on_disk) {
      x.mapped_vectors_ = reinterpret_cast<float*>(image.vectors.data());
      x.mapped_rows_ = end;
      x.mapped_owner_ = owner;
    }
    if (end > 0) {
      if (!params.vectors_on_disk) {
        x.vectors_.Adopt(reinterpret_cast<float*>(image.vectors.data()), end * x.stride_, owner);
      }
      x.links0_.Adopt(reinterpret_cast<uint32_t*>(image.links0.data()), end * x.links0_stride_,
                      owner);
    }
    if (x.sq_ && !image.quantizer.empty()) {
      if (Status q = x.sq_->Restore(image.quantizer); !q.ok()) return bad(q.message());
      if (image.codes.size() != end * x.sq_->code_stride()) return bad("code array has the wrong size");
      if (end > 0) {
        x.codes_.Adopt(reinterpret_cast<uint8_t*>(image.codes.data()), image.codes.size(), owner);
      }
      if (params.metric == Metric::kL2) {  // derived from the codes, so never stored
        x.code_norms_.Resize(end);
        for (size_t i = 0; i < end; ++i) {
          x.code_norms_[i] = x.sq_->CodeNorm(x.codes_.data() + i * x.sq_->code_stride());
        }
      }
    } else if (!image.codes.empty() || !image.quantizer.empty() || (x.sq_ && end > 0)) {
      // Codes without SQ8, or an SQ8 index with nodes but no fitted range.
      return bad("quantizer state does not match the parameters");
    }
    x.levels_.Resize(end);
    x.states_.Resize(end);
    if (end > 0) {
      std::memcpy(x.levels_.data(), image.levels.data(), end);
      std::memcpy(x.states_.data(), image.states.data(), end);
    }
    x.upper_links_.resize(end);
    x.node_locks_ = std::make_unique<std::atomic<uint8_t>[]>(end == 0 ? 1 : end);
    for (size_t i = 0; i < end; ++i) x.node_locks_[i].store(0, std::memory_order_relaxed);
    x.capacity_ = end;
    size_t upper_pos = 0, live = 0, deleted = 0;
    for (size_t i = 0; i < end; ++i) {
      const uint8_t st = x.states_[i];
      if (st != static_cast<uint8_t>(SlotState::kLive) &&
          st != static_cast<uint8_t>(SlotState::kDeleted) &&
          st != static_cast<uint8_t>(SlotState::kFree)) {
        return bad("slot " + std::to_string(i) + " has state " + std::to_string(st));
      }
      if (x.levels_[i] > kMaxLevel) return bad("slot " + std::to_string(i) + " level too high");
      if (st == static_cast<uint8_t>(SlotState::kFree)) {
        x.levels_[i] = 0;
        // The bounds pass below skips free slots, yet a damaged graph may still link one and a
        // search would then follow its unchecked list (found by fuzz/db_open_fuzzer). An empty
        // list costs one store per free slot instead of a state lookup per link.
        x.Links(static_cast<Slot>(i), 0)[0] = 0;
        x.free_slots_.push_back(static_cast<Slot>(i));
        continue;
      }
      live += st == static_cast<uint8_t>(SlotState::kLive);
      deleted += st == static_cast<uint8_t>(SlotState::kDeleted);
      const size_t n = static_cast<size_t>(x.levels_[i]) * x.upper_stride_;
      if (n == 0) continue;
      if (image.upper.size() - upper_pos < n * sizeof(uint32_t)) return bad("upper lists truncated");
      x.upper_links_[i] = std::make_unique<uint32_t[]>(n);
      x.upper_bytes_.fetch_add(n * sizeof(uint32_t), std::memory_order_relaxed);
      std::memcpy(x.upper_links_[i].get(), image.upper.data() + upper_pos, n * sizeof(uint32_t));
      upper_pos += n * sizeof(uint32_t);
    }
    if (upper_pos != image.upper.size()) return bad("upper lists have trailing bytes");
    std::sort(x.free_slots_.begin(), x.free_slots_.end(), std::greater<Slot>());
    x.live_count_.store(live, std::memory_order_relaxed);
    x.deleted_count_.store(deleted, std::memory_order_relaxed);
    x.insert_counter_ = image.insert_counter;
    x.slot_end_.store(end, std::memory_order_release);
    entry = image.entry;
    // The level field is tested unsigned: EntryLevel() of a huge field would overflow an int.
    if (entry != 0 && (EntrySlot(entry) >= end || (entry >> 32) > uint64_t{kMaxLevel} + 1)) {
      return bad("entry point out of range");
    }
    x.entry_.store(entry, std::memory_order_release);
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted("out of memory loading the index");
  }
  // Checksums guard against damage; this guards memory safety against a well-formed file whose
  // content is still wrong (a bug, or a crafted file): every id must be in range before any is
  // followed. A sequential pass (the full CheckInvariants walk is `verify`'s job: it costs random
  // reads per link, too slow for every open).
  for (size_t i = 0; i < end; ++i) {
    const Slot slot = static_cast<Slot>(i);
    if (x.state(slot) == SlotState::kFree) continue;
    for (int level = 0; level <= x.Level(slot); ++level) {
      const uint32_t* list = x.Links(slot, level);
      const uint32_t count = list[0];
      if (count > x.MaxDegree(level)) {
        return bad("slot " + std::to_string(i) + " has degree " + std::to_string(count));
      }
      for (uint32_t j = 1; j <= count; ++j) {
        if (list[j] >= end || list[j] == slot) {
          return bad("slot " + std::to_string(i) + " links slot " + std::to_string(list[j]));
        }
        // A search at `level` reads the neighbour's list at that level: a lower node has none
        // (found by fuzz/db_open_fuzzer). Upper lists are few, so this costs little.
        if (level > 0 && x.Level(list[j]) < level) {
          return bad("slot " + std::to_string(i) + " level " + std::to_string(level) +
                     " links slot " + std::to_string(list[j]) + " of a lower level");
        }
      }
    }
  }
  if (entry != 0 && x.state(EntrySlot(entry)) == SlotState::kFree) {
    return bad("entry point is a free slot");
  }
  // Searches descend from the entry point's recorded level through its own lists.
  if (entry != 0 && EntryLevel(entry) != x.Level(EntrySlot(entry))) {
    return bad("entry point level " + std::to_string(EntryLevel(entry)) + " but slot " +
               std::to_string(EntrySlot(entry)) + " has level " +
               std::to_string(x.Level(EntrySlot(entry))));
  }
  return index;
}

Status HnswIndex::CheckInvariants(size_t* links) const {
  std::shared_lock<std::shared_mutex> lock(resize_mutex_);
  const size_t end = slot_end();
  size_t checked = 0;
  int max_level = -1;
  size_t live = 0;
  for (size_t i = 0; i < end; ++i) {
    const Slot slot = static_cast<Slot>(i);
    const SlotState s = state(slot);
    if (s == SlotState::kFree) continue;
    if (s == SlotState::kLive) {
      ++live;
      max_level = std::max(max_level, Level(slot));
    }
    for (int level = 0; level <= Level(slot); ++level) {
      const uint32_t* list = Links(slot, level);
      const uint32_t count = LoadAcquire(list);
      if (count > MaxDegree(level)) {
        return Status::Corruption("slot " + std::to_string(slot) + " level " +
                                  std::to_string(level) + " has degree " + std::to_string(count));
      }
      checked += count;
      for (uint32_t j = 1; j <= count; ++j) {
        const Slot other = LoadAcquire(list + j);
        const char* problem = nullptr;
        if (other >= end) {
          problem = " links out of range";
        } else if (other == slot) {
          problem = " links to itself";
        } else if (state(other) == SlotState::kFree) {
          problem = " links a free slot";
        } else if (Level(other) < level) {
          problem = " links a lower-level node";
        } else if (s == SlotState::kLive && state(other) == SlotState::kDeleted) {
          problem = " links a deleted slot";
        }
        if (problem != nullptr) {
          return Status::Corruption("slot " + std::to_string(slot) + " level " +
                                    std::to_string(level) + problem + " (" +
                                    std::to_string(other) + ")");
        }
      }
    }
  }
  if (live != live_count()) {
    return Status::Corruption("live count " + std::to_string(live_count()) + " but " +
                              std::to_string(live) + " live slots");
  }
  if (links != nullptr) *links = checked;
  const uint64_t entry = entry_.load(std::memory_order_acquire);
  if (live == 0) {
    if (entry != 0) return Status::Corruption("entry point set in an empty index");
    return Status::OK();
  }
  if (entry == 0) return Status::Corruption("no entry point in a non-empty index");
  if (state(EntrySlot(entry)) != SlotState::kLive) {
    return Status::Corruption("entry point is not live");
  }
  if (EntryLevel(entry) != max_level || Level(EntrySlot(entry)) != max_level) {
    return Status::Corruption("entry point level " + std::to_string(EntryLevel(entry)) +
                              " but max level " + std::to_string(max_level));
  }
  return Status::OK();
}

}  // namespace augurdb::index
