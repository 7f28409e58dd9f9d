// IdMap (id_map.h): ids <-> slots. Load is where a checkpoint's id tables are trusted, so it
// re-establishes every invariant from the bytes rather than assuming the writer kept them.
#include "db/id_map.h"

#include <algorithm>
#include <utility>

#include "util/check.h"

namespace augurdb::db {

Id IdMap::IdOf(Slot slot) const {
  if (kind_ == IdKind::kString) return slot_str_id_[slot];
  return slot_int_id_[slot];
}

Status IdMap::CheckKind(const IdsView& ids) const {
  const IdKind kind = ids.is_string() ? IdKind::kString : IdKind::kInt;
  if (kind_ != IdKind::kUnset && kind != kind_) {
    return Status::InvalidArgument(std::string("this collection uses ") +
                                   (kind_ == IdKind::kInt ? "integer" : "string") +
                                   " ids; got " + (kind == IdKind::kInt ? "integer" : "string") +
                                   " ids");
  }
  return Status::OK();
}

std::optional<IdMap::Slot> IdMap::Find(const IdsView& ids, size_t i) const {
  if (ids.is_string()) {
    auto it = str_to_slot_.find(ids.strings()[i]);
    if (it == str_to_slot_.end()) return std::nullopt;
    return it->second;
  }
  return int_slots_.Find(ids.ints()[i], slot_int_id_.data());
}

bool IdMap::Contains(const Id& id) const {
  if (const int64_t* i = std::get_if<int64_t>(&id)) {
    return int_slots_.Find(*i, slot_int_id_.data()).has_value();
  }
  return str_to_slot_.count(std::get<std::string>(id)) != 0;
}

void IdMap::Reserve(const IdsView& ids, size_t end) {
  kind_ = ids.is_string() ? IdKind::kString : IdKind::kInt;
  if (slot_used_.size() >= end) return;
  // Grow by half at least: slots arrive a batch at a time, and each growth rebuilds used_bits_.
  GrowSlots(std::max(end, slot_used_.size() * 3 / 2));
}

void IdMap::ReserveRoom(size_t capacity) {
  if (kind_ == IdKind::kUnset) return;
  if (slot_used_.size() < capacity) GrowSlots(capacity);
  // Only upwards: libstdc++'s reserve below the current bucket count rehashes to shrink.
  auto reserve = [capacity](auto& map) {
    if (static_cast<float>(map.bucket_count()) * map.max_load_factor() < capacity) {
      map.reserve(capacity);
    }
  };
  if (kind_ == IdKind::kString) {
    reserve(str_to_slot_);
  } else {
    int_slots_.Reserve(capacity, slot_int_id_.data());
  }
}

void IdMap::GrowSlots(size_t slots) {
  const size_t old = slot_used_.size();
  slot_used_.resize(slots, 0);
  if (kind_ == IdKind::kString) {
    slot_str_id_.resize(slots);
  } else {
    slot_int_id_.resize(slots);
  }
  used_bits_.Resize(slots);  // clears: rebuilt from slot_used_
  for (size_t s = 0; s < old; ++s) {
    if (slot_used_[s]) used_bits_.Set(static_cast<Slot>(s));
  }
}

void IdMap::SetSlotId(Slot slot, const IdsView& ids, size_t i) {
  if (ids.is_string()) {
    slot_str_id_[slot] = ids.strings()[i];
  } else {
    slot_int_id_[slot] = ids.ints()[i];
  }
}

std::optional<IdMap::Slot> IdMap::Bind(const IdsView& ids, size_t i, Slot slot) {
  std::optional<Slot> old;
  if (ids.is_string()) {
    auto [it, fresh] = str_to_slot_.try_emplace(ids.strings()[i], slot);
    if (!fresh) old = std::exchange(it->second, slot);
  } else {
    AUGUR_CHECK(slot_int_id_[slot] == ids.ints()[i]);  // SetSlotId stored it
    old = int_slots_.Insert(slot, slot_int_id_.data());
  }
  if (old) SetUsed(*old, false);
  SetUsed(slot, true);
  return old;
}

std::optional<IdMap::Slot> IdMap::Unbind(const IdsView& ids, size_t i) {
  std::optional<Slot> slot;
  if (ids.is_string()) {
    auto it = str_to_slot_.find(ids.strings()[i]);
    if (it == str_to_slot_.end()) return std::nullopt;
    slot = it->second;
    str_to_slot_.erase(it);
  } else {
    slot = int_slots_.Erase(ids.ints()[i], slot_int_id_.data());
    if (!slot) return std::nullopt;
  }
  SetUsed(*slot, false);
  return slot;
}

void IdMap::SetUsed(Slot slot, bool used) {
  slot_used_[slot] = used ? 1 : 0;
  if (used) {
    used_bits_.Set(slot);
  } else {
    used_bits_.Reset(slot);
  }
}

Status IdMap::Load(IdKind kind, std::span<const char> used, std::vector<int64_t> int_ids,
                   std::vector<std::string> string_ids) {
  const size_t end = used.size();
  kind_ = kind;
  slot_used_.assign(used.begin(), used.end());
  slot_int_id_ = std::move(int_ids);
  slot_str_id_ = std::move(string_ids);
  int_slots_.Clear();
  str_to_slot_.clear();
  if (kind_ == IdKind::kInt) int_slots_.Reserve(end, slot_int_id_.data());
  used_bits_.Resize(end);
  for (size_t s = 0; s < end; ++s) {
    const auto slot = static_cast<Slot>(s);
    if (slot_used_[s] > 1) return Status::Corruption("slot table holds an invalid flag");
    if (!slot_used_[s]) continue;
    // No id table was loaded for kUnset: a used slot would index an empty vector (found by
    // fuzz/db_open_fuzzer).
    if (kind_ == IdKind::kUnset) {
      return Status::Corruption("slot " + std::to_string(s) + " is used but no id kind is set");
    }
    const bool fresh = kind_ == IdKind::kString
                           ? str_to_slot_.emplace(slot_str_id_[s], slot).second
                           : !int_slots_.Insert(slot, slot_int_id_.data()).has_value();
    if (!fresh) return Status::Corruption("an id appears twice (slot " + std::to_string(s) + ")");
    used_bits_.Set(slot);
  }
  return Status::OK();
}

size_t IdMap::MemoryBytes() const {
  size_t bytes = int_slots_.MemoryBytes() + slot_int_id_.capacity() * sizeof(int64_t);
  // String ids' hash-map nodes: key + slot + next pointer + cached hash, plus one bucket pointer.
  bytes += str_to_slot_.size() * (sizeof(std::string) + 3 * sizeof(void*)) +
           str_to_slot_.bucket_count() * sizeof(void*);
  for (const std::string& s : slot_str_id_) {
    bytes += sizeof(std::string) + (s.capacity() > 15 ? 2 * (s.capacity() + 1) : 0);
  }
  return bytes + slot_used_.capacity() + used_bits_.words().capacity() * sizeof(uint64_t);
}

Status IdMap::CheckInvariants() const {
  size_t used_count = 0;
  for (size_t s = 0; s < slot_used_.size(); ++s) {
    const auto slot = static_cast<Slot>(s);
    if (!slot_used_[s]) {
      if (used_bits_.Test(slot)) {
        return Status::Corruption("slot " + std::to_string(s) + " is eligible for filters but unused");
      }
      continue;
    }
    ++used_count;
    if (!used_bits_.Test(slot)) {
      return Status::Corruption("slot " + std::to_string(s) + " is missing from the filter set");
    }
    const bool maps_back = kind_ == IdKind::kString
                               ? str_to_slot_.count(slot_str_id_[s]) &&
                                     str_to_slot_.at(slot_str_id_[s]) == slot
                               : int_slots_.Find(slot_int_id_[s], slot_int_id_.data()) == slot;
    if (!maps_back) {
      return Status::Corruption("slot " + std::to_string(s) + "'s id does not map back to it");
    }
  }
  if (used_count != size()) {
    return Status::Corruption(std::to_string(size()) + " ids but " + std::to_string(used_count) +
                              " used slots");
  }
  return Status::OK();
}

}  // namespace augurdb::db
