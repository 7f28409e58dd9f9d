// Portable SQ8 reference kernels (see sq8.h). Also compiled for NEON builds, whose entries
// forward here until a NEON-specific version is measured to help.
#include "simd/sq8.h"

namespace augurdb::simd::scalar {

int32_t Sq8Ip(const int16_t* q, const uint8_t* code, size_t dim) noexcept {
  int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  for (size_t i = 0; i < dim; i += 4) {
    a0 += q[i] * code[i];
    a1 += q[i + 1] * code[i + 1];
    a2 += q[i + 2] * code[i + 2];
    a3 += q[i + 3] * code[i + 3];
  }
  return (a0 + a1) + (a2 + a3);
}

void Sq8Ipx4(const int16_t* q, const uint8_t* const* codes, size_t dim, int32_t* out) noexcept {
  for (int j = 0; j < 4; ++j) out[j] = Sq8Ip(q, codes[j], dim);
}

}  // namespace augurdb::simd::scalar

namespace augurdb::simd::neon {

int32_t Sq8Ip(const int16_t* q, const uint8_t* code, size_t dim) noexcept {
  return scalar::Sq8Ip(q, code, dim);
}
void Sq8Ipx4(const int16_t* q, const uint8_t* const* codes, size_t dim, int32_t* out) noexcept {
  scalar::Sq8Ipx4(q, codes, dim, out);
}

}  // namespace augurdb::simd::neon
