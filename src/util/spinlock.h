// A one-byte spinlock for per-node locks (one per graph node, so it must be small) and its RAII
// guard. Critical sections are a few dozen instructions (copy or write one neighbour list), so
// spinning with a pause beats parking a thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define AUGUR_CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define AUGUR_CPU_RELAX() asm volatile("yield" ::: "memory")
#else
#define AUGUR_CPU_RELAX() \
  do {                    \
  } while (0)
#endif

namespace augurdb {

inline void SpinLock(std::atomic<uint8_t>& lock) noexcept {
  for (int spins = 0;; ++spins) {
    // Pairs with the release store in SpinUnlock: the previous holder's writes are visible.
    if (lock.exchange(1, std::memory_order_acquire) == 0) return;
    while (lock.load(std::memory_order_relaxed) != 0) {
      if (spins++ < 64) {
        AUGUR_CPU_RELAX();
      } else {
        std::this_thread::yield();  // the holder may be descheduled (2 shared cores)
      }
    }
  }
}

inline void SpinUnlock(std::atomic<uint8_t>& lock) noexcept {
  lock.store(0, std::memory_order_release);
}

class SpinGuard {
 public:
  explicit SpinGuard(std::atomic<uint8_t>& lock) noexcept : lock_(lock) { SpinLock(lock_); }
  ~SpinGuard() { SpinUnlock(lock_); }
  SpinGuard(const SpinGuard&) = delete;
  SpinGuard& operator=(const SpinGuard&) = delete;

 private:
  std::atomic<uint8_t>& lock_;
};

}  // namespace augurdb
