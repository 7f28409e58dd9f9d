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

// Exact distances on the stored fp32 rows.
struct Fp32Distance {
  const float* query;
  const float* base;  // row r at base + r * stride
  size_t stride;
  size_t dim;
  simd::DistanceFn one;
  simd::Distance4Fn four;
  size_t prefetch_lines;

  const float* row(uint32_t slot) const noexcept { return base + static_cast<size_t>(slot) * stride; }
  float One(uint32_t slot) const noexcept { return one(query, row(slot), dim); }
  void Four(const uint32_t* s, float* out) const noexcept {
    four(query, row(s[0]), row(s[1]), row(s[2]), row(s[3]), dim, out);
  }
  void Prefetch(uint32_t slot) const noexcept { PrefetchLines(row(slot), prefetch_lines); }
};

// Approximate distances on SQ8 codes (simd/sq8.h). L2: sum (t - scale * c)^2. Dot-based
// metrics: offset + sign * sum s * c, which gives -dot (inner product) or 1 - dot (cosine).
struct Sq8Distance {
  const float* prepared;  // t (L2) or s (dot), padded, 64-byte aligned
  const float* scale;     // L2 only
  const uint8_t* codes;   // row r at codes + r * stride
  size_t stride;
  size_t padded_dim;
  bool l2;
  float offset, sign;     // dot-based metrics
  const simd::KernelTable* kernels;
  size_t prefetch_lines;

  const uint8_t* row(uint32_t slot) const noexcept { return codes + static_cast<size_t>(slot) * stride; }
  float One(uint32_t slot) const noexcept {
    if (l2) return kernels->sq8_l2(prepared, scale, row(slot), padded_dim);
    return offset + sign * kernels->sq8_dot(prepared, row(slot), padded_dim);
  }
  void Four(const uint32_t* s, float* out) const noexcept {
    const uint8_t* rows[4] = {row(s[0]), row(s[1]), row(s[2]), row(s[3])};
    if (l2) {
      kernels->sq8_l2x4(prepared, scale, rows, padded_dim, out);
      return;
    }
    kernels->sq8_dotx4(prepared, rows, padded_dim, out);
    for (int j = 0; j < 4; ++j) out[j] = offset + sign * out[j];
  }
  void Prefetch(uint32_t slot) const noexcept { PrefetchLines(row(slot), prefetch_lines); }
};

}  // namespace augurdb::index
