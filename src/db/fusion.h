// Hybrid search's fusion of a vector result list and a BM25 result list into one ranking
// (docs/text-search.md, "Hybrid search"). Pure functions: the caller runs both searches and
// fills in the exact distance / BM25 of hits that only one side listed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include <augurdb/collection.h>
#include <augurdb/status.h>

namespace augurdb::db {

struct VectorCandidate {
  uint32_t slot;
  float distance;  // smaller is closer
};

struct TextCandidate {
  uint32_t slot;
  double score;  // BM25, higher is better
};

struct FusedHit {
  uint32_t slot;
  double score;           // fused, higher is better
  size_t vector_rank;     // 1-based position in the vector list; 0 = not listed
  size_t text_rank;       // 1-based position in the text list; 0 = not listed
  float distance;         // from the vector list when listed (else the caller fills it)
  double text_score;      // from the text list when listed (else the caller fills it)
};

// Sets options->fusion from its name, "rrf" or "weighted"; kInvalidArgument otherwise.
Status SetFusion(std::string_view name, SearchOptions* options);

// kInvalidArgument for rrf_k <= 0 (or not finite), alpha outside [0, 1] or an unknown fusion.
Status CheckFusionOptions(const SearchOptions& options);

// The hits each side contributes to a hybrid search of k results: max(50, 4k) unless given.
size_t HybridCandidates(const SearchOptions& options);

// Fuses the two lists (each ranked best first: distance ascending, BM25 descending).
//   kRrf:      score = sum over the lists holding the hit of 1 / (rrf_k + rank).
//   kWeighted: score = alpha * v + (1 - alpha) * t, where v = (max_d - d) / (max_d - min_d) over
//              the vector list and t = (s - min_s) / (max_s - min_s) over the text list (1 when
//              the list's values are all equal), and 0 for a list that does not hold the hit.
// Returns every distinct slot, best first; ties: the vector side's hits by vector rank, then
// the rest by text rank.
std::vector<FusedHit> Fuse(std::span<const VectorCandidate> vector_side,
                           std::span<const TextCandidate> text_side, const SearchOptions& options);

}  // namespace augurdb::db
