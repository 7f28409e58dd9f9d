// Kernels on 8-bit scalar-quantized codes (SQ8), asymmetric: the query stays in float.
//
// A code byte c_d stands for x_d ~ min_d + scale_d * c_d. With the query prepared once per
// search as t_d = q_d - min_d (L2) or s_d = q_d * scale_d (dot), the distances are
//   Sq8L2:  sum_d (t_d - scale_d * c_d)^2        ~ ||q - x||^2
//   Sq8Dot: sum_d s_d * c_d                      ~ q.x - sum_d q_d * min_d
// Codes, t, s and scale are zero-padded to a multiple of 16 elements, so the kernels have no
// tail: REQUIRES dim % 16 == 0. Four-at-once forms read four codes in one pass (four
// independent memory streams).
#pragma once

#include <cstddef>
#include <cstdint>

namespace augurdb::simd {

using Sq8L2Fn = float (*)(const float* t, const float* scale, const uint8_t* code,
                          size_t dim) noexcept;
using Sq8DotFn = float (*)(const float* s, const uint8_t* code, size_t dim) noexcept;
using Sq8L2x4Fn = void (*)(const float* t, const float* scale, const uint8_t* const* codes,
                           size_t dim, float* out) noexcept;
using Sq8Dotx4Fn = void (*)(const float* s, const uint8_t* const* codes, size_t dim,
                            float* out) noexcept;

#define AUGUR_DECLARE_SQ8_KERNELS()                                                            \
  float Sq8L2(const float* t, const float* scale, const uint8_t* code, size_t dim) noexcept;   \
  float Sq8Dot(const float* s, const uint8_t* code, size_t dim) noexcept;                      \
  void Sq8L2x4(const float* t, const float* scale, const uint8_t* const* codes, size_t dim,    \
               float* out) noexcept;                                                           \
  void Sq8Dotx4(const float* s, const uint8_t* const* codes, size_t dim, float* out) noexcept

namespace scalar {
AUGUR_DECLARE_SQ8_KERNELS();
}
namespace avx2 {
AUGUR_DECLARE_SQ8_KERNELS();
}
namespace avx512 {
AUGUR_DECLARE_SQ8_KERNELS();
}
namespace neon {
AUGUR_DECLARE_SQ8_KERNELS();
}

#undef AUGUR_DECLARE_SQ8_KERNELS

}  // namespace augurdb::simd
