// fp32 distance kernels with runtime dispatch.
//
// Every ISA namespace (scalar, avx2, avx512, neon) defines the same functions; a KernelTable
// gathers one ISA's set. A collection picks its table once when it opens and calls through the
// pointers in hot loops: no switch per call, no mutable global.
//
// Kernels are noexcept, allocate nothing, accept any dim >= 0 and unaligned pointers.
#pragma once

#include <cstddef>

#include <augurdb/metric.h>

#include "simd/cpu_features.h"
#include "simd/sq.h"

namespace augurdb::simd {

using DistanceFn = float (*)(const float* a, const float* b, size_t dim) noexcept;
// Distances from `q` to four vectors at once, written to out[0..3]. Four independent memory
// streams keep more cache misses in flight than four sequential calls (faiss distances_batch_4).
using Distance4Fn = void (*)(const float* q, const float* b0, const float* b1, const float* b2,
                             const float* b3, size_t dim, float* out) noexcept;

struct KernelTable {
  SimdLevel level;
  DistanceFn l2sq;         // sum (a_i - b_i)^2
  DistanceFn dot;          // sum a_i * b_i
  DistanceFn neg_dot;      // -dot: the inner-product distance
  DistanceFn cosine_dist;  // 1 - dot: cosine distance on unit vectors
  Distance4Fn l2sq4;
  Distance4Fn neg_dot4;
  Distance4Fn cosine_dist4;
  SqIpFn sq8_ip;  // scalar-quantized codes (simd/sq.h)
  SqIpx4Fn sq8_ipx4;
  SqIpFn sq4_ip;
  SqIpx4Fn sq4_ipx4;
  SqPrepareFn sq_shift;  // query preparation for the quantized kernels (simd/sq.h)
  SqPrepareFn sq_scale;
  AbsMaxFn abs_max;
  SqQuantizeFn sq_quantize;
};

#define AUGUR_DECLARE_FP32_KERNELS()                                \
  float L2Sq(const float* a, const float* b, size_t dim) noexcept; \
  float Dot(const float* a, const float* b, size_t dim) noexcept;  \
  float NegDot(const float* a, const float* b, size_t dim) noexcept; \
  float CosineDist(const float* a, const float* b, size_t dim) noexcept;                    \
  void L2Sq4(const float* q, const float* b0, const float* b1, const float* b2, const float* b3, \
             size_t dim, float* out) noexcept;                                               \
  void NegDot4(const float* q, const float* b0, const float* b1, const float* b2,            \
               const float* b3, size_t dim, float* out) noexcept;                            \
  void CosineDist4(const float* q, const float* b0, const float* b1, const float* b2,        \
                   const float* b3, size_t dim, float* out) noexcept

namespace scalar {
AUGUR_DECLARE_FP32_KERNELS();
}
namespace avx2 {
AUGUR_DECLARE_FP32_KERNELS();
}
namespace avx512 {
AUGUR_DECLARE_FP32_KERNELS();
}
namespace neon {
AUGUR_DECLARE_FP32_KERNELS();
}

#undef AUGUR_DECLARE_FP32_KERNELS

// The table for `level`, or nullptr if that level was not compiled in or this CPU lacks it.
const KernelTable* KernelsFor(SimdLevel level) noexcept;

// The table for ActiveSimdLevel().
const KernelTable& ActiveKernels() noexcept;

// The distance function of `metric` in `table`, and its four-at-once form.
DistanceFn DistanceFor(const KernelTable& table, Metric metric) noexcept;
Distance4Fn Distance4For(const KernelTable& table, Metric metric) noexcept;

}  // namespace augurdb::simd
