// Per-dimension scalar quantization to 8 bits (SQ8, faiss QT_8bit's scheme) or 4 bits (SQ4).
// Each dimension d has its own range [min_d, min_d + max_code * scale_d] (max_code = 255 or 15);
// a value is stored as the nearest of its levels. SQ4 codes pack two elements per byte in the
// block layout the kernels want (simd/sq.h).
//
// Fit policy: the range is fitted on the first batch inserted into an empty index (all its
// rows): min..max for SQ8, the 0.5% and 99.5% quantiles for SQ4. Later values outside the range
// are clamped and counted; HnswIndex::RefitIfDrifted() (CodeStore::Drifted) refits on all live
// vectors and re-encodes once the share of values clamped since the fit exceeds the expected
// share (0 for SQ8, 1% for SQ4) by more than 1% (called at compaction). Exact fp32 vectors are
// always kept for reranking.
//
// Thread safety: const methods may run concurrently; Fit/Restore must not overlap any use.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>

#include <augurdb/status.h>

#include "simd/distance.h"
#include "util/aligned_buffer.h"

namespace augurdb::quant {

class ScalarQuantizer {
 public:
  // REQUIRES: bits is 8 or 4. `kernels` (query preparation) must outlive the quantizer.
  ScalarQuantizer(size_t dim, int bits, const simd::KernelTable& kernels);

  size_t dim() const noexcept { return dim_; }
  int bits() const noexcept { return bits_; }
  int max_code() const noexcept { return max_code_; }
  // Elements of the persisted min/scale arrays (dim rounded up to 16; the padding is zero).
  size_t padded_dim() const noexcept { return padded_dim_; }
  // int16 elements of a prepared query: dim rounded up to the kernel's step (32 for SQ8, 64 for
  // SQ4). A code row covers query_dim() elements, so a kernel never reads past it.
  size_t query_dim() const noexcept { return query_dim_; }
  // Bytes per code row (rounded up to 64, so each row starts on a cache line).
  size_t code_stride() const noexcept { return code_stride_; }
  bool fitted() const noexcept { return fitted_; }

  // Fits min/scale to the rows (dim floats each). Rows are read whole, one after another: read
  // a dimension at a time, a 784-d fit of 60,000 rows took 0.7 s, one cache miss per value.
  void Fit(std::span<const float* const> rows);
  // The same for rows [0, n) of `vectors` (row_stride floats apart).
  void Fit(const float* vectors, size_t n, size_t row_stride);
  // Writes code_stride() bytes (padding zero). Counts clamped components for the drift policy.
  void Encode(const float* vector, uint8_t* code) const;
  // Reconstructs the approximate vector (tests and diagnostics).
  void Decode(const uint8_t* code, float* out) const;

  // A query prepared for the integer kernels, once per search and once per insertion (the graph
  // is built on codes too): with r = Sq8Ip/Sq4Ip(q, code),
  //   L2:  ||query - x||^2 ~ bias + gain * r + CodeNorm(code)
  //   dot: query . x       ~ bias + gain * r
  // where x is the decoded code. Expanding sum_d (t_d - scale_d c_d)^2 with t = query - min gives
  // sum t^2 - 2 sum (t_d scale_d) c_d + sum (scale_d c_d)^2: the middle term is the integer dot
  // product (t * scale quantized to int16), the last depends on the code only.
  struct PreparedQuery {
    float bias = 0.0f;
    float gain = 0.0f;
  };
  // `out` receives query_dim() int16 (zero-padded).
  PreparedQuery PrepareL2(const float* query, int16_t* out) const;
  PreparedQuery PrepareDot(const float* query, int16_t* out) const;
  // sum_d (scale_d * code_d)^2: the code's share of the L2 expansion, stored per slot.
  float CodeNorm(const uint8_t* code) const;

  const float* scale() const noexcept { return scale_.data(); }  // padded_dim() floats
  const float* min() const noexcept { return min_.data(); }

  // Share of encoded components that were clamped since the last fit, and the share the fit
  // itself expects (SQ4 clips its ranges at quantiles: 2 * kTrim; SQ8: 0). Drift is the excess.
  double clamped_fraction() const noexcept;
  double expected_clamped_fraction() const noexcept { return bits_ == 4 ? 2 * kTrim : 0.0; }
  // SQ4 range: the kTrim and 1 - kTrim quantiles of each dimension (see Fit).
  static constexpr double kTrim = 0.005;

  // Persistence: min then scale, padded_dim() floats each.
  size_t serialized_bytes() const noexcept { return 2 * padded_dim_ * sizeof(float); }
  void Serialize(char* out) const;
  Status Restore(std::span<const char> bytes);

 private:
  // The code of element d (unpacked).
  unsigned CodeAt(const uint8_t* code, size_t d) const noexcept;
  // Scales u (padded_dim() floats, zero-padded) to int16 so that max_code * sum |out| < 2^31 (no kernel can overflow
  // int32); returns the unit (u ~ unit * out).
  float QuantizeQuery(const float* u, int16_t* out) const;

  const simd::KernelTable* kernels_;
  size_t dim_;
  int bits_, max_code_;
  size_t padded_dim_, query_dim_, code_stride_;
  bool fitted_ = false;
  AlignedBuffer<float> min_, scale_, inv_scale_;
  mutable std::atomic<uint64_t> encoded_{0}, clamped_{0};
};

}  // namespace augurdb::quant
