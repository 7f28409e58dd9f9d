// The write path (add, remove, purge, compaction), point lookups and the invariant check.
// Search lives in text_search.cc, the checkpoint image in inverted_index_image.cc.
#include "text/inverted_index.h"

#include <algorithm>
#include <limits>
#include <mutex>
#include <unordered_map>

#include "text/bm25.h"

namespace augurdb::text {

InvertedIndex::InvertedIndex(TokenizerKind kind) : tokenizer_(kind) {}

std::vector<std::pair<std::string_view, uint32_t>> InvertedIndex::CountTokens(
    std::span<const std::string> tokens) {
  std::vector<std::string_view> sorted(tokens.begin(), tokens.end());
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::pair<std::string_view, uint32_t>> counts;
  for (std::string_view t : sorted) {
    if (!counts.empty() && counts.back().first == t) {
      ++counts.back().second;
    } else {
      counts.emplace_back(t, 1);
    }
  }
  return counts;
}

Status InvertedIndex::AddDocument(Slot slot, std::string_view text) {
  std::vector<std::string> tokens;
  AUGUR_RETURN_IF_ERROR(tokenizer_.Tokenize(text, &tokens));
  return AddTokens(slot, tokens);
}

Status InvertedIndex::AddTokens(Slot slot, std::span<const std::string> tokens) {
  const auto counts = CountTokens(tokens);
  std::lock_guard<std::mutex> gate(turnstile_);
  std::unique_lock lock(mu_);
  return AddCountedLocked(slot, counts);
}

uint32_t InvertedIndex::TermIdLocked(std::string_view token) {
  const auto it = term_ids_.find(token);
  if (it != term_ids_.end()) return it->second;
  const auto id = static_cast<uint32_t>(terms_.size());
  const auto inserted = term_ids_.emplace(std::string(token), id).first;
  term_text_.push_back(&inserted->first);
  terms_.emplace_back();
  return id;
}

Status InvertedIndex::AddCountedLocked(
    Slot slot, std::span<const std::pair<std::string_view, uint32_t>> counts) {
  if (slot >= kNoSlot) {
    return Status::InvalidArgument("text index: slot " + std::to_string(slot) + " out of range");
  }
  if (LiveLocked(slot)) {
    return Status::InvalidArgument("text index: slot " + std::to_string(slot) +
                                   " already holds a document; remove it first");
  }
  uint64_t length = 0;
  for (const auto& [token, count] : counts) length += count;
  if (length > std::numeric_limits<uint32_t>::max()) {
    return Status::InvalidArgument("text index: document has " + std::to_string(length) +
                                   " tokens, more than 2^32 - 1");
  }
  if (slot >= state_.size()) {
    state_.resize(slot + size_t{1}, SlotState::kEmpty);
    doc_len_.resize(slot + size_t{1}, 0);
    forward_.resize(slot + size_t{1});
  }
  if (state_[slot] == SlotState::kDead) PurgeDeadSlotLocked(slot);
  doc_len_[slot] = static_cast<uint32_t>(length);
  std::vector<TermTf>& forward = forward_[slot];
  forward.clear();
  forward.reserve(counts.size());
  for (const auto& [token, count] : counts) forward.push_back({TermIdLocked(token), count});
  std::sort(forward.begin(), forward.end(),
            [](const TermTf& a, const TermTf& b) { return a.term < b.term; });
  for (const TermTf& entry : forward) {
    Term& term = terms_[entry.term];
    term.postings.Insert(slot, entry.tf, doc_len_);
    ++term.doc_freq;
  }
  state_[slot] = SlotState::kLive;
  ++stats_.doc_count;
  stats_.total_length += length;
  return Status::OK();
}

void InvertedIndex::PurgeDeadSlotLocked(Slot slot) {
  for (const TermTf& entry : forward_[slot]) {
    Term& term = terms_[entry.term];
    // Absent when a compaction already dropped it.
    if (term.postings.Erase(slot, doc_len_)) --term.dead;
  }
  forward_[slot].clear();
  state_[slot] = SlotState::kEmpty;
}

Status InvertedIndex::RemoveDocument(Slot slot) {
  std::lock_guard<std::mutex> gate(turnstile_);
  std::unique_lock lock(mu_);
  if (!LiveLocked(slot)) {
    return Status::NotFound("text index: slot " + std::to_string(slot) + " holds no document");
  }
  state_[slot] = SlotState::kDead;
  --stats_.doc_count;
  stats_.total_length -= doc_len_[slot];
  for (const TermTf& entry : forward_[slot]) {
    Term& term = terms_[entry.term];
    --term.doc_freq;
    ++term.dead;
    if (term.dead >= kCompactMinDead &&
        static_cast<double>(term.dead) >
            kCompactDeadFraction * static_cast<double>(term.postings.size())) {
      term.postings.Compact([this](Slot s) { return state_[s] == SlotState::kLive; }, doc_len_);
      term.dead = 0;
    }
  }
  return Status::OK();
}

bool InvertedIndex::Contains(Slot slot) const {
  const auto lock = ReadLock();
  return LiveLocked(slot);
}

Result<TextQuery> InvertedIndex::ParseQuery(std::string_view text) const {
  std::vector<std::string> tokens;
  AUGUR_RETURN_IF_ERROR(tokenizer_.Tokenize(text, &tokens));
  TextQuery query;
  std::unordered_map<std::string_view, size_t> position;  // token -> index in query.terms
  for (const std::string& token : tokens) {
    const auto [it, inserted] = position.emplace(token, query.terms.size());
    if (inserted) {
      query.terms.emplace_back(token, 1);
    } else {
      ++query.terms[it->second].second;
    }
  }
  return query;
}

uint32_t InvertedIndex::TfLocked(Slot slot, uint32_t term) const {
  const std::vector<TermTf>& forward = forward_[slot];
  const auto it = std::lower_bound(forward.begin(), forward.end(), term,
                                   [](const TermTf& e, uint32_t t) { return e.term < t; });
  return it != forward.end() && it->term == term ? it->tf : 0;
}

CorpusStats InvertedIndex::Stats() const {
  const auto lock = ReadLock();
  return stats_;
}

std::vector<uint64_t> InvertedIndex::DocFreqs(const TextQuery& query) const {
  const auto lock = ReadLock();
  std::vector<uint64_t> out;
  out.reserve(query.terms.size());
  for (const auto& [token, count] : query.terms) {
    const auto it = term_ids_.find(token);
    out.push_back(it == term_ids_.end() ? 0 : terms_[it->second].doc_freq);
  }
  return out;
}

Status InvertedIndex::CheckInvariants() const {
  const auto lock = ReadLock();
  auto fail = [](const std::string& what) {
    return Status::Corruption("text index invariant violated: " + what);
  };
  if (state_.size() != doc_len_.size() || state_.size() != forward_.size() ||
      term_text_.size() != terms_.size() || term_ids_.size() != terms_.size()) {
    return fail("per-slot or per-term arrays differ in size");
  }
  std::vector<uint32_t> live_postings(terms_.size(), 0);
  CorpusStats stats;
  for (size_t slot = 0; slot < state_.size(); ++slot) {
    const std::vector<TermTf>& forward = forward_[slot];
    if (state_[slot] == SlotState::kEmpty && !forward.empty()) {
      return fail("empty slot " + std::to_string(slot) + " has terms");
    }
    uint64_t length = 0;
    for (size_t i = 0; i < forward.size(); ++i) {
      if (forward[i].term >= terms_.size() || forward[i].tf == 0 ||
          (i > 0 && forward[i].term <= forward[i - 1].term)) {
        return fail("forward list of slot " + std::to_string(slot));
      }
      length += forward[i].tf;
      if (state_[slot] == SlotState::kLive) ++live_postings[forward[i].term];
    }
    if (state_[slot] != SlotState::kLive) continue;
    if (length != doc_len_[slot]) return fail("length of slot " + std::to_string(slot));
    ++stats.doc_count;
    stats.total_length += length;
  }
  if (stats.doc_count != stats_.doc_count || stats.total_length != stats_.total_length) {
    return fail("collection statistics");
  }
  std::vector<Slot> slots;
  std::vector<uint32_t> tfs;
  for (uint32_t id = 0; id < terms_.size(); ++id) {
    const Term& term = terms_[id];
    const std::string name = "term '" + *term_text_[id] + "'";
    const auto it = term_ids_.find(*term_text_[id]);
    if (it == term_ids_.end() || it->second != id) return fail(name + " dictionary entry");
    const std::string list_error = term.postings.CheckInvariants(doc_len_);
    if (!list_error.empty()) return fail(name + ": " + list_error);
    term.postings.DecodeAll(&slots, &tfs);
    uint32_t live = 0, dead = 0;
    for (size_t i = 0; i < slots.size(); ++i) {
      if (slots[i] >= state_.size() || state_[slots[i]] == SlotState::kEmpty) {
        return fail(name + " lists empty slot " + std::to_string(slots[i]));
      }
      if (state_[slots[i]] == SlotState::kDead) {
        ++dead;
        continue;
      }
      if (TfLocked(slots[i], id) != tfs[i]) {
        return fail(name + " tf of slot " + std::to_string(slots[i]));
      }
      ++live;
    }
    if (live != term.doc_freq || live != live_postings[id] || dead != term.dead) {
      return fail(name + " document frequency");
    }
  }
  return Status::OK();
}

size_t InvertedIndex::MemoryBytes() const {
  const auto lock = ReadLock();
  size_t bytes = sizeof(*this) + state_.capacity() * sizeof(SlotState) +
                 doc_len_.capacity() * sizeof(uint32_t) +
                 forward_.capacity() * sizeof(std::vector<TermTf>) +
                 terms_.capacity() * sizeof(Term) +
                 term_text_.capacity() * sizeof(const std::string*) +
                 term_ids_.bucket_count() * sizeof(void*);
  for (const auto& forward : forward_) bytes += forward.capacity() * sizeof(TermTf);
  for (const Term& term : terms_) bytes += term.postings.MemoryBytes();
  // A hash node holds the key, the id and a next pointer; short keys live inside the string.
  for (const auto& [token, id] : term_ids_) {
    bytes += sizeof(std::string) + sizeof(uint32_t) + sizeof(void*) +
             (token.capacity() > 15 ? token.capacity() + 1 : 0);
  }
  return bytes;
}

}  // namespace augurdb::text
