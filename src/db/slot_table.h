// SlotTable: the int id -> slot half of IdMap as an open-addressing table of slots. The ids
// already live in IdMap's per-slot array, so a bucket holds only a slot (4 bytes) and a probe
// compares ids[slot]: about 5-11 bytes per id at the load factors kept here, where
// std::unordered_map<int64_t, uint32_t> costs a 32-byte node plus a bucket pointer (~48 B per
// id). At 1M ids that is the difference between ~48 MB and ~8 MB. Linear probing with
// backward-shift deletion (no tombstones), as in Knuth's Algorithm R (TAOCP 6.4).
//
// Thread safety: none (IdMap's caller serialises writers).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "index/hnsw_graph.h"
#include "util/hash.h"

namespace augurdb::db {

class SlotTable {
 public:
  using Slot = index::Slot;

  size_t size() const noexcept { return size_; }
  size_t bucket_count() const noexcept { return buckets_.size(); }
  void Clear() noexcept {
    buckets_.clear();
    size_ = 0;
  }

  // The slot whose id (`ids[slot]`) is `id`, if any.
  std::optional<Slot> Find(int64_t id, const int64_t* ids) const noexcept {
    if (buckets_.empty()) return std::nullopt;
    for (size_t b = Home(id);; b = (b + 1) & mask()) {
      const Slot s = buckets_[b];
      if (s == kEmpty) return std::nullopt;
      if (ids[s] == id) return s;
    }
  }

  // Maps `slot`'s id (`ids[slot]`) to `slot`; returns the slot that id mapped to before (now
  // replaced), if any. May throw std::bad_alloc (the table is then unchanged).
  std::optional<Slot> Insert(Slot slot, const int64_t* ids) {
    if ((size_ + 1) * 4 > buckets_.size() * 3) {
      Rehash(std::max<size_t>(16, buckets_.size() * 2), ids);
    }
    const int64_t id = ids[slot];
    size_t b = Home(id);
    for (;; b = (b + 1) & mask()) {
      const Slot s = buckets_[b];
      if (s == kEmpty) break;
      if (ids[s] == id) {
        buckets_[b] = slot;
        return s;
      }
    }
    buckets_[b] = slot;
    ++size_;
    return std::nullopt;
  }

  // Unmaps `id`; returns its slot, if it was mapped.
  std::optional<Slot> Erase(int64_t id, const int64_t* ids) noexcept {
    if (buckets_.empty()) return std::nullopt;
    size_t hole = Home(id);
    for (;; hole = (hole + 1) & mask()) {
      if (buckets_[hole] == kEmpty) return std::nullopt;
      if (ids[buckets_[hole]] == id) break;
    }
    const Slot erased = buckets_[hole];
    // Backward shift: move up each later entry of the cluster whose home is not in
    // (hole, j] cyclically, so that every probe sequence stays unbroken.
    for (size_t j = (hole + 1) & mask(); buckets_[j] != kEmpty; j = (j + 1) & mask()) {
      const size_t home = Home(ids[buckets_[j]]);
      const bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
      if (stays) continue;
      buckets_[hole] = buckets_[j];
      hole = j;
    }
    buckets_[hole] = kEmpty;
    --size_;
    return erased;
  }

  // Room for `count` ids without a rehash. May throw std::bad_alloc.
  void Reserve(size_t count, const int64_t* ids) {
    size_t n = 16;
    while (n * 3 < count * 4) n *= 2;
    if (n > buckets_.size()) Rehash(n, ids);
  }

  size_t MemoryBytes() const noexcept { return buckets_.capacity() * sizeof(Slot); }

 private:
  static constexpr Slot kEmpty = index::kInvalidSlot;

  size_t mask() const noexcept { return buckets_.size() - 1; }
  size_t Home(int64_t id) const noexcept {
    return static_cast<size_t>(Mix64(static_cast<uint64_t>(id))) & mask();
  }
  // REQUIRES: n is a power of two above size_ * 4 / 3.
  void Rehash(size_t n, const int64_t* ids) {
    std::vector<Slot> old(n, kEmpty);
    old.swap(buckets_);
    for (const Slot s : old) {
      if (s == kEmpty) continue;
      size_t b = Home(ids[s]);
      while (buckets_[b] != kEmpty) b = (b + 1) & mask();
      buckets_[b] = s;
    }
  }

  std::vector<Slot> buckets_;  // a power of two in size (or empty); kEmpty = free bucket
  size_t size_ = 0;
};

}  // namespace augurdb::db
