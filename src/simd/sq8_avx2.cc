// AVX2 + FMA SQ8 kernels (see sq8.h). Compiled with -mavx2 -mfma for this file only.
// Instructions: VPMOVZXBD widens 8 code bytes to int32, VCVTDQ2PS to float, then VFNMADD
// (t - scale * c) and VFMADD (accumulate the square); two accumulators per stream.
#include <immintrin.h>

#include "simd/sq8.h"

namespace augurdb::simd::avx2 {
namespace {

inline __m256 Widen(const uint8_t* p) noexcept {
  return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
}

inline float Sum(__m256 v) noexcept {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

}  // namespace

float Sq8L2(const float* t, const float* scale, const uint8_t* code, size_t dim) noexcept {
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  for (size_t i = 0; i < dim; i += 16) {
    const __m256 d0 = _mm256_fnmadd_ps(_mm256_load_ps(scale + i), Widen(code + i), _mm256_load_ps(t + i));
    const __m256 d1 = _mm256_fnmadd_ps(_mm256_load_ps(scale + i + 8), Widen(code + i + 8),
                                       _mm256_load_ps(t + i + 8));
    a0 = _mm256_fmadd_ps(d0, d0, a0);
    a1 = _mm256_fmadd_ps(d1, d1, a1);
  }
  return Sum(_mm256_add_ps(a0, a1));
}

float Sq8Dot(const float* s, const uint8_t* code, size_t dim) noexcept {
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  for (size_t i = 0; i < dim; i += 16) {
    a0 = _mm256_fmadd_ps(_mm256_load_ps(s + i), Widen(code + i), a0);
    a1 = _mm256_fmadd_ps(_mm256_load_ps(s + i + 8), Widen(code + i + 8), a1);
  }
  return Sum(_mm256_add_ps(a0, a1));
}

void Sq8L2x4(const float* t, const float* scale, const uint8_t* const* codes, size_t dim,
             float* out) noexcept {
  __m256 a[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  for (size_t i = 0; i < dim; i += 8) {
    const __m256 ti = _mm256_load_ps(t + i), si = _mm256_load_ps(scale + i);
    for (int j = 0; j < 4; ++j) {
      const __m256 d = _mm256_fnmadd_ps(si, Widen(codes[j] + i), ti);
      a[j] = _mm256_fmadd_ps(d, d, a[j]);
    }
  }
  for (int j = 0; j < 4; ++j) out[j] = Sum(a[j]);
}

void Sq8Dotx4(const float* s, const uint8_t* const* codes, size_t dim, float* out) noexcept {
  __m256 a[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  for (size_t i = 0; i < dim; i += 8) {
    const __m256 si = _mm256_load_ps(s + i);
    for (int j = 0; j < 4; ++j) a[j] = _mm256_fmadd_ps(si, Widen(codes[j] + i), a[j]);
  }
  for (int j = 0; j < 4; ++j) out[j] = Sum(a[j]);
}

}  // namespace augurdb::simd::avx2
