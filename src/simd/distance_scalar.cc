// Portable reference kernels. Built for the baseline ISA; the other levels are tested against
// these and against a double-precision reference. Four accumulators keep the dependency chain
// short without needing -ffast-math.
#include "simd/distance.h"
#include "simd/four_at_once.h"

namespace augurdb::simd::scalar {

float L2Sq(const float* a, const float* b, size_t dim) noexcept {
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= dim; i += 4) {
    const float d0 = a[i] - b[i], d1 = a[i + 1] - b[i + 1];
    const float d2 = a[i + 2] - b[i + 2], d3 = a[i + 3] - b[i + 3];
    s0 += d0 * d0;
    s1 += d1 * d1;
    s2 += d2 * d2;
    s3 += d3 * d3;
  }
  for (; i < dim; ++i) {
    const float d = a[i] - b[i];
    s0 += d * d;
  }
  return (s0 + s1) + (s2 + s3);
}

float Dot(const float* a, const float* b, size_t dim) noexcept {
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= dim; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  for (; i < dim; ++i) s0 += a[i] * b[i];
  return (s0 + s1) + (s2 + s3);
}

float NegDot(const float* a, const float* b, size_t dim) noexcept { return -Dot(a, b, dim); }
float CosineDist(const float* a, const float* b, size_t dim) noexcept {
  return 1.0f - Dot(a, b, dim);
}


// Four-at-once forms: four calls of the single kernels (four independent load streams).
AUGUR_DEFINE_FOUR_AT_ONCE(L2Sq4, L2Sq)
AUGUR_DEFINE_FOUR_AT_ONCE(NegDot4, NegDot)
AUGUR_DEFINE_FOUR_AT_ONCE(CosineDist4, CosineDist)

}  // namespace augurdb::simd::scalar
