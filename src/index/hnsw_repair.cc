// Deletion (FreshDiskANN, Singh et al. 2021): tombstones hide nodes from search at once; the
// repair rewrites every list that links one; Reclaim then frees the slots for reuse.
#include <algorithm>
#include <vector>

#include "index/hnsw_index.h"
#include "index/hnsw_walk.h"
#include "util/spinlock.h"

namespace augurdb::index {

size_t HnswIndex::Tombstone(std::span<const Slot> slots) { return graph_.Tombstone(slots); }

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
  const size_t workers = WorkersFor(pool, threads);
  std::vector<std::unique_ptr<ScratchLease>> leases(workers);
  for (auto& lease : leases) lease = scratch_->Lease();
  auto task = [&](size_t worker, size_t i) {
    const Slot slot = static_cast<Slot>(i);
    const SlotState s = state(slot);
    if (s != SlotState::kLive && s != SlotState::kInserting) return;
    for (int level = 0; level <= graph_.level(slot); ++level) {
      const uint32_t* list = graph_.links(slot, level);
      for (size_t j = 0; j < graph_.max_degree(level); ++j) {
        const Slot other = LoadAcquire(list + j);
        if (other == kNoLink) break;
        if (state(other) == SlotState::kDeleted) {
          RepairNode(slot, level, leases[worker]->get());
          break;
        }
      }
    }
  };
  ParallelForWorkers(pool, workers, end, task);
}

void HnswIndex::RepairNode(Slot slot, int level, WalkScratch& scratch) {
  const size_t max_degree = graph_.max_degree(level);
  uint32_t* list = graph_.links(slot, level);
  std::vector<uint32_t>& copy = scratch.list_copy;
  {
    SpinGuard guard(graph_.node_lock(slot));
    ReadList(list, max_degree, &copy);
  }
  std::vector<Neighbor>& candidates = scratch.candidates;
  candidates.clear();
  VisitedTable& seen = scratch.visited;
  seen.Prepare(capacity());
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
    const uint32_t* via = graph_.links(other, level);
    for (size_t j = 0; j < max_degree; ++j) {
      const Slot two = LoadAcquire(via + j);
      if (two == kNoLink) break;
      consider(two);
    }
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
  SpinGuard guard(graph_.node_lock(slot));
  WriteList(list, max_degree, candidates.size(), [&](size_t j) { return candidates[j].slot; });
}

size_t HnswIndex::Reclaim() {
  std::unique_lock<std::shared_mutex> lock(resize_mutex_);
  return graph_.ReclaimDeleted();
}

}  // namespace augurdb::index
