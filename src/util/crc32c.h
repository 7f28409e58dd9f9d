// CRC32C (Castagnoli), the checksum on every WAL record and checkpoint section. Uses the SSE4.2
// CRC32 instruction when the CPU has it (chosen once at run time), a table otherwise.
#pragma once

#include <cstddef>
#include <cstdint>

namespace augurdb::crc32c {

// CRC of data[0, n) continuing from `crc` (the value returned for the preceding bytes; 0 to
// start).
uint32_t Extend(uint32_t crc, const void* data, size_t n) noexcept;
inline uint32_t Value(const void* data, size_t n) noexcept { return Extend(0, data, n); }

// Masked form stored on disk (LevelDB's trick): a CRC of data that itself contains CRCs is less
// likely to collide when the stored value is rotated and offset.
inline uint32_t Mask(uint32_t crc) noexcept { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }
inline uint32_t Unmask(uint32_t masked) noexcept {
  const uint32_t rot = masked - 0xa282ead8u;
  return (rot >> 17) | (rot << 15);
}

}  // namespace augurdb::crc32c
