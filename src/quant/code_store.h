// The quantized side of an index: one SQ8/SQ4 code per slot (plus, for L2, the code's norm),
// the ScalarQuantizer that fits and encodes them, the integer kernels for the code width, and
// the approximate-distance functor (SqDistance) the graph walk runs on. The bias/gain mapping
// of each metric is settled here once per query, so the walk sees one distance, whatever the
// metric and code width.
//
// Thread safety: const methods may run concurrently with each other and with Encode of other
// slots; Fit, GrowTo and Restore must not overlap any use (the index runs them under its resize
// lock held exclusively, or before any reader exists).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include <augurdb/metric.h>
#include <augurdb/status.h>

#include "quant/scalar_quantizer.h"
#include "simd/distance.h"
#include "util/aligned_buffer.h"
#include "util/prefetch.h"

namespace augurdb::quant {

// Approximate distances on SQ8/SQ4 codes (simd/sq.h, ScalarQuantizer::PreparedQuery): an exact
// integer dot product r between the int16 query and the code, mapped back by
// bias + gain * r (+ the code's stored norm for L2). Dot-based metrics fold their sign and the
// cosine's 1 - dot into bias and gain.
struct SqDistance {
  // Rows a search's walk prefetches for the likely next hop (index/hnsw_walk.h); more did not
  // help. next_hop_rows below is the walk's own setting (the insert walk sets 0).
  static constexpr size_t kNextHopRows = 8;
  // Lines of a code prefetched: the hardware prefetcher streams the rest of a longer one. All 13
  // lines of a 784-d SQ8 code filled the miss buffers, and the prefetches themselves stalled
  // (perf on Zen 2); 8 lines gave +7% QPS at ef 12 and +6% at ef 24 there (Fashion-MNIST).
  static constexpr size_t kMaxPrefetchLines = 8;
  // The insert walk's prefetch per row (HnswIndex::InsertOne), two threads walking at once so
  // the miss buffers are full. A row of up to kShortRowLines is prefetched by its first line
  // only: the hardware prefetcher fetches the rest once that line is read. Longer rows get
  // kInsertPrefetchLines. Zen 2 (16 MB L3), 2-thread builds, interleaved rounds, first line
  // against 3 lines: Fashion-PCA-384 +4.9% and +5.9% (every run faster), MiniLM-384 +3.9% and
  // -0.2% (fp32), +3.5% (SQ8); 128-d clusters (2-line SQ8 codes) 0%. Fashion-MNIST's 7-line rows
  // lost 1-5% with one line, and had built 4.6% faster with 4 lines than with 8. Searches keep
  // kMaxPrefetchLines: one thread's walk is latency-bound (one line cost Fashion 7-15%).
  static constexpr size_t kShortRowLines = 3;
  static constexpr size_t kInsertPrefetchLines = 4;
  static constexpr size_t InsertPrefetchLines(size_t row_lines) noexcept {
    return std::min(row_lines, row_lines <= kShortRowLines ? size_t{1} : kInsertPrefetchLines);
  }

  const int16_t* query;   // query_dim int16, 64-byte aligned
  const uint8_t* codes;   // row r at codes + r * stride
  const float* norms;     // L2: per-slot CodeNorm; nullptr for dot-based metrics
  size_t stride;
  size_t query_dim;
  float bias, gain;
  simd::SqIpFn ip;
  simd::SqIpx4Fn ip4;
  size_t prefetch_lines;
  size_t next_hop_rows = kNextHopRows;  // at most kNextHopRows

  const uint8_t* row(uint32_t slot) const noexcept {
    return codes + static_cast<size_t>(slot) * stride;
  }
  float Map(uint32_t slot, int32_t r) const noexcept {
    const float d = bias + gain * static_cast<float>(r);
    return norms != nullptr ? d + norms[slot] : d;
  }
  float One(uint32_t slot) const noexcept { return Map(slot, ip(query, row(slot), query_dim)); }
  void Four(const uint32_t* s, float* out) const noexcept {
    const uint8_t* rows[4] = {row(s[0]), row(s[1]), row(s[2]), row(s[3])};
    int32_t r[4];
    ip4(query, rows, query_dim, r);
    for (int j = 0; j < 4; ++j) out[j] = Map(s[j], r[j]);
  }
  void Prefetch(uint32_t slot) const noexcept { PrefetchLines(row(slot), prefetch_lines); }
};

class CodeStore {
 public:
  // REQUIRES: quantization is kSq8 or kSq4. `kernels` must outlive the store.
  CodeStore(size_t dim, Metric metric, Quantization quantization,
            const simd::KernelTable& kernels);

  const ScalarQuantizer& quantizer() const noexcept { return sq_; }
  bool fitted() const noexcept { return sq_.fitted(); }
  int bits() const noexcept { return sq_.bits(); }
  size_t code_stride() const noexcept { return sq_.code_stride(); }

  // Fits the range to the rows (dim floats each), or to rows [0, n) of `rows` (row_stride
  // floats apart). Existing codes are stale until re-encoded.
  void Fit(std::span<const float* const> rows) { sq_.Fit(rows); }
  void Fit(const float* rows, size_t n, size_t row_stride) { sq_.Fit(rows, n, row_stride); }
  // True when the share of values clamped since the last fit exceeds the share the fit expects
  // by more than `threshold` (the refit policy, ScalarQuantizer's header).
  bool Drifted(double threshold) const noexcept {
    return sq_.fitted() && sq_.clamped_fraction() - sq_.expected_clamped_fraction() > threshold;
  }
  // Encodes `vector` (dim floats) as the code of `slot`. REQUIRES: fitted(), slot < capacity.
  void Encode(uint32_t slot, const float* vector);

  // The distance functor for one query (dim floats, normalised for cosine), prepared into
  // `prepared`, which must outlive the functor. REQUIRES: fitted().
  SqDistance Distance(const float* query, AlignedBuffer<int16_t>& prepared) const;

  // Makes room for codes [0, capacity). May throw std::bad_alloc.
  void GrowTo(size_t capacity);
  size_t MemoryBytes() const noexcept { return codes_.bytes() + norms_.bytes(); }

  // Checkpoint image: codes of slots [0, end), and the quantizer's range as bytes (empty when
  // not fitted: then no codes are exported either).
  std::span<char> ExportCodes(size_t end) const;
  void ExportQuantizer(std::string* out) const;
  // Restores the range and takes over `codes` (end rows, kept alive by `owner`) in place.
  // kCorruption (message without location) when the bytes do not fit the parameters.
  Status Restore(std::span<const char> quantizer, std::span<char> codes, size_t end,
                 std::shared_ptr<void> owner);

 private:
  const Metric metric_;
  ScalarQuantizer sq_;
  const simd::SqIpFn ip_;
  const simd::SqIpx4Fn ipx4_;
  AlignedBuffer<uint8_t> codes_;  // code_stride() bytes per slot
  AlignedBuffer<float> norms_;    // L2 only: CodeNorm of each slot's code
};

}  // namespace augurdb::quant
