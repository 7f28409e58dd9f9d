#include "simd/cpu_features.h"

#include <cstdio>
#include <cstdlib>

namespace augurdb::simd {

std::string_view SimdLevelName(SimdLevel level) noexcept {
  switch (level) {
    case SimdLevel::kScalar: return "scalar";
    case SimdLevel::kNeon: return "neon";
    case SimdLevel::kAvx2: return "avx2";
    case SimdLevel::kAvx512: return "avx512";
  }
  return "unknown";
}

std::optional<SimdLevel> ParseSimdLevel(std::string_view name) noexcept {
  if (name == "scalar") return SimdLevel::kScalar;
  if (name == "neon") return SimdLevel::kNeon;
  if (name == "avx2") return SimdLevel::kAvx2;
  if (name == "avx512") return SimdLevel::kAvx512;
  return std::nullopt;
}

bool SimdLevelSupported(SimdLevel level) noexcept {
  switch (level) {
    case SimdLevel::kScalar: return true;
#if defined(__x86_64__) || defined(__i386__)
    case SimdLevel::kAvx2:
      // __builtin_cpu_supports also checks that the OS saves the YMM/ZMM state (XGETBV).
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case SimdLevel::kAvx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
    case SimdLevel::kNeon: return false;
#elif defined(__aarch64__)
    case SimdLevel::kNeon: return true;  // Advanced SIMD is mandatory on AArch64.
    default: return false;
#else
    default: return false;
#endif
  }
  return false;
}

bool HasAvx512Vnni() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  return SimdLevelSupported(SimdLevel::kAvx512) && __builtin_cpu_supports("avx512vnni");
#else
  return false;
#endif
}

SimdLevel DetectedSimdLevel() noexcept {
  for (SimdLevel level : {SimdLevel::kAvx512, SimdLevel::kAvx2, SimdLevel::kNeon}) {
    if (SimdLevelSupported(level)) return level;
  }
  return SimdLevel::kScalar;
}

SimdLevel ActiveSimdLevel() noexcept {
  const SimdLevel detected = DetectedSimdLevel();
  const char* env = std::getenv("AUGURDB_SIMD");
  if (env == nullptr || *env == '\0') return detected;
  const std::optional<SimdLevel> wanted = ParseSimdLevel(env);
  if (!wanted || !SimdLevelSupported(*wanted)) {
    std::fprintf(stderr, "augurdb: ignoring AUGURDB_SIMD=%s (not one of this CPU's levels: %s)\n",
                 env, "scalar|avx2|avx512|neon");
    return detected;
  }
  // A cap, never a raise: asking for avx512 on an AVX2 machine was rejected above.
  return static_cast<int>(*wanted) < static_cast<int>(detected) ? *wanted : detected;
}

}  // namespace augurdb::simd
