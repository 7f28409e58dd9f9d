// CPU feature detection and the AUGURDB_SIMD override.
//
// The kernel family is chosen once (when a collection opens) from what the CPU and OS support,
// capped by the environment variable AUGURDB_SIMD=scalar|avx2|avx512|neon so tests and bug
// reports can force every lower level on one machine.
#pragma once

#include <optional>
#include <string_view>

namespace augurdb::simd {

// Ordered: a higher x86 level implies the lower ones. kNeon is the only non-scalar ARM level.
enum class SimdLevel : int { kScalar = 0, kNeon = 1, kAvx2 = 2, kAvx512 = 3 };

std::string_view SimdLevelName(SimdLevel level) noexcept;
std::optional<SimdLevel> ParseSimdLevel(std::string_view name) noexcept;

// The best level this CPU + OS supports and this build compiled (ignores AUGURDB_SIMD).
SimdLevel DetectedSimdLevel() noexcept;

// True if kernels of `level` were compiled in and can run on this CPU.
bool SimdLevelSupported(SimdLevel level) noexcept;

// DetectedSimdLevel() capped by AUGURDB_SIMD (read on every call, cheap; callers cache it).
// An unknown or unsupported AUGURDB_SIMD value falls back to the detected level with a warning on
// stderr, since refusing to start over an environment variable would be worse.
SimdLevel ActiveSimdLevel() noexcept;

// True if the CPU has AVX-512 VNNI (used by integer-code kernels).
bool HasAvx512Vnni() noexcept;

}  // namespace augurdb::simd
