// How the graph search reaches vectors: a small functor per representation (fp32 rows or SQ8
// codes) with One / Four / Prefetch, so HnswIndex's search loop is one template instantiated per
// representation and never branches on it per distance (faiss DistanceComputer, as a template).
#pragma once

#include <cstddef>
#include <cstdint>

#include "simd/distance.h"

namespace augurdb::index {

inline void PrefetchLines(const void* p, size_t lines) noexcept {
  const char* c = static_cast<const char*>(p);
  for (size_t line = 0; line < lines; ++line) __builtin_prefetch(c + 64 * line, 0, 3);
}

// Where the fp32 row of a slot lives: rows below `mapped_rows` in a checkpoint mapping, the rest
// in memory (mapped_rows is 0 unless vectors stay on disk). HnswIndex and Fp32Distance both
// resolve rows through this one function.
struct VectorRows {
  const float* mapped;  // row r < mapped_rows at mapped + r * stride
  size_t mapped_rows;
  const float* base;    // row r >= mapped_rows at base + (r - mapped_rows) * stride
  size_t stride;

  const float* row(uint32_t slot) const noexcept {
    return slot < mapped_rows ? mapped + static_cast<size_t>(slot) * stride
                              : base + (static_cast<size_t>(slot) - mapped_rows) * stride;
  }
};

// Exact distances on the stored fp32 rows.
struct Fp32Distance {
  // Rows SearchLayer prefetches for the likely next hop: none (compute-bound, see there).
  static constexpr size_t kNextHopRows = 0;

  const float* query;
  VectorRows rows;
  size_t dim;
  simd::DistanceFn one;
  simd::Distance4Fn four;
  size_t prefetch_lines;

  const float* row(uint32_t slot) const noexcept { return rows.row(slot); }
  float One(uint32_t slot) const noexcept { return one(query, row(slot), dim); }
  void Four(const uint32_t* s, float* out) const noexcept {
    four(query, row(s[0]), row(s[1]), row(s[2]), row(s[3]), dim, out);
  }
  void Prefetch(uint32_t slot) const noexcept { PrefetchLines(row(slot), prefetch_lines); }
};

// Approximate distances on SQ8/SQ4 codes (simd/sq.h, ScalarQuantizer::PreparedQuery): an exact
// integer dot product r between the int16 query and the code, mapped back by
// bias + gain * r (+ the code's stored norm for L2). Dot-based metrics fold their sign and the
// cosine's 1 - dot into bias and gain.
struct SqDistance {
  static constexpr size_t kNextHopRows = 8;  // 12 to 32: no better on Fashion-MNIST (SQ8 slower)

  const int16_t* query;   // query_dim int16, 64-byte aligned
  const uint8_t* codes;   // row r at codes + r * stride
  const float* norms;     // L2: per-slot CodeNorm; nullptr for dot-based metrics
  size_t stride;
  size_t query_dim;
  float bias, gain;
  simd::SqIpFn ip;
  simd::SqIpx4Fn ip4;
  size_t prefetch_lines;

  const uint8_t* row(uint32_t slot) const noexcept { return codes + static_cast<size_t>(slot) * stride; }
  float Map(uint32_t slot, int32_t r) const noexcept {
    const float d = bias + gain * static_cast<float>(r);
    return norms != nullptr ? d + norms[slot] : d;
  }
  float One(uint32_t slot) const noexcept { return Map(slot, ip(query, row(slot), query_dim)); }
  void Four(const uint32_t* s, float* out) const noexcept {
    const uint8_t* rows[4] = {row(s[0]), row(s[1]), row(s[2]), row(s[3])};
    int32_t r[4];
    ip4(query, rows, query_dim, r);
    for (int j = 0; j < 4; ++j) out[j] = Map(s[j], r[j]);
  }
  void Prefetch(uint32_t slot) const noexcept { PrefetchLines(row(slot), prefetch_lines); }
};

}  // namespace augurdb::index
