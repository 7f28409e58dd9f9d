// Metadata values: null, bool, int64, double, string, or a list of those (one level deep).
//
// Thread safety: a value type; distinct objects may be used from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <augurdb/export.h>

namespace augurdb {

class AUGURDB_EXPORT Value {
 public:
  using List = std::vector<Value>;
  using Storage = std::variant<std::monostate, bool, int64_t, double, std::string, List>;

  Value() = default;  // null
  Value(std::nullptr_t) {}                                     // NOLINT: implicit by design
  Value(bool v) : data_(v) {}                                  // NOLINT
  Value(int v) : data_(static_cast<int64_t>(v)) {}             // NOLINT
  Value(int64_t v) : data_(v) {}                               // NOLINT
  Value(double v) : data_(v) {}                                // NOLINT
  Value(const char* v) : data_(std::string(v)) {}              // NOLINT
  Value(std::string v) : data_(std::move(v)) {}                // NOLINT
  Value(List v) : data_(std::move(v)) {}                       // NOLINT

  bool is_null() const noexcept { return std::holds_alternative<std::monostate>(data_); }
  bool is_bool() const noexcept { return std::holds_alternative<bool>(data_); }
  bool is_int() const noexcept { return std::holds_alternative<int64_t>(data_); }
  bool is_double() const noexcept { return std::holds_alternative<double>(data_); }
  bool is_string() const noexcept { return std::holds_alternative<std::string>(data_); }
  bool is_list() const noexcept { return std::holds_alternative<List>(data_); }

  // REQUIRES: the matching is_*() is true.
  bool as_bool() const { return std::get<bool>(data_); }
  int64_t as_int() const { return std::get<int64_t>(data_); }
  double as_double() const { return std::get<double>(data_); }
  const std::string& as_string() const { return std::get<std::string>(data_); }
  const List& as_list() const { return std::get<List>(data_); }

  const Storage& storage() const noexcept { return data_; }
  bool operator==(const Value& other) const { return data_ == other.data_; }

  // Approximate heap + inline bytes, for stats().
  size_t MemoryBytes() const;

 private:
  Storage data_;
};

// One record's metadata: field name -> value, ordered by name.
using Metadata = std::map<std::string, Value>;

}  // namespace augurdb
