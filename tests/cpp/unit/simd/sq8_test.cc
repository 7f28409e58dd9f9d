// SQ8 kernels at every compiled level against a double-precision reference.
#include "simd/sq8.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "simd/distance.h"
#include "util/aligned_buffer.h"

namespace augurdb::simd {
namespace {

class Sq8KernelTest : public ::testing::TestWithParam<SimdLevel> {};

TEST_P(Sq8KernelTest, MatchesReferenceForPaddedDims) {
  const KernelTable* table = KernelsFor(GetParam());
  if (table == nullptr) GTEST_SKIP() << "CPU lacks " << SimdLevelName(GetParam());
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> uni(-2.0f, 2.0f);
  for (size_t dim = 16; dim <= 1024; dim += 16) {
    AlignedBuffer<float> t(dim), scale(dim), s(dim);
    std::vector<AlignedBuffer<uint8_t>> codes(4);
    for (size_t i = 0; i < dim; ++i) {
      t[i] = uni(rng);
      scale[i] = std::fabs(uni(rng)) / 100.0f;
      s[i] = uni(rng);
    }
    for (auto& c : codes) {
      c.Resize(dim);
      for (size_t i = 0; i < dim; ++i) c[i] = static_cast<uint8_t>(rng() & 0xff);
    }
    const uint8_t* rows[4] = {codes[0].data(), codes[1].data(), codes[2].data(), codes[3].data()};
    float l2x4[4], dotx4[4];
    table->sq8_l2x4(t.data(), scale.data(), rows, dim, l2x4);
    table->sq8_dotx4(s.data(), rows, dim, dotx4);
    for (size_t j = 0; j < 4; ++j) {
      double l2 = 0, dot = 0, abs_dot = 0;
      for (size_t i = 0; i < dim; ++i) {
        const double d = static_cast<double>(t[i]) - static_cast<double>(scale[i]) * rows[j][i];
        l2 += d * d;
        dot += static_cast<double>(s[i]) * rows[j][i];
        abs_dot += std::fabs(static_cast<double>(s[i]) * rows[j][i]);
      }
      ASSERT_NEAR(table->sq8_l2(t.data(), scale.data(), rows[j], dim), l2, 1e-5 * l2 + 1e-9) << dim;
      ASSERT_NEAR(l2x4[j], l2, 1e-5 * l2 + 1e-9) << dim << " lane " << j;
      ASSERT_NEAR(table->sq8_dot(s.data(), rows[j], dim), dot, 1e-5 * abs_dot + 1e-9) << dim;
      ASSERT_NEAR(dotx4[j], dot, 1e-5 * abs_dot + 1e-9) << dim << " lane " << j;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllLevels, Sq8KernelTest,
                         ::testing::Values(SimdLevel::kScalar, SimdLevel::kNeon, SimdLevel::kAvx2,
                                           SimdLevel::kAvx512),
                         [](const auto& info) { return std::string(SimdLevelName(info.param)); });

}  // namespace
}  // namespace augurdb::simd
