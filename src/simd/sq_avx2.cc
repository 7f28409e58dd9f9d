// AVX2 SQ8/SQ4 kernels (see sq.h). Compiled with -mavx2 -mfma for this file only.
// Instructions: VPMOVZXBW widens 16 code bytes to int16, VPMADDWD multiplies them with 16 query
// int16 and adds pairs into 8 int32 lanes; two accumulators per stream. SQ4 first splits 16
// bytes into their low and high nibbles (VPAND, VPSRLW + VPAND), then does the same.
#include <immintrin.h>

#include "simd/sq.h"

namespace augurdb::simd::avx2 {
namespace {

inline __m256i Widen(const uint8_t* p) noexcept {
  return _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

// Elements [0, 16) and [32, 48) of a 64-element SQ4 block from its bytes [0, 16) (or [16, 32)
// and [48, 64) from bytes [16, 32)), each widened to int16.
inline void WidenNibbles(const uint8_t* p, __m256i* lo, __m256i* hi) noexcept {
  const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i mask = _mm_set1_epi8(0x0f);
  *lo = _mm256_cvtepu8_epi16(_mm_and_si128(bytes, mask));
  *hi = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(bytes, 4), mask));
}

inline __m256i Query(const int16_t* q) noexcept {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q));
}

inline int32_t Sum(__m256i v) noexcept {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}

}  // namespace

int32_t Sq8Ip(const int16_t* q, const uint8_t* code, size_t dim) noexcept {
  __m256i a0 = _mm256_setzero_si256(), a1 = _mm256_setzero_si256();
  for (size_t i = 0; i < dim; i += 32) {
    a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(Query(q + i), Widen(code + i)));
    a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(Query(q + i + 16), Widen(code + i + 16)));
  }
  return Sum(_mm256_add_epi32(a0, a1));
}

void Sq8Ipx4(const int16_t* q, const uint8_t* const* codes, size_t dim, int32_t* out) noexcept {
  __m256i a0 = _mm256_setzero_si256(), a1 = _mm256_setzero_si256();
  __m256i a2 = _mm256_setzero_si256(), a3 = _mm256_setzero_si256();
  const uint8_t *c0 = codes[0], *c1 = codes[1], *c2 = codes[2], *c3 = codes[3];
  for (size_t i = 0; i < dim; i += 16) {
    const __m256i qi = Query(q + i);
    a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(qi, Widen(c0 + i)));
    a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(qi, Widen(c1 + i)));
    a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(qi, Widen(c2 + i)));
    a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(qi, Widen(c3 + i)));
  }
  out[0] = Sum(a0);
  out[1] = Sum(a1);
  out[2] = Sum(a2);
  out[3] = Sum(a3);
}

int32_t Sq4Ip(const int16_t* q, const uint8_t* code, size_t dim) noexcept {
  __m256i a0 = _mm256_setzero_si256(), a1 = _mm256_setzero_si256();
  for (size_t i = 0; i < dim; i += 64, code += 32) {
    __m256i lo, hi;
    WidenNibbles(code, &lo, &hi);
    a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(Query(q + i), lo));
    a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(Query(q + i + 32), hi));
    WidenNibbles(code + 16, &lo, &hi);
    a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(Query(q + i + 16), lo));
    a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(Query(q + i + 48), hi));
  }
  return Sum(_mm256_add_epi32(a0, a1));
}

void Sq4Ipx4(const int16_t* q, const uint8_t* const* codes, size_t dim, int32_t* out) noexcept {
  __m256i acc[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(),
                    _mm256_setzero_si256()};
  for (size_t i = 0, off = 0; i < dim; i += 64, off += 32) {
    for (size_t half = 0; half < 2; ++half) {
      const __m256i qlo = Query(q + i + 16 * half), qhi = Query(q + i + 32 + 16 * half);
      for (int j = 0; j < 4; ++j) {
        __m256i lo, hi;
        WidenNibbles(codes[j] + off + 16 * half, &lo, &hi);
        acc[j] = _mm256_add_epi32(acc[j], _mm256_add_epi32(_mm256_madd_epi16(qlo, lo),
                                                           _mm256_madd_epi16(qhi, hi)));
      }
    }
  }
  for (int j = 0; j < 4; ++j) out[j] = Sum(acc[j]);
}

}  // namespace augurdb::simd::avx2
