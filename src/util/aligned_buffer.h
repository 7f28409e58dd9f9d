// A growable, zero-initialised array of trivially copyable T with 64-byte (cache line) aligned
// storage. Buffers of 4 MiB and more are 2 MiB aligned and advised for transparent huge pages:
// the graph and vector arrays are read at random, and THP is usually in "madvise" mode, so
// without the hint there are no huge pages and every hop pays a TLB miss.
//
// A buffer can also adopt memory it does not allocate (a section of a mapped checkpoint file),
// kept alive by a shared owner; the first Resize then copies it into memory of its own.
//
// Thread safety: none; the owner serialises Resize/Adopt against every reader.
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

  T* data() noexcept { return data_; }
  const T* data() const noexcept { return data_; }
  size_t size() const noexcept { return size_; }
  size_t bytes() const noexcept { return size_ * sizeof(T); }
  // True when the memory is adopted (e.g. file-backed) rather than allocated here.
  bool adopted() const noexcept { return adopted_; }
  T& operator[](size_t i) noexcept { return data_[i]; }
  const T& operator[](size_t i) const noexcept { return data_[i]; }

  // Grows or shrinks to `count` elements, keeping the common prefix; new elements are zero.
  // Throws std::bad_alloc on failure (callers at the API boundary turn it into a Status).
  void Resize(size_t count) {
    if (count == size_ && !adopted_) return;
    if (count == 0) {
      owner_.reset();
      data_ = nullptr;
      size_ = 0;
      adopted_ = false;
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
    if (keep > 0) std::memcpy(raw, data_, keep);
    std::memset(static_cast<char*>(raw) + keep, 0, bytes - keep);
    owner_ = std::shared_ptr<void>(raw, [](void* p) { std::free(p); });
    data_ = static_cast<T*>(raw);
    size_ = count;
    adopted_ = false;
  }

  // Uses `count` elements at `data` in place; `owner` keeps them alive. REQUIRES: `data` is
  // aligned for T (checkpoint sections are page aligned).
  void Adopt(T* data, size_t count, std::shared_ptr<void> owner) {
    owner_ = std::move(owner);
    data_ = data;
    size_ = count;
    adopted_ = true;
  }

 private:
  std::shared_ptr<void> owner_;
  T* data_ = nullptr;
  size_t size_ = 0;
  bool adopted_ = false;
};

}  // namespace augurdb
