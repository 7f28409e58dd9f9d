// Kernels on scalar-quantized codes (SQ8: one byte per element; SQ4: one nibble): an exact
// integer dot product between a quantized query and one row of codes. SQ8 queries are int16.
// SQ4 queries are int8 (|q_d| <= 127), stored in the first dim bytes of the int16 buffer the
// signature names: VPMADDUBSW then multiplies 32 nibbles by 32 query bytes and pair-adds them
// in one instruction, without widening the codes. That halved the instructions of an SQ4
// distance and made 784-d builds, whose walk is on SQ4 codes, 13-16% faster (Zen 2); 127
// levels per side are still eight times finer than the codes' 16.
//
// Why integers: the float form widens each byte to fp32 and spends two FMAs per element, while
// VPMADDWD multiplies and pair-adds 32 int16 x widened-code products in one instruction, so the
// walk is bound by memory again rather than by arithmetic (docs/quantization.md, "Distance on
// codes", has the measurements). The query side is quantized to 14+ bits for SQ8 and 7 for SQ4
// (ScalarQuantizer::PrepareL2/PrepareDot), far finer than the codes, so ranking is unchanged in
// practice and the final candidates are re-scored exactly anyway.
//
// Overflow: the caller bounds |q_d| so that max_code * sum_d |q_d| < 2^31 (ScalarQuantizer does),
// so every partial sum fits int32 in every kernel and all levels return identical results. For
// SQ4 a pair of products is at most 2 * 15 * 127 in magnitude, so VPMADDUBSW's int16 never
// saturates.
//
// Layouts (zero-padded, so the kernels have no tail):
//   SQ8: byte d holds element d.                                       REQUIRES dim % 32 == 0
//   SQ4: in each block of 64 elements (32 bytes), byte j holds element j in its low nibble and
//        element 32 + j in its high nibble, so one AND and one shift split a block into two
//        runs of 32 consecutive elements.                              REQUIRES dim % 64 == 0
// The four-at-once forms read four rows in one pass (four independent memory streams).
#pragma once

#include <cstddef>
#include <cstdint>

namespace augurdb::simd {

using SqIpFn = int32_t (*)(const int16_t* q, const uint8_t* code, size_t dim) noexcept;
using SqIpx4Fn = void (*)(const int16_t* q, const uint8_t* const* codes, size_t dim,
                          int32_t* out) noexcept;

// Query preparation, once per search (quant::ScalarQuantizer::PrepareL2 / PrepareDot). They are
// kernels because the compiler vectorised the plain loops badly, a visible share of an SQ8
// search. Unlike the distance kernels, they have no tail: REQUIRES n % 16 == 0 (the quantizer's
// zero-padded arrays, padded_dim() floats).
//   SqShift: u_d = (q_d - min_d) * scale_d; returns sum_d (q_d - min_d)^2      (L2)
//   SqScale: u_d = q_d * scale_d;           returns sum_d q_d * min_d          (dot)
// q and u may be the same array. The sums' rounding differs between ISAs (lane order, FMA).
using SqPrepareFn = float (*)(const float* q, const float* min, const float* scale, size_t n,
                              float* u) noexcept;
// max_d |u_d|, NaN elements ignored (0 for n == 0 or all NaN).
using AbsMaxFn = float (*)(const float* u, size_t n) noexcept;
// out_d = u_d * inv clamped to [-limit, limit] and rounded half away from zero; NaN -> 0.
// REQUIRES limit <= 32767. Identical results at every level.
using SqQuantizeFn = void (*)(const float* u, size_t n, float inv, float limit,
                              int16_t* out) noexcept;

#define AUGUR_DECLARE_SQ_KERNELS()                                                             \
  int32_t Sq8Ip(const int16_t* q, const uint8_t* code, size_t dim) noexcept;                   \
  void Sq8Ipx4(const int16_t* q, const uint8_t* const* codes, size_t dim, int32_t* out) noexcept; \
  int32_t Sq4Ip(const int16_t* q, const uint8_t* code, size_t dim) noexcept;                   \
  void Sq4Ipx4(const int16_t* q, const uint8_t* const* codes, size_t dim, int32_t* out) noexcept

#define AUGUR_DECLARE_SQ_QUERY_KERNELS()                                                       \
  float SqShift(const float* q, const float* min, const float* scale, size_t n,                \
                float* u) noexcept;                                                           \
  float SqScale(const float* q, const float* min, const float* scale, size_t n,                \
                float* u) noexcept;                                                           \
  float AbsMax(const float* u, size_t n) noexcept;                                              \
  void SqQuantize(const float* u, size_t n, float inv, float limit, int16_t* out) noexcept

namespace scalar {
AUGUR_DECLARE_SQ_KERNELS();
AUGUR_DECLARE_SQ_QUERY_KERNELS();
}
namespace avx2 {
AUGUR_DECLARE_SQ_KERNELS();
AUGUR_DECLARE_SQ_QUERY_KERNELS();
}
namespace avx512 {
AUGUR_DECLARE_SQ_KERNELS();
AUGUR_DECLARE_SQ_QUERY_KERNELS();
}
namespace neon {
AUGUR_DECLARE_SQ_KERNELS();
AUGUR_DECLARE_SQ_QUERY_KERNELS();
}
// AVX-512 with VNNI (VPDPWSSD fuses the multiply-add and the accumulate), SQ8 only; chosen by
// dispatch.cc in place of the avx512 ones when the CPU has it. Declared on every platform,
// defined only where AVX-512 is compiled in.
namespace avx512vnni {
int32_t Sq8Ip(const int16_t* q, const uint8_t* code, size_t dim) noexcept;
void Sq8Ipx4(const int16_t* q, const uint8_t* const* codes, size_t dim, int32_t* out) noexcept;
}

#undef AUGUR_DECLARE_SQ_KERNELS
#undef AUGUR_DECLARE_SQ_QUERY_KERNELS

}  // namespace augurdb::simd
