// AlignedBuffer: buffers under 4 MiB are 64-byte aligned, larger ones 2 MiB aligned (huge pages).
// Every path must keep the common prefix, hand out zeroed new elements, leave a copy sharing the
// old memory intact, and copy an adopted buffer on its first Resize.
#include "util/aligned_buffer.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <memory>

namespace augurdb {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;

bool AllZero(const AlignedBuffer<uint32_t>& b, size_t from, size_t to) {
  for (size_t i = from; i < to; ++i) {
    if (b[i] != 0) return false;
  }
  return true;
}

void Fill(AlignedBuffer<uint32_t>& b, size_t to) {
  for (size_t i = 0; i < to; ++i) b[i] = static_cast<uint32_t>(i * 2654435761u + 1);
}

bool Filled(const AlignedBuffer<uint32_t>& b, size_t to) {
  for (size_t i = 0; i < to; ++i) {
    if (b[i] != static_cast<uint32_t>(i * 2654435761u + 1)) return false;
  }
  return true;
}

TEST(AlignedBufferTest, SmallBufferIsAlignedZeroedAndKeepsItsPrefix) {
  AlignedBuffer<uint32_t> b(1000);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b.data()) % 64, 0u);
  EXPECT_TRUE(AllZero(b, 0, 1000));
  Fill(b, 1000);
  b.Resize(5000);
  EXPECT_TRUE(Filled(b, 1000));
  EXPECT_TRUE(AllZero(b, 1000, 5000));
  b.Resize(10);
  EXPECT_TRUE(Filled(b, 10));
  EXPECT_EQ(b.size(), 10u);
}

TEST(AlignedBufferTest, LargeBufferIsHugePageAlignedAndZeroedAcrossGrowth) {
  const size_t small = 1000, large = 3 * kHugePage / sizeof(uint32_t) + 7;  // crosses 4 MiB
  AlignedBuffer<uint32_t> b(small);
  Fill(b, small);
  b.Resize(large);  // small -> mapped
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b.data()) % kHugePage, 0u);
  EXPECT_TRUE(Filled(b, small));
  EXPECT_TRUE(AllZero(b, small, large));
  Fill(b, large);
  b.Resize(2 * large);  // mapped -> mapped
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b.data()) % kHugePage, 0u);
  EXPECT_TRUE(Filled(b, large));
  EXPECT_TRUE(AllZero(b, large, 2 * large));
  b.Resize(small);  // mapped -> small
  EXPECT_TRUE(Filled(b, small));
  b.Resize(0);
  EXPECT_EQ(b.data(), nullptr);
}

TEST(AlignedBufferTest, GrowingRepeatedlyKeepsThePrefixAndACopyIntact) {
  const size_t large = 3 * kHugePage / sizeof(uint32_t);
  AlignedBuffer<uint32_t> b(large);
  Fill(b, large);
  for (int round = 0; round < 3; ++round) {
    const size_t before = b.size();
    b.Resize(before * 3 / 2);
    EXPECT_TRUE(Filled(b, large));
    EXPECT_TRUE(AllZero(b, large, b.size()));
  }
  // A copy shares the memory: growing the original must leave the copy's contents alone.
  AlignedBuffer<uint32_t> copy = b;
  b.Resize(b.size() * 2);
  EXPECT_NE(b.data(), copy.data());
  EXPECT_TRUE(Filled(copy, large));
  EXPECT_TRUE(Filled(b, large));
  EXPECT_TRUE(AllZero(b, large, b.size()));
}

TEST(AlignedBufferTest, ResizingAnAdoptedBufferCopiesIt) {
  auto owner = std::make_shared<std::array<uint32_t, 16>>();
  for (uint32_t i = 0; i < 16; ++i) (*owner)[i] = i + 1;
  AlignedBuffer<uint32_t> b;
  b.Adopt(owner->data(), 16, owner);
  EXPECT_TRUE(b.adopted());
  b.Resize(16);  // same size, but adopted: becomes its own copy
  EXPECT_FALSE(b.adopted());
  EXPECT_NE(b.data(), owner->data());
  for (uint32_t i = 0; i < 16; ++i) EXPECT_EQ(b[i], i + 1);
}

}  // namespace
}  // namespace augurdb
