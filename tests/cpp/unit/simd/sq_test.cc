// SQ8 and SQ4 integer kernels at every compiled level against an int64 reference: the results must be
// identical (integer arithmetic), including at the overflow bound sq8.h promises to respect.
#include "simd/sq.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <random>
#include <vector>

#include "simd/distance.h"
#include "util/aligned_buffer.h"

namespace augurdb::simd {
namespace {

class SqKernelTest : public ::testing::TestWithParam<SimdLevel> {};

int64_t Reference8(const int16_t* q, const uint8_t* code, size_t dim) {
  int64_t sum = 0;
  for (size_t i = 0; i < dim; ++i) sum += int64_t{q[i]} * code[i];
  return sum;
}

// The SQ4 layout of sq.h, written out element by element; the query is int8 (its bytes).
int64_t Reference4(const int16_t* q16, const uint8_t* code, size_t dim) {
  const auto* q = reinterpret_cast<const int8_t*>(q16);
  int64_t sum = 0;
  for (size_t i = 0; i < dim; ++i) {
    const uint8_t byte = code[(i / 64) * 32 + (i % 32)];
    const int nibble = (i % 64) < 32 ? (byte & 0x0f) : (byte >> 4);
    sum += int64_t{q[i]} * nibble;
  }
  return sum;
}

// Checks one and four-at-once forms for every dim that is a multiple of the kernel's step up to
// 1024, with query values up to `limit` in magnitude, and code rows at odd offsets (unaligned
// loads). bits 8: one byte per element, int16 queries; bits 4: dim / 2 bytes, int8 queries
// (limit <= 127), written into the int16 buffer's bytes as ScalarQuantizer does.
void CheckKernels(const KernelTable& table, int bits, int limit, bool extremes) {
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> qdist(-limit, limit);
  const SqIpFn one = bits == 8 ? table.sq8_ip : table.sq4_ip;
  const SqIpx4Fn four = bits == 8 ? table.sq8_ipx4 : table.sq4_ipx4;
  const auto reference = bits == 8 ? Reference8 : Reference4;
  for (size_t dim = bits == 8 ? 32 : 64; dim <= 1024; dim += bits == 8 ? 32 : 64) {
    const size_t bytes = dim * static_cast<size_t>(bits) / 8;
    AlignedBuffer<int16_t> q(dim);
    std::vector<std::vector<uint8_t>> storage(4, std::vector<uint8_t>(bytes + 3));
    const uint8_t* rows[4];
    for (size_t j = 0; j < 4; ++j) {
      uint8_t* row = storage[j].data() + j;  // offsets 0..3: unaligned
      for (size_t i = 0; i < bytes; ++i) row[i] = extremes ? 255 : static_cast<uint8_t>(rng() & 0xff);
      rows[j] = row;
    }
    auto set = [&](size_t i, int v) {
      if (bits == 8) {
        q[i] = static_cast<int16_t>(v);
      } else {
        reinterpret_cast<int8_t*>(q.data())[i] = static_cast<int8_t>(v);
      }
    };
    for (size_t i = 0; i < dim; ++i) set(i, extremes ? (i % 2 ? -limit : limit) : qdist(rng));
    if (extremes) {  // all positive: the largest sum the bound allows
      for (size_t i = 0; i < dim; ++i) set(i, limit);
    }
    int32_t x4[4];
    four(q.data(), rows, dim, x4);
    for (size_t j = 0; j < 4; ++j) {
      const int64_t want = reference(q.data(), rows[j], dim);
      ASSERT_EQ(one(q.data(), rows[j], dim), want) << dim << " row " << j;
      ASSERT_EQ(x4[j], want) << dim << " lane " << j;
    }
  }
}

TEST_P(SqKernelTest, MatchesReferenceExactly) {
  const KernelTable* table = KernelsFor(GetParam());
  if (table == nullptr) GTEST_SKIP() << "CPU lacks " << SimdLevelName(GetParam());
  CheckKernels(*table, 8, 32767 / 4, false);
  CheckKernels(*table, 4, 127, false);
  CheckKernels(*table, 4, 128, false);  // int8's -128 too: VPMADDUBSW still cannot saturate
}

TEST_P(SqKernelTest, ExactAtTheOverflowBound) {
  const KernelTable* table = KernelsFor(GetParam());
  if (table == nullptr) GTEST_SKIP() << "CPU lacks " << SimdLevelName(GetParam());
  // max_code * 1024 * limit < 2^31, the bound ScalarQuantizer keeps for dim 1024.
  CheckKernels(*table, 8, static_cast<int>(2147483647LL / (255LL * 1024)), true);
  CheckKernels(*table, 4, 127, true);
}

// Query preparation: the elementwise outputs (u, the int16 levels) must equal the scalar
// reference bit for bit; the sums may differ in rounding (lane order, FMA).
TEST_P(SqKernelTest, QueryKernelsMatchScalar) {
  const KernelTable* table = KernelsFor(GetParam());
  if (table == nullptr) GTEST_SKIP() << "CPU lacks " << SimdLevelName(GetParam());
  const KernelTable& ref = *KernelsFor(SimdLevel::kScalar);
  std::mt19937 rng(9);
  std::normal_distribution<float> normal(0.0f, 50.0f);
  for (size_t n = 16; n <= 1104; n += 16) {
    // Every array one element past an aligned start: the kernels must not assume alignment.
    std::vector<float> q_store(n + 1), lo_store(n + 1), scale_store(n + 1), u_store(n + 1);
    std::vector<float> u_ref(n);
    float *q = q_store.data() + 1, *lo = lo_store.data() + 1, *scale = scale_store.data() + 1;
    float* u = u_store.data() + 1;
    for (size_t d = 0; d < n; ++d) {
      q[d] = normal(rng);
      lo[d] = normal(rng);
      scale[d] = std::fabs(normal(rng)) / 100.0f;
    }
    const float shift = table->sq_shift(q, lo, scale, n, u);
    const float shift_ref = ref.sq_shift(q, lo, scale, n, u_ref.data());
    ASSERT_NEAR(shift, shift_ref, 1e-5f * shift_ref) << n;
    for (size_t d = 0; d < n; ++d) ASSERT_EQ(u[d], u_ref[d]) << n << " " << d;
    const float dot = table->sq_scale(q, lo, scale, n, u);
    const float dot_ref = ref.sq_scale(q, lo, scale, n, u_ref.data());
    float magnitude = 0.0f;
    for (size_t d = 0; d < n; ++d) magnitude += std::fabs(q[d] * lo[d]);
    ASSERT_NEAR(dot, dot_ref, 1e-5f * magnitude) << n;
    for (size_t d = 0; d < n; ++d) ASSERT_EQ(u[d], u_ref[d]) << n << " " << d;
    // In place, as ScalarQuantizer calls them (q and u the same array).
    std::vector<float> in_place(q, q + n);
    ASSERT_NEAR(table->sq_shift(in_place.data(), lo, scale, n, in_place.data()), shift_ref,
                1e-5f * shift_ref);
    ref.sq_shift(q, lo, scale, n, u_ref.data());
    for (size_t d = 0; d < n; ++d) ASSERT_EQ(in_place[d], u_ref[d]) << n << " " << d;

    const float peak = table->abs_max(u, n);
    ASSERT_EQ(peak, ref.abs_max(u, n)) << n;
    std::vector<int16_t> levels(n + 1), levels_ref(n);
    table->sq_quantize(u, n, 10000.0f / peak, 10000.0f, levels.data() + 1);
    ref.sq_quantize(u, n, 10000.0f / peak, 10000.0f, levels_ref.data());
    for (size_t d = 0; d < n; ++d) ASSERT_EQ(levels[d + 1], levels_ref[d]) << n << " " << d;
  }
}

// Rounding ties, saturation, NaN and infinities: every level does exactly what the scalar
// reference documents (sq.h).
TEST_P(SqKernelTest, QuantizeEdgeCases) {
  const KernelTable* table = KernelsFor(GetParam());
  if (table == nullptr) GTEST_SKIP() << "CPU lacks " << SimdLevelName(GetParam());
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  AlignedBuffer<float> u(32);
  const float values[32] = {0.5f,  -0.5f, 1.5f,  -1.5f, 2.5f, -2.5f, 0.49f, -0.49f,
                            -0.0f, 0.0f,  100.f, -100.f, inf, -inf,  nan,   -nan,
                            3e38f, -3e38f, 7.5f, -7.5f, 0.f,  1.f,   -1.f,  99.5f,
                            -99.5f, 1e-30f, -1e-30f, 42.f, 43.f, 44.f, 45.f, 46.f};
  for (size_t d = 0; d < 32; ++d) u[d] = values[d];
  const int16_t want[32] = {1,   -1,   2,    -2,   3,  -3, 0,   0,   0,   0,  100,
                            -100, 100, -100, 0,    0,  100, -100, 8,  -8,  0,  1,
                            -1,  100,  -100, 0,    0,  42, 43,  44,  45,  46};
  AlignedBuffer<int16_t> out(32);
  table->sq_quantize(u.data(), 32, 1.0f, 100.0f, out.data());
  for (size_t d = 0; d < 32; ++d) EXPECT_EQ(out[d], want[d]) << "element " << d;
  // NaN is ignored by the peak; infinities are not.
  AlignedBuffer<float> v(16);
  for (size_t d = 0; d < 16; ++d) v[d] = d == 3 ? nan : -static_cast<float>(d);
  EXPECT_EQ(table->abs_max(v.data(), 16), 15.0f);
  v[7] = -inf;
  EXPECT_EQ(table->abs_max(v.data(), 16), inf);
  for (size_t d = 0; d < 16; ++d) v[d] = nan;
  EXPECT_EQ(table->abs_max(v.data(), 16), 0.0f);
}

// KernelsFor(kAvx512) hands out the VNNI forms on CPUs that have VNNI; check both sets
// explicitly so that neither goes untested on such a CPU.
TEST(SqKernelVariants, Avx512WithAndWithoutVnni) {
#if defined(__x86_64__)  // src/CMakeLists.txt compiles the AVX-512 kernels on x86-64
  if (!SimdLevelSupported(SimdLevel::kAvx512)) GTEST_SKIP() << "CPU lacks avx512";
  KernelTable plain = *KernelsFor(SimdLevel::kAvx512);
  plain.sq8_ip = &avx512::Sq8Ip;
  plain.sq8_ipx4 = &avx512::Sq8Ipx4;
  plain.sq4_ip = &avx512::Sq4Ip;
  plain.sq4_ipx4 = &avx512::Sq4Ipx4;
  CheckKernels(plain, 8, 32767 / 4, false);
  CheckKernels(plain, 4, 127, true);
  if (!HasAvx512Vnni()) GTEST_SKIP() << "CPU lacks avx512vnni (the plain AVX-512 forms passed)";
  EXPECT_EQ(KernelsFor(SimdLevel::kAvx512)->sq8_ip, &avx512vnni::Sq8Ip);
  KernelTable vnni = plain;
  vnni.sq8_ip = &avx512vnni::Sq8Ip;
  vnni.sq8_ipx4 = &avx512vnni::Sq8Ipx4;
  CheckKernels(vnni, 8, 32767 / 4, false);
  CheckKernels(vnni, 8, static_cast<int>(2147483647LL / (255LL * 1024)), true);
#else
  GTEST_SKIP() << "built without AVX-512 kernels";
#endif
}

INSTANTIATE_TEST_SUITE_P(AllLevels, SqKernelTest,
                         ::testing::Values(SimdLevel::kScalar, SimdLevel::kNeon, SimdLevel::kAvx2,
                                           SimdLevel::kAvx512),
                         [](const auto& info) { return std::string(SimdLevelName(info.param)); });

}  // namespace
}  // namespace augurdb::simd
