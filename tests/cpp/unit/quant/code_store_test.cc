#include "quant/code_store.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "simd/distance.h"

namespace augurdb::quant {
namespace {

std::vector<float> RandomRows(size_t n, size_t dim, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> value(0.0f, 1.0f);
  std::vector<float> rows(n * dim);
  for (float& x : rows) x = value(rng);
  return rows;
}

// The functor's distance tracks the exact one on every metric and code width (the bias/gain
// mapping is the store's job).
class CodeStoreTest : public ::testing::TestWithParam<std::tuple<Metric, Quantization>> {};

TEST_P(CodeStoreTest, DistanceTracksExact) {
  const auto [metric, quantization] = GetParam();
  constexpr size_t kDim = 40, kRows = 64;
  const simd::KernelTable& kernels = simd::ActiveKernels();
  std::vector<float> rows = RandomRows(kRows, kDim, 3);
  if (metric == Metric::kCosine) {
    for (size_t i = 0; i < kRows; ++i) {
      float* r = rows.data() + i * kDim;
      const float norm = std::sqrt(kernels.dot(r, r, kDim));
      for (size_t d = 0; d < kDim; ++d) r[d] /= norm;
    }
  }
  CodeStore store(kDim, metric, quantization, kernels);
  store.GrowTo(kRows);
  store.Fit(rows.data(), kRows, kDim);
  ASSERT_TRUE(store.fitted());
  for (uint32_t i = 0; i < kRows; ++i) store.Encode(i, rows.data() + i * kDim);
  AlignedBuffer<int16_t> prepared;
  const float* query = rows.data();  // row 0
  const SqDistance dist = store.Distance(query, prepared);
  const simd::DistanceFn exact = simd::DistanceFor(kernels, metric);
  const float tolerance = quantization == Quantization::kSq4 ? 0.35f : 0.05f;
  double spread = 0.0;
  for (uint32_t i = 0; i < kRows; ++i) {
    spread = std::max<double>(spread, std::fabs(exact(query, rows.data() + i * kDim, kDim)));
  }
  for (uint32_t i = 0; i < kRows; ++i) {
    const float want = exact(query, rows.data() + i * kDim, kDim);
    EXPECT_NEAR(dist.One(i), want, tolerance * spread) << i;
  }
  const uint32_t four[4] = {0, 5, 9, 63};
  float out[4];
  dist.Four(four, out);
  for (int j = 0; j < 4; ++j) EXPECT_FLOAT_EQ(out[j], dist.One(four[j]));
}

INSTANTIATE_TEST_SUITE_P(
    Metrics, CodeStoreTest,
    ::testing::Combine(::testing::Values(Metric::kL2, Metric::kInnerProduct, Metric::kCosine),
                       ::testing::Values(Quantization::kSq8, Quantization::kSq4)));

TEST(CodeStore, ExportRestoreRoundTrip) {
  constexpr size_t kDim = 20, kRows = 8;
  const simd::KernelTable& kernels = simd::ActiveKernels();
  const std::vector<float> rows = RandomRows(kRows, kDim, 5);
  CodeStore store(kDim, Metric::kL2, Quantization::kSq8, kernels);
  EXPECT_TRUE(store.ExportCodes(kRows).empty());  // not fitted: nothing to export
  store.GrowTo(kRows);
  store.Fit(rows.data(), kRows, kDim);
  for (uint32_t i = 0; i < kRows; ++i) store.Encode(i, rows.data() + i * kDim);
  std::string quantizer;
  store.ExportQuantizer(&quantizer);
  const std::span<char> codes = store.ExportCodes(kRows);
  ASSERT_EQ(codes.size(), kRows * store.code_stride());
  auto copy = std::make_shared<std::vector<char>>(codes.begin(), codes.end());

  CodeStore loaded(kDim, Metric::kL2, Quantization::kSq8, kernels);
  ASSERT_TRUE(loaded.Restore(quantizer, std::span<char>(copy->data(), copy->size()), kRows, copy)
                  .ok());
  AlignedBuffer<int16_t> a, b;
  const SqDistance da = store.Distance(rows.data(), a);
  const SqDistance db = loaded.Distance(rows.data(), b);
  for (uint32_t i = 0; i < kRows; ++i) EXPECT_EQ(da.One(i), db.One(i));  // norms re-derived

  CodeStore wrong(kDim, Metric::kL2, Quantization::kSq8, kernels);
  EXPECT_EQ(wrong.Restore(quantizer, std::span<char>(copy->data(), 64), kRows, copy).code(),
            StatusCode::kCorruption);
}

}  // namespace
}  // namespace augurdb::quant
