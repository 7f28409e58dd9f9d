#include "index/hnsw_graph.h"

#include <cmath>
#include <functional>

#include "util/hash.h"

namespace augurdb::index {

HnswGraph::HnswGraph(size_t m, uint64_t seed)
    : m_(m),
      m0_(2 * m),
      links0_stride_(2 * m),
      upper_stride_(m),
      level_mult_(1.0 / std::log(static_cast<double>(m))),
      seed_(seed) {}

void HnswGraph::GrowTo(size_t capacity) {
  links0_.Resize(capacity * links0_stride_);
  levels_.Resize(capacity);
  states_.Resize(capacity);
  upper_links_.resize(capacity);
  auto locks = std::make_unique<std::atomic<uint8_t>[]>(capacity);
  for (size_t i = 0; i < capacity; ++i) locks[i].store(0, std::memory_order_relaxed);
  node_locks_ = std::move(locks);  // no lock is held: growth runs with no reader or writer
  capacity_ = capacity;
}

void HnswGraph::TakeSlots(size_t count, std::vector<Slot>* out) {
  const size_t reused = std::min(count, free_slots_.size());
  const size_t fresh = count - reused;
  const size_t end = slot_end_.load(std::memory_order_relaxed);
  out->clear();
  out->reserve(count);
  for (size_t i = 0; i < reused; ++i) {
    out->push_back(free_slots_.back());
    free_slots_.pop_back();
  }
  for (size_t i = 0; i < fresh; ++i) out->push_back(static_cast<Slot>(end + i));
  slot_end_.store(end + fresh, std::memory_order_release);
}

int HnswGraph::DrawLevel(uint64_t draw) const noexcept {
  const double u = UnitInterval(seed_, draw);
  return std::min(kMaxLevel, static_cast<int>(-std::log(u) * level_mult_));
}

void HnswGraph::InitNode(Slot slot, int level) {
  levels_[slot] = static_cast<uint8_t>(level);
  if (level > 0) {
    const size_t n = static_cast<size_t>(level) * upper_stride_;
    upper_links_[slot] = std::make_unique<uint32_t[]>(n);
    std::fill_n(upper_links_[slot].get(), n, kNoLink);
    upper_bytes_.fetch_add(n * sizeof(uint32_t), std::memory_order_relaxed);
  } else {
    upper_links_[slot].reset();
  }
  ClearList0(slot);
  SetState(slot, SlotState::kInserting);
}

void HnswGraph::ClearList0(Slot slot) noexcept {
  uint32_t* row = links(slot, 0);
  for (size_t j = 0; j < m0_; ++j) StoreRelease(row + j, kNoLink);
}

bool HnswGraph::ClaimEmptyEntry(Slot slot, int level) {
  std::lock_guard<std::mutex> lock(entry_mutex_);
  if (entry_.load(std::memory_order_relaxed) != 0) return false;
  // Pairs with the acquire loads of entry_: the node's data and level are visible.
  entry_.store(PackEntry(slot, level), std::memory_order_release);
  return true;
}

void HnswGraph::RaiseEntry(Slot slot, int level) {
  std::lock_guard<std::mutex> lock(entry_mutex_);
  if (level > EntryLevel(entry_.load(std::memory_order_relaxed))) {
    entry_.store(PackEntry(slot, level), std::memory_order_release);
  }
}

size_t HnswGraph::Publish(std::span<const Slot> slots) {
  size_t published = 0;
  for (Slot slot : slots) {
    if (state(slot) == SlotState::kInserting) {
      SetState(slot, SlotState::kLive);
      ++published;
    }
  }
  live_count_.fetch_add(published, std::memory_order_relaxed);
  return published;
}

size_t HnswGraph::Tombstone(std::span<const Slot> slots) {
  const size_t end = slot_end();
  size_t deleted = 0;
  for (Slot slot : slots) {
    if (slot < end && state(slot) == SlotState::kLive) {
      SetState(slot, SlotState::kDeleted);
      ++deleted;
    }
  }
  if (deleted == 0) return 0;
  live_count_.fetch_sub(deleted, std::memory_order_relaxed);
  deleted_count_.fetch_add(deleted, std::memory_order_relaxed);
  const uint64_t packed = entry();
  if (packed != 0 && state(EntrySlot(packed)) == SlotState::kDeleted) ResetEntryPoint();
  return deleted;
}

void HnswGraph::ResetEntryPoint() {
  std::lock_guard<std::mutex> lock(entry_mutex_);
  const size_t end = slot_end();
  Slot best = kInvalidSlot;
  int best_level = -1;
  for (size_t i = 0; i < end; ++i) {
    const Slot slot = static_cast<Slot>(i);
    const SlotState s = state(slot);
    if ((s == SlotState::kLive || s == SlotState::kInserting) && level(slot) > best_level) {
      best = slot;
      best_level = level(slot);
    }
  }
  entry_.store(best == kInvalidSlot ? 0 : PackEntry(best, best_level), std::memory_order_release);
}

size_t HnswGraph::ReclaimDeleted() {
  const size_t end = slot_end();
  size_t reclaimed = 0;
  for (size_t i = 0; i < end; ++i) {
    const Slot slot = static_cast<Slot>(i);
    if (state(slot) != SlotState::kDeleted) continue;
    SetState(slot, SlotState::kFree);
    ClearList0(slot);
    upper_bytes_.fetch_sub(static_cast<size_t>(levels_[slot]) * upper_stride_ * sizeof(uint32_t),
                           std::memory_order_relaxed);
    upper_links_[slot].reset();
    levels_[slot] = 0;
    free_slots_.push_back(slot);
    ++reclaimed;
  }
  // Reused LIFO: push in descending order so the lowest slots are reused first.
  std::sort(free_slots_.begin(), free_slots_.end(), std::greater<Slot>());
  deleted_count_.store(0, std::memory_order_relaxed);
  return reclaimed;
}

size_t HnswGraph::MemoryBytes() const noexcept {
  return links0_.bytes() + levels_.bytes() + states_.bytes() +
         capacity_ * (sizeof(std::atomic<uint8_t>) + sizeof(std::unique_ptr<uint32_t[]>)) +
         upper_bytes_.load(std::memory_order_relaxed);
}

}  // namespace augurdb::index
