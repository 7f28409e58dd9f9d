// Search (HNSW paper, Algorithm 5): the exact scan for small or tightly filtered sets, the
// graph walk on fp32 rows or on codes, the filtered walk (ACORN-1), and the exact rerank of a
// quantized walk's candidates.
#include <algorithm>
#include <cmath>
#include <vector>

#include "index/hnsw_index.h"
#include "index/hnsw_walk.h"

namespace augurdb::index {
namespace {

// Level-0 beam restricted to `filter` (ACORN-1, Patel et al. SIGMOD 2024): distances only for
// matching nodes; a non-matching neighbour is a bridge whose own neighbours are examined, and
// when an expansion finds almost no new matches, a third hop through further bridges (a filter
// correlated with the data leaves matches two non-matching nodes away; docs/filters.md).
template <class Dist>
void SearchLayerFiltered(const HnswGraph& graph, const Dist& dist, Slot entry, Beam beam,
                         WalkScratch& scratch, SearchStats* stats, const SlotFilter& filter) {
  const size_t m0 = graph.max_degree(0);
  // Matches found per expansion, at most: direct (m0) + two hops (m0 * m0) + three hops
  // (kFarBridges * m0).
  constexpr size_t kFarBridges = 64;
  VisitedTable& visited = scratch.visited;
  SearchPool& pool = scratch.pool;
  const size_t batch_size = m0 * (m0 + 1 + kFarBridges);
  if (scratch.batch.size() < batch_size) scratch.batch.resize(batch_size);
  uint32_t* batch = scratch.batch.data();
  uint32_t bridges[2 * kMaxUpperDegree];  // m0 <= 2 * kMaxUpperDegree
  uint32_t far[kFarBridges];
  visited.Prepare(graph.capacity());
  pool.Reset(beam.keep, beam.expand);
  uint64_t distances = 0, hops = 0;
  // Appends the unvisited matching neighbours of nodes[0..count) to batch[n..] and returns the
  // new n. Each list is a cache miss of its own: start them all before reading the first.
  auto add_matching_neighbours = [&](const Slot* nodes, size_t count, size_t n) {
    for (size_t i = 0; i < count; ++i) PrefetchLines(graph.links(nodes[i], 0), 2);
    for (size_t i = 0; i < count; ++i) {
      const uint32_t* list = graph.links(nodes[i], 0);
      for (size_t b = 0; b < m0; ++b) {
        const Slot slot = LoadAcquire(list + b);
        if (slot == kNoLink) break;
        if (filter.Test(slot) && !visited.TestAndMark(slot)) batch[n++] = slot;
      }
    }
    return n;
  };
  // Collects the unvisited matches around `node`: direct neighbours that match, the matching
  // neighbours of those that do not (two hops, ACORN-1), and, when that finds almost nothing,
  // the matches three hops away through up to kFarBridges further non-matching nodes.
  auto gather = [&](Slot node) -> size_t {
    size_t n = 0, bridge_count = 0;
    const uint32_t* list = graph.links(node, 0);
    for (size_t j = 0; j < m0; ++j) {
      const Slot next = LoadAcquire(list + j);
      if (next == kNoLink) break;
      if (visited.TestAndMark(next)) continue;
      if (filter.Test(next)) {
        batch[n++] = next;
      } else {
        bridges[bridge_count++] = next;
      }
    }
    n = add_matching_neighbours(bridges, bridge_count, n);
    if (n > 2) return n;
    // Sparse region (a filter correlated with the data, queried from outside its matches): the
    // nearest matches are often joined to the walk only through two non-matching nodes in a
    // row, so two hops strand them (recall then stalls below 1 at any ef). The bridge lists
    // are in cache now; the third hop costs list reads only.
    size_t far_count = 0;
    for (size_t i = 0; i < bridge_count && far_count < kFarBridges; ++i) {
      const uint32_t* bridge = graph.links(bridges[i], 0);
      for (size_t b = 0; b < m0 && far_count < kFarBridges; ++b) {
        const Slot two = LoadAcquire(bridge + b);
        if (two == kNoLink) break;
        if (!filter.Test(two) && !visited.TestAndMark(two)) far[far_count++] = two;
      }
    }
    return add_matching_neighbours(far, far_count, n);
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
        if (slot < graph.slot_end() && !visited.TestAndMark(slot)) batch[n++] = slot;
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


// Exact scan of the live slots (restricted to `filter` if given) into scratch.pool (size k).
void ScanExact(const HnswGraph& graph, const Fp32Distance& exact, size_t k, WalkScratch& scratch,
               SearchStats* stats, const SlotFilter* filter) {
  SearchPool& pool = scratch.pool;
  pool.Reset(k);
  const size_t end = graph.slot_end();
  uint64_t distances = 0;
  auto consider = [&](Slot slot) {
    if (graph.state(slot) != SlotState::kLive) return;
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


// Greedy descent plus level-0 beam (widened when concurrent writers crowd the pool); returns
// how many live candidates scratch.pool holds.
template <class Dist>
size_t SearchGraph(const HnswGraph& graph, const Dist& dist, uint64_t entry, Beam beam, size_t k,
                   WalkScratch& scratch, SearchStats* stats, const SlotFilter* filter) {
  Slot start = EntrySlot(entry);
  const int top = EntryLevel(entry);
  if (top > 0) start = GreedyDescend(graph, dist, start, top, 1, stats);
  for (;;) {
    if (filter != nullptr) {
      SearchLayerFiltered(graph, dist, start, beam, scratch, stats, *filter);
    } else {
      SearchLayer(graph, dist, start, beam, 0, scratch, stats);
    }
    size_t live = 0;
    for (size_t i = 0; i < scratch.pool.size(); ++i) {
      live += graph.state(scratch.pool.at(i).slot) == SlotState::kLive;
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
    if (scratch.pool.size() < beam.keep || beam.keep >= graph.live_count()) return live;
    beam.expand *= 2;
    beam.keep *= 2;
  }
}

}  // namespace

size_t HnswIndex::Search(const float* query, const SearchParams& params, Neighbor* out,
                         SearchStats* stats, const SlotFilter* filter) const {
  if (params.k == 0) return 0;
  std::shared_lock<std::shared_mutex> lock(resize_mutex_);
  const uint64_t entry = graph_.entry();
  if (entry == 0) return 0;
  if (filter != nullptr && filter->count == 0) return 0;
  auto lease = scratch_->Lease();
  WalkScratch& scratch = lease->get();
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
    ScanExact(graph_, exact, params.k, scratch, stats, filter);
    return emit(params.k);
  }
  if (!quantized_walk()) {
    const size_t live = SearchGraph(graph_, exact, entry, beam, params.k, scratch, stats, filter);
    if (filter != nullptr && live < params.k && live < filter->count) {
      ScanExact(graph_, exact, params.k, scratch, stats, filter);  // the filtered walk fell short
    }
    return emit(params.k);
  }
  // Quantized: walk on the codes, then re-score the best candidates with the exact vectors.
  const quant::SqDistance approx = codes_->Distance(q, scratch.prepared);
  const size_t live = SearchGraph(graph_, approx, entry, beam, params.k, scratch, stats, filter);
  if (filter != nullptr && live < params.k && live < filter->count) {
    ScanExact(graph_, exact, params.k, scratch, stats, filter);
    return emit(params.k);
  }
  // SQ4's coarser codes misorder more candidates (most on low-dimensional, tightly clustered
  // data), so its default re-scores twice as many.
  const size_t rerank = std::max(
      params.k, params.rerank != 0 ? params.rerank : (codes_->bits() == 4 ? 4 : 2) * params.k);
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

}  // namespace augurdb::index
