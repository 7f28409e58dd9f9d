// Metadata filters: the Mongo-style filter language parsed once into a typed plan, metadata
// stored in typed columns per field, and evaluation of a plan into a bitset over slots.
//
// Language (JSON object): implicit equality {"genre": "news"}; operators $eq $ne $gt $gte $lt
// $lte $in $nin $exists $contains (list values) $substring $isubstring (string values containing
// the operand, exact or ignoring case) $empty (missing, null, "" or []); combinators $and $or (arrays of filters) and
// $not (one filter); several keys in one object are AND-ed. Comparisons are typed: numbers
// (int and float compare numerically), strings, bools, null; $gt/$gte/$lt/$lte take a number or
// a string. A field missing from a record never matches a comparison ($ne/$nin included: they
// match records that have the field with another value); {"f": {"$exists": false}} matches them.
// A list value matches $eq/$in when any element does; $contains tests list membership.
//
// Thread safety: a FilterPlan is immutable and shareable. MetadataColumns: const methods may run
// concurrently; Set/Clear need exclusive access (the Collection's map lock).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <augurdb/status.h>
#include <augurdb/value.h>

namespace augurdb::filter {

// A fixed-size set of slots.
class Bitset {
 public:
  Bitset() = default;
  explicit Bitset(size_t size) { Resize(size); }
  void Resize(size_t size) {
    size_ = size;
    words_.assign((size + 63) / 64, 0);
  }
  size_t size() const noexcept { return size_; }
  bool Test(uint32_t i) const noexcept { return i < size_ && ((words_[i >> 6] >> (i & 63)) & 1); }
  void Set(uint32_t i) noexcept { words_[i >> 6] |= uint64_t{1} << (i & 63); }
  void Reset(uint32_t i) noexcept { words_[i >> 6] &= ~(uint64_t{1} << (i & 63)); }
  size_t Count() const noexcept;
  std::vector<uint64_t>& words() noexcept { return words_; }
  const std::vector<uint64_t>& words() const noexcept { return words_; }

 private:
  std::vector<uint64_t> words_;
  size_t size_ = 0;
};

class FilterPlan;  // opaque; built by Parse

// Parses a filter given as JSON text. Errors: kInvalidFilter naming the offending part (e.g.
// "$gt on field 'year' needs a number or a string, got a list").
Result<std::shared_ptr<const FilterPlan>> Parse(std::string_view json);

// Typed columns, one per field name, indexed by slot: the only in-memory copy of the records'
// metadata (Get rebuilds one record's); equality postings for strings, ints and
// bools so that selective equality filters cost O(matches), not O(records).
class MetadataColumns {
 public:
  MetadataColumns();
  ~MetadataColumns();
  MetadataColumns(const MetadataColumns&) = delete;
  MetadataColumns& operator=(const MetadataColumns&) = delete;

  // Replaces the metadata of `slot` (an empty map clears it).
  void Set(uint32_t slot, const Metadata& metadata);
  void Clear(uint32_t slot);
  // The metadata of `slot` exactly as Set stored it (values, types and list order; keys come
  // back ordered by name, as in any Metadata); empty if it has none.
  Metadata Get(uint32_t slot) const;
  bool Has(uint32_t slot) const;
  // Slots [0, slot_end) that match `plan`, restricted to slots whose `eligible` bit is set
  // (the live records). `out` is resized to slot_end.
  void Evaluate(const FilterPlan& plan, const Bitset& eligible, size_t slot_end, Bitset* out) const;
  size_t MemoryBytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace augurdb::filter
