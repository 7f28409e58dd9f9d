// HNSW graph over fp32 vectors (Malkov & Yashunin, "Efficient and robust approximate nearest
// neighbor search using Hierarchical Navigable Small World graphs", TPAMI 2018).
//
// Layout: vectors in one 64-byte aligned array indexed by slot (row stride rounded up to 64
// bytes); level-0 neighbour lists in one fixed-stride array [count, id_0 .. id_{M0-1}, pad];
// upper levels in a small per-node array allocated only for nodes above level 0.
//
// Thread safety: Search() may run on any number of threads, concurrently with each other and
// with one writer call (AllocateSlots, Insert, Delete, Reclaim). Writer calls must be serialised
// by the caller (Collection holds its write mutex); each may use a ThreadPool internally.
//
// Invariants (checked by CheckInvariants):
//  1. Every id in a neighbour list is < slot_end(), != the owning slot, and its state is not
//     kFree; a list at level l has at most MaxDegree(l) ids; ids at level l > 0 belong to nodes
//     whose level >= l.
//  2. The entry point is kInvalidSlot iff no node is live; otherwise it is live (or, only during
//     a writer call, inserting) and its level == max_level.
//  3. After Delete() returns, no live node links to a deleted node (lists were repaired), so a
//     deleted slot can be reused once Reclaim() has run under the exclusive lock.
//
// Concurrency protocol: neighbour ids and counts are read with acquire loads and written with
// release stores (std::atomic_ref; plain MOVs on x86), and a node's vector, level and (quantized)
// code and code norm are written before its slot is first published in any list, so a reader
// that loads a slot id also sees that node's data (inserting threads walk the codes too).
// Writers modify a list only under that node's spinlock and never hold two. Arrays grow only
// under resize_mutex_ held exclusively; every reader holds it shared.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <vector>

#include <augurdb/metric.h>
#include <augurdb/status.h>

#include "index/distance_functors.h"
#include "index/search_pool.h"
#include "quant/scalar_quantizer.h"
#include "simd/distance.h"
#include "util/aligned_buffer.h"
#include "util/thread_pool.h"

namespace augurdb::index {

using Slot = uint32_t;
inline constexpr Slot kInvalidSlot = 0xffffffffu;
inline constexpr size_t kMaxSlots = size_t{1} << 31;  // SearchPool keeps a flag in bit 31

struct HnswParams {
  size_t dim = 0;                 // vector dimension, >= 1
  Metric metric = Metric::kL2;
  size_t m = 16;                  // max degree on levels >= 1; level 0 allows 2*m
  size_t ef_construction = 200;   // beam width while inserting
  uint64_t seed = 42;             // level draws are a pure function of (seed, insertion number)
  Quantization quantization = Quantization::kNone;  // representation walked by Search
  // Quantized indexes only: the fp32 rows taken over from a checkpoint (FromImage, RemapVectors)
  // stay in the file mapping, read only for reranks, instead of being copied into memory when the
  // index grows; only rows added since live in memory (see MappedVectorBytes).
  bool vectors_on_disk = false;
};

struct SearchParams {
  size_t k = 10;
  size_t ef = 64;      // beam width: nodes expanded; the best max(ef, k) scored are kept
  size_t rerank = 0;   // quantized: candidates re-scored exactly; 0 = 2k (SQ8), 4k (SQ4);
                       // at most max(ef, k)
};

// Restricts a search to the slots whose bit is set (a filter's match set, from the db layer).
struct SlotFilter {
  const uint64_t* words = nullptr;
  size_t size = 0;     // bits
  size_t count = 0;    // bits set (drives the brute-force decision)
  bool Test(uint32_t slot) const noexcept {
    return slot < size && ((words[slot >> 6] >> (slot & 63)) & 1) != 0;
  }
};

// Counters a search fills for benchmarks (machine-independent cost).
struct SearchStats {
  uint64_t distances = 0;
  uint64_t hops = 0;
};

// The whole graph as byte arrays, for checkpoints (the index itself never sees a file).
struct HnswImage {
  uint64_t slot_end = 0;        // slots in use, including deleted ones
  uint64_t entry = 0;           // packed entry point (slot | (level + 1) << 32), 0 = empty
  uint64_t insert_counter = 0;  // insertions so far (seeds the next level draws)
  std::span<char> vectors;      // slot_end rows of vector_stride() floats (ExportImage: the
  std::span<char> vectors_tail; // first rows; vectors_tail: the rest, when the rows are split
                                // between a mapped checkpoint and memory; empty otherwise)
  std::span<char> links0;       // slot_end rows of links0_stride() uint32
  std::span<char> levels;       // slot_end uint8
  std::span<char> states;       // slot_end uint8 (SlotState)
  std::span<char> upper;        // for each slot with level > 0, in slot order: level * (1 + m) uint32
  std::span<char> codes;        // SQ8/SQ4 only: slot_end rows of code_stride() bytes
  std::span<char> quantizer;    // SQ8/SQ4 only: ScalarQuantizer::Serialize bytes (empty = not fitted)
};

class HnswIndex {
 public:
  enum class SlotState : uint8_t { kFree = 0, kLive = 1, kDeleted = 2, kInserting = 3 };

  // Validates params. `kernels` must outlive the index.
  static Result<std::unique_ptr<HnswIndex>> Create(const HnswParams& params,
                                                   const simd::KernelTable& kernels);
  ~HnswIndex();
  HnswIndex(const HnswIndex&) = delete;
  HnswIndex& operator=(const HnswIndex&) = delete;

  const HnswParams& params() const noexcept { return params_; }
  size_t dim() const noexcept { return params_.dim; }
  // Nodes in state kLive.
  size_t live_count() const noexcept { return live_count_.load(std::memory_order_relaxed); }
  size_t deleted_count() const noexcept { return deleted_count_.load(std::memory_order_relaxed); }
  // One past the highest slot ever handed out.
  size_t slot_end() const noexcept { return slot_end_.load(std::memory_order_acquire); }
  size_t capacity() const noexcept { return capacity_; }

  // ---- writer calls (serialised by the caller) ----

  // Hands out `count` slots for new vectors: reclaimed ones first, then fresh ones, growing the
  // arrays if needed. The slots are in state kInserting until Insert() links them.
  // Returns kResourceExhausted past kMaxSlots or when memory runs out.
  Status AllocateSlots(size_t count, std::vector<Slot>* out);

  // Copies vectors[i] (row i of a row-major matrix with `row_stride` floats per row) into
  // slots[i] (normalised for the cosine metric) and links every one into the graph, spread over
  // up to `threads` workers of `pool` (nullptr or threads == 1: the calling thread only).
  // The nodes stay invisible to Search (state kInserting) until Publish().
  // REQUIRES: the slots came from AllocateSlots; vectors are finite (and non-zero for cosine).
  void Insert(std::span<const Slot> slots, const float* vectors, size_t row_stride,
              ThreadPool* pool, size_t threads);

  // Makes inserted slots visible to Search (kInserting -> kLive). Cheap: one store per slot, so
  // the caller can publish a batch together with its own bookkeeping under one lock.
  void Publish(std::span<const Slot> slots);

  // Hides the live slots given from Search (kLive -> kDeleted; others are ignored) and returns
  // how many changed. Cheap; the graph still links them until RepairDeleted().
  size_t Tombstone(std::span<const Slot> slots);

  // Rewrites every list that links a tombstoned node (FreshDiskANN-style repair), so that the
  // slots can later be reclaimed. Scans the whole graph; spread over `threads` workers.
  void RepairDeleted(ThreadPool* pool, size_t threads);

  // Tombstone + RepairDeleted. Returns how many were deleted. Deleted slots stay allocated
  // until Reclaim().
  size_t Delete(std::span<const Slot> slots, ThreadPool* pool, size_t threads);

  // Makes deleted slots reusable by AllocateSlots. Takes the resize lock exclusively, so no
  // search can still hold a path through them. Returns how many slots were reclaimed.
  size_t Reclaim();

  // ---- readers (any thread) ----

  // The k nearest live nodes to `query` (dim floats), closest first. Returns how many were
  // written to `out` (<= k; fewer only when fewer nodes are live or reachable).
  size_t Search(const float* query, const SearchParams& params, Neighbor* out,
                SearchStats* stats = nullptr, const SlotFilter* filter = nullptr) const;

  // With a filter, matches up to this many are scanned exactly instead of walking the graph:
  // scanning costs one distance per match, the filtered walk about as many distances as an
  // unfiltered search (~10 * ef on our data), plus list reads. Documented in the README.
  static size_t BruteForceThreshold(size_t ef) noexcept { return std::max<size_t>(2000, 16 * ef); }

  SlotState state(Slot slot) const noexcept;
  // Copies the stored vector of a slot into out[0, dim) under the growth lock (safe beside a
  // writer that may reallocate the arrays).
  void CopyVector(Slot slot, float* out) const;
  // The stored (for cosine: normalised) vector of a slot. REQUIRES: slot < slot_end(), and no
  // concurrent growth (writer calls serialised with the caller, or the caller holds a search).
  const float* vector(Slot slot) const noexcept { return Row(slot); }
  // Distance between a query and a stored vector, with the index's metric and kernels.
  float Distance(const float* query, Slot slot) const noexcept {
    return distance_(query, vector(slot), params_.dim);
  }

  // Bytes of RAM held by vectors, graph and per-slot state (allocated capacity), not counting
  // rows left in a checkpoint mapping (vectors_on_disk), which MappedVectorBytes reports: those
  // are clean file pages the kernel can drop and re-read, not memory the index holds.
  size_t MemoryBytes() const;
  size_t MappedVectorBytes() const;

  // Quantized: refits the quantizer on the live vectors and re-encodes every code if the share
  // of values clamped since the last fit exceeds the quantizer's expected share by more than
  // `threshold`. Takes the resize lock exclusively. Returns true if it refitted.
  bool RefitIfDrifted(double threshold = 0.01);
  const quant::ScalarQuantizer* quantizer() const noexcept { return sq_.get(); }

  // Checks invariants 1 and 2; returns kCorruption describing the first violation. `links`
  // (if given) receives the number of neighbour ids checked.
  Status CheckInvariants(size_t* links = nullptr) const;

  // Level-0 out-degree of a slot (for tests and stats).
  size_t Degree(Slot slot, int level) const;

  // ---- checkpoints ----
  size_t vector_stride() const noexcept { return stride_; }
  size_t links0_stride() const noexcept { return links0_stride_; }
  // Views of the index memory plus the upper lists packed into `upper_storage`.
  // REQUIRES: no writer call runs concurrently (the views stay valid until the next one).
  HnswImage ExportImage(std::string* upper_storage, std::string* quantizer_storage) const;
  // Rebuilds an index from an image. The vector and level-0 arrays are used in place (kept alive
  // by `owner`) until the index first grows (vectors_on_disk: the vectors for good). Validates
  // sizes and the graph invariants: kCorruption if they fail. REQUIRES: image.vectors_tail empty.
  static Result<std::unique_ptr<HnswIndex>> FromImage(const HnswParams& params,
                                                      const simd::KernelTable& kernels,
                                                      const HnswImage& image,
                                                      std::shared_ptr<void> owner);
  // vectors_on_disk, after a checkpoint: reads rows [0, slot_end()) from `rows` (the vectors
  // section just written, kept alive by `owner`) from now on and frees the in-memory copies.
  // A writer call. REQUIRES: `rows` holds exactly slot_end() rows equal to the current ones.
  void RemapVectors(float* rows, std::shared_ptr<void> owner);

 private:
  struct Scratch;
  class ScratchLease;

  HnswIndex(const HnswParams& params, const simd::KernelTable& kernels);

  // A beam search's widths: the best `expand` candidates are expanded, the best `keep`
  // (>= expand) are kept as results (SearchPool::Reset).
  struct Beam {
    size_t expand;
    size_t keep;
  };

  size_t MaxDegree(int level) const noexcept { return level == 0 ? m0_ : params_.m; }
  // Row of a slot: below mapped_rows_ in the checkpoint mapping, else in vectors_.
  VectorRows Rows() const noexcept {
    return VectorRows{mapped_vectors_, mapped_rows_, vectors_.data(), stride_};
  }
  const float* Row(Slot slot) const noexcept { return Rows().row(slot); }
  float* MutableRow(Slot slot) noexcept { return const_cast<float*>(Row(slot)); }
  uint32_t* Links(Slot slot, int level) noexcept;
  const uint32_t* Links(Slot slot, int level) const noexcept;
  int Level(Slot slot) const noexcept;

  void GrowTo(size_t new_capacity);  // REQUIRES: resize_mutex_ held exclusively
  void InsertOne(Slot slot, Scratch& scratch);
  template <class Dist>
  Slot GreedyDescend(const Dist& dist, Slot entry, int from_level, int to_level,
                     SearchStats* stats) const;
  // Beam search on one level from `entry`; leaves the best `ef` in scratch.pool.
  template <class Dist>
  void SearchLayer(const Dist& dist, Slot entry, Beam beam, int level, Scratch& scratch,
                   SearchStats* stats) const;
  // Greedy descent plus level-0 beam (widened when concurrent writers crowd the pool); returns
  // how many live candidates scratch.pool holds.
  template <class Dist>
  size_t SearchGraph(const Dist& dist, uint64_t entry, Beam beam, size_t k, Scratch& scratch,
                     SearchStats* stats, const SlotFilter* filter) const;
  // Level-0 beam restricted to `filter` (ACORN-1, Patel et al. SIGMOD 2024): distances only for
  // matching nodes; a non-matching neighbour is a bridge whose own neighbours are examined, and
  // when an expansion finds almost no new matches, a third hop through further bridges (a filter
  // correlated with the data leaves matches two non-matching nodes away; docs/filters.md).
  template <class Dist>
  void SearchLayerFiltered(const Dist& dist, Slot entry, Beam beam, Scratch& scratch,
                           SearchStats* stats, const SlotFilter& filter) const;
  // Exact scan of the live slots (restricted to `filter` if given) into scratch.pool (size k).
  void ScanExact(const Fp32Distance& exact, size_t k, Scratch& scratch, SearchStats* stats,
                 const SlotFilter* filter) const;
  Fp32Distance ExactDistance(const float* query) const noexcept;
  // The query prepared for the quantized kernels (in scratch.prepared). REQUIRES: sq_ fitted.
  SqDistance ApproxDistance(const float* query, Scratch& scratch) const;
  void EncodeSlot(Slot slot);
  // Heuristic neighbour selection (HNSW paper, Algorithm 4, without extension), then the slots
  // it left free filled by the same rule relaxed by Vamana's alpha (hnsw_index.cc,
  // kPruneAlphaSquared). Output sorted by distance, at most max_count.
  // REQUIRES: candidates sorted by ascending exact distance to the base.
  void SelectNeighbors(std::vector<Neighbor>& candidates, size_t max_count,
                       Scratch& scratch) const;
  void AddReverseLink(Slot target, Slot source, float distance, int level, Scratch& scratch);
  void RepairNode(Slot slot, int level, Scratch& scratch);
  void ResetEntryPoint();

  std::unique_ptr<ScratchLease> LeaseScratch() const;

  const HnswParams params_;
  const simd::KernelTable& kernels_;
  const simd::DistanceFn distance_;
  const simd::Distance4Fn distance4_;
  const size_t m0_;             // level-0 max degree (2 * m)
  const size_t stride_;         // floats per vector row (dim rounded up to 16)
  const size_t links0_stride_;  // uint32 per level-0 row (1 + m0, rounded up to 16)
  const size_t upper_stride_;   // uint32 per upper level (1 + m)
  const double level_mult_;     // 1 / ln(m)
  const float prune_factor_;    // alpha of the neighbour heuristic, on this metric's distances
  size_t prefetch_lines_;       // cache lines of a vector prefetched ahead

  mutable std::shared_mutex resize_mutex_;  // shared: every reader/writer; exclusive: growth
  size_t capacity_ = 0;
  std::atomic<size_t> slot_end_{0};
  AlignedBuffer<float> vectors_;   // rows [mapped_rows_, capacity_)
  float* mapped_vectors_ = nullptr;  // rows [0, mapped_rows_): vectors_on_disk only
  size_t mapped_rows_ = 0;
  std::shared_ptr<void> mapped_owner_;
  AlignedBuffer<uint32_t> links0_;
  std::vector<std::unique_ptr<uint32_t[]>> upper_links_;
  AlignedBuffer<uint8_t> levels_;
  AlignedBuffer<uint8_t> states_;  // SlotState, accessed through atomic_ref
  std::unique_ptr<std::atomic<uint8_t>[]> node_locks_;
  std::unique_ptr<quant::ScalarQuantizer> sq_;  // set when params.quantization != kNone
  AlignedBuffer<uint8_t> codes_;              // SQ8/SQ4 codes, code_stride() bytes per slot
  AlignedBuffer<float> code_norms_;           // quantized L2: CodeNorm of each slot's code
  simd::SqIpFn sq_ip_ = nullptr;              // the kernels for sq_'s code width
  simd::SqIpx4Fn sq_ipx4_ = nullptr;

  // Entry point and max level change together under entry_mutex_ and are published as one
  // packed word (slot in the low 32 bits, level + 1 in the high bits; 0 = empty) so readers
  // take a consistent snapshot with one acquire load.
  std::mutex entry_mutex_;
  std::atomic<uint64_t> entry_{0};

  std::atomic<size_t> live_count_{0};
  std::atomic<size_t> deleted_count_{0};  // written by writers, read by Stats
  std::atomic<size_t> upper_bytes_{0};    // bytes of upper-level lists allocated
  uint64_t insert_counter_ = 0;   // writer-only: seeds the level draws
  std::vector<Slot> free_slots_;  // writer-only: reclaimed slots, reused LIFO

  mutable std::mutex scratch_mutex_;
  mutable std::vector<std::unique_ptr<Scratch>> scratch_pool_;
};

}  // namespace augurdb::index
