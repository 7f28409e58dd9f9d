// Text and hybrid search (docs/text-search.md, "Hybrid search").
//
// Text search ranks the live documents by BM25 (text::InvertedIndex). Hybrid search takes each
// side's top `candidates` under the same filters (the vector side exactly as Search with
// k = candidates would return them), fuses the two lists (fusion.h), then gives every hit both
// exact scores: the distance of a hit only the text side listed and the BM25 of a hit only the
// vector side listed are computed for it, so callers can re-rank or explain any hit.
#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>
#include <new>
#include <shared_mutex>

#include "db/collection_impl.h"
#include "db/fusion.h"
#include "db/vector_checks.h"

namespace augurdb {

using index::HnswIndex;
using index::Neighbor;
using index::Slot;
using Impl = Collection::Impl;

namespace {

constexpr float kNoDistance = std::numeric_limits<float>::quiet_NaN();

// options.text_stats in the text index's per-query form (null when unset): the corpus figures,
// and each query term's document frequency in query order.
Result<std::optional<text::GlobalTextStats>> GlobalStatsFor(const text::TextQuery& query,
                                                            const SearchOptions& options) {
  if (options.text_stats == nullptr) return std::optional<text::GlobalTextStats>();
  const TextStats& given = *options.text_stats;
  text::GlobalTextStats global;
  global.corpus = {given.doc_count, given.total_length};
  global.doc_freqs.reserve(query.terms.size());
  for (const auto& [term, count] : query.terms) {
    const auto it = given.doc_freqs.find(term);
    if (it == given.doc_freqs.end()) {
      return Status::InvalidArgument("text_stats has no document frequency for the query term '" +
                                     term + "' (gather them with TextStatistics of this query)");
    }
    if (it->second > given.doc_count) {
      return Status::InvalidArgument("text_stats: document frequency of '" + term + "' (" +
                                     std::to_string(it->second) + ") exceeds doc_count (" +
                                     std::to_string(given.doc_count) + ")");
    }
    global.doc_freqs.push_back(it->second);
  }
  return std::optional<text::GlobalTextStats>(std::move(global));
}

const text::GlobalTextStats* OrNull(const std::optional<text::GlobalTextStats>& stats) {
  return stats ? &*stats : nullptr;
}

// The ef a vector search for n results uses (as Search with k = n).
size_t EfFor(const SearchOptions& search, size_t n, size_t ef_search) {
  return search.ef != 0 ? search.ef : std::max(ef_search, n);
}

}  // namespace

void Impl::RankText(const text::TextQuery& query, size_t n, const PreparedFilter& filter,
                    const text::GlobalTextStats* global, std::vector<RankedHit>* out) const {
  out->clear();
  if (query.empty()) return;
  const text::SlotFilter view = filter.text_view();
  text::TextSearchOptions text_options;
  text_options.k = std::min(n, std::max<size_t>(text_index->Stats().doc_count, 1));
  text_options.filter = filter.active ? &view : nullptr;
  text_options.global = global;
  std::vector<text::TextHit> hits;
  text_index->Search(query, text_options, &hits);
  out->reserve(hits.size());
  for (const text::TextHit& h : hits) out->push_back({h.slot, h.score, kNoDistance, h.score});
}

void Impl::RankHybrid(const float* query, const text::TextQuery& text_query,
                      const SearchOptions& search, const PreparedFilter& filter,
                      const text::GlobalTextStats* global, std::vector<RankedHit>* out) const {
  out->clear();
  const size_t candidates = db::HybridCandidates(search);
  const HnswIndex* idx = index.load(std::memory_order_acquire);
  std::vector<db::VectorCandidate> vector_side;
  if (idx != nullptr && idx->live_count() > 0) {
    index::SearchParams params;
    params.k = std::min(candidates, idx->live_count());
    params.ef = EfFor(search, params.k, options.ef_search);
    params.rerank = search.rerank != 0 ? search.rerank : options.rerank;
    std::vector<Neighbor> found(params.k);
    found.resize(idx->Search(query, params, found.data(), nullptr, filter.vector()));
    vector_side.reserve(found.size());
    for (const Neighbor& nb : found) vector_side.push_back({nb.slot, nb.distance});
  }
  std::vector<RankedHit> text_hits;
  RankText(text_query, candidates, filter, global, &text_hits);
  std::vector<db::TextCandidate> text_side;
  text_side.reserve(text_hits.size());
  for (const RankedHit& h : text_hits) text_side.push_back({h.slot, h.score});

  std::vector<db::FusedHit> fused = db::Fuse(vector_side, text_side, search);
  if (fused.size() > search.k) fused.resize(search.k);
  // Hits the vector side did not list get their distance here, from a copy of the stored
  // vector: CopyVector holds the index's growth lock, which a bare Distance() would not, and a
  // concurrent add may grow the vector arrays. The query is compared as the index compares it
  // (normalised under cosine).
  std::vector<float> normalised, row;
  const float* q = query;
  if (idx != nullptr) {
    const size_t d = idx->dim();
    row.resize(d);
    if (*options.metric == Metric::kCosine) {
      normalised.assign(query, query + d);
      const float norm = std::sqrt(kernels.dot(query, query, d));
      if (norm > 0) {
        for (float& x : normalised) x /= norm;
      }
      q = normalised.data();
    }
  }
  const simd::DistanceFn distance_fn = simd::DistanceFor(kernels, *options.metric);
  out->reserve(fused.size());
  for (const db::FusedHit& h : fused) {
    float distance = h.distance;
    if (h.vector_rank == 0 && idx != nullptr) {  // (every record has a vector: idx is set)
      idx->CopyVector(h.slot, row.data());
      distance = distance_fn(q, row.data(), row.size());
    }
    const double text_score =
        h.text_rank != 0 ? h.text_score
                         : (text_query.empty() ? 0.0
                                               : text_index->Score(text_query, h.slot, global));
    out->push_back({h.slot, h.score, distance, text_score});
  }
}

std::vector<Hit> Impl::ToHits(std::span<const RankedHit> ranked,
                              const SearchOptions& search) const {
  std::vector<Hit> hits;
  hits.reserve(ranked.size());
  std::shared_lock<std::shared_mutex> lock(map_mutex);
  for (const RankedHit& r : ranked) {
    if (!ids.used(r.slot)) continue;  // deleted since the search found it
    Hit hit{ids.IdOf(r.slot), r.distance,
            search.include_metadata ? columns.Get(r.slot) : Metadata{}, r.score, r.text_score,
            std::nullopt};
    if (search.include_documents) {
      if (const std::string* doc = documents.Get(r.slot)) hit.document = *doc;
    }
    hits.push_back(std::move(hit));
  }
  return hits;
}

Result<std::vector<Hit>> Impl::SearchHybrid(std::span<const float> query,
                                            const SearchOptions& search) const {
  AUGUR_RETURN_IF_ERROR(db::CheckFusionOptions(search));
  AUGUR_ASSIGN_OR_RETURN(const text::TextQuery text_query, text_index->ParseQuery(*search.text));
  AUGUR_ASSIGN_OR_RETURN(const auto global, GlobalStatsFor(text_query, search));
  PreparedFilter filter;
  AUGUR_RETURN_IF_ERROR(PrepareFilter(search, &filter));
  try {
    std::shared_lock<std::shared_mutex> no_reuse(reclaim_mutex);
    std::vector<RankedHit> ranked;
    RankHybrid(query.data(), text_query, search, filter, OrNull(global), &ranked);
    return ToHits(ranked, search);
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted("out of memory in a hybrid search with k=" +
                                     std::to_string(search.k));
  }
}

Result<std::vector<Hit>> Collection::SearchText(std::string_view text,
                                                const SearchOptions& options) const {
  AUGUR_RETURN_IF_ERROR(impl_->CheckOpen());
  if (options.k == 0) return Status::InvalidArgument("k must be >= 1");
  AUGUR_ASSIGN_OR_RETURN(const text::TextQuery query, impl_->text_index->ParseQuery(text));
  AUGUR_ASSIGN_OR_RETURN(const auto global, GlobalStatsFor(query, options));
  PreparedFilter filter;
  AUGUR_RETURN_IF_ERROR(impl_->PrepareFilter(options, &filter));
  try {
    std::shared_lock<std::shared_mutex> no_reuse(impl_->reclaim_mutex);
    std::vector<RankedHit> ranked;
    impl_->RankText(query, options.k, filter, OrNull(global), &ranked);
    return impl_->ToHits(ranked, options);
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted("out of memory in a text search with k=" +
                                     std::to_string(options.k));
  }
}

Result<BatchResults> Impl::SearchBatchText(const MatrixView& queries, const SearchOptions& search,
                                           std::span<const std::string> texts) const {
  const bool hybrid = queries.data != nullptr;
  const size_t rows = texts.size();
  if (hybrid) {
    if (queries.rows != rows) {
      return Status::InvalidArgument(std::to_string(queries.rows) + " queries but " +
                                     std::to_string(rows) + " texts");
    }
    AUGUR_RETURN_IF_ERROR(db::CheckVectors(queries, dim.load(), *options.metric, "queries"));
    AUGUR_RETURN_IF_ERROR(db::CheckFusionOptions(search));
  }
  const size_t k = search.k;
  if (rows > 0 && k > std::numeric_limits<size_t>::max() / rows / sizeof(RankedHit)) {
    return Status::InvalidArgument("k * number of queries is too large");
  }
  std::vector<text::TextQuery> parsed(rows);
  std::vector<std::optional<text::GlobalTextStats>> globals(rows);
  for (size_t q = 0; q < rows; ++q) {
    Result<text::TextQuery> p = text_index->ParseQuery(texts[q]);
    if (!p.ok()) return Status::InvalidArgument("texts[" + std::to_string(q) + "]: " +
                                                p.status().message());
    parsed[q] = std::move(p).value();
    Result<std::optional<text::GlobalTextStats>> g = GlobalStatsFor(parsed[q], search);
    if (!g.ok()) return Status::InvalidArgument("texts[" + std::to_string(q) + "]: " +
                                                g.status().message());
    globals[q] = std::move(g).value();
  }
  PreparedFilter filter;
  AUGUR_RETURN_IF_ERROR(PrepareFilter(search, &filter));
  BatchResults out;
  out.rows = rows;
  out.k = k;
  try {
    std::shared_lock<std::shared_mutex> no_reuse(reclaim_mutex);
    std::vector<std::vector<RankedHit>> ranked(rows);
    const size_t stride = queries.row_stride == 0 ? queries.dim : queries.row_stride;
    const size_t threads = search.threads != 0 ? search.threads : this->threads();
    pool->ParallelFor(rows, threads, [&](size_t, size_t q) {
      if (hybrid) {
        RankHybrid(queries.data + q * stride, parsed[q], search, filter, OrNull(globals[q]),
                   &ranked[q]);
      } else {
        RankText(parsed[q], k, filter, OrNull(globals[q]), &ranked[q]);
      }
    });
    out.distances.assign(rows * k, std::numeric_limits<float>::infinity());
    out.scores.assign(rows * k, std::numeric_limits<double>::quiet_NaN());
    const bool strings = ids.kind() == IdKind::kString;
    if (strings) {
      out.string_ids.resize(rows * k);
    } else {
      out.int_ids.assign(rows * k, -1);
    }
    std::shared_lock<std::shared_mutex> lock(map_mutex);
    for (size_t q = 0; q < rows; ++q) {
      size_t w = q * k;
      for (const RankedHit& r : ranked[q]) {
        if (!ids.used(r.slot) || w == (q + 1) * k) continue;
        out.distances[w] = r.distance;
        out.scores[w] = r.score;
        if (strings) {
          out.string_ids[w] = ids.string_id(r.slot);
        } else {
          out.int_ids[w] = ids.int_id(r.slot);
        }
        ++w;
      }
    }
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted("out of memory for " + std::to_string(rows) + " x " +
                                     std::to_string(k) + " results");
  }
  return out;
}

Result<TextStats> Collection::TextStatistics(std::span<const std::string> texts) const {
  AUGUR_RETURN_IF_ERROR(impl_->CheckOpen());
  TextStats out;
  try {
    for (size_t q = 0; q < texts.size(); ++q) {
      Result<text::TextQuery> parsed = impl_->text_index->ParseQuery(texts[q]);
      if (!parsed.ok()) {
        return Status::InvalidArgument("texts[" + std::to_string(q) + "]: " +
                                       parsed.status().message());
      }
      const std::vector<uint64_t> freqs = impl_->text_index->DocFreqs(*parsed);
      for (size_t i = 0; i < freqs.size(); ++i) out.doc_freqs[parsed->terms[i].first] = freqs[i];
    }
    const text::CorpusStats corpus = impl_->text_index->Stats();
    out.doc_count = corpus.doc_count;
    out.total_length = corpus.total_length;
    // A write between the two reads could leave a frequency above the count; keep the
    // figures consistent (SearchOptions::text_stats rejects df > doc_count).
    for (const auto& [term, df] : out.doc_freqs) out.doc_count = std::max(out.doc_count, df);
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted("out of memory gathering text statistics");
  }
  return out;
}

}  // namespace augurdb
