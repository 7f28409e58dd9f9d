// AVX-512 SQ8 kernels (see sq.h; SQ4 forwards to the AVX2 form). Compiled with AVX-512
// F/BW/DQ/VL flags for this file only. Instructions: VPMOVZXBW widens 32 code bytes to int16,
// VPMADDWD multiplies them with 32 query int16 and adds pairs into 16 int32 lanes; the
// four-at-once form shares each query load.
// Query preparation: VFMADD for the sums (fused, two accumulators: their rounding differs from
// the scalar reference's), VMAXPS for the peak (a NaN first operand yields the second, so NaN
// elements leave it unchanged), VCVTTPS2DQ under a not-NaN mask to truncate, VPMOVSDW to pack.
#include <immintrin.h>

#include "simd/sq.h"

// GCC 12 header false positive (see distance_avx512.cc).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace augurdb::simd {
namespace {  // helpers shared by the avx512 and avx512vnni kernels of this file

inline __m512i Widen(const uint8_t* p) noexcept {
  return _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

inline __m512i Query(const int16_t* q) noexcept { return _mm512_loadu_si512(q); }

}  // namespace
}  // namespace augurdb::simd

namespace augurdb::simd::avx512 {

int32_t Sq8Ip(const int16_t* q, const uint8_t* code, size_t dim) noexcept {
  __m512i a0 = _mm512_setzero_si512(), a1 = _mm512_setzero_si512();
  size_t i = 0;
  for (; i + 64 <= dim; i += 64) {
    a0 = _mm512_add_epi32(a0, _mm512_madd_epi16(Query(q + i), Widen(code + i)));
    a1 = _mm512_add_epi32(a1, _mm512_madd_epi16(Query(q + i + 32), Widen(code + i + 32)));
  }
  if (i < dim) a0 = _mm512_add_epi32(a0, _mm512_madd_epi16(Query(q + i), Widen(code + i)));
  return _mm512_reduce_add_epi32(_mm512_add_epi32(a0, a1));
}

void Sq8Ipx4(const int16_t* q, const uint8_t* const* codes, size_t dim, int32_t* out) noexcept {
  __m512i a0 = _mm512_setzero_si512(), a1 = _mm512_setzero_si512();
  __m512i a2 = _mm512_setzero_si512(), a3 = _mm512_setzero_si512();
  const uint8_t *c0 = codes[0], *c1 = codes[1], *c2 = codes[2], *c3 = codes[3];
  for (size_t i = 0; i < dim; i += 32) {
    const __m512i qi = Query(q + i);
    a0 = _mm512_add_epi32(a0, _mm512_madd_epi16(qi, Widen(c0 + i)));
    a1 = _mm512_add_epi32(a1, _mm512_madd_epi16(qi, Widen(c1 + i)));
    a2 = _mm512_add_epi32(a2, _mm512_madd_epi16(qi, Widen(c2 + i)));
    a3 = _mm512_add_epi32(a3, _mm512_madd_epi16(qi, Widen(c3 + i)));
  }
  out[0] = _mm512_reduce_add_epi32(a0);
  out[1] = _mm512_reduce_add_epi32(a1);
  out[2] = _mm512_reduce_add_epi32(a2);
  out[3] = _mm512_reduce_add_epi32(a3);
}

// SQ4 takes an int8 query (sq.h): the AVX2 kernel's VPMADDUBSW form serves here too, until a
// 512-bit one is measured on an AVX-512 machine.
int32_t Sq4Ip(const int16_t* q, const uint8_t* code, size_t dim) noexcept {
  return avx2::Sq4Ip(q, code, dim);
}
void Sq4Ipx4(const int16_t* q, const uint8_t* const* codes, size_t dim, int32_t* out) noexcept {
  avx2::Sq4Ipx4(q, codes, dim, out);
}

namespace {
// One block of 16 of SqShift / SqScale: stores u, returns the accumulator updated.
inline __m512 ShiftBlock(const float* q, const float* min, const float* scale, float* u,
                         __m512 acc) noexcept {
  const __m512 x = _mm512_sub_ps(_mm512_loadu_ps(q), _mm512_loadu_ps(min));
  _mm512_storeu_ps(u, _mm512_mul_ps(x, _mm512_loadu_ps(scale)));
  return _mm512_fmadd_ps(x, x, acc);
}
inline __m512 ScaleBlock(const float* q, const float* min, const float* scale, float* u,
                         __m512 acc) noexcept {
  const __m512 x = _mm512_loadu_ps(q);
  _mm512_storeu_ps(u, _mm512_mul_ps(x, _mm512_loadu_ps(scale)));
  return _mm512_fmadd_ps(x, _mm512_loadu_ps(min), acc);
}
// Two accumulators halve the chain of dependent FMAs; n % 16 == 0 leaves at most one block.
template <class Block>
float PrepareSum(const float* q, const float* min, const float* scale, size_t n, float* u,
                 Block block) noexcept {
  __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
  size_t d = 0;
  for (; d + 32 <= n; d += 32) {
    a0 = block(q + d, min + d, scale + d, u + d, a0);
    a1 = block(q + d + 16, min + d + 16, scale + d + 16, u + d + 16, a1);
  }
  if (d < n) a0 = block(q + d, min + d, scale + d, u + d, a0);
  return _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
}
}  // namespace

float SqShift(const float* q, const float* min, const float* scale, size_t n, float* u) noexcept {
  return PrepareSum(q, min, scale, n, u, ShiftBlock);
}

float SqScale(const float* q, const float* min, const float* scale, size_t n, float* u) noexcept {
  return PrepareSum(q, min, scale, n, u, ScaleBlock);
}

float AbsMax(const float* u, size_t n) noexcept {
  __m512 peak = _mm512_setzero_ps();
  for (size_t d = 0; d < n; d += 16) {
    peak = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(u + d)), peak);
  }
  return _mm512_reduce_max_ps(peak);
}

void SqQuantize(const float* u, size_t n, float inv, float limit, int16_t* out) noexcept {
  const __m512 scale = _mm512_set1_ps(inv), hi = _mm512_set1_ps(limit);
  const __m512 lo = _mm512_set1_ps(-limit), half = _mm512_set1_ps(0.5f);
  const __m512 sign = _mm512_set1_ps(-0.0f);
  for (size_t d = 0; d < n; d += 16) {
    __m512 x = _mm512_mul_ps(_mm512_loadu_ps(u + d), scale);
    const __mmask16 number = _mm512_cmp_ps_mask(x, x, _CMP_ORD_Q);
    x = _mm512_min_ps(_mm512_max_ps(x, lo), hi);
    // + copysign(0.5, x), then truncation: rounds half away from zero like the scalar kernel
    // (-0.0 gets +0.5 there and -0.5 here; both truncate to 0).
    x = _mm512_add_ps(x, _mm512_or_ps(half, _mm512_and_ps(x, sign)));
    const __m512i levels = _mm512_maskz_cvttps_epi32(number, x);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + d), _mm512_cvtsepi32_epi16(levels));
  }
}

}  // namespace augurdb::simd::avx512

// The same kernels with VPDPWSSD (AVX512_VNNI: multiply, pair-add and accumulate in one),
// compiled for these functions only; dispatch.cc uses them only when HasAvx512Vnni().
#define AUGUR_VNNI __attribute__((target("avx512vnni")))

namespace augurdb::simd::avx512vnni {

AUGUR_VNNI int32_t Sq8Ip(const int16_t* q, const uint8_t* code, size_t dim) noexcept {
  __m512i a0 = _mm512_setzero_si512(), a1 = _mm512_setzero_si512();
  size_t i = 0;
  for (; i + 64 <= dim; i += 64) {
    a0 = _mm512_dpwssd_epi32(a0, Query(q + i), Widen(code + i));
    a1 = _mm512_dpwssd_epi32(a1, Query(q + i + 32), Widen(code + i + 32));
  }
  if (i < dim) a0 = _mm512_dpwssd_epi32(a0, Query(q + i), Widen(code + i));
  return _mm512_reduce_add_epi32(_mm512_add_epi32(a0, a1));
}

AUGUR_VNNI void Sq8Ipx4(const int16_t* q, const uint8_t* const* codes, size_t dim,
                        int32_t* out) noexcept {
  __m512i a0 = _mm512_setzero_si512(), a1 = _mm512_setzero_si512();
  __m512i a2 = _mm512_setzero_si512(), a3 = _mm512_setzero_si512();
  const uint8_t *c0 = codes[0], *c1 = codes[1], *c2 = codes[2], *c3 = codes[3];
  for (size_t i = 0; i < dim; i += 32) {
    const __m512i qi = Query(q + i);
    a0 = _mm512_dpwssd_epi32(a0, qi, Widen(c0 + i));
    a1 = _mm512_dpwssd_epi32(a1, qi, Widen(c1 + i));
    a2 = _mm512_dpwssd_epi32(a2, qi, Widen(c2 + i));
    a3 = _mm512_dpwssd_epi32(a3, qi, Widen(c3 + i));
  }
  out[0] = _mm512_reduce_add_epi32(a0);
  out[1] = _mm512_reduce_add_epi32(a1);
  out[2] = _mm512_reduce_add_epi32(a2);
  out[3] = _mm512_reduce_add_epi32(a3);
}

}  // namespace augurdb::simd::avx512vnni
