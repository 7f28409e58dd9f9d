// A small strict JSON parser (RFC 8259) into a tagged tree, used to read where-filters.
//
// Strict means: no comments, no trailing commas, no NaN/Infinity, no leading zeros, no control
// characters inside strings, valid UTF-8 only, no lone surrogates, nothing after the value.
// Objects keep their keys in input order (duplicates included: the caller decides). Numbers
// keep the int/float distinction: a number written without '.' or an exponent that fits in an
// int64 is an int; every other number is a double. Errors are kInvalidFilter and name the byte
// offset; nothing throws (allocation failure becomes kResourceExhausted).
//
// Thread safety: ParseJson is reentrant; a JsonValue is a plain value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <augurdb/status.h>

namespace augurdb::filter {

// Nesting deeper than this (arrays + objects) is rejected, which bounds the parser's and the
// filter planner's recursion.
inline constexpr size_t kMaxJsonDepth = 64;
// Default limit on the input size: a filter is a query, not a data set.
inline constexpr size_t kMaxJsonBytes = size_t{16} << 20;

enum class JsonType : uint8_t { kNull, kBool, kInt, kDouble, kString, kArray, kObject };

struct JsonValue {
  JsonType type = JsonType::kNull;
  bool bool_value = false;        // kBool
  int64_t int_value = 0;          // kInt
  double double_value = 0.0;      // kDouble
  std::string string_value;       // kString, decoded (escapes resolved, UTF-8)
  std::vector<JsonValue> items;   // kArray elements, or kObject member values
  std::vector<std::string> keys;  // kObject only: keys[i] names items[i], in input order
  size_t offset = 0;              // byte offset of the value's first character in the input

  bool is_object() const noexcept { return type == JsonType::kObject; }
  bool is_array() const noexcept { return type == JsonType::kArray; }
  bool is_number() const noexcept { return type == JsonType::kInt || type == JsonType::kDouble; }
  bool is_string() const noexcept { return type == JsonType::kString; }
};

// Parses `text` as one JSON value. Errors: kInvalidFilter "invalid JSON at byte N: <what>" for
// malformed input, nesting deeper than kMaxJsonDepth or input longer than `max_bytes`;
// kResourceExhausted if memory runs out.
Result<JsonValue> ParseJson(std::string_view text, size_t max_bytes = kMaxJsonBytes);

// "null", "a bool", "a number", "a string", "a list", "an object": for error messages.
std::string_view JsonTypeName(JsonType type) noexcept;

}  // namespace augurdb::filter
