// The HNSW graph's structure (Malkov & Yashunin, TPAMI 2018), apart from what its nodes hold:
// neighbour lists per level, each node's level and slot state, per-node spinlocks, the entry
// point, the free-slot list and the counters that seed level draws. Vectors live in a
// VectorStore and codes in a quant::CodeStore; the walk (hnsw_walk.h) reaches them only through
// a distance functor, so the graph never sees a vector.
//
// Layout: fixed-degree rows, as glass lays out its graph: level-0 lists in one array of M0 = 2m
// uint32 per slot, upper levels in a small per-node array allocated only for nodes above level 0
// (level * m uint32). A list ends at its first kNoLink (or when its row is full); no count is
// stored. For the default m = 16 a level-0 row is exactly two cache lines, where a count in
// front of it made it three (and padding to a cache line cost 64 bytes per node).
//
// Thread safety: list contents, slot states and the entry point are read lock-free by any
// number of walks beside one writer (acquire/release, see below). Structural changes (GrowTo,
// ReclaimDeleted, Import) must not overlap any reader: HnswIndex runs them under its resize
// lock held exclusively. The remaining writer calls (TakeSlots, InitNode, Publish, Tombstone)
// are serialised by the caller.
//
// Invariants (CheckInvariants, hnsw_invariants.cc):
//  1. Every id in a list is < slot_end(), != the owning slot, and not kFree; a list at level l
//     has at most max_degree(l) ids, and after its first kNoLink only kNoLink; ids at level
//     l > 0 belong to nodes whose level >= l.
//  2. The entry point is 0 (empty) iff no node is live; otherwise it is live (or, only during
//     a writer call, inserting) and its level == the highest level of a live node.
//  3. Once deleted nodes are repaired around (HnswIndex::RepairDeleted), no live node links to
//     one, so ReclaimDeleted may free them.
//
// Concurrency protocol: ids are read with acquire loads and written with release stores
// (std::atomic_ref; plain MOVs on x86); a node's data (vector, code, level) is written before
// its slot is first published in any list, so a reader that loads a slot id sees it. Writers
// change a list only under that node's spinlock and never hold two. An append is one store into
// the first kNoLink place; a rewrite stores the new ids, then kNoLink over the rest, so a reader
// beside it sees old and new ids mixed (as with hnswlib's lists) but never an id that is not a
// node's.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include <augurdb/status.h>

#include "util/aligned_buffer.h"

namespace augurdb::index {

using Slot = uint32_t;
inline constexpr Slot kInvalidSlot = 0xffffffffu;
inline constexpr size_t kMaxSlots = size_t{1} << 31;  // SearchPool keeps a flag in bit 31
inline constexpr int kMaxLevel = 30;
inline constexpr size_t kMaxUpperDegree = 512;  // HnswIndex::Create caps m here

enum class SlotState : uint8_t { kFree = 0, kLive = 1, kDeleted = 2, kInserting = 3 };

// Fills the unused places of a list.
inline constexpr uint32_t kNoLink = kInvalidSlot;

inline uint32_t LoadAcquire(const uint32_t* p) noexcept {
  return std::atomic_ref<uint32_t>(*const_cast<uint32_t*>(p)).load(std::memory_order_acquire);
}
inline void StoreRelease(uint32_t* p, uint32_t v) noexcept {
  std::atomic_ref<uint32_t>(*p).store(v, std::memory_order_release);
}

// The number of ids in a list of `max` places: those before its first kNoLink.
inline size_t ListSize(const uint32_t* list, size_t max) noexcept {
  size_t n = 0;
  while (n < max && LoadAcquire(list + n) != kNoLink) ++n;
  return n;
}

// Copies a list's ids into `out` (cleared first); returns how many.
template <class Vec>
size_t ReadList(const uint32_t* list, size_t max, Vec* out) {
  out->clear();
  for (size_t j = 0; j < max; ++j) {
    const uint32_t id = LoadAcquire(list + j);
    if (id == kNoLink) break;
    out->push_back(id);
  }
  return out->size();
}

// Rewrites a list of `max` places as `n` ids, id(j) for j < n, then kNoLink. REQUIRES: n <= max;
// the node's lock is held (or no reader can reach the node yet).
template <class IdAt>
void WriteList(uint32_t* list, size_t max, size_t n, IdAt&& id) {
  for (size_t j = 0; j < n; ++j) StoreRelease(list + j, id(j));
  for (size_t j = n; j < max && LoadAcquire(list + j) != kNoLink; ++j) {
    StoreRelease(list + j, kNoLink);
  }
}

// The entry point and max level as one word (slot in the low 32 bits, level + 1 in the high
// bits; 0 = empty), so readers take a consistent snapshot with one acquire load.
constexpr uint64_t PackEntry(Slot slot, int level) noexcept {
  return (static_cast<uint64_t>(level + 1) << 32) | slot;
}
constexpr Slot EntrySlot(uint64_t packed) noexcept { return static_cast<Slot>(packed); }
constexpr int EntryLevel(uint64_t packed) noexcept { return static_cast<int>(packed >> 32) - 1; }

// The graph's part of a checkpoint image (HnswImage holds these and the stores' parts).
struct GraphImage {
  uint64_t slot_end = 0;        // slots in use, including deleted ones
  uint64_t entry = 0;           // packed entry point (PackEntry), 0 = empty
  uint64_t insert_counter = 0;  // insertions so far (seeds the next level draws)
  std::span<char> links0;       // slot_end rows of links0_stride() uint32
  std::span<char> levels;       // slot_end uint8
  std::span<char> states;       // slot_end uint8 (SlotState)
  std::span<char> upper;        // for each non-free slot with level > 0, in slot order:
                                // level * m uint32
  // Lists as checkpoint format 3 and older wrote them, converted on Import: [count, ids...],
  // level-0 rows of LegacyLinks0Stride(m) uint32, upper levels of 1 + m.
  bool legacy_lists = false;
};

// The level-0 row stride of the count-prefixed lists (format 3 and older): 1 + 2m rounded up to
// 16 uint32.
constexpr size_t LegacyLinks0Stride(size_t m) noexcept { return (1 + 2 * m + 15) / 16 * 16; }

class HnswGraph {
 public:
  // `m`: max degree on levels >= 1 (level 0 allows 2 * m); `seed` drives the level draws.
  HnswGraph(size_t m, uint64_t seed);
  HnswGraph(const HnswGraph&) = delete;
  HnswGraph& operator=(const HnswGraph&) = delete;

  size_t m() const noexcept { return m_; }
  size_t max_degree(int level) const noexcept { return level == 0 ? m0_ : m_; }
  size_t links0_stride() const noexcept { return links0_stride_; }
  size_t capacity() const noexcept { return capacity_; }
  // One past the highest slot ever handed out.
  size_t slot_end() const noexcept { return slot_end_.load(std::memory_order_acquire); }
  size_t live_count() const noexcept { return live_count_.load(std::memory_order_relaxed); }
  size_t deleted_count() const noexcept { return deleted_count_.load(std::memory_order_relaxed); }

  // The list of `slot` at `level`: max_degree(level) places, ids then kNoLink.
  // REQUIRES: level <= level(slot).
  uint32_t* links(Slot slot, int level) noexcept {
    if (level == 0) return links0_.data() + static_cast<size_t>(slot) * links0_stride_;
    return upper_links_[slot].get() + static_cast<size_t>(level - 1) * upper_stride_;
  }
  const uint32_t* links(Slot slot, int level) const noexcept {
    return const_cast<HnswGraph*>(this)->links(slot, level);
  }
  int level(Slot slot) const noexcept { return levels_[slot]; }
  SlotState state(Slot slot) const noexcept {
    return static_cast<SlotState>(std::atomic_ref<uint8_t>(const_cast<uint8_t&>(states_[slot]))
                                      .load(std::memory_order_acquire));
  }
  std::atomic<uint8_t>& node_lock(Slot slot) noexcept { return node_locks_[slot]; }
  // The packed entry point (PackEntry); pairs with the release stores that set it.
  uint64_t entry() const noexcept { return entry_.load(std::memory_order_acquire); }
  uint64_t insert_counter() const noexcept { return insert_counter_; }

  // ---- writer calls ----

  // Grows every per-slot array to `capacity`. May throw std::bad_alloc (capacity unchanged).
  void GrowTo(size_t capacity);
  size_t free_count() const noexcept { return free_slots_.size(); }
  // Replaces *out with `count` slots: reclaimed ones first (lowest first), then fresh ones from
  // slot_end(). REQUIRES: slot_end() + fresh ones <= capacity().
  void TakeSlots(size_t count, std::vector<Slot>* out);
  // Reserves `count` level draws; returns the first draw number.
  uint64_t TakeDraws(size_t count) noexcept {
    const uint64_t first = insert_counter_;
    insert_counter_ += count;
    return first;
  }
  // Level ~ floor(-ln(U) * mL), U uniform in (0, 1] from (seed, draw): a pure function, so a
  // seed reproduces the levels whatever the scheduling.
  int DrawLevel(uint64_t draw) const noexcept;
  // Prepares `slot` for linking: sets its level, allocates its (empty) lists and marks it
  // kInserting. REQUIRES: slot < capacity(); no reader can reach the slot yet.
  void InitNode(Slot slot, int level);
  // Makes `slot` the entry point if the graph has none; returns whether it did.
  bool ClaimEmptyEntry(Slot slot, int level);
  // Makes `slot` the entry point if `level` is above the current one.
  void RaiseEntry(Slot slot, int level);
  // kInserting -> kLive for each slot given; returns how many changed.
  size_t Publish(std::span<const Slot> slots);
  // kLive -> kDeleted for each slot given (others ignored); moves the entry point off a deleted
  // node. Returns how many changed.
  size_t Tombstone(std::span<const Slot> slots);
  // kDeleted -> kFree for every deleted slot, emptying its lists and queueing it for reuse.
  // REQUIRES: no reader runs; no live node links a deleted one (invariant 3).
  size_t ReclaimDeleted();

  // RAM held by the per-slot arrays and the upper lists.
  size_t MemoryBytes() const noexcept;

  // Checks invariants 1 and 2 (hnsw_invariants.cc); kCorruption names the first violation.
  Status CheckInvariants(size_t* link_count) const;
  // The part of invariant 1 that memory safety needs, in one sequential pass without random
  // reads per link (run on every load; hnsw_invariants.cc). kCorruption names the violation.
  Status CheckLinkBounds() const;

  // Checkpoint image (hnsw_image.cc). Export: views valid until the next writer call, the
  // upper lists packed into `upper_storage`. Import: REQUIRES an empty graph; the level-0
  // array is used in place (kept alive by `owner`) until the first GrowTo, unless the image has
  // legacy lists (converted into a new array); kCorruption (message without location) when the
  // image is inconsistent.
  GraphImage Export(std::string* upper_storage) const;
  Status Import(const GraphImage& image, std::shared_ptr<void> owner);

 private:
  void SetState(Slot slot, SlotState s) noexcept {
    std::atomic_ref<uint8_t>(states_[slot]).store(static_cast<uint8_t>(s),
                                                  std::memory_order_release);
  }
  // Empties the level-0 list of `slot` (every place kNoLink).
  void ClearList0(Slot slot) noexcept;
  // Sets the entry point to the highest live (or inserting) node. REQUIRES: entry_mutex_ not
  // held by this thread.
  void ResetEntryPoint();

  const size_t m_;
  const size_t m0_;             // level-0 max degree (2 * m)
  const size_t links0_stride_;  // uint32 per level-0 row (m0)
  const size_t upper_stride_;   // uint32 per upper level (m)
  const double level_mult_;     // 1 / ln(m)
  const uint64_t seed_;

  size_t capacity_ = 0;
  std::atomic<size_t> slot_end_{0};
  AlignedBuffer<uint32_t> links0_;
  std::vector<std::unique_ptr<uint32_t[]>> upper_links_;
  AlignedBuffer<uint8_t> levels_;
  AlignedBuffer<uint8_t> states_;  // SlotState, accessed through atomic_ref
  std::unique_ptr<std::atomic<uint8_t>[]> node_locks_;

  // Entry point and max level change together under entry_mutex_ and are published as one
  // packed word (PackEntry).
  std::mutex entry_mutex_;
  std::atomic<uint64_t> entry_{0};

  std::atomic<size_t> live_count_{0};
  std::atomic<size_t> deleted_count_{0};  // written by writers, read by Stats
  std::atomic<size_t> upper_bytes_{0};    // bytes of upper-level lists allocated
  uint64_t insert_counter_ = 0;   // writer-only: seeds the level draws
  std::vector<Slot> free_slots_;  // writer-only: reclaimed slots, reused LIFO
};

}  // namespace augurdb::index
