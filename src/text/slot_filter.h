// A read-only view of a set of slots as 64-bit words (bit i of words[i / 64] is slot i), the
// layout of filter::Bitset, so db/ can hand a where-filter's result to the text index without
// copying and without text/ depending on filter/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace augurdb::text {

struct SlotFilter {
  std::span<const uint64_t> words;  // must outlive the search that uses the view
  size_t bit_count = 0;             // slots [0, bit_count) are described; others are excluded

  // Slots past the words given (a bit_count larger than the words hold) are excluded too.
  bool Contains(uint32_t slot) const noexcept {
    return slot < bit_count && (slot >> 6) < words.size() &&
           ((words[slot >> 6] >> (slot & 63)) & 1) != 0;
  }
};

}  // namespace augurdb::text
