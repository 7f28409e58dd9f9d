// IdMap: the user ids of a collection and the index slots that hold them, both ways.
//
// Ids are all integers or all strings (the kind is fixed by the first write). Each slot the
// index has handed out may carry an id; a slot is "used" when its id currently maps to it. A
// fresh slot gets its id (SetSlotId) before its vector is linked, and becomes used only when
// Bind publishes it, so readers never name a half-inserted record.
//
// Thread safety: none; the Collection guards it with its map lock (shared for const methods).
//
// Invariants:
//  1. used(s) iff exactly one id maps to s; used_bits() holds the same set as a bitset (the
//     eligible set of filters).
//  2. size() is the number of mapped ids, so it equals the number of used slots.
//  3. A used slot's stored id (IdOf) maps back to it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include <augurdb/collection.h>
#include <augurdb/status.h>

#include "filter/filter.h"
#include "db/slot_table.h"
#include "index/hnsw_index.h"

namespace augurdb::db {

class IdMap {
 public:
  using Slot = index::Slot;

  IdKind kind() const noexcept { return kind_; }
  // The number of ids (= used slots).
  size_t size() const noexcept { return int_slots_.size() + str_to_slot_.size(); }
  // One past the highest slot the per-slot arrays cover.
  size_t slot_end() const noexcept { return slot_used_.size(); }
  bool used(Slot slot) const noexcept { return slot < slot_used_.size() && slot_used_[slot]; }
  const filter::Bitset& used_bits() const noexcept { return used_bits_; }
  const std::vector<uint8_t>& slot_used() const noexcept { return slot_used_; }
  // REQUIRES: kind() is kInt / kString and slot < slot_end().
  int64_t int_id(Slot slot) const { return slot_int_id_[slot]; }
  const std::string& string_id(Slot slot) const { return slot_str_id_[slot]; }
  const std::vector<int64_t>& int_ids() const noexcept { return slot_int_id_; }
  Id IdOf(Slot slot) const;

  // kInvalidArgument when `ids` are of the other kind than the collection's (any kind is fine
  // while none is set).
  Status CheckKind(const IdsView& ids) const;
  std::optional<Slot> Find(const IdsView& ids, size_t i) const;
  bool Contains(const Id& id) const;

  // Extends the per-slot arrays to cover slots [0, end) and fixes the id kind to that of the
  // batch about to be stored. REQUIRES: CheckKind(ids) passed.
  void Reserve(const IdsView& ids, size_t end);
  // Collection::Reserve: per-slot arrays and the id hash map sized for `capacity` records, so
  // that neither grows (nor rehashes) below it. A no-op until the id kind is known. May throw
  // std::bad_alloc.
  void ReserveRoom(size_t capacity);
  // Stores id `i` of `ids` at the fresh slot `slot`, not yet used. REQUIRES: Reserve covered it.
  void SetSlotId(Slot slot, const IdsView& ids, size_t i);
  // Maps id `i` to `slot` (whose id SetSlotId stored) and marks it used; returns the slot the id
  // mapped to before, now unused.
  std::optional<Slot> Bind(const IdsView& ids, size_t i, Slot slot);
  // Unmaps id `i`; returns the slot it had, now unused (nullopt if it was not mapped).
  std::optional<Slot> Unbind(const IdsView& ids, size_t i);

  // Rebuilds the map from a checkpoint's tables (slot_end entries each; `ids` holds the int ids
  // or the string ids of each slot, whichever `kind` says). kCorruption on any inconsistency,
  // with a message naming the slot; the map is then unspecified.
  Status Load(IdKind kind, std::span<const char> used, std::vector<int64_t> int_ids,
              std::vector<std::string> string_ids);

  // Approximate heap bytes, for stats().
  size_t MemoryBytes() const;
  // Checks invariants 1-3 (kCorruption naming the first bad slot).
  Status CheckInvariants() const;

 private:
  void SetUsed(Slot slot, bool used);
  // Extends the per-slot arrays to `slots`, keeping every slot's state.
  void GrowSlots(size_t slots);

  IdKind kind_ = IdKind::kUnset;
  SlotTable int_slots_;  // int ids: keyed through slot_int_id_
  std::unordered_map<std::string, Slot> str_to_slot_;
  std::vector<int64_t> slot_int_id_;
  std::vector<std::string> slot_str_id_;
  std::vector<uint8_t> slot_used_;
  filter::Bitset used_bits_;
};

}  // namespace augurdb::db
