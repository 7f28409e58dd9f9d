// The candidate set of one beam search: a sorted, fixed-capacity array of (distance, slot)
// with an "expanded" bit per entry, replacing hnswlib's two binary heaps (glass LinearPool).
// Insertion is a binary search plus a short memmove inside one or two cache lines; the next node
// to expand is the closest unexpanded entry, tracked by a cursor that only moves back on insert.
//
// Thread safety: none; each search owns one (inside its Scratch).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

namespace augurdb::index {

struct Neighbor {
  float distance;
  uint32_t slot;
};

// Counters a search fills for benchmarks (machine-independent cost).
struct SearchStats {
  uint64_t distances = 0;
  uint64_t hops = 0;
};

class SearchPool {
 public:
  // Empties the pool and sets its capacity (how many of the best entries it keeps) and its beam
  // (how many of the best HasNext looks at for expansion; <= capacity). A beam narrower than the
  // capacity walks like a search with ef = beam but keeps the best `capacity` nodes it scored
  // (a search with ef < k). Allocates only when `capacity` exceeds every earlier one.
  void Reset(size_t capacity, size_t beam) {
    if (entries_.size() < capacity + 1) entries_.resize(capacity + 1);
    capacity_ = capacity;
    beam_ = std::min(beam, capacity);
    size_ = 0;
    cursor_ = 0;
  }
  void Reset(size_t capacity) { Reset(capacity, capacity); }

  size_t size() const noexcept { return size_; }
  bool full() const noexcept { return size_ == capacity_; }
  // Distance of the worst kept entry; only meaningful when size() > 0.
  float worst() const noexcept { return entries_[size_ - 1].distance; }

  // True if a node at `distance` would be kept.
  bool Admits(float distance) const noexcept { return size_ < capacity_ || distance < worst(); }

  // Inserts unless the pool is full and `distance` is no better than the worst entry.
  void Insert(uint32_t slot, float distance) noexcept {
    if (!Admits(distance)) return;
    // First position whose distance is greater (ties keep arrival order). Branch-free (a
    // conditional move per halving): the comparisons are coin flips, and their mispredictions
    // were the largest cost of the insert walk outside the distances (perf, Zen 2).
    const Entry* base = entries_.data();
    size_t lo = 0;
    if (size_ > 0) {
      for (size_t n = size_; n > 1;) {
        const size_t half = n / 2;
        base = base[half].distance <= distance ? base + half : base;
        n -= half;
      }
      lo = static_cast<size_t>(base - entries_.data()) + (base->distance <= distance ? 1 : 0);
    }
    const size_t moved = (size_ < capacity_ ? size_ : capacity_ - 1) - lo;
    std::memmove(&entries_[lo + 1], &entries_[lo], moved * sizeof(Entry));
    entries_[lo] = Entry{distance, slot};
    if (size_ < capacity_) ++size_;
    if (lo < cursor_) cursor_ = lo;
  }

  bool HasNext() const noexcept { return cursor_ < std::min(size_, beam_); }

  // Marks the closest unexpanded entry expanded and returns its slot. REQUIRES: HasNext().
  uint32_t Pop() noexcept {
    const uint32_t slot = entries_[cursor_].slot & kSlotMask;
    entries_[cursor_].slot |= kExpanded;
    while (cursor_ < size_ && (entries_[cursor_].slot & kExpanded) != 0) ++cursor_;
    return slot;
  }

  // The slot Pop() would return now (a prefetch hint: inserts may still change it).
  // REQUIRES: HasNext().
  uint32_t PeekNext() const noexcept { return entries_[cursor_].slot & kSlotMask; }

  // i-th closest entry, 0 <= i < size().
  Neighbor at(size_t i) const noexcept {
    return Neighbor{entries_[i].distance, entries_[i].slot & kSlotMask};
  }

 private:
  static constexpr uint32_t kExpanded = 0x80000000u;
  static constexpr uint32_t kSlotMask = 0x7fffffffu;
  struct Entry {
    float distance;
    uint32_t slot;  // high bit: expanded
  };
  std::vector<Entry> entries_;
  size_t capacity_ = 0;
  size_t beam_ = 0;
  size_t size_ = 0;
  size_t cursor_ = 0;
};

// Epoch-stamped visited set: marking is one store, clearing is one increment (a full clear only
// every 65,535 searches). 2 bytes per slot; sized to the index capacity.
class VisitedTable {
 public:
  void Prepare(size_t capacity) {
    if (tags_.size() < capacity) tags_.resize(capacity, 0);
    if (++epoch_ == 0) {  // wrapped: old tags could collide with the new epoch
      std::fill(tags_.begin(), tags_.end(), 0);
      epoch_ = 1;
    }
  }
  bool Visited(uint32_t slot) const noexcept { return tags_[slot] == epoch_; }
  void Mark(uint32_t slot) noexcept { tags_[slot] = epoch_; }
  // Marks and returns whether it was already marked.
  bool TestAndMark(uint32_t slot) noexcept {
    const bool seen = tags_[slot] == epoch_;
    tags_[slot] = epoch_;
    return seen;
  }
  const uint16_t* tag_address(uint32_t slot) const noexcept { return &tags_[slot]; }

 private:
  std::vector<uint16_t> tags_;
  uint16_t epoch_ = 0;
};

}  // namespace augurdb::index
