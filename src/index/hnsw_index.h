// HNSW index over fp32 vectors (Malkov & Yashunin, "Efficient and robust approximate nearest
// neighbor search using Hierarchical Navigable Small World graphs", TPAMI 2018): the public face
// of index/, composed of three stores that grow together under one resize lock:
//   HnswGraph (hnsw_graph.h)     links, levels, slot states, node locks, entry point
//   VectorStore (vector_store.h) fp32 rows, in memory or in a checkpoint mapping
//   quant::CodeStore             SQ8/SQ4 codes and their distance functor (quantized only)
// Its work is split by operation: hnsw_insert.cc (insertion, neighbour selection),
// hnsw_search.cc (exact, filtered and quantized search with rerank), hnsw_repair.cc (delete,
// repair, reclaim), hnsw_image.cc (checkpoint image), hnsw_invariants.cc; the beam walk they
// share is in hnsw_walk.h. Invariants and the concurrency protocol: hnsw_graph.h.
//
// Thread safety: the readers (Search, CopyVector, Distance, state, Degree, MemoryBytes,
// MappedVectorBytes, CheckInvariants) may run on any number of threads, concurrently with each
// other and with one writer call. Writer calls (AllocateSlots, Insert, Publish, Tombstone,
// RepairDeleted, Delete, Reclaim, RefitIfDrifted, RemapVectors) must be serialised by the caller
// (Collection holds its write mutex); each may use a ThreadPool internally. Reclaim,
// RefitIfDrifted, RemapVectors and growth in AllocateSlots take the resize lock exclusively, so
// they wait for running searches (no array moves under a reader); Search, Insert,
// RepairDeleted, CopyVector, Degree, MemoryBytes and CheckInvariants hold it shared; Publish,
// Tombstone, state, vector and Distance take no lock (atomic per-slot stores and loads).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <vector>

#include <augurdb/metric.h>
#include <augurdb/status.h>

#include "index/hnsw_graph.h"
#include "index/search_pool.h"
#include "index/vector_store.h"
#include "quant/code_store.h"
#include "quant/scalar_quantizer.h"
#include "simd/distance.h"
#include "util/thread_pool.h"

namespace augurdb::index {

struct WalkScratch;
class ScratchPool;

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
  std::span<char> upper;        // per non-free slot with level > 0, in slot order:
                                // level * m uint32
  bool legacy_lists = false;    // links0 and upper in format 3's layout (GraphImage)
  std::span<char> codes;        // quantized only: slot_end rows of code_stride() bytes
  std::span<char> quantizer;    // quantized only: ScalarQuantizer::Serialize bytes
                                // (empty = not fitted)
};

class HnswIndex {
 public:
  using SlotState = index::SlotState;

  // Validates params. `kernels` must outlive the index.
  static Result<std::unique_ptr<HnswIndex>> Create(const HnswParams& params,
                                                   const simd::KernelTable& kernels);
  ~HnswIndex();
  HnswIndex(const HnswIndex&) = delete;
  HnswIndex& operator=(const HnswIndex&) = delete;

  const HnswParams& params() const noexcept { return params_; }
  size_t dim() const noexcept { return params_.dim; }
  // Nodes in state kLive.
  size_t live_count() const noexcept { return graph_.live_count(); }
  size_t deleted_count() const noexcept { return graph_.deleted_count(); }
  // One past the highest slot ever handed out.
  size_t slot_end() const noexcept { return graph_.slot_end(); }
  size_t capacity() const noexcept { return graph_.capacity(); }

  // An Insert call of at least kBuildCodesMinBatch rows of dim >= kBuildCodesMinDim, and at
  // least a quarter of the index, walks codes made for the call (see BuildCodes): SQ4 from
  // kBuildCodesSq4MinDim, SQ8 below it; an index whose own codes are as small walks those.
  static constexpr size_t kBuildCodesMinBatch = 1000;
  // Measured (bench.ann.graph_quality, AVX-512): 2-thread build with SQ4 codes +59% at 784-d,
  // +38% at 384-d, +15% at 128-d on 100K (hnswlib's rate rose as much in that run) and -16% at
  // 64-d, where an fp32 row is four cache lines and the codes save little. At 1M x 128 SQ4 codes
  // built fp32 +16-30% but cost recall .005 at ef 16; SQ8 codes (a quarter of the fp32 row)
  // keep the graph's recall.
  static constexpr size_t kBuildCodesMinDim = 128;
  static constexpr size_t kBuildCodesSq4MinDim = 256;
  int BuildCodeBits() const noexcept { return params_.dim >= kBuildCodesSq4MinDim ? 4 : 8; }
  // An Insert call of at least this many rows that walks codes links them in locality order
  // (LocalityOrder; L2 and cosine only; not with SQ8 build codes, see Insert).
  static constexpr size_t kLocalityMinBatch = 10000;

  // ---- writer calls (serialised by the caller) ----

  // Hands out `count` slots for new vectors: reclaimed ones first, then fresh ones, growing the
  // arrays if needed. The slots stay kFree until Insert() initialises them (kInserting) and
  // links them.
  // Returns kResourceExhausted past kMaxSlots or when memory runs out.
  Status AllocateSlots(size_t count, std::vector<Slot>* out);
  // Grows the arrays to hold `slots` slots in all (no-op when they already do), so that
  // AllocateSlots does not copy them until then. kResourceExhausted when memory runs out
  // (capacity unchanged). REQUIRES: slots <= kMaxSlots.
  Status Reserve(size_t slots);

  // Lays out a bulk call: permutes `slots` (one per row of `vectors`, row-major with
  // `row_stride` floats per row) so that rows near each other in space get slots near each
  // other. Each row's group is its nearest of up to kPlacementMaxGroups rows spread over the
  // call (cosine: by angle, else L2), and the groups take runs of the slots in ascending order.
  // A node's neighbours then share pages and cache lines with it (codes, rows and lists): on
  // 1M x 128 clustered data SQ8 searches ran 1.1-1.3x faster at equal recall in an in-process
  // A/B, the build rate did not change (BENCHMARKS.md, "Memory per node and slot layout"). The
  // graph is unchanged: Insert links rows in the same order whatever slots they hold. No-op
  // below kLocalityMinBatch rows. Call before the slots are given to anything else; Insert then
  // takes the permuted slots.
  void PlaceRows(const float* vectors, size_t row_stride, std::span<Slot> slots, ThreadPool* pool,
                 size_t threads) const;
  static constexpr size_t kPlacementGroupRows = 4096;
  static constexpr size_t kPlacementMaxGroups = 256;

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
  // unfiltered search (a small multiple of ef), plus list reads. Documented in the README.
  static size_t BruteForceThreshold(size_t ef) noexcept { return std::max<size_t>(2000, 16 * ef); }

  SlotState state(Slot slot) const noexcept { return graph_.state(slot); }
  // Copies the stored vector of a slot into out[0, dim) under the growth lock (safe beside a
  // writer that may reallocate the arrays).
  void CopyVector(Slot slot, float* out) const;
  // The stored (for cosine: normalised) vector of a slot. REQUIRES: slot < slot_end(), and no
  // concurrent growth (writer calls serialised with the caller, or the caller holds a search).
  const float* vector(Slot slot) const noexcept { return vectors_.row(slot); }
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
  const quant::ScalarQuantizer* quantizer() const noexcept {
    return codes_ ? &codes_->quantizer() : nullptr;
  }

  // Checks invariants 1 and 2 (hnsw_graph.h); returns kCorruption describing the first
  // violation. `links` (if given) receives the number of neighbour ids checked.
  Status CheckInvariants(size_t* links = nullptr) const;

  // Test-only: the neighbour selection of an insertion (SelectNeighbors, private) on
  // `candidates`, sorted by ascending exact distance to some base; leaves the chosen ones there.
  void TEST_SelectNeighbors(std::vector<Neighbor>& candidates, size_t max_count) const;
  // The relaxed pass's factor on squared distances (1 for the inner product: no second pass).
  float prune_factor() const noexcept { return prune_factor_; }

  // Out-degree of a slot at `level` (0 when the slot is past slot_end() or has no such level;
  // for tests and stats).
  size_t Degree(Slot slot, int level) const;

  // ---- checkpoints ----
  size_t vector_stride() const noexcept { return vectors_.stride(); }
  size_t links0_stride() const noexcept { return graph_.links0_stride(); }
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
  HnswIndex(const HnswParams& params, const simd::KernelTable& kernels);

  // Grows every store to `capacity`. REQUIRES: resize_mutex_ held exclusively. May throw
  // std::bad_alloc.
  void GrowTo(size_t capacity);
  // GrowTo under the resize lock, out of memory as kResourceExhausted.
  Status GrowLocked(size_t capacity);
  Fp32Distance ExactDistance(const float* query) const noexcept {
    return Fp32Distance{query, vectors_.rows(), params_.dim, distance_, distance4_,
                        prefetch_lines_};
  }
  bool quantized_walk() const noexcept { return codes_ != nullptr && codes_->fitted(); }

  // hnsw_insert.cc
  // `walk_codes`: codes the beam walks (null: the fp32 rows).
  void InsertOne(Slot slot, const quant::CodeStore* walk_codes, WalkScratch& scratch);
  // Fits `codes` on up to `max_rows` rows of the batch, evenly spread.
  void FitOnBatch(quant::CodeStore& codes, std::span<const Slot> slots, size_t max_rows) const;
  // fp32 or SQ8 index, bulk call: SQ4 codes of every node in the graph (the batch's own are
  // encoded as they are linked), for the insertion walk only, freed when the call ends; null when
  // the call is too small to pay for them. The walk reads an eighth of the bytes per distance
  // (Fashion-MNIST's codes fit in L3, its rows do not), half of an SQ8 code's; the final
  // ef_construction candidates are re-scored exactly and the neighbour heuristic compares exact
  // distances, as every build does, so the graph is the same kind of graph.
  template <class ParallelFor>
  std::unique_ptr<quant::CodeStore> BuildCodes(std::span<const Slot> slots,
                                               ParallelFor&& parallel_for) const;
  static constexpr size_t kBuildCodesFitRows = 16384;  // the fit is serial: a sample will do
  // The order (indices into `slots`) in which a bulk call links its nodes: a strided tenth
  // first, then the rest grouped by the nearest of up to kLocalityMaxClusters centres (distances
  // on `codes`), in rounds that take the same fraction of every group (about kLocalityRun rows
  // of an average one); empty (the caller's order) below kLocalityMinBatch rows.
  template <class ParallelFor>
  std::vector<uint32_t> LocalityOrder(std::span<const Slot> slots, size_t workers,
                                      quant::CodeStore& codes, ParallelFor&& parallel_for) const;
  static constexpr size_t kLocalityClusterSize = 250;
  static constexpr size_t kLocalityMaxClusters = 256;
  static constexpr size_t kLocalityRun = 32;
  // Heuristic neighbour selection (HNSW paper, Algorithm 4, without extension), then the slots
  // it left free filled by the same rule relaxed by Vamana's alpha (hnsw_index.cc,
  // kPruneAlphaSquared). Output sorted by distance, at most max_count.
  // REQUIRES: candidates sorted by ascending exact distance to the base.
  void SelectNeighbors(std::vector<Neighbor>& candidates, size_t max_count,
                       WalkScratch& scratch) const;
  void AddReverseLink(Slot target, Slot source, float distance, int level, WalkScratch& scratch);
  // hnsw_repair.cc
  void RepairNode(Slot slot, int level, WalkScratch& scratch);

  const HnswParams params_;
  const simd::KernelTable& kernels_;
  const simd::DistanceFn distance_;
  const simd::Distance4Fn distance4_;
  const float prune_factor_;    // alpha of the neighbour heuristic, on this metric's distances
  size_t prefetch_lines_;       // cache lines of a vector prefetched ahead

  mutable std::shared_mutex resize_mutex_;  // shared: every reader/writer; exclusive: growth
  HnswGraph graph_;
  VectorStore vectors_;
  std::unique_ptr<quant::CodeStore> codes_;  // set when params.quantization != kNone
  std::unique_ptr<ScratchPool> scratch_;
};

}  // namespace augurdb::index
