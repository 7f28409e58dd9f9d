// Four-at-once kernels built from an ISA's single kernels, for the ISAs without a hand-fused
// version (scalar, AVX2, NEON): four calls, each its own memory stream. Include inside the ISA's
// namespace after L2Sq/NegDot/CosineDist are declared.
#pragma once

#define AUGUR_DEFINE_FOUR_AT_ONCE(name, one)                                                     \
  void name(const float* q, const float* b0, const float* b1, const float* b2, const float* b3, \
            size_t dim, float* out) noexcept {                                                  \
    out[0] = one(q, b0, dim);                                                                   \
    out[1] = one(q, b1, dim);                                                                   \
    out[2] = one(q, b2, dim);                                                                   \
    out[3] = one(q, b3, dim);                                                                   \
  }
