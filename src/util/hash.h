// Counter-based pseudo-random numbers: a pure function of (seed, counter), so parallel inserts
// draw reproducible levels whatever the thread schedule (no shared RNG state).
#pragma once

#include <cstdint>

namespace augurdb {

// SplitMix64 finaliser (Steele, Lea, Flood 2014): a bijective mix with good avalanche.
constexpr uint64_t Mix64(uint64_t x) noexcept {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Uniform double in (0, 1] from (seed, counter).
constexpr double UnitInterval(uint64_t seed, uint64_t counter) noexcept {
  const uint64_t bits = Mix64(seed ^ Mix64(counter)) >> 11;  // 53 random bits
  return (static_cast<double>(bits) + 1.0) * (1.0 / 9007199254740992.0);
}

}  // namespace augurdb
