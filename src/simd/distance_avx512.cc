// AVX-512F kernels (Skylake-X, Ice Lake, Zen 4/5). Compiled with -mavx512f -mavx512bw -mavx512dq
// -mavx512vl for this file only.
// Instructions: VFMADD231PS on 16 floats with four accumulators (64 floats per step); the tail
// (< 16) is one masked load (k-register), so no scalar loop and no read past the end. On Zen 4
// the 512-bit ops are double-pumped, so the gain over AVX2 comes mostly from fewer loop trips and
// the masked tail; Zen 5 and Intel run them at full width.
#include <immintrin.h>

#include "simd/distance.h"
#include "simd/four_at_once.h"

// GCC 12's _mm512_castps512_ps256 expands through _mm256_undefined_pd, which -Wuninitialized
// flags at every call site (a header false positive; fixed in GCC 13).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace augurdb::simd::avx512 {
namespace {

inline float HorizontalSum(__m512 v) noexcept {
  const __m256 half = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(half), _mm256_extractf128_ps(half, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

}  // namespace

float L2Sq(const float* a, const float* b, size_t dim) noexcept {
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
  __m512 s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 64 <= dim; i += 64) {
    const __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
    const __m512 d1 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16));
    const __m512 d2 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32));
    const __m512 d3 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48));
    s0 = _mm512_fmadd_ps(d0, d0, s0);
    s1 = _mm512_fmadd_ps(d1, d1, s1);
    s2 = _mm512_fmadd_ps(d2, d2, s2);
    s3 = _mm512_fmadd_ps(d3, d3, s3);
  }
  for (; i + 16 <= dim; i += 16) {
    const __m512 d = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
    s0 = _mm512_fmadd_ps(d, d, s0);
  }
  if (i < dim) {
    const __mmask16 mask = static_cast<__mmask16>((1u << (dim - i)) - 1u);
    const __m512 d = _mm512_sub_ps(_mm512_maskz_loadu_ps(mask, a + i), _mm512_maskz_loadu_ps(mask, b + i));
    s1 = _mm512_fmadd_ps(d, d, s1);
  }
  return HorizontalSum(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

float Dot(const float* a, const float* b, size_t dim) noexcept {
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
  __m512 s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 64 <= dim; i += 64) {
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
    s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
    s2 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32), s2);
    s3 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48), s3);
  }
  for (; i + 16 <= dim; i += 16) {
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
  }
  if (i < dim) {
    const __mmask16 mask = static_cast<__mmask16>((1u << (dim - i)) - 1u);
    s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, a + i), _mm512_maskz_loadu_ps(mask, b + i), s1);
  }
  return HorizontalSum(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

float NegDot(const float* a, const float* b, size_t dim) noexcept { return -Dot(a, b, dim); }
float CosineDist(const float* a, const float* b, size_t dim) noexcept {
  return 1.0f - Dot(a, b, dim);
}


namespace {

// One pass over the query, four base vectors in lock step: each query load is reused four times
// and the four base streams miss in parallel.
template <bool kL2>
inline void Batch4(const float* q, const float* b0, const float* b1, const float* b2,
                   const float* b3, size_t dim, float* out) noexcept {
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
  __m512 s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
  size_t i = 0;
  auto step = [&](__m512 x, __m512 y0, __m512 y1, __m512 y2, __m512 y3) {
    if constexpr (kL2) {
      y0 = _mm512_sub_ps(x, y0);
      y1 = _mm512_sub_ps(x, y1);
      y2 = _mm512_sub_ps(x, y2);
      y3 = _mm512_sub_ps(x, y3);
      s0 = _mm512_fmadd_ps(y0, y0, s0);
      s1 = _mm512_fmadd_ps(y1, y1, s1);
      s2 = _mm512_fmadd_ps(y2, y2, s2);
      s3 = _mm512_fmadd_ps(y3, y3, s3);
    } else {
      s0 = _mm512_fmadd_ps(x, y0, s0);
      s1 = _mm512_fmadd_ps(x, y1, s1);
      s2 = _mm512_fmadd_ps(x, y2, s2);
      s3 = _mm512_fmadd_ps(x, y3, s3);
    }
  };
  for (; i + 16 <= dim; i += 16) {
    step(_mm512_loadu_ps(q + i), _mm512_loadu_ps(b0 + i), _mm512_loadu_ps(b1 + i),
         _mm512_loadu_ps(b2 + i), _mm512_loadu_ps(b3 + i));
  }
  if (i < dim) {
    const __mmask16 m = static_cast<__mmask16>((1u << (dim - i)) - 1u);
    step(_mm512_maskz_loadu_ps(m, q + i), _mm512_maskz_loadu_ps(m, b0 + i),
         _mm512_maskz_loadu_ps(m, b1 + i), _mm512_maskz_loadu_ps(m, b2 + i),
         _mm512_maskz_loadu_ps(m, b3 + i));
  }
  out[0] = HorizontalSum(s0);
  out[1] = HorizontalSum(s1);
  out[2] = HorizontalSum(s2);
  out[3] = HorizontalSum(s3);
}

}  // namespace

AUGUR_DEFINE_FOUR_AT_ONCE_FROM_BATCH4(Batch4)

}  // namespace augurdb::simd::avx512
