// The fp32 rows of an index, one per slot, and the exact-distance functor the graph walk and
// the rerank use on them. Rows are 64-byte aligned (stride rounded up to 16 floats). With
// vectors on disk, the rows taken over from a checkpoint stay in its (private, copy-on-write)
// mapping and only rows added since live in memory.
//
// Thread safety: none of its own. The owning index grows, adopts and remaps the store only
// under its resize lock held exclusively; rows are read under that lock held shared.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "simd/distance.h"
#include "util/aligned_buffer.h"
#include "util/prefetch.h"

namespace augurdb::index {

// Where the fp32 row of a slot lives: rows below `mapped_rows` in a checkpoint mapping, the rest
// in memory (mapped_rows is 0 unless vectors stay on disk). VectorStore and Fp32Distance both
// resolve rows through this one function.
struct VectorRows {
  const float* mapped;  // row r < mapped_rows at mapped + r * stride
  size_t mapped_rows;
  const float* base;    // row r >= mapped_rows at base + (r - mapped_rows) * stride
  size_t stride;

  const float* row(uint32_t slot) const noexcept {
    return slot < mapped_rows ? mapped + static_cast<size_t>(slot) * stride
                              : base + (static_cast<size_t>(slot) - mapped_rows) * stride;
  }
};

// Exact distances on the stored fp32 rows. The walk is a template over its distance functor
// (fp32 here, SQ codes in quant/code_store.h), so it never branches on the representation per
// distance (faiss DistanceComputer, as a template).
struct Fp32Distance {
  // Rows SearchLayer prefetches for the likely next hop: none (compute-bound, see there).
  static constexpr size_t kNextHopRows = 0;

  const float* query;
  VectorRows rows;
  size_t dim;
  simd::DistanceFn one;
  simd::Distance4Fn four;
  size_t prefetch_lines;

  const float* row(uint32_t slot) const noexcept { return rows.row(slot); }
  float One(uint32_t slot) const noexcept { return one(query, row(slot), dim); }
  void Four(const uint32_t* s, float* out) const noexcept {
    four(query, row(s[0]), row(s[1]), row(s[2]), row(s[3]), dim, out);
  }
  void Prefetch(uint32_t slot) const noexcept { PrefetchLines(row(slot), prefetch_lines); }
};

class VectorStore {
 public:
  explicit VectorStore(size_t dim);

  size_t dim() const noexcept { return dim_; }
  size_t stride() const noexcept { return stride_; }  // floats per row
  VectorRows rows() const noexcept {
    return VectorRows{mapped_, mapped_rows_, memory_.data(), stride_};
  }
  const float* row(uint32_t slot) const noexcept { return rows().row(slot); }
  // A reused mapped row is copied on write (the mapping is private).
  float* mutable_row(uint32_t slot) noexcept { return const_cast<float*>(row(slot)); }

  // Makes room for rows [0, capacity). May throw std::bad_alloc (nothing changed then).
  void GrowTo(size_t capacity) { memory_.Resize((capacity - mapped_rows_) * stride_); }
  // Reads rows [0, end) from `rows` (kept alive by `owner`) from now on; memory keeps room for
  // rows [end, capacity). May throw std::bad_alloc (nothing changed then).
  void Remap(float* rows, size_t end, size_t capacity, std::shared_ptr<void> owner);
  // Takes over rows [0, end) of a checkpoint image: mapped for good (`on_disk`), or in place
  // until the first GrowTo copies them. REQUIRES: an empty store; `rows` 64-byte aligned.
  void Adopt(float* rows, size_t end, bool on_disk, std::shared_ptr<void> owner);
  // Rows [0, end) as stored: `head` then `tail` (tail empty unless rows are split between a
  // mapping and memory).
  void Export(size_t end, std::span<char>* head, std::span<char>* tail) const;

  size_t MemoryBytes() const noexcept { return memory_.bytes(); }
  size_t MappedBytes() const noexcept { return mapped_rows_ * stride_ * sizeof(float); }

 private:
  const size_t dim_;
  const size_t stride_;
  AlignedBuffer<float> memory_;      // rows [mapped_rows_, capacity)
  float* mapped_ = nullptr;          // rows [0, mapped_rows_): vectors on disk only
  size_t mapped_rows_ = 0;
  std::shared_ptr<void> mapped_owner_;
};

}  // namespace augurdb::index
