// AVX2 SQ8/SQ4 kernels (see sq.h). Compiled with -mavx2 -mfma for this file only.
// Instructions: VPMOVZXBW widens 16 code bytes to int16, VPMADDWD multiplies them with 16 query
// int16 and adds pairs into 8 int32 lanes; two accumulators per stream. SQ4 splits a 32-byte
// block into its low and high nibbles (VPAND, VPSRLW + VPAND) and multiplies each run of 32 by
// the int8 query with VPMADDUBSW (below).
// Query preparation: VFMADD for the sums (fused, two accumulators: their rounding differs from
// the scalar reference's), VMAXPS for the peak (a NaN first operand yields the second, so NaN
// elements leave it unchanged), VCVTTPS2DQ to truncate, VPACKSSDW + VPERMQ to pack in order.
#include <immintrin.h>

#include "simd/avx2_reduce.h"
#include "simd/sq.h"

namespace augurdb::simd::avx2 {
namespace {

inline __m256i Widen(const uint8_t* p) noexcept {
  return _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

inline __m256i Query(const int16_t* q) noexcept {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q));
}

// SQ4, int8 query (its bytes in the int16 buffer, sq.h): VPMADDUBSW multiplies 32 code nibbles
// (u8, <= 15) by 32 query bytes (s8) and adds pairs into int16 (at most 2 * 15 * 127 in
// magnitude: no saturation); a block's two halves add in int16 (<= 7,620) and VPMADDWD by ones
// widens to int32.
inline __m256i Sq4I8Block(const int8_t* q, const uint8_t* code) noexcept {
  const __m256i bytes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(code));
  const __m256i mask = _mm256_set1_epi8(0x0f);
  const __m256i lo = _mm256_and_si256(bytes, mask);
  const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(bytes, 4), mask);
  const __m256i qlo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q));
  const __m256i qhi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 32));
  return _mm256_add_epi16(_mm256_maddubs_epi16(lo, qlo), _mm256_maddubs_epi16(hi, qhi));
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

int32_t Sq4Ip(const int16_t* q16, const uint8_t* code, size_t dim) noexcept {
  const int8_t* q = reinterpret_cast<const int8_t*>(q16);
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i a0 = _mm256_setzero_si256();
  for (size_t i = 0; i < dim; i += 64, code += 32) {
    a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(Sq4I8Block(q + i, code), ones));
  }
  return Sum(a0);
}

void Sq4Ipx4(const int16_t* q16, const uint8_t* const* codes, size_t dim, int32_t* out) noexcept {
  const int8_t* q = reinterpret_cast<const int8_t*>(q16);
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i acc[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(),
                    _mm256_setzero_si256()};
  for (size_t i = 0, off = 0; i < dim; i += 64, off += 32) {
    for (int j = 0; j < 4; ++j) {
      const __m256i block = Sq4I8Block(q + i, codes[j] + off);
      acc[j] = _mm256_add_epi32(acc[j], _mm256_madd_epi16(block, ones));
    }
  }
  for (int j = 0; j < 4; ++j) out[j] = Sum(acc[j]);
}

float SqShift(const float* q, const float* min, const float* scale, size_t n, float* u) noexcept {
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  for (size_t d = 0; d < n; d += 16) {
    const __m256 x0 = _mm256_sub_ps(_mm256_loadu_ps(q + d), _mm256_loadu_ps(min + d));
    const __m256 x1 = _mm256_sub_ps(_mm256_loadu_ps(q + d + 8), _mm256_loadu_ps(min + d + 8));
    a0 = _mm256_fmadd_ps(x0, x0, a0);
    a1 = _mm256_fmadd_ps(x1, x1, a1);
    _mm256_storeu_ps(u + d, _mm256_mul_ps(x0, _mm256_loadu_ps(scale + d)));
    _mm256_storeu_ps(u + d + 8, _mm256_mul_ps(x1, _mm256_loadu_ps(scale + d + 8)));
  }
  return HorizontalSum(_mm256_add_ps(a0, a1));
}

float SqScale(const float* q, const float* min, const float* scale, size_t n, float* u) noexcept {
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  for (size_t d = 0; d < n; d += 16) {
    const __m256 x0 = _mm256_loadu_ps(q + d), x1 = _mm256_loadu_ps(q + d + 8);
    a0 = _mm256_fmadd_ps(x0, _mm256_loadu_ps(min + d), a0);
    a1 = _mm256_fmadd_ps(x1, _mm256_loadu_ps(min + d + 8), a1);
    _mm256_storeu_ps(u + d, _mm256_mul_ps(x0, _mm256_loadu_ps(scale + d)));
    _mm256_storeu_ps(u + d + 8, _mm256_mul_ps(x1, _mm256_loadu_ps(scale + d + 8)));
  }
  return HorizontalSum(_mm256_add_ps(a0, a1));
}

float AbsMax(const float* u, size_t n) noexcept {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  __m256 peak = _mm256_setzero_ps();
  // VMAXPS returns its second operand when the first is NaN: NaN elements leave peak unchanged.
  for (size_t d = 0; d < n; d += 8) {
    peak = _mm256_max_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(u + d)), peak);
  }
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(peak), _mm256_extractf128_ps(peak, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  return _mm_cvtss_f32(_mm_max_ss(m, _mm_movehdup_ps(m)));
}

void SqQuantize(const float* u, size_t n, float inv, float limit, int16_t* out) noexcept {
  const __m256 scale = _mm256_set1_ps(inv), hi = _mm256_set1_ps(limit);
  const __m256 lo = _mm256_set1_ps(-limit), half = _mm256_set1_ps(0.5f);
  const __m256 sign = _mm256_set1_ps(-0.0f);
  auto levels = [&](const float* p) {
    __m256 x = _mm256_mul_ps(_mm256_loadu_ps(p), scale);
    const __m256 number = _mm256_cmp_ps(x, x, _CMP_ORD_Q);
    x = _mm256_min_ps(_mm256_max_ps(x, lo), hi);
    // + copysign(0.5, x), then truncation: rounds half away from zero like the scalar kernel.
    x = _mm256_add_ps(x, _mm256_or_ps(half, _mm256_and_ps(x, sign)));
    return _mm256_cvttps_epi32(_mm256_and_ps(x, number));  // NaN lanes -> +0.0 -> 0
  };
  for (size_t d = 0; d < n; d += 16) {
    // VPACKSSDW packs within 128-bit lanes; the permute restores element order.
    const __m256i packed = _mm256_packs_epi32(levels(u + d), levels(u + d + 8));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + d),
                        _mm256_permute4x64_epi64(packed, 0xd8));
  }
}

}  // namespace augurdb::simd::avx2
