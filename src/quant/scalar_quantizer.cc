#include "quant/scalar_quantizer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

namespace augurdb::quant {

namespace {
size_t RoundUp(size_t x, size_t to) { return (x + to - 1) / to * to; }
}  // namespace

ScalarQuantizer::ScalarQuantizer(size_t dim, int bits, const simd::KernelTable& kernels)
    : kernels_(&kernels),
      dim_(dim),
      bits_(bits),
      max_code_((1 << bits) - 1),
      padded_dim_(RoundUp(dim, 16)),
      query_dim_(RoundUp(dim, bits == 4 ? 64 : 32)),
      code_stride_(RoundUp(query_dim_ * static_cast<size_t>(bits) / 8, 64)) {
  min_.Resize(padded_dim_);
  scale_.Resize(padded_dim_);
  inv_scale_.Resize(padded_dim_);
}

void ScalarQuantizer::Fit(const float* vectors, size_t n, size_t row_stride) {
  // SQ4: the range spans the kTrim and 1 - kTrim quantiles of each dimension (from up to
  // kQuantileSample rows, spread over the batch), not min..max: with 16 levels, a range stretched
  // to the extremes (about +-5 sigma over 1M Gaussian-like values) doubles the step for the bulk
  // of the values; clipping ~0.5% a side (+-2.6 sigma) is close to the best uniform 16-level
  // quantizer, and glass drops 1% of outliers for its SQ4 too. SQ8's 256 levels keep min..max
  // (exact for 8-bit integer data such as pixels).
  constexpr size_t kQuantileSample = 100000;
  const size_t step = bits_ == 4 ? std::max<size_t>(1, n / kQuantileSample) : 1;
  std::vector<float> column;
  for (size_t d = 0; d < dim_; ++d) {
    float lo = std::numeric_limits<float>::max(), hi = std::numeric_limits<float>::lowest();
    if (bits_ == 4 && n > 0) {
      column.clear();
      for (size_t i = 0; i < n; i += step) column.push_back(vectors[i * row_stride + d]);
      const size_t low = static_cast<size_t>(kTrim * static_cast<double>(column.size()));
      const size_t high = column.size() - 1 - low;
      std::nth_element(column.begin(), column.begin() + static_cast<ptrdiff_t>(low), column.end());
      lo = column[low];
      std::nth_element(column.begin(), column.begin() + static_cast<ptrdiff_t>(high), column.end());
      hi = column[high];
    } else {
      for (size_t i = 0; i < n; ++i) {
        const float x = vectors[i * row_stride + d];
        lo = std::min(lo, x);
        hi = std::max(hi, x);
      }
    }
    if (n == 0) lo = hi = 0.0f;
    min_[d] = lo;
    scale_[d] = (hi - lo) / static_cast<float>(max_code_);
    inv_scale_[d] = scale_[d] > 0 ? 1.0f / scale_[d] : 0.0f;
  }
  fitted_ = true;
  encoded_.store(0, std::memory_order_relaxed);
  clamped_.store(0, std::memory_order_relaxed);
}

unsigned ScalarQuantizer::CodeAt(const uint8_t* code, size_t d) const noexcept {
  if (bits_ == 8) return code[d];
  const size_t block = d / 64, j = d % 64;
  const uint8_t byte = code[block * 32 + j % 32];
  return j < 32 ? (byte & 0x0fu) : (byte >> 4);
}

void ScalarQuantizer::Encode(const float* vector, uint8_t* code) const {
  uint64_t clamped = 0;
  const float top = static_cast<float>(max_code_);
  std::memset(code, 0, code_stride_);
  for (size_t d = 0; d < dim_; ++d) {
    const float level = std::nearbyint((vector[d] - min_[d]) * inv_scale_[d]);
    // NaN when an infinite difference (a value ~FLT_MAX from min) meets a zero inverse scale:
    // std::clamp passes NaN through and its cast to uint8_t is UB (found by fuzz/db_open_fuzzer).
    const bool outside = !(level >= 0.0f && level <= top) ||
                         (scale_[d] == 0.0f && vector[d] != min_[d]);
    clamped += outside;
    const auto c = level > 0.0f ? static_cast<uint8_t>(std::min(level, top)) : uint8_t{0};
    if (bits_ == 8) {
      code[d] = c;
    } else {
      const size_t block = d / 64, j = d % 64;
      code[block * 32 + j % 32] |= static_cast<uint8_t>(j < 32 ? c : c << 4);
    }
  }
  encoded_.fetch_add(dim_, std::memory_order_relaxed);
  if (clamped != 0) clamped_.fetch_add(clamped, std::memory_order_relaxed);
}

void ScalarQuantizer::Decode(const uint8_t* code, float* out) const {
  for (size_t d = 0; d < dim_; ++d) out[d] = min_[d] + scale_[d] * static_cast<float>(CodeAt(code, d));
}

namespace {
// The query copied into a per-thread buffer (no allocation per search), zero-padded to `padded`
// floats: the query kernels (simd/sq.h) take whole blocks of 16.
float* PaddedQueryCopy(const float* query, size_t dim, size_t padded) {
  thread_local std::vector<float> buffer;
  if (buffer.size() < padded) buffer.resize(padded);
  std::copy(query, query + dim, buffer.begin());
  std::fill(buffer.begin() + static_cast<ptrdiff_t>(dim),
            buffer.begin() + static_cast<ptrdiff_t>(padded), 0.0f);
  return buffer.data();
}
}  // namespace

float ScalarQuantizer::QuantizeQuery(const float* u, int16_t* out) const {
  const float peak = kernels_->abs_max(u, padded_dim_);
  // |out_d| <= limit keeps max_code * sum_d |out_d| <= max_code * dim * limit < 2^31. For SQ8
  // at dim 784 that is 10,741 levels (14 bits), far finer than the codes' 256.
  const float limit = static_cast<float>(std::min(
      32767.0, std::floor(2147483647.0 / (max_code_ * static_cast<double>(dim_)))));
  if (peak == 0.0f || limit < 1.0f) {
    std::fill(out, out + query_dim_, int16_t{0});
    return 0.0f;
  }
  // A query about FLT_MAX away from the stored range overflows u (inf, or NaN where the scale is
  // 0); an infinite peak makes inv 0. The kernel maps NaN to 0 and saturates the rest.
  kernels_->sq_quantize(u, padded_dim_, limit / peak, limit, out);
  std::fill(out + padded_dim_, out + query_dim_, int16_t{0});
  return peak / limit;
}

ScalarQuantizer::PreparedQuery ScalarQuantizer::PrepareL2(const float* query, int16_t* out) const {
  float* u = PaddedQueryCopy(query, dim_, padded_dim_);
  // t = query - min, u = t * scale; the padding of min/scale is zero, so padded lanes add 0.
  const float tt = kernels_->sq_shift(u, min_.data(), scale_.data(), padded_dim_, u);
  const float unit = QuantizeQuery(u, out);
  return PreparedQuery{tt, -2.0f * unit};
}

ScalarQuantizer::PreparedQuery ScalarQuantizer::PrepareDot(const float* query, int16_t* out) const {
  float* u = PaddedQueryCopy(query, dim_, padded_dim_);
  const float offset = kernels_->sq_scale(u, min_.data(), scale_.data(), padded_dim_, u);
  const float unit = QuantizeQuery(u, out);
  return PreparedQuery{offset, unit};
}

float ScalarQuantizer::CodeNorm(const uint8_t* code) const {
  float sum = 0.0f;
  for (size_t d = 0; d < dim_; ++d) {
    const float x = scale_[d] * static_cast<float>(CodeAt(code, d));
    sum += x * x;
  }
  return sum;
}

double ScalarQuantizer::clamped_fraction() const noexcept {
  const uint64_t encoded = encoded_.load(std::memory_order_relaxed);
  return encoded == 0 ? 0.0
                      : static_cast<double>(clamped_.load(std::memory_order_relaxed)) /
                            static_cast<double>(encoded);
}

void ScalarQuantizer::Serialize(char* out) const {
  std::memcpy(out, min_.data(), padded_dim_ * sizeof(float));
  std::memcpy(out + padded_dim_ * sizeof(float), scale_.data(), padded_dim_ * sizeof(float));
}

Status ScalarQuantizer::Restore(std::span<const char> bytes) {
  if (bytes.size() != serialized_bytes()) {
    return Status::Corruption("quantizer parameters have " + std::to_string(bytes.size()) +
                              " bytes, expected " + std::to_string(serialized_bytes()));
  }
  std::memcpy(min_.data(), bytes.data(), padded_dim_ * sizeof(float));
  std::memcpy(scale_.data(), bytes.data() + padded_dim_ * sizeof(float), padded_dim_ * sizeof(float));
  for (size_t d = 0; d < padded_dim_; ++d) {
    if (!std::isfinite(min_[d]) || !std::isfinite(scale_[d]) || scale_[d] < 0) {
      return Status::Corruption("quantizer parameters hold a non-finite or negative value");
    }
    if (d >= dim_ && (min_[d] != 0 || scale_[d] != 0)) {
      return Status::Corruption("quantizer parameter padding is not zero");
    }
    inv_scale_[d] = scale_[d] > 0 ? 1.0f / scale_[d] : 0.0f;
  }
  fitted_ = true;
  return Status::OK();
}

}  // namespace augurdb::quant
