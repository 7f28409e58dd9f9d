// Deterministic batches for the crash tests: ids first .. first + n - 1 and rows that depend on
// the first id, so a batch read back after a crash can be told from any other batch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace augurdb::testing {

inline std::vector<float> PatternRows(size_t n, int64_t first, size_t dim) {
  std::vector<float> rows(n * dim);
  for (size_t i = 0; i < rows.size(); ++i) {
    rows[i] = static_cast<float>((first * 131 + static_cast<int64_t>(i) * 7) % 97) * 0.25f;
  }
  return rows;
}

inline std::vector<int64_t> IdRange(size_t n, int64_t first) {
  std::vector<int64_t> ids(n);
  for (size_t i = 0; i < n; ++i) ids[i] = first + static_cast<int64_t>(i);
  return ids;
}

}  // namespace augurdb::testing
