// Horizontal reductions of AVX registers, shared by the AVX2 kernel files. Include only from
// translation units compiled with AVX2 flags (distance_avx2.cc, sq_avx2.cc).
#pragma once

#include <immintrin.h>

namespace augurdb::simd::avx2 {

inline float HorizontalSum(__m256 v) noexcept {
  const __m128 lo = _mm256_castps256_ps128(v);
  const __m128 hi = _mm256_extractf128_ps(v, 1);
  __m128 s = _mm_add_ps(lo, hi);
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

}  // namespace augurdb::simd::avx2
