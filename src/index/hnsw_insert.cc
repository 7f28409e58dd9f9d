// Insertion (HNSW paper, Algorithm 1): copying a batch's vectors in, level draws, finding each
// node's neighbours on every level with the shared beam walk, neighbour selection, and the
// reverse links that publish a node to the graph.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <type_traits>

#include "index/hnsw_index.h"
#include "index/hnsw_walk.h"
#include "util/check.h"
#include "util/spinlock.h"

namespace augurdb::index {
namespace {

// Rows 0..n-1 stably sorted by group[i] (each < groups), by a counting sort; `begin` receives
// each group's first position in the result (groups + 1 entries, the last = n).
std::vector<uint32_t> SortByGroup(const std::vector<uint32_t>& group, size_t groups,
                                  std::vector<size_t>* begin) {
  begin->assign(groups + 1, 0);
  for (const uint32_t g : group) ++(*begin)[g + 1];
  for (size_t g = 1; g <= groups; ++g) (*begin)[g] += (*begin)[g - 1];
  std::vector<size_t> next(begin->begin(), begin->end() - 1);
  std::vector<uint32_t> sorted(group.size());
  for (size_t i = 0; i < group.size(); ++i) sorted[next[group[i]]++] = static_cast<uint32_t>(i);
  return sorted;
}

}  // namespace

void HnswIndex::Insert(std::span<const Slot> slots, const float* vectors, size_t row_stride,
                       ThreadPool* pool, size_t threads) {
  if (slots.empty()) return;
  std::shared_lock<std::shared_mutex> lock(resize_mutex_);
  const uint64_t first_draw = graph_.TakeDraws(slots.size());
  const size_t workers = WorkersFor(pool, threads);
  std::vector<std::unique_ptr<ScratchLease>> leases(workers);
  for (auto& lease : leases) lease = scratch_->Lease();

  // fn(worker, i) for i in [0, n).
  auto parallel_for = [&](size_t n, auto&& fn) { ParallelForWorkers(pool, workers, n, fn); };
  // Pass 1: copy (and normalise) the vectors into their rows.
  parallel_for(slots.size(), [&](size_t, size_t i) {
    const Slot slot = slots[i];
    AUGUR_CHECK(slot < capacity());
    float* dst = vectors_.mutable_row(slot);
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
  if (codes_ && !codes_->fitted()) FitOnBatch(*codes_, slots, slots.size());
  // A bulk call walks codes made for it and freed at its end (BuildCodes), unless the index's
  // own codes are as small.
  const std::unique_ptr<quant::CodeStore> build_codes =
      codes_ && codes_->bits() <= BuildCodeBits() ? nullptr : BuildCodes(slots, parallel_for);
  // The codes this call walks (fitted by now); null: the walk reads the fp32 rows.
  quant::CodeStore* const walk_codes = build_codes ? build_codes.get() : codes_.get();
  const std::vector<uint32_t> order = walk_codes != nullptr
                                          ? LocalityOrder(slots, workers, *walk_codes, parallel_for)
                                          : std::vector<uint32_t>{};
  // Pass 2: link each node into the graph.
  parallel_for(slots.size(), [&](size_t worker, size_t k) {
    const size_t i = order.empty() ? k : order[k];
    const Slot slot = slots[i];
    // Before it is linked: a walk that reaches it reads its code (the index's own for searches
    // beside this call, the build code for this call's walks).
    if (codes_) codes_->Encode(slot, vector(slot));
    if (build_codes) build_codes->Encode(slot, vector(slot));
    graph_.InitNode(slot, graph_.DrawLevel(first_draw + i));
    InsertOne(slot, walk_codes, leases[worker]->get());
  });
}

void HnswIndex::PlaceRows(const float* vectors, size_t row_stride, std::span<Slot> slots,
                          ThreadPool* pool, size_t threads) const {
  const size_t n = slots.size();
  if (n < kLocalityMinBatch) return;
  const size_t dim = params_.dim;
  const size_t groups = std::clamp<size_t>(n / kPlacementGroupRows, 16, kPlacementMaxGroups);
  auto row = [&](size_t i) { return vectors + i * row_stride; };
  // Centres: rows spread evenly over the call. Under cosine a row's group is the centre of
  // largest dot / |centre| (its direction; the row's own norm does not change the argmax).
  const bool by_angle = params_.metric == Metric::kCosine;
  std::vector<size_t> centres(groups);
  std::vector<float> inv_norm(groups, 1.0f);
  for (size_t c = 0; c < groups; ++c) {
    centres[c] = c * n / groups;
    if (by_angle) {
      const float norm = std::sqrt(kernels_.dot(row(centres[c]), row(centres[c]), dim));
      inv_norm[c] = norm > 0 ? 1.0f / norm : 0.0f;
    }
  }
  std::vector<uint32_t> group(n);
  constexpr size_t kChunk = 256;
  const size_t chunks = (n + kChunk - 1) / kChunk;
  auto assign = [&](size_t, size_t chunk) {
    for (size_t i = chunk * kChunk; i < std::min(n, (chunk + 1) * kChunk); ++i) {
      float best = std::numeric_limits<float>::infinity();
      for (size_t c = 0; c < groups; ++c) {
        const float d = by_angle ? -kernels_.dot(row(i), row(centres[c]), dim) * inv_norm[c]
                                 : kernels_.l2sq(row(i), row(centres[c]), dim);
        if (d < best) {
          best = d;
          group[i] = static_cast<uint32_t>(c);
        }
      }
    }
  };
  ParallelForWorkers(pool, WorkersFor(pool, threads), chunks, assign);
  // The k-th row in group order takes the k-th lowest slot.
  std::vector<size_t> begin;
  const std::vector<uint32_t> by_group = SortByGroup(group, groups, &begin);
  std::vector<Slot> sorted(slots.begin(), slots.end());
  std::sort(sorted.begin(), sorted.end());
  for (size_t k = 0; k < n; ++k) slots[by_group[k]] = sorted[k];
}

template <class ParallelFor>
std::vector<uint32_t> HnswIndex::LocalityOrder(std::span<const Slot> slots, size_t workers,
                                               quant::CodeStore& codes,
                                               ParallelFor&& parallel_for) const {
  const size_t n = slots.size();
  // Not for inner product: on clustered data its graph lost 0.03 recall@10 at ef 16 when linked
  // cluster by cluster (HnswRecall.BulkCallsWalkingBuildCodesKeepRecall); L2 and cosine gained.
  if (n < kLocalityMinBatch || params_.metric == Metric::kInnerProduct) return {};
  // Every kSampleStride-th row goes first, in the caller's order, and lays down the graph's
  // long links; the rest follow grouped by their nearest centre, so that consecutive inserts
  // walk the same neighbourhoods while their rows are still in the cache. The groups advance in
  // rounds, each by the same fraction of its rows (about kLocalityRun for a group of average
  // size), so that they all finish together. Linked one whole group after another, 1,000 tight
  // Gaussian clusters (gauss-clusters-100k) lost their bridges and recall stopped at .996; with
  // equal runs in turn the small groups ran out early and the build's tail was again a few
  // whole groups (recall@10 at ef 10 .965 against .977 without the order, SQ8 build codes).
  // Rounds gave .984 there, and 1.2x the build rate at 1M x 128 (BENCHMARKS.md, Ice Lake).
  constexpr size_t kSampleStride = 10;
  // A multiple of 4: the nearest centre is found four centres per kernel call.
  const size_t clusters =
      std::clamp<size_t>(n / kLocalityClusterSize, 16, kLocalityMaxClusters) / 4 * 4;
  const size_t sample = (n + kSampleStride - 1) / kSampleStride;
  std::vector<Slot> centres(clusters);
  for (size_t c = 0; c < clusters; ++c) {
    centres[c] = slots[(c * sample / clusters) * kSampleStride];  // sample rows, evenly spread
    codes.Encode(centres[c], vector(centres[c]));  // early is fine: nothing links to it yet
  }
  std::vector<uint32_t> group(n, 0);  // 0: the sample; else 1 + the nearest centre
  std::vector<AlignedBuffer<int16_t>> prepared(workers);
  constexpr size_t kChunk = 256;
  parallel_for((n + kChunk - 1) / kChunk, [&](size_t worker, size_t chunk) {
    for (size_t i = chunk * kChunk; i < std::min(n, (chunk + 1) * kChunk); ++i) {
      if (i % kSampleStride == 0) continue;
      const quant::SqDistance dist = codes.Distance(vector(slots[i]), prepared[worker]);
      float best = std::numeric_limits<float>::infinity();
      float d[4];
      for (size_t c = 0; c < clusters; c += 4) {  // clusters: a multiple of 4
        dist.Four(&centres[c], d);
        for (size_t j = 0; j < 4; ++j) {
          if (d[j] < best) {
            best = d[j];
            group[i] = static_cast<uint32_t>(c + j + 1);
          }
        }
      }
    }
  });
  // Sorted by group (stably), then the sample, then the groups' rounds.
  std::vector<size_t> begin;  // begin[g]: group g's first position
  const std::vector<uint32_t> by_group = SortByGroup(group, clusters + 1, &begin);
  std::vector<uint32_t> order(by_group.begin(), by_group.begin() + begin[1]);
  order.reserve(n);
  const size_t rounds = std::max<size_t>(1, (n - order.size()) / (clusters * kLocalityRun));
  for (size_t r = 0; r < rounds; ++r) {
    for (size_t g = 1; g <= clusters; ++g) {  // round r: rows [size*r/rounds, size*(r+1)/rounds)
      const size_t size = begin[g + 1] - begin[g];
      const uint32_t* rows = by_group.data() + begin[g];
      order.insert(order.end(), rows + size * r / rounds, rows + size * (r + 1) / rounds);
    }
  }
  return order;
}

void HnswIndex::FitOnBatch(quant::CodeStore& codes, std::span<const Slot> slots,
                           size_t max_rows) const {
  const size_t n = std::min(slots.size(), max_rows);
  const size_t step = slots.size() / n;  // an even spread when the batch is sampled
  std::vector<const float*> rows(n);
  for (size_t i = 0; i < n; ++i) rows[i] = vector(slots[i * step]);
  codes.Fit(rows);
}

template <class ParallelFor>
std::unique_ptr<quant::CodeStore> HnswIndex::BuildCodes(std::span<const Slot> slots,
                                                        ParallelFor&& parallel_for) const {
  // Worth it only when the batch is large next to the index: every node already in the graph is
  // encoded here (the walk reaches them), O(n d) once, against ~2,000 distances per insert; the
  // batch's own nodes are encoded as they are linked (they are still kFree here).
  const size_t end = graph_.slot_end();
  if (slots.size() < kBuildCodesMinBatch || slots.size() * 4 < end ||
      params_.dim < kBuildCodesMinDim) {
    return nullptr;
  }
  auto codes = std::make_unique<quant::CodeStore>(
      params_.dim, params_.metric, BuildCodeBits() == 4 ? Quantization::kSq4 : Quantization::kSq8,
      kernels_);
  codes->GrowTo(capacity());
  FitOnBatch(*codes, slots, kBuildCodesFitRows);
  constexpr size_t kChunk = 1024;
  parallel_for((end + kChunk - 1) / kChunk, [&](size_t, size_t chunk) {
    for (size_t slot = chunk * kChunk; slot < std::min(end, (chunk + 1) * kChunk); ++slot) {
      if (graph_.state(static_cast<Slot>(slot)) != SlotState::kFree) {
        codes->Encode(static_cast<Slot>(slot), vector(static_cast<Slot>(slot)));
      }
    }
  });
  return codes;
}

void HnswIndex::Publish(std::span<const Slot> slots) { graph_.Publish(slots); }

void HnswIndex::SelectNeighbors(std::vector<Neighbor>& candidates, size_t max_count,
                                WalkScratch& scratch) const {
  if (candidates.size() <= max_count) return;
  // pruner[i]: d(c_i, s) for the kept s that last dropped candidate i (+inf: not tested yet,
  // -inf: kept). The relaxed pass retests a dropped candidate against that neighbour first, which
  // settles most of them without a new distance. checked[i]: how many of the first kept (in
  // the order they were kept) are known not to drop candidate i under the relaxed rule: those
  // the strict pass tested up to and including its pruner (d >= d(c_i) there, so alpha * d is
  // too, distances being >= 0). The relaxed pass starts after them instead of recomputing them.
  constexpr float kUntested = std::numeric_limits<float>::infinity();
  constexpr float kKept = -std::numeric_limits<float>::infinity();
  std::vector<float>& pruner = scratch.pruner;
  std::vector<uint32_t>& checked = scratch.checked;
  pruner.assign(candidates.size(), kUntested);
  checked.assign(candidates.size(), 0);
  std::vector<Neighbor>& kept = scratch.kept;
  kept.clear();
  // The strict pass, a column at a time: each newly kept candidate drops the later candidates
  // closer to it than to the base. A candidate is reached only after every kept one before it
  // has been compared with it, so the decisions and the distances computed are those of a
  // candidate-by-candidate loop (as the relaxed pass below), but each column is one query row
  // against the candidates' rows four at a time (the query loads shared, rows prefetched ahead).
  // open[0, live): the candidates neither kept nor dropped, in order; the first is kept next.
  // Each column compacts it as it goes, rather than rescanning every later candidate (that scan
  // was 40% of this function's own time on MiniLM-384).
  std::vector<uint32_t>& open = scratch.open;
  open.resize(candidates.size());
  std::iota(open.begin(), open.end(), 0u);
  size_t live = open.size();
  while (live > 0 && kept.size() < max_count) {
    const uint32_t i = open[0];
    pruner[i] = kKept;
    kept.push_back(candidates[i]);
    if (kept.size() == max_count) break;
    const auto position = static_cast<uint32_t>(kept.size());
    // rest[t] = open[t + 1]; emit(t) stores survivors at open[survivors], which is <= t: only
    // entries ScoreExact has already read (it reads ahead, never behind the emitted one).
    const uint32_t* rest = open.data() + 1;
    size_t survivors = 0;
    ScoreExact(
        ExactDistance(vector(candidates[i].slot)), live - 1,
        [&](size_t t) { return candidates[rest[t]].slot; },
        [&](size_t t, float d) {
          const uint32_t c = rest[t];
          const bool dropped = d < candidates[c].distance;
          if (dropped) {
            pruner[c] = d;
            checked[c] = position;
          }
          open[survivors] = c;
          survivors += dropped ? 0 : 1;
        });
    live = survivors;
  }
  // The relaxed pass, candidate by candidate, over those the strict pass dropped.
  for (size_t i = 0; prune_factor_ != 1.0f && i < candidates.size() && kept.size() < max_count;
       ++i) {
    const Neighbor c = candidates[i];
    if (prune_factor_ * pruner[i] < c.distance) continue;  // kept already, or dropped again
    bool keep = true;
    const Fp32Distance from_c = ExactDistance(vector(c.slot));
    size_t j = checked[i];
    uint32_t slots4[4];
    float d4[4];
    for (; keep && j + 4 <= kept.size(); j += 4) {
      for (size_t t = 0; t < 4; ++t) slots4[t] = kept[j + t].slot;
      from_c.Four(slots4, d4);
      for (size_t t = 0; t < 4; ++t) keep = keep && !(prune_factor_ * d4[t] < c.distance);
    }
    for (; keep && j < kept.size(); ++j) {
      keep = !(prune_factor_ * from_c.One(kept[j].slot) < c.distance);
    }
    if (keep) kept.push_back(c);
  }
  std::sort(kept.begin(), kept.end(), ByDistance);
  candidates.assign(kept.begin(), kept.end());
}

void HnswIndex::TEST_SelectNeighbors(std::vector<Neighbor>& candidates, size_t max_count) const {
  WalkScratch scratch;
  SelectNeighbors(candidates, max_count, scratch);
}

void HnswIndex::InsertOne(Slot slot, const quant::CodeStore* walk_codes, WalkScratch& scratch) {
  const int level = graph_.level(slot);
  const float* q = vector(slot);
  uint64_t entry = graph_.entry();
  if (entry == 0) {
    if (graph_.ClaimEmptyEntry(slot, level)) return;
    entry = graph_.entry();
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
    constexpr bool kApproximate =
        std::is_same_v<std::decay_t<decltype(dist)>, quant::SqDistance>;
    Slot cur = EntrySlot(entry);
    if (top > level) cur = GreedyDescend(graph_, dist, cur, top, level + 1, nullptr);
    for (int l = linked_top; l >= 0; --l) {
      SearchLayer(graph_, dist, cur, Beam{params_.ef_construction, params_.ef_construction}, l,
                  scratch, nullptr);
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
      SpinGuard guard(graph_.node_lock(slot));
      WriteList(graph_.links(slot, l), graph_.max_degree(l), selected.size(),
                [&](size_t j) { return selected[j].slot; });
    }
  };
  // On codes (a quantized index's, or an fp32 bulk call's build codes) the beam walks like a
  // search (every linked node has its code: it is encoded before it is linked), and only the
  // final candidates are re-scored exactly for the neighbour heuristic, which builds faster at
  // the same recall.
  if (walk_codes != nullptr) {
    quant::SqDistance dist = walk_codes->Distance(q, scratch.prepared);
    dist.prefetch_lines = quant::SqDistance::InsertPrefetchLines(dist.prefetch_lines);
    // No next-hop prefetch: perf put a quarter of the insert walk on those prefetches, stalled
    // on full miss buffers, so the guesses' rows only queued behind the rows being scored.
    // 2-thread builds, interleaved (Zen 2): 200K x 128 clustered +13.5%, MiniLM-384 +8.2%,
    // Fashion-PCA-384 +8.5%, Fashion-MNIST +3.2%; 1 thread MiniLM +3-7%; recall unchanged.
    // Searches keep it (SqDistance::kNextHopRows).
    dist.next_hop_rows = 0;
    find_lists(dist);
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
  if (level > top) graph_.RaiseEntry(slot, level);
}

void HnswIndex::AddReverseLink(Slot target, Slot source, float distance, int level,
                               WalkScratch& scratch) {
  const size_t max_degree = graph_.max_degree(level);
  std::atomic<uint8_t>& lock = graph_.node_lock(target);
  uint32_t* list = graph_.links(target, level);
  std::vector<uint32_t>& copy = scratch.list_copy;
  std::vector<Neighbor>& candidates = scratch.candidates;
  for (int attempt = 0;; ++attempt) {
    // After two lost races, prune while holding the lock (hnswlib's way) to guarantee progress.
    const bool hold = attempt >= 2;
    SpinLock(lock);
    const size_t count = ListSize(list, max_degree);
    if (count < max_degree) {
      StoreRelease(list + count, source);
      SpinUnlock(lock);
      return;
    }
    copy.assign(list, list + count);
    if (!hold) SpinUnlock(lock);
    // Full: re-select among the old neighbours and the new one, distances outside the lock.
    candidates.clear();
    for (uint32_t other : copy) candidates.push_back(Neighbor{0.0f, other});
    RescoreExact(ExactDistance(vector(target)), candidates);
    candidates.push_back(Neighbor{distance, source});
    std::sort(candidates.begin(), candidates.end(), ByDistance);
    SelectNeighbors(candidates, max_degree, scratch);
    if (!hold) {
      SpinLock(lock);
      // Full before, so a changed list has a different id in some place (or a kNoLink).
      bool unchanged = true;
      for (size_t j = 0; unchanged && j < copy.size(); ++j) {
        unchanged = LoadAcquire(list + j) == copy[j];
      }
      if (!unchanged) {  // another thread edited the list meanwhile: start over
        SpinUnlock(lock);
        continue;
      }
    }
    WriteList(list, max_degree, candidates.size(), [&](size_t j) { return candidates[j].slot; });
    SpinUnlock(lock);
    return;
  }
}

}  // namespace augurdb::index
