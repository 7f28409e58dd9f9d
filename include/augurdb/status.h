// Errors as values: Status (code + message) and Result<T> (value or Status).
//
// Expected failures (bad input, I/O, corruption, a held lock) are returned, never thrown, so a
// C++ caller sees every failure in the signature and nothing unwinds across the C/Python
// boundary. StatusCode numbers are stable: they reach Python (augurdb.errors), logs and bug
// reports, so a number is never reused.
//
// Thread safety: Status and Result are values; distinct objects may be used from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include <augurdb/export.h>

namespace augurdb {

enum class StatusCode : uint8_t {
  kOk = 0,
  kInvalidArgument = 1,
  kDimensionMismatch = 2,
  kNotFound = 3,
  kAlreadyExists = 4,
  kCorruption = 5,
  kIOError = 6,
  kLocked = 7,
  kResourceExhausted = 8,
  kCancelled = 9,
  kNotSupported = 10,
  kInternal = 11,
  kInvalidVector = 12,  // NaN or Inf in a vector
  kInvalidFilter = 13,  // a malformed where-filter or a type mismatch in it
};

// Returns the enumerator's name without the leading 'k', e.g. "InvalidArgument".
AUGURDB_EXPORT std::string_view StatusCodeName(StatusCode code) noexcept;

class [[nodiscard]] AUGURDB_EXPORT Status {
 public:
  Status() noexcept = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status OK() noexcept { return Status(); }
  static Status InvalidArgument(std::string msg) {
    return Status(StatusCode::kInvalidArgument, std::move(msg));
  }
  static Status DimensionMismatch(std::string msg) {
    return Status(StatusCode::kDimensionMismatch, std::move(msg));
  }
  static Status InvalidVector(std::string msg) {
    return Status(StatusCode::kInvalidVector, std::move(msg));
  }
  static Status InvalidFilter(std::string msg) {
    return Status(StatusCode::kInvalidFilter, std::move(msg));
  }
  static Status NotFound(std::string msg) { return Status(StatusCode::kNotFound, std::move(msg)); }
  static Status AlreadyExists(std::string msg) {
    return Status(StatusCode::kAlreadyExists, std::move(msg));
  }
  static Status Corruption(std::string msg) {
    return Status(StatusCode::kCorruption, std::move(msg));
  }
  static Status IOError(std::string msg) { return Status(StatusCode::kIOError, std::move(msg)); }
  static Status Locked(std::string msg) { return Status(StatusCode::kLocked, std::move(msg)); }
  static Status ResourceExhausted(std::string msg) {
    return Status(StatusCode::kResourceExhausted, std::move(msg));
  }
  static Status Cancelled(std::string msg) {
    return Status(StatusCode::kCancelled, std::move(msg));
  }
  static Status NotSupported(std::string msg) {
    return Status(StatusCode::kNotSupported, std::move(msg));
  }
  static Status Internal(std::string msg) { return Status(StatusCode::kInternal, std::move(msg)); }

  bool ok() const noexcept { return code_ == StatusCode::kOk; }
  StatusCode code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }
  // "InvalidArgument: <message>", or "OK".
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Holds either a T or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit
  Result(Status status) : data_(std::in_place_index<1>, std::move(status)) {}  // NOLINT

  bool ok() const noexcept { return data_.index() == 0; }
  const Status& status() const& {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<1>(data_);
  }
  Status status() && { return ok() ? Status() : std::get<1>(std::move(data_)); }

  // REQUIRES: ok().
  T& value() & { return std::get<0>(data_); }
  const T& value() const& { return std::get<0>(data_); }
  T&& value() && { return std::get<0>(std::move(data_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> data_;
};

}  // namespace augurdb

#define AUGUR_CONCAT_INNER_(a, b) a##b
#define AUGUR_CONCAT_(a, b) AUGUR_CONCAT_INNER_(a, b)

#define AUGUR_RETURN_IF_ERROR(expr)              \
  do {                                           \
    ::augurdb::Status augur_status_ = (expr);    \
    if (!augur_status_.ok()) return augur_status_; \
  } while (0)

#define AUGUR_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return std::move(tmp).status();     \
  lhs = std::move(tmp).value()

#define AUGUR_ASSIGN_OR_RETURN(lhs, expr) \
  AUGUR_ASSIGN_OR_RETURN_IMPL_(AUGUR_CONCAT_(augur_result_, __LINE__), lhs, expr)
