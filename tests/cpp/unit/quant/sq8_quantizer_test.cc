#include "quant/sq8_quantizer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "index/hnsw_index.h"
#include "simd/distance.h"
#include "util/aligned_buffer.h"
#include "test_data.h"

namespace augurdb::quant {
namespace {

TEST(Sq8Quantizer, RoundTripErrorIsHalfAStep) {
  const size_t dim = 37, n = 500;
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> data(n * dim);
  for (size_t i = 0; i < data.size(); ++i) data[i] = normal(rng) * static_cast<float>(1 + i % dim);
  Sq8Quantizer q(dim);
  EXPECT_EQ(q.padded_dim(), 48u);
  EXPECT_EQ(q.code_stride(), 64u);
  q.Fit(data.data(), n, dim);
  std::vector<uint8_t> code(q.code_stride());
  std::vector<float> back(dim);
  for (size_t i = 0; i < n; ++i) {
    q.Encode(data.data() + i * dim, code.data());
    q.Decode(code.data(), back.data());
    for (size_t d = 0; d < dim; ++d) {
      ASSERT_LE(std::fabs(back[d] - data[i * dim + d]), 0.5f * q.scale()[d] * 1.0001f + 1e-6f);
    }
    for (size_t d = dim; d < q.code_stride(); ++d) ASSERT_EQ(code[d], 0);
  }
  EXPECT_EQ(q.clamped_fraction(), 0.0);
}

TEST(Sq8Quantizer, ClampsOutOfRangeAndCountsDrift) {
  Sq8Quantizer q(2);
  const float fit[4] = {0, 0, 1, 1};
  q.Fit(fit, 2, 2);
  std::vector<uint8_t> code(q.code_stride());
  const float outside[2] = {5.0f, -3.0f};
  q.Encode(outside, code.data());
  EXPECT_EQ(code[0], 255);
  EXPECT_EQ(code[1], 0);
  EXPECT_DOUBLE_EQ(q.clamped_fraction(), 1.0);
}

TEST(Sq8Quantizer, ConstantDimensionAndSerialization) {
  Sq8Quantizer q(3);
  const float fit[6] = {1, 7, 0, 1, 9, 4};
  q.Fit(fit, 2, 3);
  EXPECT_EQ(q.scale()[0], 0.0f);  // constant dimension
  std::vector<char> bytes(q.serialized_bytes());
  q.Serialize(bytes.data());
  Sq8Quantizer r(3);
  ASSERT_TRUE(r.Restore(bytes).ok());
  EXPECT_EQ(r.min()[1], 7.0f);
  bytes[0] = 0x7f;  // make min[0] a huge float, still finite
  bytes[3] = 0x7f;
  bytes[2] = static_cast<char>(0x80);
  EXPECT_EQ(r.Restore(std::span<const char>(bytes.data(), 5)).code(), StatusCode::kCorruption);
}

// The prepared int16 query plus the integer kernel reproduce the distance to the decoded code
// (what the float form computed) within the query's rounding, for L2 and dot, at every SIMD level
// the CPU has, and for a dimension that is not a multiple of 32.
TEST(Sq8Quantizer, PreparedQueryMatchesDecodedDistance) {
  const size_t dim = 37, n = 200;
  std::mt19937 rng(9);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> data(n * dim);
  for (size_t i = 0; i < data.size(); ++i) data[i] = normal(rng) * static_cast<float>(1 + i % 5);
  Sq8Quantizer q(dim);
  q.Fit(data.data(), n, dim);
  EXPECT_EQ(q.query_dim(), 64u);
  EXPECT_GE(q.code_stride(), q.query_dim());
  AlignedBuffer<int16_t> prepared(q.query_dim());
  std::vector<uint8_t> code(q.code_stride());
  std::vector<float> decoded(dim), query(dim);
  for (float& x : query) x = normal(rng) * 3.0f;
  for (simd::SimdLevel level : {simd::SimdLevel::kScalar, simd::SimdLevel::kAvx2,
                                simd::SimdLevel::kAvx512}) {
    const simd::KernelTable* table = simd::KernelsFor(level);
    if (table == nullptr) continue;
    for (size_t i = 0; i < n; ++i) {
      q.Encode(data.data() + i * dim, code.data());
      q.Decode(code.data(), decoded.data());
      double l2 = 0, dot = 0, scale = 0;
      for (size_t d = 0; d < dim; ++d) {
        l2 += (query[d] - decoded[d]) * (query[d] - decoded[d]);
        dot += query[d] * decoded[d];
        scale += std::fabs(query[d]) * (std::fabs(decoded[d]) + std::fabs(q.min()[d]));
      }
      const auto pl2 = q.PrepareL2(query.data(), prepared.data());
      const int32_t r = table->sq8_ip(prepared.data(), code.data(), q.query_dim());
      const double got_l2 = pl2.bias + pl2.gain * r + q.CodeNorm(code.data());
      ASSERT_NEAR(got_l2, l2, 1e-3 * (l2 + scale)) << "row " << i;
      const auto pdot = q.PrepareDot(query.data(), prepared.data());
      const int32_t rd = table->sq8_ip(prepared.data(), code.data(), q.query_dim());
      ASSERT_NEAR(pdot.bias + pdot.gain * rd, dot, 1e-3 * scale) << "row " << i;
    }
  }
}

// SQ8 traversal + exact rerank keeps recall on clustered float data (not integer pixels), for
// every metric, and the distances returned are exact.
class Sq8IndexTest : public ::testing::TestWithParam<Metric> {};

TEST_P(Sq8IndexTest, RecallMatchesFp32) {
  const size_t dim = 40, n = 4000;
  const auto data = augurdb::testing::ClusteredData(n, dim, 11);
  const auto queries = augurdb::testing::ClusteredData(100, dim, 12);
  double recall[2] = {0, 0};
  for (int variant = 0; variant < 2; ++variant) {
    index::HnswParams p;
    p.dim = dim;
    p.metric = GetParam();
    p.quantization = variant == 0 ? Quantization::kNone : Quantization::kSq8;
    auto idx = std::move(index::HnswIndex::Create(p, simd::ActiveKernels())).value();
    std::vector<index::Slot> slots;
    ASSERT_TRUE(idx->AllocateSlots(n, &slots).ok());
    ThreadPool pool(2);
    idx->Insert(slots, data.data(), dim, &pool, 2);
    idx->Publish(slots);
    ASSERT_TRUE(idx->CheckInvariants().ok());
    std::vector<float> stored;
    for (size_t i = 0; i < n; ++i) {
      stored.insert(stored.end(), idx->vector(static_cast<index::Slot>(i)),
                    idx->vector(static_cast<index::Slot>(i)) + dim);
    }
    const simd::DistanceFn dist = simd::DistanceFor(simd::ActiveKernels(), p.metric);
    size_t hits = 0;
    for (size_t q = 0; q < 100; ++q) {
      std::vector<float> query(queries.begin() + q * dim, queries.begin() + (q + 1) * dim);
      std::vector<float> normed = query;
      if (p.metric == Metric::kCosine) {
        float norm = 0;
        for (float x : normed) norm += x * x;
        for (float& x : normed) x /= std::sqrt(norm);
      }
      const auto truth = augurdb::testing::BruteForce(stored, dim, normed.data(), 10, dist);
      index::Neighbor out[10];
      const size_t found = idx->Search(query.data(), index::SearchParams{10, 64, 0}, out);
      ASSERT_EQ(found, 10u);
      for (size_t i = 0; i < found; ++i) {
        // Distances come from the exact rerank.
        EXPECT_NEAR(out[i].distance, idx->Distance(normed.data(), out[i].slot),
                    1e-4f * (1 + std::fabs(out[i].distance)));
        if (out[i].distance <= truth.back().first + 1e-4f * (1 + std::fabs(truth.back().first))) ++hits;
      }
    }
    recall[variant] = hits / 1000.0;
  }
  EXPECT_GE(recall[1], recall[0] - 0.02) << "fp32 " << recall[0] << " sq8 " << recall[1];
  EXPECT_GE(recall[1], 0.9);
}

INSTANTIATE_TEST_SUITE_P(Metrics, Sq8IndexTest,
                         ::testing::Values(Metric::kL2, Metric::kInnerProduct, Metric::kCosine),
                         [](const auto& info) { return std::string(MetricName(info.param)); });

TEST(Sq8Index, RefitAfterDrift) {
  const size_t dim = 8;
  index::HnswParams p;
  p.dim = dim;
  p.quantization = Quantization::kSq8;
  auto idx = std::move(index::HnswIndex::Create(p, simd::ActiveKernels())).value();
  auto small = augurdb::testing::ClusteredData(200, dim, 1);
  std::vector<index::Slot> slots;
  ASSERT_TRUE(idx->AllocateSlots(200, &slots).ok());
  idx->Insert(slots, small.data(), dim, nullptr, 1);
  idx->Publish(slots);
  EXPECT_FALSE(idx->RefitIfDrifted());
  std::vector<float> far = small;
  for (float& x : far) x = x * 10 + 100;  // far outside the fitted range
  ASSERT_TRUE(idx->AllocateSlots(200, &slots).ok());
  idx->Insert(slots, far.data(), dim, nullptr, 1);
  idx->Publish(slots);
  EXPECT_GT(idx->quantizer()->clamped_fraction(), 0.01);
  EXPECT_TRUE(idx->RefitIfDrifted());
  EXPECT_EQ(idx->quantizer()->clamped_fraction(), 0.0);
  index::Neighbor out[1];
  ASSERT_EQ(idx->Search(far.data(), index::SearchParams{1, 32, 0}, out), 1u);
  EXPECT_EQ(out[0].distance, 0.0f);
}

}  // namespace
}  // namespace augurdb::quant
