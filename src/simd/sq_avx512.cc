// AVX-512 SQ8/SQ4 kernels (see sq.h). Compiled with AVX-512 F/BW/DQ/VL flags for this file only.
// Instructions: VPMOVZXBW widens 32 code bytes to int16, VPMADDWD multiplies them with 32 query
// int16 and adds pairs into 16 int32 lanes; the four-at-once form shares each query load. SQ4
// first splits a 32-byte block into its low and high nibbles (VPAND, VPSRLW + VPAND): elements
// [0, 32) and [32, 64) of the block.
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

inline void WidenNibbles(const uint8_t* p, __m512i* lo, __m512i* hi) noexcept {
  const __m256i bytes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  const __m256i mask = _mm256_set1_epi8(0x0f);
  *lo = _mm512_cvtepu8_epi16(_mm256_and_si256(bytes, mask));
  *hi = _mm512_cvtepu8_epi16(_mm256_and_si256(_mm256_srli_epi16(bytes, 4), mask));
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

int32_t Sq4Ip(const int16_t* q, const uint8_t* code, size_t dim) noexcept {
  __m512i a0 = _mm512_setzero_si512(), a1 = _mm512_setzero_si512();
  for (size_t i = 0; i < dim; i += 64, code += 32) {
    __m512i lo, hi;
    WidenNibbles(code, &lo, &hi);
    a0 = _mm512_add_epi32(a0, _mm512_madd_epi16(Query(q + i), lo));
    a1 = _mm512_add_epi32(a1, _mm512_madd_epi16(Query(q + i + 32), hi));
  }
  return _mm512_reduce_add_epi32(_mm512_add_epi32(a0, a1));
}

void Sq4Ipx4(const int16_t* q, const uint8_t* const* codes, size_t dim, int32_t* out) noexcept {
  __m512i acc[4] = {_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512(),
                    _mm512_setzero_si512()};
  for (size_t i = 0, off = 0; i < dim; i += 64, off += 32) {
    const __m512i qlo = Query(q + i), qhi = Query(q + i + 32);
    for (int j = 0; j < 4; ++j) {
      __m512i lo, hi;
      WidenNibbles(codes[j] + off, &lo, &hi);
      acc[j] = _mm512_add_epi32(acc[j], _mm512_add_epi32(_mm512_madd_epi16(qlo, lo),
                                                         _mm512_madd_epi16(qhi, hi)));
    }
  }
  for (int j = 0; j < 4; ++j) out[j] = _mm512_reduce_add_epi32(acc[j]);
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

AUGUR_VNNI int32_t Sq4Ip(const int16_t* q, const uint8_t* code, size_t dim) noexcept {
  __m512i a0 = _mm512_setzero_si512(), a1 = _mm512_setzero_si512();
  for (size_t i = 0; i < dim; i += 64, code += 32) {
    __m512i lo, hi;
    WidenNibbles(code, &lo, &hi);
    a0 = _mm512_dpwssd_epi32(a0, Query(q + i), lo);
    a1 = _mm512_dpwssd_epi32(a1, Query(q + i + 32), hi);
  }
  return _mm512_reduce_add_epi32(_mm512_add_epi32(a0, a1));
}

AUGUR_VNNI void Sq4Ipx4(const int16_t* q, const uint8_t* const* codes, size_t dim,
                        int32_t* out) noexcept {
  __m512i acc[4] = {_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512(),
                    _mm512_setzero_si512()};
  for (size_t i = 0, off = 0; i < dim; i += 64, off += 32) {
    const __m512i qlo = Query(q + i), qhi = Query(q + i + 32);
    for (int j = 0; j < 4; ++j) {
      __m512i lo, hi;
      WidenNibbles(codes[j] + off, &lo, &hi);
      acc[j] = _mm512_dpwssd_epi32(_mm512_dpwssd_epi32(acc[j], qlo, lo), qhi, hi);
    }
  }
  for (int j = 0; j < 4; ++j) out[j] = _mm512_reduce_add_epi32(acc[j]);
}

}  // namespace augurdb::simd::avx512vnni
