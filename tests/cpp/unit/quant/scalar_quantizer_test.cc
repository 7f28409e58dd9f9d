#include "quant/scalar_quantizer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <tuple>
#include <vector>

#include "index/hnsw_index.h"
#include "simd/distance.h"
#include "util/aligned_buffer.h"
#include "test_data.h"

namespace augurdb::quant {
namespace {

// Encodes and decodes every row: each value comes back within half a step, and the code bytes
// from `padding_from` on are zero.
void ExpectRoundTrip(const ScalarQuantizer& q, const std::vector<float>& data, size_t n,
                     size_t dim, size_t padding_from) {
  std::vector<uint8_t> code(q.code_stride());
  std::vector<float> back(dim);
  for (size_t i = 0; i < n; ++i) {
    q.Encode(data.data() + i * dim, code.data());
    q.Decode(code.data(), back.data());
    for (size_t d = 0; d < dim; ++d) {
      ASSERT_LE(std::fabs(back[d] - data[i * dim + d]), 0.5f * q.scale()[d] * 1.0001f + 1e-6f);
    }
    for (size_t b = padding_from; b < q.code_stride(); ++b) ASSERT_EQ(code[b], 0) << b;
  }
}

TEST(ScalarQuantizer, RoundTripErrorIsHalfAStep) {
  const size_t dim = 37, n = 500;
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> data(n * dim);
  for (size_t i = 0; i < data.size(); ++i) data[i] = normal(rng) * static_cast<float>(1 + i % dim);
  ScalarQuantizer q(dim, 8, simd::ActiveKernels());
  EXPECT_EQ(q.padded_dim(), 48u);
  EXPECT_EQ(q.code_stride(), 64u);
  q.Fit(data.data(), n, dim);
  ExpectRoundTrip(q, data, n, dim, dim);
  EXPECT_EQ(q.clamped_fraction(), 0.0);
}

TEST(ScalarQuantizer, ClampsOutOfRangeAndCountsDrift) {
  ScalarQuantizer q(2, 8, simd::ActiveKernels());
  const float fit[4] = {0, 0, 1, 1};
  q.Fit(fit, 2, 2);
  std::vector<uint8_t> code(q.code_stride());
  const float outside[2] = {5.0f, -3.0f};
  q.Encode(outside, code.data());
  EXPECT_EQ(code[0], 255);
  EXPECT_EQ(code[1], 0);
  EXPECT_DOUBLE_EQ(q.clamped_fraction(), 1.0);
}

TEST(ScalarQuantizer, ConstantDimensionAndSerialization) {
  ScalarQuantizer q(3, 8, simd::ActiveKernels());
  const float fit[6] = {1, 7, 0, 1, 9, 4};
  q.Fit(fit, 2, 3);
  EXPECT_EQ(q.scale()[0], 0.0f);  // constant dimension
  std::vector<char> bytes(q.serialized_bytes());
  q.Serialize(bytes.data());
  ScalarQuantizer r(3, 8, simd::ActiveKernels());
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
class PreparedQueryTest : public ::testing::TestWithParam<int> {};

TEST_P(PreparedQueryTest, MatchesDecodedDistance) {
  const size_t dim = 101, n = 200;
  std::mt19937 rng(9);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> data(n * dim);
  for (size_t i = 0; i < data.size(); ++i) data[i] = normal(rng) * static_cast<float>(1 + i % 5);
  ScalarQuantizer q(dim, GetParam(), simd::ActiveKernels());
  q.Fit(data.data(), n, dim);
  EXPECT_EQ(q.query_dim(), GetParam() == 8 ? 128u : 128u);
  EXPECT_EQ(q.code_stride(), GetParam() == 8 ? 128u : 64u);
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
      // Each query level is within half a level of its value, so the integer product is off by
      // at most half the code sum: the bound for SQ4's int8 queries (127 levels). SQ8's int16
      // ones (14+ bits) meet the tighter relative one too.
      double code_sum = 0;
      for (size_t d = 0; d < dim; ++d) {
        if (q.scale()[d] > 0) code_sum += std::round((decoded[d] - q.min()[d]) / q.scale()[d]);
      }
      const auto pl2 = q.PrepareL2(query.data(), prepared.data());
      const simd::SqIpFn ip = GetParam() == 8 ? table->sq8_ip : table->sq4_ip;
      const int32_t r = ip(prepared.data(), code.data(), q.query_dim());
      const double got_l2 = pl2.bias + pl2.gain * r + q.CodeNorm(code.data());
      const double slack = 1e-4 * (l2 + scale);
      const double l2_bound =
          GetParam() == 8 ? 1e-3 * (l2 + scale) : 0.5 * std::fabs(pl2.gain) * code_sum + slack;
      ASSERT_NEAR(got_l2, l2, l2_bound) << "row " << i;
      const auto pdot = q.PrepareDot(query.data(), prepared.data());
      const int32_t rd = ip(prepared.data(), code.data(), q.query_dim());
      const double dot_bound =
          GetParam() == 8 ? 1e-3 * scale : 0.5 * std::fabs(pdot.gain) * code_sum + 1e-4 * scale;
      ASSERT_NEAR(pdot.bias + pdot.gain * rd, dot, dot_bound) << "row " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Bits, PreparedQueryTest, ::testing::Values(8, 4),
                         [](const auto& info) { return "sq" + std::to_string(info.param); });

// SQ4 packs two elements per byte in 64-element blocks; decoding inverts it within half a step.
TEST(ScalarQuantizer, Sq4RoundTripAndLayout) {
  const size_t dim = 130, n = 50;  // three blocks, the last partly padding
  std::mt19937 rng(4);
  std::uniform_real_distribution<float> uni(-1.0f, 3.0f);
  std::vector<float> data(n * dim);
  for (float& x : data) x = uni(rng);
  ScalarQuantizer q(dim, 4, simd::ActiveKernels());
  EXPECT_EQ(q.max_code(), 15);
  EXPECT_EQ(q.query_dim(), 192u);
  EXPECT_EQ(q.code_stride(), 128u);  // 96 bytes of codes, rounded to a cache line
  q.Fit(data.data(), n, dim);
  ExpectRoundTrip(q, data, n, dim, 96);
  std::vector<uint8_t> code(q.code_stride());
  for (size_t i = 0; i < n; ++i) {
    q.Encode(data.data() + i * dim, code.data());
    // Element 130 - 1 = 129 is block 2, position 1: byte 2 * 32 + 1, low nibble; position 33+
    // of block 2 would be past dim, so the high nibbles of block 2 are zero.
    for (size_t j = 0; j < 32; ++j) ASSERT_EQ(code[64 + j] >> 4, 0) << j;
  }
}

// SQ4 fits its ranges at the 0.5% / 99.5% quantiles: an outlier does not stretch the range (the
// step stays near 5.2 sigma / 15), the fit's own clipping (~1%) is not reported as drift, and
// SQ8 keeps min..max.
TEST(ScalarQuantizer, Sq4RangesSkipOutliersAndExpectTheirClipping) {
  const size_t dim = 4, n = 20000;
  std::mt19937 rng(8);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> data(n * dim);
  for (float& x : data) x = normal(rng);
  data[0] = 1000.0f;  // one wild value in dimension 0
  ScalarQuantizer sq4(dim, 4, simd::ActiveKernels()), sq8(dim, 8, simd::ActiveKernels());
  sq4.Fit(data.data(), n, dim);
  sq8.Fit(data.data(), n, dim);
  for (size_t d = 0; d < dim; ++d) {
    EXPECT_NEAR(sq4.min()[d], -2.58f, 0.15f) << d;
    EXPECT_NEAR(sq4.min()[d] + 15.0f * sq4.scale()[d], 2.58f, 0.15f) << d;
  }
  EXPECT_GE(sq8.min()[0] + 255.0f * sq8.scale()[0], 999.0f);  // SQ8: min..max
  std::vector<uint8_t> code(sq4.code_stride());
  for (size_t i = 0; i < n; ++i) sq4.Encode(data.data() + i * dim, code.data());
  // Values within half a step past the range still round to the end levels, so fewer than the
  // clipped 1% count as clamped: never more than expected, so never drift.
  EXPECT_GT(sq4.clamped_fraction(), 0.0);
  EXPECT_LE(sq4.clamped_fraction(), sq4.expected_clamped_fraction());
  EXPECT_EQ(sq8.expected_clamped_fraction(), 0.0);
}

// The SQ4 range ends are exactly the kTrim quantiles (the k-th smallest and largest value, k =
// floor(kTrim * rows)) whatever the row order, sorted either way included, and the row-pointer
// Fit reads the same rows as the strided one. Over kQuantileSample rows, every step-th row.
TEST(ScalarQuantizer, Sq4RangesAreTheExactTrimQuantilesInAnyRowOrder) {
  const size_t dim = 3;
  for (const size_t n : {size_t{150}, size_t{5000}, size_t{250001}}) {
    std::mt19937 rng(static_cast<unsigned>(n));
    std::uniform_int_distribution<int> levels(0, 40);  // ties, as in pixel data
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> data(n * dim);
    for (size_t i = 0; i < n; ++i) {
      data[i * dim] = static_cast<float>(i);                  // ascending
      data[i * dim + 1] = static_cast<float>(n - i);          // descending
      data[i * dim + 2] = i % 2 ? normal(rng) : static_cast<float>(levels(rng));
    }
    const size_t step = n > 100000 ? n / 100000 : 1;
    std::vector<const float*> rows;
    for (size_t i = 0; i < n; ++i) rows.push_back(data.data() + i * dim);
    ScalarQuantizer strided(dim, 4, simd::ActiveKernels()), by_row(dim, 4, simd::ActiveKernels());
    strided.Fit(data.data(), n, dim);
    by_row.Fit(rows);
    for (size_t d = 0; d < dim; ++d) {
      std::vector<float> column;
      for (size_t i = 0; i < n; i += step) column.push_back(data[i * dim + d]);
      std::sort(column.begin(), column.end());
      const auto k =
          static_cast<size_t>(ScalarQuantizer::kTrim * static_cast<double>(column.size()));
      EXPECT_EQ(strided.min()[d], column[k]) << n << " " << d;
      EXPECT_FLOAT_EQ(strided.min()[d] + 15.0f * strided.scale()[d], column[column.size() - 1 - k])
          << n << " " << d;
      EXPECT_EQ(by_row.min()[d], strided.min()[d]);
      EXPECT_EQ(by_row.scale()[d], strided.scale()[d]);
    }
  }
}

// SQ8 traversal + exact rerank keeps recall on clustered float data (not integer pixels), for
// every metric, and the distances returned are exact.
class QuantizedIndexTest : public ::testing::TestWithParam<std::tuple<Metric, Quantization>> {};

TEST_P(QuantizedIndexTest, RecallMatchesFp32) {
  const auto [metric, quantization] = GetParam();
  const size_t dim = 40, n = 4000;
  const auto data = augurdb::testing::ClusteredData(n, dim, 11);
  const auto queries = augurdb::testing::ClusteredData(100, dim, 12);
  double recall[2] = {0, 0};
  for (int variant = 0; variant < 2; ++variant) {
    index::HnswParams p;
    p.dim = dim;
    p.metric = metric;
    p.quantization = variant == 0 ? Quantization::kNone : quantization;
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
  // SQ4's 16 levels per dimension misorder more of these tight clusters (the default rerank of
  // 4k recovers most): a wider allowance than SQ8's.
  const double allowance = quantization == Quantization::kSq4 ? 0.05 : 0.02;
  EXPECT_GE(recall[1], recall[0] - allowance) << "fp32 " << recall[0] << " quantized " << recall[1];
  EXPECT_GE(recall[1], 0.9);
}

INSTANTIATE_TEST_SUITE_P(
    Metrics, QuantizedIndexTest,
    ::testing::Combine(::testing::Values(Metric::kL2, Metric::kInnerProduct, Metric::kCosine),
                       ::testing::Values(Quantization::kSq8, Quantization::kSq4)),
    [](const auto& info) {
      return std::string(MetricName(std::get<0>(info.param))) + "_" +
             std::string(QuantizationName(std::get<1>(info.param)));
    });

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
