// AVX-512 SQ8 kernels (see sq8.h). Compiled with AVX-512 F/BW/DQ/VL flags for this file only.
// Instructions: VPMOVZXBD widens 16 code bytes to int32, VCVTDQ2PS to float, VFNMADD231PS
// (t - scale * c) and VFMADD231PS; the four-at-once form shares each t/scale load.
#include <immintrin.h>

#include "simd/sq8.h"

// GCC 12 header false positive (see distance_avx512.cc).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace augurdb::simd::avx512 {
namespace {

inline __m512 Widen(const uint8_t* p) noexcept {
  return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
}

inline float Sum(__m512 v) noexcept {
  const __m256 h = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

}  // namespace

float Sq8L2(const float* t, const float* scale, const uint8_t* code, size_t dim) noexcept {
  __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= dim; i += 32) {
    const __m512 d0 = _mm512_fnmadd_ps(_mm512_load_ps(scale + i), Widen(code + i), _mm512_load_ps(t + i));
    const __m512 d1 = _mm512_fnmadd_ps(_mm512_load_ps(scale + i + 16), Widen(code + i + 16),
                                       _mm512_load_ps(t + i + 16));
    a0 = _mm512_fmadd_ps(d0, d0, a0);
    a1 = _mm512_fmadd_ps(d1, d1, a1);
  }
  if (i < dim) {
    const __m512 d = _mm512_fnmadd_ps(_mm512_load_ps(scale + i), Widen(code + i), _mm512_load_ps(t + i));
    a0 = _mm512_fmadd_ps(d, d, a0);
  }
  return Sum(_mm512_add_ps(a0, a1));
}

float Sq8Dot(const float* s, const uint8_t* code, size_t dim) noexcept {
  __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= dim; i += 32) {
    a0 = _mm512_fmadd_ps(_mm512_load_ps(s + i), Widen(code + i), a0);
    a1 = _mm512_fmadd_ps(_mm512_load_ps(s + i + 16), Widen(code + i + 16), a1);
  }
  if (i < dim) a0 = _mm512_fmadd_ps(_mm512_load_ps(s + i), Widen(code + i), a0);
  return Sum(_mm512_add_ps(a0, a1));
}

void Sq8L2x4(const float* t, const float* scale, const uint8_t* const* codes, size_t dim,
             float* out) noexcept {
  __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
  __m512 a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
  const uint8_t *c0 = codes[0], *c1 = codes[1], *c2 = codes[2], *c3 = codes[3];
  for (size_t i = 0; i < dim; i += 16) {
    const __m512 ti = _mm512_load_ps(t + i), si = _mm512_load_ps(scale + i);
    const __m512 d0 = _mm512_fnmadd_ps(si, Widen(c0 + i), ti);
    const __m512 d1 = _mm512_fnmadd_ps(si, Widen(c1 + i), ti);
    const __m512 d2 = _mm512_fnmadd_ps(si, Widen(c2 + i), ti);
    const __m512 d3 = _mm512_fnmadd_ps(si, Widen(c3 + i), ti);
    a0 = _mm512_fmadd_ps(d0, d0, a0);
    a1 = _mm512_fmadd_ps(d1, d1, a1);
    a2 = _mm512_fmadd_ps(d2, d2, a2);
    a3 = _mm512_fmadd_ps(d3, d3, a3);
  }
  out[0] = Sum(a0);
  out[1] = Sum(a1);
  out[2] = Sum(a2);
  out[3] = Sum(a3);
}

void Sq8Dotx4(const float* s, const uint8_t* const* codes, size_t dim, float* out) noexcept {
  __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
  __m512 a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
  const uint8_t *c0 = codes[0], *c1 = codes[1], *c2 = codes[2], *c3 = codes[3];
  for (size_t i = 0; i < dim; i += 16) {
    const __m512 si = _mm512_load_ps(s + i);
    a0 = _mm512_fmadd_ps(si, Widen(c0 + i), a0);
    a1 = _mm512_fmadd_ps(si, Widen(c1 + i), a1);
    a2 = _mm512_fmadd_ps(si, Widen(c2 + i), a2);
    a3 = _mm512_fmadd_ps(si, Widen(c3 + i), a3);
  }
  out[0] = Sum(a0);
  out[1] = Sum(a1);
  out[2] = Sum(a2);
  out[3] = Sum(a3);
}

}  // namespace augurdb::simd::avx512
