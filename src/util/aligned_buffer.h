// A growable, zero-initialised array of trivially copyable T with 64-byte (cache line) aligned
// storage. Buffers of 4 MiB and more are 2 MiB aligned and advised for transparent huge pages:
// the graph and vector arrays are read at random, and THP is usually in "madvise" mode, so
// without the hint there are no huge pages and every hop pays a TLB miss.
//
// Thread safety: none; the owner serialises Resize against every reader.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <type_traits>

namespace augurdb {

template <typename T>
class AlignedBuffer {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(size_t count) { Resize(count); }

  T* data() noexcept { return data_.get(); }
  const T* data() const noexcept { return data_.get(); }
  size_t size() const noexcept { return size_; }
  size_t bytes() const noexcept { return size_ * sizeof(T); }
  T& operator[](size_t i) noexcept { return data_.get()[i]; }
  const T& operator[](size_t i) const noexcept { return data_.get()[i]; }

  // Grows or shrinks to `count` elements, keeping the common prefix; new elements are zero.
  // Throws std::bad_alloc on failure (callers at the API boundary turn it into a Status).
  void Resize(size_t count) {
    if (count == size_) return;
    if (count == 0) {
      data_.reset();
      size_ = 0;
      return;
    }
    constexpr size_t kHugePage = size_t{2} << 20;
    const size_t want = count * sizeof(T);
    const size_t align = want >= 2 * kHugePage ? kHugePage : 64;
    const size_t bytes = (want + align - 1) / align * align;
    void* raw = std::aligned_alloc(align, bytes);
    if (raw == nullptr) throw std::bad_alloc();
    if (align == kHugePage) madvise(raw, bytes, MADV_HUGEPAGE);  // advisory: failure is fine
    const size_t keep = (count < size_ ? count : size_) * sizeof(T);
    if (keep > 0) std::memcpy(raw, data_.get(), keep);
    std::memset(static_cast<char*>(raw) + keep, 0, bytes - keep);
    data_.reset(static_cast<T*>(raw));
    size_ = count;
  }

 private:
  struct FreeDeleter {
    void operator()(T* p) const noexcept { std::free(p); }
  };
  std::unique_ptr<T, FreeDeleter> data_;
  size_t size_ = 0;
};

}  // namespace augurdb
