// UTF-8 (RFC 3629), the one home for validating, decoding and encoding it. Ids, filter strings and
// documents must be valid Unicode text, because Python and every JSON consumer reject anything else
// when the bytes come back out; the tokenizer and the stemmer then work on code points.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace augurdb {

// Length (2 to 4) of the well-formed multi-byte sequence at p[0..n), or 0 when it is not one.
// REQUIRES: n >= 1 and p[0] >= 0x80 (ASCII is the caller's fast path). Rejects overlong forms,
// surrogates (U+D800..U+DFFF) and code points above U+10FFFF, as RFC 3629 requires.
inline size_t Utf8SequenceLength(const uint8_t* p, size_t n) noexcept {
  const uint8_t c = p[0];
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
    return 0;
  }
  if (n < len || p[1] < lo || p[1] > hi) return 0;
  for (size_t k = 2; k < len; ++k) {
    if ((p[k] & 0xC0) != 0x80) return 0;
  }
  return len;
}

// Byte offset of the first byte that does not start a well-formed UTF-8 sequence, or npos when
// the whole string is valid.
inline size_t FindInvalidUtf8(std::string_view s) noexcept {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    if (p[i] < 0x80) {
      ++i;
      continue;
    }
    const size_t len = Utf8SequenceLength(p + i, n - i);
    if (len == 0) return i;
    i += len;
  }
  return std::string_view::npos;
}

inline bool IsValidUtf8(std::string_view s) noexcept {
  return FindInvalidUtf8(s) == std::string_view::npos;
}

// Decodes the code point at s[*i] and advances *i past it. REQUIRES: s is valid UTF-8 (checked
// once by FindInvalidUtf8), so the tokenizer's hot loop carries no error path.
inline char32_t NextCodePoint(std::string_view s, size_t* i) noexcept {
  const auto c = static_cast<unsigned char>(s[*i]);
  if (c < 0x80) {
    ++*i;
    return c;
  }
  const size_t len = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
  char32_t cp = len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
  for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[*i + k]) & 0x3F);
  *i += len;
  return cp;
}

// Appends the UTF-8 encoding of cp. REQUIRES: cp is a Unicode scalar value (<= U+10FFFF, not a
// surrogate).
inline void AppendUtf8(char32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace augurdb
