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

// How vectors are represented while walking the graph (exact fp32 vectors are always kept for
// reranking and get()).
enum class Quantization : uint8_t {
  kNone = 0,  // fp32 distances throughout
  kSq8 = 1,   // 8-bit per-dimension scalar codes, 4x less memory traffic; exact rerank
  kSq4 = 2,   // 4-bit per-dimension scalar codes, 8x less memory traffic; exact rerank
};

constexpr std::string_view QuantizationName(Quantization q) noexcept {
  switch (q) {
    case Quantization::kSq8: return "sq8";
    case Quantization::kSq4: return "sq4";
    case Quantization::kNone: break;
  }
  return "none";
}

constexpr std::optional<Quantization> ParseQuantization(std::string_view name) noexcept {
  if (name == "none") return Quantization::kNone;
  if (name == "sq8") return Quantization::kSq8;
  if (name == "sq4") return Quantization::kSq4;
  return std::nullopt;
}

}  // namespace augurdb
