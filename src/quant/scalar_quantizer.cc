#include "quant/scalar_quantizer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <vector>

namespace augurdb::quant {

namespace {
size_t RoundUp(size_t x, size_t to) { return (x + to - 1) / to * to; }

// The k-th value (from 0) of `values` in `before` order, for k small next to values.size(): a
// heap of the k + 1 first in that order so far, whose top is the answer. Values in no particular
// order rarely enter it, so this is about one comparison per value, a third of nth_element's
// time on a 784-d fit; sorted input costs as much as nth_element.
template <class Before>
float SelectKth(std::span<const float> values, size_t k, Before before) {
  std::vector<float> heap(values.begin(), values.begin() + static_cast<ptrdiff_t>(k + 1));
  std::make_heap(heap.begin(), heap.end(), before);
  for (size_t i = k + 1; i < values.size(); ++i) {
    if (before(values[i], heap.front())) {
      std::pop_heap(heap.begin(), heap.end(), before);
      heap.back() = values[i];
      std::push_heap(heap.begin(), heap.end(), before);
    }
  }
  return heap.front();
}
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
  std::vector<const float*> rows(n);
  for (size_t i = 0; i < n; ++i) rows[i] = vectors + i * row_stride;
  Fit(rows);
}

void ScalarQuantizer::Fit(std::span<const float* const> rows) {
  const size_t n = rows.size();
  std::vector<float> lo(dim_, std::numeric_limits<float>::max());
  std::vector<float> hi(dim_, std::numeric_limits<float>::lowest());
  if (bits_ == 4 && n > 0) {
    // SQ4: the range spans the kTrim and 1 - kTrim quantiles of each dimension (from up to
    // kQuantileSample rows, spread over the batch), not min..max: with 16 levels, a range
    // stretched to the extremes (about +-5 sigma over 1M Gaussian-like values) doubles the step
    // for the bulk of the values; clipping ~0.5% a side (+-2.6 sigma) is close to the best
    // uniform 16-level quantizer, and glass drops 1% of outliers for its SQ4 too.
    constexpr size_t kQuantileSample = 100000;
    const size_t step = std::max<size_t>(1, n / kQuantileSample);
    const size_t m = (n + step - 1) / step;
    // The sample transposed, a dimension per run of m floats, filled a cache line of each run
    // at a time: row by row, each store went to another line of the same cache set (the runs
    // are m floats apart) and the fit took 0.24 s at 784-d.
    std::vector<float> columns(m * dim_);
    constexpr size_t kBlock = 16;
    for (size_t i0 = 0; i0 < m; i0 += kBlock) {
      const size_t i1 = std::min(m, i0 + kBlock);
      for (size_t d = 0; d < dim_; ++d) {
        for (size_t i = i0; i < i1; ++i) columns[d * m + i] = rows[i * step][d];
      }
    }
    const size_t trim = static_cast<size_t>(kTrim * static_cast<double>(m));
    for (size_t d = 0; d < dim_; ++d) {
      const std::span<const float> column(columns.data() + d * m, m);
      lo[d] = SelectKth(column, trim, std::less<float>());
      hi[d] = SelectKth(column, trim, std::greater<float>());
    }
  } else {
    // SQ8's 256 levels keep min..max (exact for 8-bit integer data such as pixels).
    for (const float* row : rows) {
      for (size_t d = 0; d < dim_; ++d) {
        lo[d] = std::min(lo[d], row[d]);
        hi[d] = std::max(hi[d], row[d]);
      }
    }
  }
  for (size_t d = 0; d < dim_; ++d) {
    if (n == 0) lo[d] = hi[d] = 0.0f;
    min_[d] = lo[d];
    scale_[d] = (hi[d] - lo[d]) / static_cast<float>(max_code_);
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

void ScalarQuantizer::Encode(const float* vector, uint8_t* code) const {
  // The query kernels do the arithmetic: written as one plain loop, nearbyint was a library call
  // per value and Encode 2.4% of an SQ8 build (Fashion-MNIST, perf on Zen 2). level_d is
  // (v_d - min_d) / scale_d rounded half away from zero, held to +-(max_code + 1) so that a
  // value past either end still reads as outside (NaN, from an infinite difference under a zero
  // inverse scale, reads as 0: the zero-scale test below counts it).
  float* u = PaddedQueryCopy(vector, dim_, padded_dim_);
  kernels_->sq_shift(u, min_.data(), inv_scale_.data(), padded_dim_, u);
  thread_local std::vector<int16_t> levels;
  if (levels.size() < padded_dim_) levels.resize(padded_dim_);
  kernels_->sq_quantize(u, padded_dim_, 1.0f, static_cast<float>(max_code_ + 1), levels.data());
  // Locals, not members, in the loops: every store through `code` (uint8_t) may alias them.
  const int16_t* level = levels.data();
  const float* scale = scale_.data();
  const float* min = min_.data();
  const int top = max_code_;
  uint64_t clamped = 0;
  for (size_t d = 0; d < dim_; ++d) {
    clamped += static_cast<uint64_t>((level[d] < 0) | (level[d] > top) |
                                     ((scale[d] == 0.0f) & (vector[d] != min[d])));
  }
  std::memset(code, 0, code_stride_);
  if (bits_ == 8) {
    for (size_t d = 0; d < dim_; ++d) {
      code[d] = static_cast<uint8_t>(std::clamp<int>(level[d], 0, top));
    }
  } else {
    for (size_t d = 0; d < dim_; ++d) {
      const auto c = static_cast<uint8_t>(std::clamp<int>(level[d], 0, top));
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

float ScalarQuantizer::QuantizeQuery(const float* u, int16_t* out) const {
  const float peak = kernels_->abs_max(u, padded_dim_);
  // |out_d| <= limit keeps max_code * sum_d |out_d| <= max_code * dim * limit < 2^31. For SQ8
  // at dim 784 that is 10,741 levels (14 bits), far finer than the codes' 256.
  // SQ4 kernels take int8 queries (simd/sq.h): 127 levels, still eight times finer than the
  // codes' 16.
  const float limit = bits_ == 4 ? 127.0f : static_cast<float>(std::min(
      32767.0, std::floor(2147483647.0 / (max_code_ * static_cast<double>(dim_)))));
  if (peak == 0.0f || limit < 1.0f) {
    std::fill(out, out + query_dim_, int16_t{0});
    return 0.0f;
  }
  // A query about FLT_MAX away from the stored range overflows u (inf, or NaN where the scale is
  // 0); an infinite peak makes inv 0. The kernel maps NaN to 0 and saturates the rest.
  kernels_->sq_quantize(u, padded_dim_, limit / peak, limit, out);
  std::fill(out + padded_dim_, out + query_dim_, int16_t{0});
  if (bits_ == 4) {
    // Narrowed in place, front to back: byte d is written after element d (bytes 2d, 2d + 1)
    // and every element before it were read.
    int8_t* narrow = reinterpret_cast<int8_t*>(out);
    for (size_t d = 0; d < query_dim_; ++d) narrow[d] = static_cast<int8_t>(out[d]);
  }
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
  // Eight partial sums, a vector register's lanes: one running sum is a chain of dependent adds
  // the compiler may not reorder, and this runs for every code when a checkpoint is loaded
  // (that chain and a per-value CodeAt were 36% of opening a 60K x 784 SQ8 collection; SQ8
  // now reads its bytes directly, SQ4 keeps CodeAt for its nibble layout).
  constexpr size_t kLanes = 8;
  float sum[kLanes] = {};
  const float* scale = scale_.data();
  auto add_all = [&](auto level) {
    size_t d = 0;
    for (; d + kLanes <= dim_; d += kLanes) {
      for (size_t l = 0; l < kLanes; ++l) {
        const float x = scale[d + l] * static_cast<float>(level(d + l));
        sum[l] += x * x;
      }
    }
    for (; d < dim_; ++d) {
      const float x = scale[d] * static_cast<float>(level(d));
      sum[0] += x * x;
    }
  };
  if (bits_ == 8) {
    add_all([code](size_t d) { return code[d]; });
  } else {
    add_all([&](size_t d) { return CodeAt(code, d); });
  }
  float total = 0.0f;
  for (const float x : sum) total += x;
  return total;
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
