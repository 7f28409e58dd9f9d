// Portable SQ8/SQ4 reference kernels (see sq.h). Also compiled for NEON builds, whose entries
// forward here until a NEON-specific version is measured to help.
#include "simd/sq.h"

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

int32_t Sq4Ip(const int16_t* q, const uint8_t* code, size_t dim) noexcept {
  int32_t lo = 0, hi = 0;
  for (size_t block = 0; block < dim; block += 64, code += 32) {
    for (size_t j = 0; j < 32; ++j) {
      lo += q[block + j] * (code[j] & 0x0f);
      hi += q[block + 32 + j] * (code[j] >> 4);
    }
  }
  return lo + hi;
}

void Sq4Ipx4(const int16_t* q, const uint8_t* const* codes, size_t dim, int32_t* out) noexcept {
  for (int j = 0; j < 4; ++j) out[j] = Sq4Ip(q, codes[j], dim);
}

}  // namespace augurdb::simd::scalar

namespace augurdb::simd::neon {

int32_t Sq8Ip(const int16_t* q, const uint8_t* code, size_t dim) noexcept {
  return scalar::Sq8Ip(q, code, dim);
}
void Sq8Ipx4(const int16_t* q, const uint8_t* const* codes, size_t dim, int32_t* out) noexcept {
  scalar::Sq8Ipx4(q, codes, dim, out);
}
int32_t Sq4Ip(const int16_t* q, const uint8_t* code, size_t dim) noexcept {
  return scalar::Sq4Ip(q, code, dim);
}
void Sq4Ipx4(const int16_t* q, const uint8_t* const* codes, size_t dim, int32_t* out) noexcept {
  scalar::Sq4Ipx4(q, codes, dim, out);
}

}  // namespace augurdb::simd::neon
