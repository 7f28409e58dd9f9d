// NEON kernels for AArch64 (Advanced SIMD is mandatory there, so no flags are needed).
// Instructions: FMLA on 4 floats with four accumulators (16 floats per step), scalar tail (< 4).
// Built only on aarch64; x86 builds leave this file out.
#include <arm_neon.h>

#include "simd/distance.h"
#include "simd/four_at_once.h"

namespace augurdb::simd::neon {

float L2Sq(const float* a, const float* b, size_t dim) noexcept {
  float32x4_t s0 = vdupq_n_f32(0), s1 = vdupq_n_f32(0), s2 = vdupq_n_f32(0), s3 = vdupq_n_f32(0);
  size_t i = 0;
  for (; i + 16 <= dim; i += 16) {
    const float32x4_t d0 = vsubq_f32(vld1q_f32(a + i), vld1q_f32(b + i));
    const float32x4_t d1 = vsubq_f32(vld1q_f32(a + i + 4), vld1q_f32(b + i + 4));
    const float32x4_t d2 = vsubq_f32(vld1q_f32(a + i + 8), vld1q_f32(b + i + 8));
    const float32x4_t d3 = vsubq_f32(vld1q_f32(a + i + 12), vld1q_f32(b + i + 12));
    s0 = vfmaq_f32(s0, d0, d0);
    s1 = vfmaq_f32(s1, d1, d1);
    s2 = vfmaq_f32(s2, d2, d2);
    s3 = vfmaq_f32(s3, d3, d3);
  }
  for (; i + 4 <= dim; i += 4) {
    const float32x4_t d = vsubq_f32(vld1q_f32(a + i), vld1q_f32(b + i));
    s0 = vfmaq_f32(s0, d, d);
  }
  float sum = vaddvq_f32(vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3)));
  for (; i < dim; ++i) {
    const float d = a[i] - b[i];
    sum += d * d;
  }
  return sum;
}

float Dot(const float* a, const float* b, size_t dim) noexcept {
  float32x4_t s0 = vdupq_n_f32(0), s1 = vdupq_n_f32(0), s2 = vdupq_n_f32(0), s3 = vdupq_n_f32(0);
  size_t i = 0;
  for (; i + 16 <= dim; i += 16) {
    s0 = vfmaq_f32(s0, vld1q_f32(a + i), vld1q_f32(b + i));
    s1 = vfmaq_f32(s1, vld1q_f32(a + i + 4), vld1q_f32(b + i + 4));
    s2 = vfmaq_f32(s2, vld1q_f32(a + i + 8), vld1q_f32(b + i + 8));
    s3 = vfmaq_f32(s3, vld1q_f32(a + i + 12), vld1q_f32(b + i + 12));
  }
  for (; i + 4 <= dim; i += 4) s0 = vfmaq_f32(s0, vld1q_f32(a + i), vld1q_f32(b + i));
  float sum = vaddvq_f32(vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3)));
  for (; i < dim; ++i) sum += a[i] * b[i];
  return sum;
}

float NegDot(const float* a, const float* b, size_t dim) noexcept { return -Dot(a, b, dim); }
float CosineDist(const float* a, const float* b, size_t dim) noexcept {
  return 1.0f - Dot(a, b, dim);
}


// Four-at-once forms: four calls of the single kernels (four independent load streams).
AUGUR_DEFINE_FOUR_AT_ONCE(L2Sq4, L2Sq)
AUGUR_DEFINE_FOUR_AT_ONCE(NegDot4, NegDot)
AUGUR_DEFINE_FOUR_AT_ONCE(CosineDist4, CosineDist)

}  // namespace augurdb::simd::neon
