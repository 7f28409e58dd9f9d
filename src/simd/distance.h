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

namespace augurdb::simd {

using DistanceFn = float (*)(const float* a, const float* b, size_t dim) noexcept;

struct KernelTable {
  SimdLevel level;
  DistanceFn l2sq;         // sum (a_i - b_i)^2
  DistanceFn dot;          // sum a_i * b_i
  DistanceFn neg_dot;      // -dot: the inner-product distance
  DistanceFn cosine_dist;  // 1 - dot: cosine distance on unit vectors
};

#define AUGUR_DECLARE_FP32_KERNELS()                                \
  float L2Sq(const float* a, const float* b, size_t dim) noexcept; \
  float Dot(const float* a, const float* b, size_t dim) noexcept;  \
  float NegDot(const float* a, const float* b, size_t dim) noexcept; \
  float CosineDist(const float* a, const float* b, size_t dim) noexcept

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

// The distance function of `metric` in `table`.
DistanceFn DistanceFor(const KernelTable& table, Metric metric) noexcept;

}  // namespace augurdb::simd
