// Hybrid fusion (fusion.h).
#include "db/fusion.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <unordered_map>

namespace augurdb::db {

Status SetFusion(std::string_view name, SearchOptions* options) {
  if (name == "rrf") {
    options->fusion = Fusion::kRrf;
  } else if (name == "weighted") {
    options->fusion = Fusion::kWeighted;
  } else {
    return Status::InvalidArgument("unknown fusion '" + std::string(name) +
                                   "': use 'rrf' or 'weighted'");
  }
  return Status::OK();
}

Status CheckFusionOptions(const SearchOptions& options) {
  if (options.fusion != Fusion::kRrf && options.fusion != Fusion::kWeighted) {
    return Status::InvalidArgument("unknown fusion: use 'rrf' or 'weighted'");
  }
  if (!(options.rrf_k > 0.0) || !std::isfinite(options.rrf_k)) {
    return Status::InvalidArgument("rrf_k must be a finite number > 0, got " +
                                   std::to_string(options.rrf_k));
  }
  if (!(options.alpha >= 0.0 && options.alpha <= 1.0)) {
    return Status::InvalidArgument("alpha must be in [0, 1], got " +
                                   std::to_string(options.alpha));
  }
  return Status::OK();
}

size_t HybridCandidates(const SearchOptions& options) {
  if (options.candidates != 0) return options.candidates;
  const size_t four_k = options.k > std::numeric_limits<size_t>::max() / 4 ? options.k
                                                                           : 4 * options.k;
  return std::max<size_t>(50, four_k);
}

namespace {

// Min-max normalisation of one list; a list whose values are all equal maps them to 1, since
// each is then as good as that side's best.
struct MinMax {
  double lo = 0.0, hi = 0.0;
  double Higher(double x) const { return hi > lo ? (x - lo) / (hi - lo) : 1.0; }
  double Lower(double x) const { return hi > lo ? (hi - x) / (hi - lo) : 1.0; }
};

}  // namespace

std::vector<FusedHit> Fuse(std::span<const VectorCandidate> vector_side,
                           std::span<const TextCandidate> text_side, const SearchOptions& options) {
  std::vector<FusedHit> hits;
  hits.reserve(vector_side.size() + text_side.size());
  std::unordered_map<uint32_t, size_t> position;
  position.reserve(vector_side.size() + text_side.size());
  const float nan_f = std::numeric_limits<float>::quiet_NaN();
  const double nan_d = std::numeric_limits<double>::quiet_NaN();
  for (size_t i = 0; i < vector_side.size(); ++i) {
    const auto [it, fresh] = position.emplace(vector_side[i].slot, hits.size());
    if (!fresh) continue;  // a list names each slot once; keep the first if not
    hits.push_back({vector_side[i].slot, 0.0, i + 1, 0, vector_side[i].distance, nan_d});
  }
  for (size_t i = 0; i < text_side.size(); ++i) {
    const auto [it, fresh] = position.emplace(text_side[i].slot, hits.size());
    if (fresh) {
      hits.push_back({text_side[i].slot, 0.0, 0, i + 1, nan_f, text_side[i].score});
    } else if (hits[it->second].text_rank == 0) {
      hits[it->second].text_rank = i + 1;
      hits[it->second].text_score = text_side[i].score;
    }
  }
  if (options.fusion == Fusion::kRrf) {
    for (FusedHit& h : hits) {
      if (h.vector_rank != 0) h.score += 1.0 / (options.rrf_k + static_cast<double>(h.vector_rank));
      if (h.text_rank != 0) h.score += 1.0 / (options.rrf_k + static_cast<double>(h.text_rank));
    }
  } else {
    MinMax v, t;
    if (!vector_side.empty()) {
      v.lo = v.hi = vector_side.front().distance;
      for (const VectorCandidate& c : vector_side) {
        v.lo = std::min<double>(v.lo, c.distance);
        v.hi = std::max<double>(v.hi, c.distance);
      }
    }
    if (!text_side.empty()) {
      t.lo = t.hi = text_side.front().score;
      for (const TextCandidate& c : text_side) {
        t.lo = std::min(t.lo, c.score);
        t.hi = std::max(t.hi, c.score);
      }
    }
    for (FusedHit& h : hits) {
      const double vs = h.vector_rank != 0 ? v.Lower(h.distance) : 0.0;
      const double ts = h.text_rank != 0 ? t.Higher(h.text_score) : 0.0;
      h.score = options.alpha * vs + (1.0 - options.alpha) * ts;
    }
  }
  // Ties keep the listing order: hits the vector side listed by their vector rank, then the
  // others by their text rank. Ranks, unlike slots, mean the same across the shards of a sharded
  // collection, so its merge (augurdb.distributed) breaks ties exactly as one collection does.
  std::stable_sort(hits.begin(), hits.end(),
                   [](const FusedHit& a, const FusedHit& b) { return a.score > b.score; });
  return hits;
}

}  // namespace augurdb::db
