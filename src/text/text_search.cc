// BM25 top-k by MaxScore (Turtle & Flood, "Query evaluation: strategies and optimizations",
// IP&M 1995) with block-max bounds (Ding & Suel, "Faster top-k document retrieval using
// block-max indexes", SIGIR 2011, section 4 applies them to MaxScore as here).
//
// Method: terms are sorted by their upper bound (the largest BM25 contribution any of their
// blocks allows). Once the heap holds k hits with worst score theta, the longest prefix of terms
// whose bounds sum to at most theta is "non-essential": a document containing only those cannot
// enter the heap, so candidates come from the essential terms' postings alone. A candidate is
// then abandoned as soon as its partial score plus the bounds still unscored (first the
// non-essential terms' list bounds, then their current blocks' bounds) cannot beat theta, and
// a run of slots is skipped without decoding when the blocks covering it cannot beat theta.
// Documents are visited in slot order, so a later document that only ties theta loses the tie
// (ties go to the smaller slot) and may be pruned too.
//
// Bounds come from each block's (tf, dl) impacts under the statistics of this query, so they
// stay valid however N, df and avgdl moved since the block was written. The final score of an
// accepted document is summed in query order, the order Score() and a brute-force scorer use,
// so the three agree to the last bit.
#include <algorithm>
#include <mutex>

#include "text/bm25.h"
#include "text/inverted_index.h"

namespace augurdb::text {

struct InvertedIndex::QueryTerm {
  const PostingList* postings = nullptr;  // null when the term has no postings here
  uint32_t id = 0;
  double weight = 0.0;                    // idf * count in the query
  size_t query_index = 0;
};

namespace {

// Bounds are compared with a little slack so that rounding in a differently ordered sum can
// never prune a document that would have entered the heap.
constexpr double kBoundSlack = 1e-9;

double BoundScore(const BoundStats& bound, double weight, const Bm25Norm& norm) {
  double best = 0.0;
  for (uint32_t j = 0; j < bound.count; ++j) {
    best = std::max(best, Bm25TermScore(weight, bound.impacts[j].tf, bound.impacts[j].dl, norm));
  }
  return best;
}

bool Worse(const TextHit& a, const TextHit& b) {
  return a.score < b.score || (a.score == b.score && a.slot > b.slot);
}

}  // namespace

std::vector<InvertedIndex::QueryTerm> InvertedIndex::PrepareLocked(
    const TextQuery& query, const GlobalTextStats* global, double* avgdl) const {
  const CorpusStats& corpus = global != nullptr ? global->corpus : stats_;
  *avgdl = corpus.doc_count > 0 ? static_cast<double>(corpus.total_length) /
                                      static_cast<double>(corpus.doc_count)
                                : 0.0;
  std::vector<QueryTerm> out(query.terms.size());
  for (size_t i = 0; i < query.terms.size(); ++i) {
    QueryTerm& qt = out[i];
    qt.query_index = i;
    const auto it = term_ids_.find(query.terms[i].first);
    if (it == term_ids_.end()) continue;
    const Term& term = terms_[it->second];
    const uint64_t df = global != nullptr && i < global->doc_freqs.size()
                            ? global->doc_freqs[i]
                            : term.doc_freq;
    qt.id = it->second;
    qt.postings = term.doc_freq > 0 ? &term.postings : nullptr;
    qt.weight = Bm25Idf(corpus.doc_count, df) * query.terms[i].second;
  }
  return out;
}

double InvertedIndex::Score(const TextQuery& query, Slot slot,
                            const GlobalTextStats* global) const {
  const auto lock = ReadLock();
  if (!LiveLocked(slot)) return 0.0;
  double avgdl = 0.0;
  const std::vector<QueryTerm> terms = PrepareLocked(query, global, &avgdl);
  const Bm25Norm norm = Bm25Norm::ForAverageLength(avgdl);
  double score = 0.0;
  for (const QueryTerm& qt : terms) {
    if (qt.postings == nullptr) continue;
    const uint32_t tf = TfLocked(slot, qt.id);
    if (tf > 0) score += Bm25TermScore(qt.weight, tf, doc_len_[slot], norm);
  }
  return score;
}

Status InvertedIndex::Search(std::string_view query, size_t k, const SlotFilter* filter,
                             std::vector<TextHit>* out) const {
  AUGUR_ASSIGN_OR_RETURN(TextQuery parsed, ParseQuery(query));
  TextSearchOptions options;
  options.k = k;
  options.filter = filter;
  Search(parsed, options, out);
  return Status::OK();
}

void InvertedIndex::Search(const TextQuery& query, const TextSearchOptions& options,
                           std::vector<TextHit>* out) const {
  out->clear();
  if (options.k == 0 || query.empty()) return;
  const auto lock = ReadLock();
  double avgdl = 0.0;
  const std::vector<QueryTerm> prepared = PrepareLocked(query, options.global, &avgdl);
  const Bm25Norm norm = Bm25Norm::ForAverageLength(avgdl);

  struct Active {
    const QueryTerm* term;
    double upper_bound;
    PostingCursor cursor;
    // The last block bound computed, valid for candidates up to block_last: candidates only
    // grow, and the block found for a smaller slot is still the first one ending at or after
    // any larger slot up to its end.
    Slot block_last = 0;
    double block_score = -1.0;  // < 0: nothing cached
    bool block_empty = false;

    // BM25 bound over the segment holding `slot`; false when no posting at or after it remains.
    bool BlockBound(Slot slot, double weight, const Bm25Norm& norm, double* score, Slot* last) {
      if (block_score < 0.0 || slot > block_last) {
        const auto b = cursor.BoundAt(slot);
        block_empty = b.stats.count == 0;
        block_last = b.last_slot;
        block_score = BoundScore(b.stats, weight, norm);
      }
      *score = block_score;
      *last = block_last;
      return !block_empty;
    }
  };
  std::vector<Active> active;
  active.reserve(prepared.size());
  for (const QueryTerm& qt : prepared) {
    if (qt.postings == nullptr) continue;
    double ub = 0.0;
    for (const BlockMeta& b : qt.postings->blocks()) {
      ub = std::max(ub, BoundScore(b.bound, qt.weight, norm));
    }
    ub = std::max(ub, BoundScore(qt.postings->tail_bound(), qt.weight, norm));
    active.push_back({&qt, ub, PostingCursor(qt.postings)});
  }
  if (active.empty()) return;
  std::sort(active.begin(), active.end(),
            [](const Active& a, const Active& b) { return a.upper_bound < b.upper_bound; });
  const size_t n = active.size();
  std::vector<double> prefix_bound(n);  // sum of upper bounds of active[0..i]
  for (size_t i = 0; i < n; ++i) {
    prefix_bound[i] = active[i].upper_bound + (i > 0 ? prefix_bound[i - 1] : 0.0);
  }

  std::vector<TextHit> heap;  // heap.front() is the worst hit kept
  heap.reserve(std::min<uint64_t>(options.k, stats_.doc_count));
  double threshold = 0.0;       // worst kept score once the heap is full
  size_t first_essential = 0;   // active[0, first_essential) are non-essential
  std::vector<double> contribution(query.terms.size(), 0.0);
  const auto below = [&](double bound) {
    return heap.size() == options.k && bound < threshold * (1.0 - kBoundSlack);
  };

  while (first_essential < n) {
    Slot slot = kNoSlot;
    for (size_t i = first_essential; i < n; ++i) slot = std::min(slot, active[i].cursor.slot());
    if (slot == kNoSlot) break;
    if (heap.size() == options.k) {
      // Block-max skip: every term's bound over the segment holding `slot` holds up to the
      // first segment end; if they cannot beat theta together, no slot up to there can.
      double region_bound = 0.0;
      Slot region_end = kNoSlot;
      for (size_t i = 0; i < n; ++i) {
        double bound = 0.0;
        Slot last = kNoSlot;
        if (!active[i].BlockBound(slot, active[i].term->weight, norm, &bound, &last)) continue;
        region_bound += bound;
        region_end = std::min(region_end, last);
      }
      if (below(region_bound)) {
        for (size_t i = first_essential; i < n; ++i) active[i].cursor.SeekGE(region_end + 1);
        continue;
      }
    }
    const bool eligible =
        LiveLocked(slot) && (options.filter == nullptr || options.filter->Contains(slot));
    double partial = 0.0;
    for (size_t i = first_essential; i < n; ++i) {
      PostingCursor& cursor = active[i].cursor;
      if (cursor.slot() != slot) continue;
      if (eligible) {
        const double c = Bm25TermScore(active[i].term->weight, cursor.tf(), doc_len_[slot], norm);
        contribution[active[i].term->query_index] = c;
        partial += c;
      }
      cursor.Next();
    }
    if (!eligible) continue;

    bool pruned = first_essential > 0 && below(partial + prefix_bound[first_essential - 1]);
    if (!pruned && first_essential > 0 && heap.size() == options.k) {
      double estimate = partial;
      for (size_t i = 0; i < first_essential; ++i) {
        double bound = 0.0;
        Slot last = kNoSlot;
        if (active[i].BlockBound(slot, active[i].term->weight, norm, &bound, &last)) {
          estimate += bound;
        }
      }
      pruned = below(estimate);
    }
    for (size_t i = first_essential; i-- > 0 && !pruned;) {
      PostingCursor& cursor = active[i].cursor;
      cursor.SeekGE(slot);
      if (cursor.slot() == slot) {
        const double c = Bm25TermScore(active[i].term->weight, cursor.tf(), doc_len_[slot], norm);
        contribution[active[i].term->query_index] = c;
        partial += c;
      }
      pruned = i > 0 && below(partial + prefix_bound[i - 1]);
    }
    double score = 0.0;
    for (double& c : contribution) {
      score += c;
      c = 0.0;
    }
    if (pruned) continue;
    if (heap.size() < options.k) {
      heap.push_back({slot, score});
      std::push_heap(heap.begin(), heap.end(), [](const TextHit& a, const TextHit& b) {
        return Worse(b, a);
      });
    } else if (score > heap.front().score) {
      std::pop_heap(heap.begin(), heap.end(),
                    [](const TextHit& a, const TextHit& b) { return Worse(b, a); });
      heap.back() = {slot, score};
      std::push_heap(heap.begin(), heap.end(),
                     [](const TextHit& a, const TextHit& b) { return Worse(b, a); });
    } else {
      continue;
    }
    if (heap.size() == options.k) {
      threshold = heap.front().score;
      while (first_essential < n && below(prefix_bound[first_essential])) ++first_essential;
    }
  }
  std::sort(heap.begin(), heap.end(), [](const TextHit& a, const TextHit& b) {
    return Worse(b, a);
  });
  *out = std::move(heap);
}

}  // namespace augurdb::text
