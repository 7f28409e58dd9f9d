// A live inverted index over the documents of one collection, keyed by the engine's uint32
// slots, answering BM25 top-k queries (bm25.h) with dynamic pruning (text_search.cc).
//
// Writes are live: a document is searchable when AddDocument returns; there is no "optimize".
// Deletes are lazy inside the postings: RemoveDocument marks the slot dead and decrements df and
// the collection statistics at once (so N, df and avgdl always count live documents only), but
// leaves the slot's postings in place, skipped by searches. They go when the slot is reused (the
// slot's old terms are purged before its new document is indexed) or when a term's dead share
// passes kCompactDeadFraction (the term's postings are rebuilt without them).
//
// Thread safety: one writer at a time (the caller serialises AddDocument, RemoveDocument), any
// number of concurrent readers. A std::shared_mutex is held exclusively by a write for the
// posting updates only (tokenizing happens before) and shared by every read for the whole call;
// a turnstile mutex in front of it keeps readers from starving the writer.
//
// Invariants (CheckInvariants):
//   1. A slot is empty, live or dead. A live slot's forward list holds its distinct term ids,
//      sorted, with tf >= 1; its length is the sum of those tfs.
//   2. Each term's postings list every live slot whose forward list names the term, with that
//      tf, plus possibly dead slots (never empty ones); df = its live postings, dead = the rest.
//   3. doc_count = live slots; total_length = sum of live slots' lengths.
//   4. Each PostingList satisfies its own invariants (posting_list.h).
#pragma once

#include <augurdb/status.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "text/posting_list.h"
#include "text/slot_filter.h"
#include "text/tokenizer.h"

namespace augurdb::text {

struct TextHit {
  Slot slot;
  double score;  // BM25, higher is better
};

// A tokenized query: distinct terms in order of first occurrence, each with its count.
struct TextQuery {
  std::vector<std::pair<std::string, uint32_t>> terms;
  bool empty() const { return terms.empty(); }
};

// Collection-wide statistics over live documents.
struct CorpusStats {
  uint64_t doc_count = 0;     // N
  uint64_t total_length = 0;  // sum of document lengths, in tokens
};

// Statistics gathered from every shard (the distributed DFS phase) to score with instead of the
// local ones, so shards rank on one scale.
struct GlobalTextStats {
  CorpusStats corpus;
  std::vector<uint64_t> doc_freqs;  // per TextQuery term, same order
};

struct TextSearchOptions {
  size_t k = 10;
  const SlotFilter* filter = nullptr;         // only slots it contains; must outlive the call
  const GlobalTextStats* global = nullptr;    // score with these instead of local statistics
};

class InvertedIndex {
 public:
  // A term whose dead postings exceed this share of its postings (and kCompactMinDead) is
  // rebuilt without them.
  static constexpr double kCompactDeadFraction = 0.25;
  static constexpr uint32_t kCompactMinDead = 16;

  explicit InvertedIndex(TokenizerKind kind);
  InvertedIndex(const InvertedIndex&) = delete;
  InvertedIndex& operator=(const InvertedIndex&) = delete;

  // Rebuilds an index from ExportImage bytes. kCorruption (with the byte offset) for anything
  // truncated, inconsistent or failing its checksum; never crashes on bad input.
  static Result<std::unique_ptr<InvertedIndex>> FromImage(std::string_view image);

  const Tokenizer& tokenizer() const { return tokenizer_; }

  // Indexes `text` under `slot`. kInvalidArgument for invalid UTF-8, slot >= kNoSlot or a slot
  // that already holds a live document (the caller removes it first: an upsert is Remove+Add).
  // Nothing changes on error.
  Status AddDocument(Slot slot, std::string_view text);
  // The same with tokens the caller already produced with tokenizer() (WAL replay of a batch
  // tokenized on another thread).
  Status AddTokens(Slot slot, std::span<const std::string> tokens);
  // kNotFound when `slot` holds no live document.
  Status RemoveDocument(Slot slot);
  bool Contains(Slot slot) const;

  // kInvalidArgument for invalid UTF-8. A query with no indexable token is valid and empty.
  Result<TextQuery> ParseQuery(std::string_view text) const;

  // Top k live slots by BM25, best first, ties by ascending slot; slots with score 0 (no query
  // term) are never listed.
  void Search(const TextQuery& query, const TextSearchOptions& options,
              std::vector<TextHit>* out) const;
  Status Search(std::string_view query, size_t k, const SlotFilter* filter,
                std::vector<TextHit>* out) const;
  // Exact BM25 of one slot (0 for a slot without a live document or without query terms).
  double Score(const TextQuery& query, Slot slot, const GlobalTextStats* global = nullptr) const;

  CorpusStats Stats() const;
  // Live document frequency of each query term, in query order (DFS phase).
  std::vector<uint64_t> DocFreqs(const TextQuery& query) const;

  // Self-contained, checksummed bytes for a checkpoint section (format in
  // inverted_index_image.cc and docs/text-search.md).
  std::string ExportImage() const;
  // kCorruption naming the first violated invariant.
  Status CheckInvariants() const;
  size_t MemoryBytes() const;

 private:
  enum class SlotState : uint8_t { kEmpty = 0, kLive = 1, kDead = 2 };
  struct TermTf {
    uint32_t term;
    uint32_t tf;
  };
  struct Term {
    PostingList postings;
    uint32_t doc_freq = 0;  // live postings
    uint32_t dead = 0;      // postings of dead slots
  };
  // Per-query view of one term, prepared under the lock (text_search.cc).
  struct QueryTerm;

  // Distinct tokens with counts, sorted by token.
  static std::vector<std::pair<std::string_view, uint32_t>> CountTokens(
      std::span<const std::string> tokens);
  // REQUIRES: mu_ held exclusively.
  Status AddCountedLocked(Slot slot, std::span<const std::pair<std::string_view, uint32_t>> counts);
  void PurgeDeadSlotLocked(Slot slot);
  uint32_t TermIdLocked(std::string_view token);
  // REQUIRES: mu_ held (shared is enough).
  std::vector<QueryTerm> PrepareLocked(const TextQuery& query, const GlobalTextStats* global,
                                       double* avgdl) const;
  uint32_t TfLocked(Slot slot, uint32_t term) const;
  bool LiveLocked(Slot slot) const {
    return slot < state_.size() && state_[slot] == SlotState::kLive;
  }

  // Lets term_ids_ be searched with a string_view, without building a std::string per token.
  struct TermHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  // Readers take mu_ shared while holding turnstile_ and writers hold turnstile_ while they wait
  // for mu_, so a steady stream of searches cannot starve a writer (glibc's std::shared_mutex
  // prefers readers).
  std::shared_lock<std::shared_mutex> ReadLock() const {
    std::lock_guard<std::mutex> gate(turnstile_);
    return std::shared_lock<std::shared_mutex>(mu_);
  }

  const Tokenizer tokenizer_;
  mutable std::mutex turnstile_;
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, uint32_t, TermHash, std::equal_to<>> term_ids_;
  std::vector<const std::string*> term_text_;   // id -> key in term_ids_ (stable node address)
  std::vector<Term> terms_;                     // by term id
  std::vector<SlotState> state_;                // by slot
  std::vector<uint32_t> doc_len_;               // by slot; kept for dead slots until reuse
  std::vector<std::vector<TermTf>> forward_;    // by slot; a dead slot's lists its stale postings
  CorpusStats stats_;
};

}  // namespace augurdb::text
