#include "index/vector_store.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "simd/distance.h"
#include "util/aligned_buffer.h"

namespace augurdb::index {
namespace {

void FillRow(VectorStore& store, uint32_t slot, float value) {
  float* row = store.mutable_row(slot);
  for (size_t d = 0; d < store.dim(); ++d) row[d] = value + static_cast<float>(d);
}

TEST(VectorStore, RowsArePaddedToSixteenFloats) {
  VectorStore store(20);
  EXPECT_EQ(store.stride(), 32u);
  store.GrowTo(4);
  FillRow(store, 3, 1.0f);
  EXPECT_EQ(store.row(3) - store.row(0), 3 * 32);
  EXPECT_EQ(store.MemoryBytes(), 4 * 32 * sizeof(float));
  EXPECT_EQ(store.MappedBytes(), 0u);
}

TEST(VectorStore, RemapSplitsRowsBetweenMappingAndMemory) {
  VectorStore store(16);
  store.GrowTo(2);
  FillRow(store, 0, 10.0f);
  FillRow(store, 1, 20.0f);
  // The "checkpoint": a copy of rows [0, 2) that the store reads from now on.
  auto file = std::make_shared<AlignedBuffer<float>>(2 * store.stride());
  std::copy(store.row(0), store.row(0) + 2 * store.stride(), file->data());
  store.Remap(file->data(), /*end=*/2, /*capacity=*/4, file);
  EXPECT_EQ(store.MappedBytes(), 2 * 16 * sizeof(float));
  EXPECT_EQ(store.MemoryBytes(), 2 * 16 * sizeof(float));
  EXPECT_EQ(store.row(1), file->data() + 16);
  EXPECT_EQ(store.row(1)[0], 20.0f);
  FillRow(store, 2, 30.0f);  // in memory
  std::span<char> head, tail;
  store.Export(3, &head, &tail);
  EXPECT_EQ(head.size(), 2 * 16 * sizeof(float));
  EXPECT_EQ(tail.size(), 1 * 16 * sizeof(float));
  EXPECT_EQ(reinterpret_cast<const float*>(tail.data())[0], 30.0f);
}

TEST(VectorStore, Fp32DistanceReadsThroughTheStore) {
  VectorStore store(3);
  store.GrowTo(4);
  for (uint32_t s = 0; s < 4; ++s) FillRow(store, s, static_cast<float>(s));
  const float query[3] = {0.0f, 1.0f, 2.0f};  // equals row 0
  const simd::KernelTable& k = simd::ActiveKernels();
  const Fp32Distance dist{query, store.rows(), 3, simd::DistanceFor(k, Metric::kL2),
                          simd::Distance4For(k, Metric::kL2), 1};
  EXPECT_EQ(dist.One(0), 0.0f);
  EXPECT_FLOAT_EQ(dist.One(2), 12.0f);
  const uint32_t slots[4] = {0, 1, 2, 3};
  float out[4];
  dist.Four(slots, out);
  for (uint32_t s = 0; s < 4; ++s) EXPECT_FLOAT_EQ(out[s], dist.One(s));
}

}  // namespace
}  // namespace augurdb::index
