// SQ8: per-dimension 8-bit scalar quantization (faiss QT_8bit's scheme). Each dimension d has
// its own range [min_d, min_d + 255 * scale_d]; a value is stored as the nearest of 256 levels.
//
// Fit policy: the range is fitted on the first batch inserted into an empty index (all its
// rows). Later values outside the range are clamped and counted; HnswIndex::RefitIfDrifted()
// refits on all live vectors and re-encodes once more than 1% of the values encoded since the
// fit were clamped (called at compaction). Exact fp32 vectors are always kept for reranking.
//
// Thread safety: const methods may run concurrently; Fit/Restore must not overlap any use.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>

#include <augurdb/status.h>

#include "util/aligned_buffer.h"

namespace augurdb::quant {

class Sq8Quantizer {
 public:
  explicit Sq8Quantizer(size_t dim);

  size_t dim() const noexcept { return dim_; }
  // Elements the kernels run over (dim rounded up to 16; the padding is zero everywhere).
  size_t padded_dim() const noexcept { return padded_dim_; }
  // Bytes per code row (dim rounded up to 64, so each row starts on a cache line).
  size_t code_stride() const noexcept { return code_stride_; }
  bool fitted() const noexcept { return fitted_; }

  // Fits min/scale to rows [0, n) of `vectors` (row_stride floats apart).
  void Fit(const float* vectors, size_t n, size_t row_stride);
  // Writes code_stride() bytes (padding zero). Counts clamped components for the drift policy.
  void Encode(const float* vector, uint8_t* code) const;
  // Reconstructs the approximate vector (tests and diagnostics).
  void Decode(const uint8_t* code, float* out) const;

  // Query preparation, once per search; `out` holds padded_dim() floats, 64-byte aligned.
  void PrepareL2(const float* query, float* t) const;   // t = q - min
  float PrepareDot(const float* query, float* s) const;  // s = q * scale; returns sum q * min

  const float* scale() const noexcept { return scale_.data(); }  // padded_dim() floats
  const float* min() const noexcept { return min_.data(); }

  // Share of encoded components that were clamped since the last fit.
  double clamped_fraction() const noexcept;

  // Persistence: min then scale, padded_dim() floats each.
  size_t serialized_bytes() const noexcept { return 2 * padded_dim_ * sizeof(float); }
  void Serialize(char* out) const;
  Status Restore(std::span<const char> bytes);

 private:
  size_t dim_, padded_dim_, code_stride_;
  bool fitted_ = false;
  AlignedBuffer<float> min_, scale_, inv_scale_;
  mutable std::atomic<uint64_t> encoded_{0}, clamped_{0};
};

}  // namespace augurdb::quant
