#include "quant/sq8_quantizer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

namespace augurdb::quant {

Sq8Quantizer::Sq8Quantizer(size_t dim)
    : dim_(dim),
      padded_dim_((dim + 15) / 16 * 16),
      query_dim_((dim + 31) / 32 * 32),
      code_stride_((dim + 63) / 64 * 64) {
  min_.Resize(padded_dim_);
  scale_.Resize(padded_dim_);
  inv_scale_.Resize(padded_dim_);
}

void Sq8Quantizer::Fit(const float* vectors, size_t n, size_t row_stride) {
  for (size_t d = 0; d < dim_; ++d) {
    float lo = std::numeric_limits<float>::max(), hi = std::numeric_limits<float>::lowest();
    for (size_t i = 0; i < n; ++i) {
      const float x = vectors[i * row_stride + d];
      lo = std::min(lo, x);
      hi = std::max(hi, x);
    }
    if (n == 0) lo = hi = 0.0f;
    min_[d] = lo;
    scale_[d] = (hi - lo) / 255.0f;
    inv_scale_[d] = scale_[d] > 0 ? 1.0f / scale_[d] : 0.0f;
  }
  fitted_ = true;
  encoded_.store(0, std::memory_order_relaxed);
  clamped_.store(0, std::memory_order_relaxed);
}

void Sq8Quantizer::Encode(const float* vector, uint8_t* code) const {
  uint64_t clamped = 0;
  for (size_t d = 0; d < dim_; ++d) {
    const float level = std::nearbyint((vector[d] - min_[d]) * inv_scale_[d]);
    // NaN when an infinite difference (a value ~FLT_MAX from min) meets a zero inverse scale:
    // std::clamp passes NaN through and its cast to uint8_t is UB (found by fuzz/db_open_fuzzer).
    const bool outside = !(level >= 0.0f && level <= 255.0f) ||
                         (scale_[d] == 0.0f && vector[d] != min_[d]);
    clamped += outside;
    code[d] = level > 0.0f ? static_cast<uint8_t>(std::min(level, 255.0f)) : uint8_t{0};
  }
  std::memset(code + dim_, 0, code_stride_ - dim_);
  encoded_.fetch_add(dim_, std::memory_order_relaxed);
  if (clamped != 0) clamped_.fetch_add(clamped, std::memory_order_relaxed);
}

void Sq8Quantizer::Decode(const uint8_t* code, float* out) const {
  for (size_t d = 0; d < dim_; ++d) out[d] = min_[d] + scale_[d] * code[d];
}

namespace {
// Per-thread buffer for the float form of a query (no allocation per search).
float* QueryScratch(size_t n) {
  thread_local std::vector<float> buffer;
  if (buffer.size() < n) buffer.resize(n);
  return buffer.data();
}
}  // namespace

float Sq8Quantizer::QuantizeQuery(const float* u, int16_t* out) const {
  float peak = 0.0f;
  for (size_t d = 0; d < dim_; ++d) peak = std::max(peak, std::fabs(u[d]));
  // |out_d| <= limit keeps 255 * sum_d |out_d| <= 255 * dim * limit < 2^31. For dim 784 that is
  // 10,741 levels (14 bits), far finer than the codes' 256.
  const float limit = static_cast<float>(
      std::min(32767.0, std::floor(2147483647.0 / (255.0 * static_cast<double>(dim_)))));
  if (peak == 0.0f || limit < 1.0f) {
    std::fill(out, out + query_dim_, int16_t{0});
    return 0.0f;
  }
  const float inv = limit / peak;
  // |u_d * inv| <= limit, so rounding half away from zero by truncation cannot overflow
  // (and the loop vectorises, unlike nearbyint).
  for (size_t d = 0; d < dim_; ++d) {
    const float x = u[d] * inv;
    out[d] = static_cast<int16_t>(static_cast<int32_t>(x + (x >= 0.0f ? 0.5f : -0.5f)));
  }
  std::fill(out + dim_, out + query_dim_, int16_t{0});
  return peak / limit;
}

Sq8Quantizer::PreparedQuery Sq8Quantizer::PrepareL2(const float* query, int16_t* out) const {
  float* u = QueryScratch(dim_);
  float tt = 0.0f;
  for (size_t d = 0; d < dim_; ++d) {
    const float t = query[d] - min_[d];
    tt += t * t;
    u[d] = t * scale_[d];
  }
  const float unit = QuantizeQuery(u, out);
  return PreparedQuery{tt, -2.0f * unit};
}

Sq8Quantizer::PreparedQuery Sq8Quantizer::PrepareDot(const float* query, int16_t* out) const {
  float* u = QueryScratch(dim_);
  float offset = 0.0f;
  for (size_t d = 0; d < dim_; ++d) {
    u[d] = query[d] * scale_[d];
    offset += query[d] * min_[d];
  }
  const float unit = QuantizeQuery(u, out);
  return PreparedQuery{offset, unit};
}

float Sq8Quantizer::CodeNorm(const uint8_t* code) const {
  float sum = 0.0f;
  for (size_t d = 0; d < dim_; ++d) {
    const float x = scale_[d] * static_cast<float>(code[d]);
    sum += x * x;
  }
  return sum;
}

double Sq8Quantizer::clamped_fraction() const noexcept {
  const uint64_t encoded = encoded_.load(std::memory_order_relaxed);
  return encoded == 0 ? 0.0
                      : static_cast<double>(clamped_.load(std::memory_order_relaxed)) /
                            static_cast<double>(encoded);
}

void Sq8Quantizer::Serialize(char* out) const {
  std::memcpy(out, min_.data(), padded_dim_ * sizeof(float));
  std::memcpy(out + padded_dim_ * sizeof(float), scale_.data(), padded_dim_ * sizeof(float));
}

Status Sq8Quantizer::Restore(std::span<const char> bytes) {
  if (bytes.size() != serialized_bytes()) {
    return Status::Corruption("SQ8 parameters have " + std::to_string(bytes.size()) +
                              " bytes, expected " + std::to_string(serialized_bytes()));
  }
  std::memcpy(min_.data(), bytes.data(), padded_dim_ * sizeof(float));
  std::memcpy(scale_.data(), bytes.data() + padded_dim_ * sizeof(float), padded_dim_ * sizeof(float));
  for (size_t d = 0; d < padded_dim_; ++d) {
    if (!std::isfinite(min_[d]) || !std::isfinite(scale_[d]) || scale_[d] < 0) {
      return Status::Corruption("SQ8 parameters hold a non-finite or negative value");
    }
    if (d >= dim_ && (min_[d] != 0 || scale_[d] != 0)) {
      return Status::Corruption("SQ8 parameter padding is not zero");
    }
    inv_scale_[d] = scale_[d] > 0 ? 1.0f / scale_[d] : 0.0f;
  }
  fitted_ = true;
  return Status::OK();
}

}  // namespace augurdb::quant
