// Distance metrics. Every distance is "smaller is closer":
//   kL2:           squared Euclidean distance, sum (a_i - b_i)^2
//   kInnerProduct: -dot(a, b)
//   kCosine:       1 - dot(a, b) on vectors normalised to unit length at insert time
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace augurdb {

enum class Metric : uint8_t { kL2 = 0, kInnerProduct = 1, kCosine = 2 };

// "l2", "ip" or "cosine".
constexpr std::string_view MetricName(Metric metric) noexcept {
  switch (metric) {
    case Metric::kL2: return "l2";
    case Metric::kInnerProduct: return "ip";
    case Metric::kCosine: return "cosine";
  }
  return "unknown";
}

// Accepts the names MetricName returns; nullopt for anything else.
constexpr std::optional<Metric> ParseMetric(std::string_view name) noexcept {
  if (name == "l2") return Metric::kL2;
  if (name == "ip") return Metric::kInnerProduct;
  if (name == "cosine") return Metric::kCosine;
  return std::nullopt;
}

}  // namespace augurdb
