// Portable SQ8/SQ4 reference kernels (see sq.h). Also compiled for NEON builds, whose entries
// forward here until a NEON-specific version is measured to help.
#include <algorithm>
#include <cmath>

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

int32_t Sq4Ip(const int16_t* q16, const uint8_t* code, size_t dim) noexcept {
  const int8_t* q = reinterpret_cast<const int8_t*>(q16);  // SQ4 queries are int8 (sq.h)
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

// Eight independent lanes: the sums are not one serial chain of dependent adds.
float SqShift(const float* q, const float* min, const float* scale, size_t n, float* u) noexcept {
  float lanes[8] = {};
  for (size_t d = 0; d < n; d += 8) {
    for (size_t l = 0; l < 8; ++l) {
      const float x = q[d + l] - min[d + l];
      lanes[l] += x * x;
      u[d + l] = x * scale[d + l];
    }
  }
  return ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) +
         ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
}

float SqScale(const float* q, const float* min, const float* scale, size_t n, float* u) noexcept {
  float lanes[8] = {};
  for (size_t d = 0; d < n; d += 8) {
    for (size_t l = 0; l < 8; ++l) {
      lanes[l] += q[d + l] * min[d + l];
      u[d + l] = q[d + l] * scale[d + l];
    }
  }
  return ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) +
         ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
}

float AbsMax(const float* u, size_t n) noexcept {
  float lanes[8] = {};
  for (size_t d = 0; d < n; d += 8) {
    // std::max(a, NaN) returns a: NaN elements are ignored.
    for (size_t l = 0; l < 8; ++l) lanes[l] = std::max(lanes[l], std::fabs(u[d + l]));
  }
  return *std::max_element(lanes, lanes + 8);
}

void SqQuantize(const float* u, size_t n, float inv, float limit, int16_t* out) noexcept {
  for (size_t d = 0; d < n; ++d) {
    // The int cast of NaN or of a value past INT_MAX is UB (found by fuzz/db_open_fuzzer: a
    // query about FLT_MAX away from the stored range overflows u), hence the NaN test and clamp.
    const float raw = u[d] * inv;
    const float x = std::isnan(raw) ? 0.0f : std::clamp(raw, -limit, limit);
    out[d] = static_cast<int16_t>(static_cast<int32_t>(x + (x >= 0.0f ? 0.5f : -0.5f)));
  }
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
float SqShift(const float* q, const float* min, const float* scale, size_t n, float* u) noexcept {
  return scalar::SqShift(q, min, scale, n, u);
}
float SqScale(const float* q, const float* min, const float* scale, size_t n, float* u) noexcept {
  return scalar::SqScale(q, min, scale, n, u);
}
float AbsMax(const float* u, size_t n) noexcept { return scalar::AbsMax(u, n); }
void SqQuantize(const float* u, size_t n, float inv, float limit, int16_t* out) noexcept {
  scalar::SqQuantize(u, n, inv, limit, out);
}

}  // namespace augurdb::simd::neon
