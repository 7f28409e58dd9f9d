// Kernels on 8-bit scalar-quantized codes (SQ8): an exact integer dot product between a query
// quantized to int16 and a row of uint8 codes.
//
// Why integers: the float form (widen each byte to fp32, then two FMAs per element) spent ~7
// instructions per 16 elements; VPMADDWD multiplies and pair-adds 32 int16 x widened-uint8
// products in one, so the arithmetic per code row drops ~4x and the walk is bound by memory
// again (PERFORMANCE.md technique 1). The query side is quantized to 14+ bits (see
// Sq8Quantizer::PrepareQuery), far finer than the 8-bit codes, so ranking is unchanged in practice
// and the final candidates are re-scored exactly anyway.
//
// Overflow: the caller bounds |q_d| so that 255 * sum_d |q_d| < 2^31 (Sq8Quantizer does), so every
// partial sum fits int32 in every kernel and all levels return identical results.
// Codes and q are zero-padded to a multiple of 32 elements: REQUIRES dim % 32 == 0. The four-at-
// once form reads four rows in one pass (four independent memory streams).
#pragma once

#include <cstddef>
#include <cstdint>

namespace augurdb::simd {

using Sq8IpFn = int32_t (*)(const int16_t* q, const uint8_t* code, size_t dim) noexcept;
using Sq8Ipx4Fn = void (*)(const int16_t* q, const uint8_t* const* codes, size_t dim,
                           int32_t* out) noexcept;

#define AUGUR_DECLARE_SQ8_KERNELS()                                                 \
  int32_t Sq8Ip(const int16_t* q, const uint8_t* code, size_t dim) noexcept;        \
  void Sq8Ipx4(const int16_t* q, const uint8_t* const* codes, size_t dim, int32_t* out) noexcept

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
