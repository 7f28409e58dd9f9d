// SQ8 integer kernels at every compiled level against an int64 reference: the results must be
// identical (integer arithmetic), including at the overflow bound sq8.h promises to respect.
#include "simd/sq8.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <vector>

#include "simd/distance.h"
#include "util/aligned_buffer.h"

namespace augurdb::simd {
namespace {

class Sq8KernelTest : public ::testing::TestWithParam<SimdLevel> {};

int64_t Reference(const int16_t* q, const uint8_t* code, size_t dim) {
  int64_t sum = 0;
  for (size_t i = 0; i < dim; ++i) sum += int64_t{q[i]} * code[i];
  return sum;
}

// Checks one and four-at-once forms for every dim that is a multiple of 32 up to 1024, with
// query values up to `limit` in magnitude, and code rows at odd offsets (unaligned loads).
void CheckKernels(const KernelTable& table, int limit, bool extremes) {
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> qdist(-limit, limit);
  for (size_t dim = 32; dim <= 1024; dim += 32) {
    AlignedBuffer<int16_t> q(dim);
    std::vector<std::vector<uint8_t>> storage(4, std::vector<uint8_t>(dim + 3));
    const uint8_t* rows[4];
    for (size_t j = 0; j < 4; ++j) {
      uint8_t* row = storage[j].data() + j;  // offsets 0..3: unaligned
      for (size_t i = 0; i < dim; ++i) row[i] = extremes ? 255 : static_cast<uint8_t>(rng() & 0xff);
      rows[j] = row;
    }
    for (size_t i = 0; i < dim; ++i) {
      q[i] = static_cast<int16_t>(extremes ? (i % 2 ? -limit : limit) : qdist(rng));
    }
    if (extremes) {  // all positive: the largest sum the bound allows
      for (size_t i = 0; i < dim; ++i) q[i] = static_cast<int16_t>(limit);
    }
    int32_t x4[4];
    table.sq8_ipx4(q.data(), rows, dim, x4);
    for (size_t j = 0; j < 4; ++j) {
      const int64_t want = Reference(q.data(), rows[j], dim);
      ASSERT_EQ(table.sq8_ip(q.data(), rows[j], dim), want) << dim << " row " << j;
      ASSERT_EQ(x4[j], want) << dim << " lane " << j;
    }
  }
}

TEST_P(Sq8KernelTest, MatchesReferenceExactly) {
  const KernelTable* table = KernelsFor(GetParam());
  if (table == nullptr) GTEST_SKIP() << "CPU lacks " << SimdLevelName(GetParam());
  CheckKernels(*table, 32767 / 4, false);
}

TEST_P(Sq8KernelTest, ExactAtTheOverflowBound) {
  const KernelTable* table = KernelsFor(GetParam());
  if (table == nullptr) GTEST_SKIP() << "CPU lacks " << SimdLevelName(GetParam());
  // 255 * 1024 * limit < 2^31, the bound Sq8Quantizer keeps for dim 1024.
  CheckKernels(*table, static_cast<int>(2147483647LL / (255LL * 1024)), true);
}

INSTANTIATE_TEST_SUITE_P(AllLevels, Sq8KernelTest,
                         ::testing::Values(SimdLevel::kScalar, SimdLevel::kNeon, SimdLevel::kAvx2,
                                           SimdLevel::kAvx512),
                         [](const auto& info) { return std::string(SimdLevelName(info.param)); });

}  // namespace
}  // namespace augurdb::simd
