// UTF-8 validation (RFC 3629): ids and, later, documents must be valid Unicode text, because
// Python and every JSON consumer reject anything else when the bytes come back out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace augurdb {

// Byte offset of the first byte that does not start a well-formed UTF-8 sequence, or npos when
// the whole string is valid. Rejects overlong forms, surrogates (U+D800..U+DFFF) and code points
// above U+10FFFF, as RFC 3629 requires.
inline size_t FindInvalidUtf8(std::string_view s) noexcept {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    const uint8_t c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;  // overlong
      if (c == 0xED) hi = 0x9F;  // surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;  // overlong
      if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
    } else {
      return i;
    }
    if (i + len > n || p[i + 1] < lo || p[i + 1] > hi) return i;
    for (size_t k = 2; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return i;
    }
    i += len;
  }
  return std::string_view::npos;
}

inline bool IsValidUtf8(std::string_view s) noexcept {
  return FindInvalidUtf8(s) == std::string_view::npos;
}

}  // namespace augurdb
