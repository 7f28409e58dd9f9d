// The four-at-once kernels of an ISA. AUGUR_DEFINE_FOUR_AT_ONCE builds one from the single
// kernel, for the ISAs without a fused version (scalar, NEON): four calls, each its own memory
// stream. AUGUR_DEFINE_FOUR_AT_ONCE_FROM_BATCH4 builds all three from a fused lock-step
// `template <bool kL2> void Batch4(q, b0, b1, b2, b3, dim, out)` (sum of squared differences
// when kL2, dot products otherwise), as AVX2 and AVX-512 have. Use inside the ISA's namespace.
#pragma once

#define AUGUR_DEFINE_FOUR_AT_ONCE(name, one)                                                     \
  void name(const float* q, const float* b0, const float* b1, const float* b2, const float* b3, \
            size_t dim, float* out) noexcept {                                                  \
    out[0] = one(q, b0, dim);                                                                   \
    out[1] = one(q, b1, dim);                                                                   \
    out[2] = one(q, b2, dim);                                                                   \
    out[3] = one(q, b3, dim);                                                                   \
  }

#define AUGUR_DEFINE_FOUR_AT_ONCE_FROM_BATCH4(batch4)                                            \
  void L2Sq4(const float* q, const float* b0, const float* b1, const float* b2, const float* b3, \
             size_t dim, float* out) noexcept {                                                 \
    batch4<true>(q, b0, b1, b2, b3, dim, out);                                                  \
  }                                                                                             \
  void NegDot4(const float* q, const float* b0, const float* b1, const float* b2,               \
               const float* b3, size_t dim, float* out) noexcept {                              \
    batch4<false>(q, b0, b1, b2, b3, dim, out);                                                 \
    for (int j = 0; j < 4; ++j) out[j] = -out[j];                                               \
  }                                                                                             \
  void CosineDist4(const float* q, const float* b0, const float* b1, const float* b2,           \
                   const float* b3, size_t dim, float* out) noexcept {                          \
    batch4<false>(q, b0, b1, b2, b3, dim, out);                                                 \
    for (int j = 0; j < 4; ++j) out[j] = 1.0f - out[j];                                         \
  }
