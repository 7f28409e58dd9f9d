// Column: one metadata field stored for every slot, the storage under MetadataColumns
// (metadata_columns.cc evaluates filter plans over it). Private to filter/.
//
// Layout, per field name (a Column):
//   tags[slot]     what the slot holds: missing, null, bool, int, double, string or list;
//   payload[slot]  8 bytes: the int64, the double's bits, the bool, a string-dictionary id or
//                  an index into `lists`;
//   present        a bitset of the slots that have the field (any tag but missing);
//   strings        a dictionary (id -> bytes, refcounted) so that each slot stores 8 bytes;
//   lists          per list-valued slot its elements as (tag, payload) cells;
//   postings       equality postings: canonical value -> sorted slots holding it (as the value
//                  or as a list element). Numbers are keyed canonically (an integral double is
//                  keyed as the int it equals), so $eq/$in/$contains across int and float cost
//                  O(matches) too.
//
// Invariants:
//  1. For every column: slot < tags.size() == payload.size(), and the present bit of a slot is
//     set iff tags[slot] != kMissing.
//  2. A slot is in postings[k] iff its scalar value, or at least one of its list elements, has
//     canonical key k; posting vectors are sorted and free of duplicates; none is empty.
//  3. string_refs[id] counts the scalar slots and list elements holding strings[id]; an id
//     whose count drops to zero is erased from string_ids and recycled.
//  4. (MetadataColumns) slot_columns[slot] lists exactly the columns in which `slot` is present.
//  5. tag_counts[t] is the number of present slots whose tag is t.
//
// Thread safety: see filter.h (const methods concurrently; writes exclusively).
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <augurdb/value.h>

#include "util/check.h"
#include "util/hash.h"

namespace augurdb::filter {

using Words = std::vector<uint64_t>;

enum class Tag : uint8_t { kMissing = 0, kNull, kBool, kInt, kDouble, kString, kList };

// One list element. Nested lists are not stored (they match nothing).
struct Cell {
  Tag tag;
  uint64_t payload;
};

// Canonical equality key of a scalar.
enum class KeyKind : uint8_t { kNull = 1, kBool, kNumber, kDouble, kString };
struct PostingKey {
  uint64_t bits;
  KeyKind kind;
  bool operator==(const PostingKey& other) const noexcept {
    return bits == other.bits && kind == other.kind;
  }
};
struct PostingKeyHash {
  size_t operator()(const PostingKey& k) const noexcept {
    return static_cast<size_t>(Mix64(k.bits ^ (static_cast<uint64_t>(k.kind) << 58)));
  }
};

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
using StringIdMap = std::unordered_map<std::string, uint32_t, StringHash, std::equal_to<>>;

constexpr double kTwo63 = 9223372036854775808.0;

// The key under which a double is posted: integral values in int64 range share the int's key
// (so 3 and 3.0 are equal), others use their bits; NaN equals nothing and gets no key.
inline bool DoubleKey(double d, PostingKey* key) {
  if (std::isnan(d)) return false;
  if (d >= -kTwo63 && d < kTwo63 && std::trunc(d) == d) {
    *key = {static_cast<uint64_t>(static_cast<int64_t>(d)), KeyKind::kNumber};
  } else {
    *key = {std::bit_cast<uint64_t>(d), KeyKind::kDouble};
  }
  return true;
}

// Exact three-way comparison of an int64 with a double: -1, 0, 1, or kUnordered for NaN.
constexpr int kUnordered = 2;
inline int CompareIntDouble(int64_t i, double d) {
  if (std::isnan(d)) return kUnordered;
  if (d >= kTwo63) return -1;
  if (d < -kTwo63) return 1;
  const auto t = static_cast<int64_t>(d);  // truncation, exact in this range
  if (i != t) return i < t ? -1 : 1;
  const double frac = d - static_cast<double>(t);  // exact
  return frac > 0 ? -1 : (frac < 0 ? 1 : 0);
}

struct Column {
  std::vector<Tag> tags;
  std::vector<uint64_t> payload;
  Words present;
  std::array<size_t, 7> tag_counts{};  // present slots per Tag (index kMissing unused)

  // Whether every present slot holds `tag` (and at least one does).
  bool OnlyTag(Tag tag) const {
    const size_t n = tag_counts[static_cast<size_t>(tag)];
    size_t total = 0;
    for (size_t c : tag_counts) total += c;
    return n > 0 && n == total;
  }

  StringIdMap string_ids;
  std::vector<std::string> strings;
  std::vector<uint32_t> string_refs;
  std::vector<uint32_t> free_string_ids;

  std::vector<std::vector<Cell>> lists;
  std::vector<uint32_t> free_lists;

  std::unordered_map<PostingKey, std::vector<uint32_t>, PostingKeyHash> postings;

  void Grow(uint32_t slot) {
    if (slot < tags.size()) return;
    tags.resize(size_t{slot} + 1, Tag::kMissing);
    payload.resize(size_t{slot} + 1, 0);
    const size_t words_needed = (size_t{slot} + 64) / 64;
    if (present.size() < words_needed) present.resize(words_needed, 0);
  }

  uint32_t Intern(const std::string& s) {
    auto it = string_ids.find(std::string_view(s));
    if (it != string_ids.end()) {
      ++string_refs[it->second];
      return it->second;
    }
    uint32_t id;
    if (!free_string_ids.empty()) {
      id = free_string_ids.back();
      free_string_ids.pop_back();
      strings[id] = s;
      string_refs[id] = 1;
    } else {
      id = static_cast<uint32_t>(strings.size());
      strings.push_back(s);
      string_refs.push_back(1);
    }
    string_ids.emplace(s, id);
    return id;
  }

  void Release(uint32_t id) {
    AUGUR_CHECK(id < string_refs.size() && string_refs[id] > 0);
    if (--string_refs[id] > 0) return;
    string_ids.erase(strings[id]);
    std::string().swap(strings[id]);
    free_string_ids.push_back(id);
  }

  // REQUIRES: tag is a scalar tag.
  static bool KeyOf(Tag tag, uint64_t bits, PostingKey* key) {
    switch (tag) {
      case Tag::kNull:
        *key = {0, KeyKind::kNull};
        return true;
      case Tag::kBool:
        *key = {bits, KeyKind::kBool};
        return true;
      case Tag::kInt:
        *key = {bits, KeyKind::kNumber};
        return true;
      case Tag::kDouble:
        return DoubleKey(std::bit_cast<double>(bits), key);
      case Tag::kString:
        *key = {bits, KeyKind::kString};
        return true;
      default:
        return false;
    }
  }

  void AddPosting(const PostingKey& key, uint32_t slot) {
    std::vector<uint32_t>& list = postings[key];
    if (list.empty() || list.back() < slot) {
      list.push_back(slot);
      return;
    }
    auto it = std::lower_bound(list.begin(), list.end(), slot);
    if (it == list.end() || *it != slot) list.insert(it, slot);
  }

  void RemovePosting(const PostingKey& key, uint32_t slot) {
    auto found = postings.find(key);
    AUGUR_CHECK(found != postings.end());
    std::vector<uint32_t>& list = found->second;
    auto it = std::lower_bound(list.begin(), list.end(), slot);
    AUGUR_CHECK(it != list.end() && *it == slot);
    list.erase(it);
    if (list.empty()) postings.erase(found);
  }

  // Distinct keys of a list's elements.
  static std::vector<PostingKey> ListKeys(const std::vector<Cell>& cells) {
    std::vector<PostingKey> keys;
    keys.reserve(cells.size());
    for (const Cell& cell : cells) {
      PostingKey key;
      if (KeyOf(cell.tag, cell.payload, &key)) keys.push_back(key);
    }
    std::sort(keys.begin(), keys.end(), [](const PostingKey& a, const PostingKey& b) {
      return a.kind != b.kind ? a.kind < b.kind : a.bits < b.bits;
    });
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    return keys;
  }

  // A scalar value as (tag, payload), interning strings. False for a list.
  bool Encode(const Value& value, Cell* cell) {
    if (value.is_null()) {
      *cell = {Tag::kNull, 0};
    } else if (value.is_bool()) {
      *cell = {Tag::kBool, value.as_bool() ? 1u : 0u};
    } else if (value.is_int()) {
      *cell = {Tag::kInt, static_cast<uint64_t>(value.as_int())};
    } else if (value.is_double()) {
      *cell = {Tag::kDouble, std::bit_cast<uint64_t>(value.as_double())};
    } else if (value.is_string()) {
      *cell = {Tag::kString, Intern(value.as_string())};
    } else {
      return false;
    }
    return true;
  }

  // The value a scalar cell was encoded from.
  Value Decode(const Cell& cell) const {
    switch (cell.tag) {
      case Tag::kBool:
        return Value(cell.payload != 0);
      case Tag::kInt:
        return Value(static_cast<int64_t>(cell.payload));
      case Tag::kDouble:
        return Value(std::bit_cast<double>(cell.payload));
      case Tag::kString:
        return Value(strings[cell.payload]);
      default:
        return Value();
    }
  }

  // The value stored at `slot`. REQUIRES: the slot is present.
  Value Get(uint32_t slot) const {
    if (tags[slot] != Tag::kList) return Decode({tags[slot], payload[slot]});
    Value::List list;
    const std::vector<Cell>& cells = lists[payload[slot]];
    list.reserve(cells.size());
    for (const Cell& cell : cells) list.push_back(Decode(cell));
    return Value(std::move(list));
  }

  // REQUIRES: the slot holds no value in this column.
  void Put(uint32_t slot, const Value& value) {
    Grow(slot);
    AUGUR_CHECK(tags[slot] == Tag::kMissing);
    Cell cell;
    if (Encode(value, &cell)) {
      tags[slot] = cell.tag;
      payload[slot] = cell.payload;
      PostingKey key;
      if (KeyOf(cell.tag, cell.payload, &key)) AddPosting(key, slot);
    } else {
      uint32_t index;
      if (!free_lists.empty()) {
        index = free_lists.back();
        free_lists.pop_back();
      } else {
        index = static_cast<uint32_t>(lists.size());
        lists.emplace_back();
      }
      std::vector<Cell>& cells = lists[index];
      cells.clear();
      for (const Value& element : value.as_list()) {
        if (Encode(element, &cell)) cells.push_back(cell);
      }
      for (const PostingKey& key : ListKeys(cells)) AddPosting(key, slot);
      tags[slot] = Tag::kList;
      payload[slot] = index;
    }
    present[slot >> 6] |= uint64_t{1} << (slot & 63);
    ++tag_counts[static_cast<size_t>(tags[slot])];
  }

  void Remove(uint32_t slot) {
    AUGUR_CHECK(slot < tags.size() && tags[slot] != Tag::kMissing);
    const Tag tag = tags[slot];
    if (tag == Tag::kList) {
      const auto index = static_cast<uint32_t>(payload[slot]);
      std::vector<Cell>& cells = lists[index];
      for (const PostingKey& key : ListKeys(cells)) RemovePosting(key, slot);
      for (const Cell& cell : cells) {
        if (cell.tag == Tag::kString) Release(static_cast<uint32_t>(cell.payload));
      }
      std::vector<Cell>().swap(cells);
      free_lists.push_back(index);
    } else {
      PostingKey key;
      if (KeyOf(tag, payload[slot], &key)) RemovePosting(key, slot);
      if (tag == Tag::kString) Release(static_cast<uint32_t>(payload[slot]));
    }
    --tag_counts[static_cast<size_t>(tag)];
    tags[slot] = Tag::kMissing;
    payload[slot] = 0;
    present[slot >> 6] &= ~(uint64_t{1} << (slot & 63));
  }

  // The canonical key of a plan operand in this column; false when nothing can equal it.
  bool OperandKey(const Value& operand, PostingKey* key) const {
    if (operand.is_null()) {
      *key = {0, KeyKind::kNull};
    } else if (operand.is_bool()) {
      *key = {operand.as_bool() ? 1u : 0u, KeyKind::kBool};
    } else if (operand.is_int()) {
      *key = {static_cast<uint64_t>(operand.as_int()), KeyKind::kNumber};
    } else if (operand.is_double()) {
      return DoubleKey(operand.as_double(), key);
    } else if (operand.is_string()) {
      auto it = string_ids.find(std::string_view(operand.as_string()));
      if (it == string_ids.end()) return false;
      *key = {it->second, KeyKind::kString};
    } else {
      return false;
    }
    return true;
  }

  const std::vector<uint32_t>* Posting(const Value& operand) const {
    PostingKey key;
    if (!OperandKey(operand, &key)) return nullptr;
    auto it = postings.find(key);
    return it == postings.end() ? nullptr : &it->second;
  }

  size_t MemoryBytes() const {
    size_t bytes = sizeof(Column) + tags.capacity() * sizeof(Tag) +
                   payload.capacity() * sizeof(uint64_t) + present.capacity() * sizeof(uint64_t);
    // Hash maps: one bucket pointer each plus a node (value + next pointer + cached hash).
    bytes += string_ids.bucket_count() * sizeof(void*) +
             string_ids.size() * (sizeof(std::pair<const std::string, uint32_t>) + 16);
    for (const std::string& s : strings)
      bytes += sizeof(std::string) + (s.capacity() > 15 ? s.capacity() + 1 : 0);
    bytes +=
        string_refs.capacity() * sizeof(uint32_t) + free_string_ids.capacity() * sizeof(uint32_t);
    for (const auto& cells : lists) bytes += sizeof(cells) + cells.capacity() * sizeof(Cell);
    bytes += free_lists.capacity() * sizeof(uint32_t);
    bytes += postings.bucket_count() * sizeof(void*);
    for (const auto& [key, slots] : postings) {
      bytes += sizeof(std::pair<const PostingKey, std::vector<uint32_t>>) + 16 +
               slots.capacity() * sizeof(uint32_t);
    }
    return bytes;
  }
};

}  // namespace augurdb::filter
