// Portable SQ8 reference kernels (see sq8.h). Also compiled for NEON builds, whose entries
// forward here until a NEON-specific version is measured to help.
#include "simd/sq8.h"

namespace augurdb::simd::scalar {

float Sq8L2(const float* t, const float* scale, const uint8_t* code, size_t dim) noexcept {
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (size_t i = 0; i < dim; i += 4) {
    const float d0 = t[i] - scale[i] * code[i], d1 = t[i + 1] - scale[i + 1] * code[i + 1];
    const float d2 = t[i + 2] - scale[i + 2] * code[i + 2];
    const float d3 = t[i + 3] - scale[i + 3] * code[i + 3];
    s0 += d0 * d0;
    s1 += d1 * d1;
    s2 += d2 * d2;
    s3 += d3 * d3;
  }
  return (s0 + s1) + (s2 + s3);
}

float Sq8Dot(const float* s, const uint8_t* code, size_t dim) noexcept {
  float a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  for (size_t i = 0; i < dim; i += 4) {
    a0 += s[i] * code[i];
    a1 += s[i + 1] * code[i + 1];
    a2 += s[i + 2] * code[i + 2];
    a3 += s[i + 3] * code[i + 3];
  }
  return (a0 + a1) + (a2 + a3);
}

void Sq8L2x4(const float* t, const float* scale, const uint8_t* const* codes, size_t dim,
             float* out) noexcept {
  for (int j = 0; j < 4; ++j) out[j] = Sq8L2(t, scale, codes[j], dim);
}

void Sq8Dotx4(const float* s, const uint8_t* const* codes, size_t dim, float* out) noexcept {
  for (int j = 0; j < 4; ++j) out[j] = Sq8Dot(s, codes[j], dim);
}

}  // namespace augurdb::simd::scalar

namespace augurdb::simd::neon {

float Sq8L2(const float* t, const float* scale, const uint8_t* code, size_t dim) noexcept {
  return scalar::Sq8L2(t, scale, code, dim);
}
float Sq8Dot(const float* s, const uint8_t* code, size_t dim) noexcept {
  return scalar::Sq8Dot(s, code, dim);
}
void Sq8L2x4(const float* t, const float* scale, const uint8_t* const* codes, size_t dim,
             float* out) noexcept {
  scalar::Sq8L2x4(t, scale, codes, dim, out);
}
void Sq8Dotx4(const float* s, const uint8_t* const* codes, size_t dim, float* out) noexcept {
  scalar::Sq8Dotx4(s, codes, dim, out);
}

}  // namespace augurdb::simd::neon
