// Every compiled kernel level against a double-precision reference, dims 1..1100 (all tails),
// at unaligned offsets. Levels this CPU lacks are reported, not silently passed.
#include "simd/distance.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <random>
#include <vector>

namespace augurdb::simd {
namespace {

struct Reference {
  double l2 = 0, dot = 0, abs_dot = 0;
};

Reference Compute(const float* a, const float* b, size_t dim) {
  Reference r;
  for (size_t i = 0; i < dim; ++i) {
    const double d = static_cast<double>(a[i]) - b[i];
    r.l2 += d * d;
    r.dot += static_cast<double>(a[i]) * b[i];
    r.abs_dot += std::fabs(static_cast<double>(a[i]) * b[i]);
  }
  return r;
}

class DistanceTest : public ::testing::TestWithParam<SimdLevel> {};

TEST_P(DistanceTest, MatchesDoubleReferenceAtEveryDimAndOffset) {
  const KernelTable* table = KernelsFor(GetParam());
  if (table == nullptr) {
    GTEST_SKIP() << "CPU lacks " << SimdLevelName(GetParam()) << " (tested on machines that have it)";
  }
  ASSERT_EQ(table->level, GetParam());
  std::mt19937 rng(1234);
  std::uniform_real_distribution<float> uni(-1.0f, 1.0f);
  constexpr size_t kMaxDim = 1100;
  std::vector<float> a(kMaxDim + 8), b(kMaxDim + 8);
  for (float& x : a) x = uni(rng);
  for (float& x : b) x = uni(rng);
  for (size_t dim = 1; dim <= kMaxDim; ++dim) {
    for (size_t offset_a : {0, 1, 3}) {
      const size_t offset_b = (offset_a + dim) % 5;  // independent misalignment of b
      const float* pa = a.data() + offset_a;
      const float* pb = b.data() + offset_b;
      const Reference ref = Compute(pa, pb, dim);
      const double tol_l2 = 1e-5 * ref.l2 + 1e-12;
      const double tol_dot = 1e-5 * ref.abs_dot + 1e-12;
      ASSERT_NEAR(table->l2sq(pa, pb, dim), ref.l2, tol_l2) << "dim " << dim << " off " << offset_a;
      ASSERT_NEAR(table->dot(pa, pb, dim), ref.dot, tol_dot) << "dim " << dim << " off " << offset_a;
      ASSERT_NEAR(table->neg_dot(pa, pb, dim), -ref.dot, tol_dot) << "dim " << dim;
      ASSERT_NEAR(table->cosine_dist(pa, pb, dim), 1.0 - ref.dot, tol_dot + 1e-6) << "dim " << dim;
    }
  }
}

TEST_P(DistanceTest, FourAtOnceMatchesReference) {
  const KernelTable* table = KernelsFor(GetParam());
  if (table == nullptr) GTEST_SKIP() << "CPU lacks " << SimdLevelName(GetParam());
  std::mt19937 rng(99);
  std::uniform_real_distribution<float> uni(-1.0f, 1.0f);
  constexpr size_t kMaxDim = 1100;
  std::vector<float> q(kMaxDim + 4), b(4 * (kMaxDim + 4));
  for (float& x : q) x = uni(rng);
  for (float& x : b) x = uni(rng);
  for (size_t dim = 1; dim <= kMaxDim; ++dim) {
    const float* qp = q.data() + dim % 3;
    const float* bp[4];
    for (size_t j = 0; j < 4; ++j) bp[j] = b.data() + j * (kMaxDim + 4) + (dim + j) % 4;
    float l2[4], nd[4], cd[4];
    table->l2sq4(qp, bp[0], bp[1], bp[2], bp[3], dim, l2);
    table->neg_dot4(qp, bp[0], bp[1], bp[2], bp[3], dim, nd);
    table->cosine_dist4(qp, bp[0], bp[1], bp[2], bp[3], dim, cd);
    for (size_t j = 0; j < 4; ++j) {
      const Reference ref = Compute(qp, bp[j], dim);
      ASSERT_NEAR(l2[j], ref.l2, 1e-5 * ref.l2 + 1e-12) << "dim " << dim << " lane " << j;
      ASSERT_NEAR(nd[j], -ref.dot, 1e-5 * ref.abs_dot + 1e-12) << "dim " << dim << " lane " << j;
      ASSERT_NEAR(cd[j], 1.0 - ref.dot, 1e-5 * ref.abs_dot + 1e-6) << "dim " << dim;
    }
  }
}

TEST_P(DistanceTest, ZeroDimIsZero) {
  const KernelTable* table = KernelsFor(GetParam());
  if (table == nullptr) GTEST_SKIP() << "CPU lacks " << SimdLevelName(GetParam());
  const float x = 1.0f;
  EXPECT_EQ(table->l2sq(&x, &x, 0), 0.0f);
  EXPECT_EQ(table->dot(&x, &x, 0), 0.0f);
}

// Integer-valued data (Fashion-MNIST pixels) must come out exact while sums fit in 2^24.
TEST_P(DistanceTest, ExactOnSmallIntegers) {
  const KernelTable* table = KernelsFor(GetParam());
  if (table == nullptr) GTEST_SKIP() << "CPU lacks " << SimdLevelName(GetParam());
  std::vector<float> a(784), b(784);
  for (size_t i = 0; i < a.size(); ++i) {
    a[i] = static_cast<float>(i % 7);
    b[i] = static_cast<float>((i * 3) % 11);
  }
  const Reference ref = Compute(a.data(), b.data(), a.size());
  EXPECT_EQ(table->l2sq(a.data(), b.data(), a.size()), static_cast<float>(ref.l2));
  EXPECT_EQ(table->dot(a.data(), b.data(), a.size()), static_cast<float>(ref.dot));
}

INSTANTIATE_TEST_SUITE_P(AllLevels, DistanceTest,
                         ::testing::Values(SimdLevel::kScalar, SimdLevel::kNeon, SimdLevel::kAvx2,
                                           SimdLevel::kAvx512),
                         [](const auto& info) { return std::string(SimdLevelName(info.param)); });

TEST(CpuFeatures, ParseAndNameRoundTrip) {
  for (SimdLevel level : {SimdLevel::kScalar, SimdLevel::kNeon, SimdLevel::kAvx2, SimdLevel::kAvx512}) {
    EXPECT_EQ(ParseSimdLevel(SimdLevelName(level)), level);
  }
  EXPECT_FALSE(ParseSimdLevel("sse9").has_value());
}

TEST(CpuFeatures, EnvironmentCapsTheLevel) {
  const SimdLevel detected = DetectedSimdLevel();
  ASSERT_EQ(setenv("AUGURDB_SIMD", "scalar", 1), 0);
  EXPECT_EQ(ActiveSimdLevel(), SimdLevel::kScalar);
  EXPECT_EQ(ActiveKernels().level, SimdLevel::kScalar);
  ASSERT_EQ(setenv("AUGURDB_SIMD", "bogus", 1), 0);
  EXPECT_EQ(ActiveSimdLevel(), detected);  // unknown value: warn and ignore
  ASSERT_EQ(unsetenv("AUGURDB_SIMD"), 0);
  EXPECT_EQ(ActiveSimdLevel(), detected);
  EXPECT_TRUE(SimdLevelSupported(detected));
}

TEST(CpuFeatures, DistanceForPicksTheMetric) {
  const KernelTable& t = ActiveKernels();
  EXPECT_EQ(DistanceFor(t, Metric::kL2), t.l2sq);
  EXPECT_EQ(DistanceFor(t, Metric::kInnerProduct), t.neg_dot);
  EXPECT_EQ(DistanceFor(t, Metric::kCosine), t.cosine_dist);
  EXPECT_EQ(Distance4For(t, Metric::kL2), t.l2sq4);
  EXPECT_EQ(Distance4For(t, Metric::kInnerProduct), t.neg_dot4);
  EXPECT_EQ(Distance4For(t, Metric::kCosine), t.cosine_dist4);
}

}  // namespace
}  // namespace augurdb::simd
