// The postings of one term: (slot, term frequency) pairs sorted by slot, stored as sealed
// blocks of up to kBlockSize varint-coded postings plus a short uncompressed tail that takes
// fresh inserts, so a document is searchable as soon as AddDocument returns.
//
// Each sealed block keeps its last slot and a few (tf, dl) impacts beside its bytes: the last
// slot lets a cursor skip the block without decoding it, and the impacts bound the BM25 score of
// every document in it under whatever N/df/avgdl hold at query time (BM25 rises with tf and
// falls with dl), so the bound never goes stale as the collection changes.
//
// Invariants:
//   1. Slots strictly increase across blocks (in order), then across the tail.
//   2. Every tail slot is greater than the last sealed slot.
//   3. A block holds 1..kBlockSize postings; its metadata matches its decoded postings (dl
//      from the document lengths the index keeps, dead documents included).
//   4. The tail holds fewer than kBlockSize postings.
//
// Thread safety: none of its own; InvertedIndex serialises writers against readers.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

namespace augurdb::text {

using Slot = uint32_t;
// The end-of-list marker a cursor reports; slots must be smaller.
inline constexpr Slot kNoSlot = std::numeric_limits<Slot>::max();
inline constexpr size_t kBlockSize = 128;

// A (tf, dl) pair bounding BM25 from above: a posting with tf <= tf and dl >= dl scores at most
// what this pair scores, under any N, df and avgdl.
struct Impact {
  uint32_t tf;
  uint32_t dl;
};
inline constexpr size_t kImpactsPerBound = 4;

// Covers a run of postings: each has tf <= impacts[j].tf and dl >= impacts[j].dl for some j <
// count. Blocks keep the non-dominated (tf, dl) pairs of their postings, merged down to
// kImpactsPerBound (Lucene's per-block "impacts"), which bounds tighter than (max tf,
// min dl) alone when the longest-tf document is not also the shortest; the tail keeps one pair.
struct BoundStats {
  std::array<Impact, kImpactsPerBound> impacts{};
  uint32_t count = 0;  // 0: covers no posting

  bool operator==(const BoundStats& o) const {
    if (count != o.count) return false;
    for (uint32_t j = 0; j < count; ++j) {
      if (impacts[j].tf != o.impacts[j].tf || impacts[j].dl != o.impacts[j].dl) return false;
    }
    return true;
  }
};

struct BlockMeta {
  Slot last_slot;    // largest slot in the block
  uint32_t offset;   // start of the block's bytes in PostingList::bytes_
  uint32_t count;    // postings in the block, 1..kBlockSize
  BoundStats bound;  // over the block's postings (dead documents included)
};

class PostingList {
 public:
  // `doc_len[slot]` must hold the length of every slot listed or being inserted.
  using DocLengths = std::span<const uint32_t>;

  size_t size() const { return sealed_count_ + tail_slots_.size(); }
  bool empty() const { return size() == 0; }

  // REQUIRES: slot < kNoSlot and not already listed.
  void Insert(Slot slot, uint32_t tf, DocLengths doc_len);
  // Removes `slot`; false when it is not listed.
  bool Erase(Slot slot, DocLengths doc_len);
  // Drops every posting whose slot fails `keep`, re-packing into full blocks.
  template <typename Keep>
  void Compact(Keep keep, DocLengths doc_len);
  // Rebuilds from postings sorted by slot (image load, compaction).
  void Assign(std::span<const Slot> slots, std::span<const uint32_t> tfs, DocLengths doc_len);

  const std::vector<BlockMeta>& blocks() const { return blocks_; }
  // Decodes block b into slots[0, count) and tfs[0, count).
  void DecodeBlock(size_t b, Slot* slots, uint32_t* tfs) const;
  std::span<const Slot> tail_slots() const { return tail_slots_; }
  std::span<const uint32_t> tail_tfs() const { return tail_tfs_; }
  const BoundStats& tail_bound() const { return tail_bound_; }
  // All postings, decoded (tests, invariant checks, compaction).
  void DecodeAll(std::vector<Slot>* slots, std::vector<uint32_t>* tfs) const;
  // Checks invariants 1-4; returns a description of the first violation, or "".
  std::string CheckInvariants(DocLengths doc_len) const;
  size_t MemoryBytes() const;

 private:
  // Replaces blocks [first, first + old_count) with blocks encoding the given postings.
  void ReplaceBlocks(size_t first, size_t old_count, std::span<const Slot> slots,
                     std::span<const uint32_t> tfs, DocLengths doc_len);
  void RecomputeTailBound(DocLengths doc_len);
  void SealTailIfFull(DocLengths doc_len);

  std::string bytes_;               // the sealed blocks' encodings, back to back
  std::vector<BlockMeta> blocks_;
  size_t sealed_count_ = 0;         // postings in sealed blocks
  std::vector<Slot> tail_slots_;    // sorted, all > blocks_.back().last_slot
  std::vector<uint32_t> tail_tfs_;
  BoundStats tail_bound_;
};

template <typename Keep>
void PostingList::Compact(Keep keep, DocLengths doc_len) {
  std::vector<Slot> slots;
  std::vector<uint32_t> tfs;
  DecodeAll(&slots, &tfs);
  size_t kept = 0;
  for (size_t i = 0; i < slots.size(); ++i) {
    if (!keep(slots[i])) continue;
    slots[kept] = slots[i];
    tfs[kept] = tfs[i];
    ++kept;
  }
  slots.resize(kept);
  tfs.resize(kept);
  Assign(slots, tfs, doc_len);
}

// Walks one PostingList in slot order. Valid while the list is not modified (InvertedIndex's
// readers hold its shared lock for the whole query).
class PostingCursor {
 public:
  explicit PostingCursor(const PostingList* list) : list_(list) { Load(0); }

  Slot slot() const { return slot_; }
  uint32_t tf() const { return SegmentTfs()[pos_]; }

  void Next() {
    if (++pos_ < seg_count_) {
      slot_ = SegmentSlots()[pos_];
    } else {
      Load(seg_ + 1);
    }
  }

  // Moves to the first posting with slot >= target (or the end).
  void SeekGE(Slot target) {
    if (slot_ >= target) return;
    if (seg_count_ == 0 || SegmentSlots()[seg_count_ - 1] < target) {
      const size_t seg = FindSegment(target, seg_ + 1);
      if (seg != seg_) Load(seg);
      if (slot_ >= target) return;
    }
    const Slot* slots = SegmentSlots();
    while (pos_ < seg_count_ && slots[pos_] < target) ++pos_;
    if (pos_ < seg_count_) {
      slot_ = slots[pos_];
    } else {
      Load(seg_ + 1);
    }
  }

  // Bound and last slot of the segment that would hold `target`, without decoding it; an empty
  // bound (and kNoSlot) when no posting at or after target exists. The bound covers
  // every posting in [target, last_slot].
  struct SegmentBound {
    BoundStats stats;
    Slot last_slot = kNoSlot;
  };
  SegmentBound BoundAt(Slot target) const {
    const auto& blocks = list_->blocks();
    const size_t seg = seg_ < blocks.size() && blocks[seg_].last_slot >= target
                           ? seg_
                           : FindSegment(target, seg_);
    if (seg < blocks.size()) return {blocks[seg].bound, blocks[seg].last_slot};
    if (seg == blocks.size() && !list_->tail_slots().empty()) {
      return {list_->tail_bound(), list_->tail_slots().back()};
    }
    return {};
  }

 private:
  // First segment >= from whose last slot is >= target: blocks are segments 0..n-1, the tail n,
  // n + 1 means the end.
  size_t FindSegment(Slot target, size_t from) const {
    const auto& blocks = list_->blocks();
    size_t lo = from, hi = blocks.size();
    while (lo < hi) {
      const size_t mid = lo + (hi - lo) / 2;
      if (blocks[mid].last_slot < target) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    if (lo < blocks.size()) return lo;
    const auto tail = list_->tail_slots();
    return (!tail.empty() && tail.back() >= target) ? blocks.size() : blocks.size() + 1;
  }

  // The decoded block lives inside the cursor, so it is found through seg_ rather than a stored
  // pointer: a cursor stays valid when copied or moved (the search keeps them in a vector).
  bool InBlock() const { return seg_ < list_->blocks().size(); }
  const Slot* SegmentSlots() const {
    return InBlock() ? slots_buf_ : list_->tail_slots().data();
  }
  const uint32_t* SegmentTfs() const { return InBlock() ? tfs_buf_ : list_->tail_tfs().data(); }

  void Load(size_t seg) {
    const auto& blocks = list_->blocks();
    seg_ = seg;
    pos_ = 0;
    if (seg < blocks.size()) {
      list_->DecodeBlock(seg, slots_buf_, tfs_buf_);
      seg_count_ = blocks[seg].count;
    } else if (seg == blocks.size() && !list_->tail_slots().empty()) {
      seg_count_ = list_->tail_slots().size();
    } else {
      seg_ = blocks.size() + 1;
      seg_count_ = 0;
      slot_ = kNoSlot;
      return;
    }
    slot_ = SegmentSlots()[0];
  }

  const PostingList* list_;
  size_t seg_ = 0;
  size_t pos_ = 0;
  size_t seg_count_ = 0;
  Slot slot_ = kNoSlot;
  Slot slots_buf_[kBlockSize];
  uint32_t tfs_buf_[kBlockSize];
};

}  // namespace augurdb::text
