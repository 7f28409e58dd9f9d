// HnswIndex: creation, slot allocation and growth of its three stores, and the small calls
// that touch all of them. The operations live in hnsw_insert.cc, hnsw_search.cc,
// hnsw_repair.cc, hnsw_image.cc and hnsw_invariants.cc.
#include "index/hnsw_index.h"

#include <algorithm>
#include <cstring>
#include <new>
#include <string>

#include "index/hnsw_walk.h"
#include "util/check.h"

namespace augurdb::index {
namespace {

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

}  // namespace

Result<std::unique_ptr<HnswIndex>> HnswIndex::Create(const HnswParams& params,
                                                     const simd::KernelTable& kernels) {
  if (params.dim == 0 || params.dim > 65536) {
    return Status::InvalidArgument("dim must be in 1..65536, got " + std::to_string(params.dim));
  }
  if (params.m < 2 || params.m > kMaxUpperDegree) {
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
      prune_factor_(params.metric == Metric::kInnerProduct ? 1.0f : kPruneAlphaSquared),
      graph_(params.m, params.seed),
      vectors_(params.dim),
      scratch_(std::make_unique<ScratchPool>(2 * params.m + 1)) {
  // Prefetching a whole high-dimensional fp32 vector competes for bandwidth; a few lines start
  // the hardware stream prefetcher, which fetches the rest (PERFORMANCE.md technique 2).
  prefetch_lines_ = std::min<size_t>(vectors_.stride() * sizeof(float) / 64, 4);
  if (params.quantization != Quantization::kNone) {
    codes_ = std::make_unique<quant::CodeStore>(params.dim, params.metric, params.quantization,
                                                kernels);
  }
}

HnswIndex::~HnswIndex() = default;

void HnswIndex::GrowTo(size_t capacity) {
  vectors_.GrowTo(capacity);
  if (codes_) codes_->GrowTo(capacity);
  graph_.GrowTo(capacity);  // last: its capacity() tells how far every store has grown
}

Status HnswIndex::AllocateSlots(size_t count, std::vector<Slot>* out) {
  out->clear();
  const size_t fresh = count - std::min(count, graph_.free_count());
  const size_t end = graph_.slot_end();
  if (end + fresh > kMaxSlots) {
    return Status::ResourceExhausted("collection is full: at most " + std::to_string(kMaxSlots) +
                                     " vectors per collection");
  }
  const size_t capacity = graph_.capacity();
  if (end + fresh > capacity) {
    // By half at least, so that a run of small batches copies the arrays O(log n) times.
    const size_t target = std::max<size_t>({end + fresh, capacity + capacity / 2, 1024});
    AUGUR_RETURN_IF_ERROR(GrowLocked(std::min(target, kMaxSlots)));
  }
  graph_.TakeSlots(count, out);
  return Status::OK();
}

Status HnswIndex::Reserve(size_t slots) {
  AUGUR_CHECK(slots <= kMaxSlots);
  if (slots <= graph_.capacity()) return Status::OK();
  return GrowLocked(slots);
}

Status HnswIndex::GrowLocked(size_t capacity) {
  std::unique_lock<std::shared_mutex> lock(resize_mutex_);
  try {
    GrowTo(capacity);
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted("out of memory growing the index to " +
                                     std::to_string(capacity) + " vectors");
  }
  return Status::OK();
}

bool HnswIndex::RefitIfDrifted(double threshold) {
  if (!codes_ || !codes_->Drifted(threshold)) return false;
  std::unique_lock<std::shared_mutex> lock(resize_mutex_);
  const size_t end = slot_end();
  std::vector<const float*> rows;
  for (size_t i = 0; i < end; ++i) {
    const Slot slot = static_cast<Slot>(i);
    if (state(slot) != SlotState::kFree) rows.push_back(vector(slot));
  }
  codes_->Fit(rows);
  for (size_t i = 0; i < end; ++i) {
    const Slot slot = static_cast<Slot>(i);
    if (state(slot) != SlotState::kFree) codes_->Encode(slot, vector(slot));
  }
  return true;
}

size_t HnswIndex::Degree(Slot slot, int level) const {
  std::shared_lock<std::shared_mutex> lock(resize_mutex_);
  if (slot >= slot_end() || level > graph_.level(slot)) return 0;
  return ListSize(graph_.links(slot, level), graph_.max_degree(level));
}

size_t HnswIndex::MemoryBytes() const {
  std::shared_lock<std::shared_mutex> lock(resize_mutex_);
  return vectors_.MemoryBytes() + graph_.MemoryBytes() + (codes_ ? codes_->MemoryBytes() : 0);
}

size_t HnswIndex::MappedVectorBytes() const {
  std::shared_lock<std::shared_mutex> lock(resize_mutex_);
  return vectors_.MappedBytes();
}

void HnswIndex::RemapVectors(float* rows, std::shared_ptr<void> owner) {
  std::unique_lock<std::shared_mutex> lock(resize_mutex_);
  vectors_.Remap(rows, slot_end(), capacity(), std::move(owner));
}

void HnswIndex::CopyVector(Slot slot, float* out) const {
  std::shared_lock<std::shared_mutex> lock(resize_mutex_);
  std::memcpy(out, vector(slot), params_.dim * sizeof(float));
}

}  // namespace augurdb::index
