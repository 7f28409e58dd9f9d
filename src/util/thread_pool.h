// A fixed pool of worker threads for data-parallel loops, created once per collection.
//
// ParallelFor(n, workers, fn) runs fn(worker, i) for every i in [0, n) on up to `workers`
// threads, the calling thread being worker 0, and returns when all are done. Indices are handed
// out in dynamic chunks that shrink near the end (guided), so uneven tasks (inserts at
// different levels) balance themselves and the workers finish together.
// fn must not throw (tasks report failures through the caller's own state, e.g. a first-error
// slot and a stop flag).
//
// Thread safety: ParallelFor may be called from several threads at once. One loop owns the pool
// at a time; a loop that finds the pool busy runs on its calling thread alone rather than wait,
// so a search never queues behind a long bulk insert.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace augurdb {

class ThreadPool {
 public:
  using Task = std::function<void(size_t worker, size_t index)>;

  // `num_threads` counts the caller: 1 starts no thread; 0 means hardware concurrency.
  explicit ThreadPool(size_t num_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Total workers, the caller included.
  size_t size() const noexcept { return threads_.size() + 1; }

  // Runs task(worker, i) for i in [0, n). `max_workers` caps the threads used (0 = all);
  // worker ids are dense in [0, min(max_workers, size())).
  void ParallelFor(size_t n, size_t max_workers, const Task& task);

  // Default for num_threads == 0: std::thread::hardware_concurrency(), at least 1.
  static size_t DefaultThreads() noexcept;

  // The next chunk's size when `remaining` indices are left: guided near the end (OpenMP's
  // schedule(guided)), at most a 2 * workers-th of what is left and at most `max_chunk`, so the
  // last chunks shrink to single indices and no worker runs a whole max_chunk alone while the
  // others wait. With fixed chunks of n / 32, the last one of a 2-thread Fashion-MNIST build
  // (1,875 inserts) ran 0.2-0.7 s of its 9 s on one thread. Early chunks are max_chunk, so the
  // insert order stays close to sequential. 1 <= result <= remaining for remaining >= 1.
  static constexpr size_t GuidedChunk(size_t remaining, size_t workers,
                                      size_t max_chunk) noexcept {
    return std::clamp<size_t>(remaining / (2 * workers), 1, std::max<size_t>(1, max_chunk));
  }

 private:
  void WorkerLoop(size_t worker);
  void RunChunks(size_t worker);

  std::vector<std::thread> threads_;
  std::mutex loop_mutex_;  // held by the caller for the whole of one ParallelFor

  std::mutex mutex_;  // guards the fields below
  std::condition_variable wake_;
  std::condition_variable done_;
  uint64_t generation_ = 0;  // bumped for each loop; workers wait for a change
  bool stopping_ = false;
  size_t active_workers_ = 0;  // workers (beyond the caller) allowed in the current loop
  size_t running_ = 0;         // workers still inside the current loop

  // The current loop; read by workers after they see a new generation under mutex_.
  const Task* task_ = nullptr;
  size_t n_ = 0;
  size_t chunk_ = 1;  // the largest chunk handed out (RunChunks)
  std::atomic<size_t> next_{0};
};

// The workers a loop gets from `pool` when its caller allows `threads`: 1 without a pool.
inline size_t WorkersFor(const ThreadPool* pool, size_t threads) noexcept {
  return (pool == nullptr || threads <= 1) ? 1 : std::min(threads, pool->size());
}

// Runs fn(worker, i) for i in [0, n) on `workers` (from WorkersFor) workers of `pool`. One
// worker runs the loop on the calling thread directly: no pool lock, no std::function call per
// index.
template <class Fn>
void ParallelForWorkers(ThreadPool* pool, size_t workers, size_t n, Fn&& fn) {
  if (workers <= 1) {
    for (size_t i = 0; i < n; ++i) fn(size_t{0}, i);
    return;
  }
  pool->ParallelFor(n, workers, fn);
}

}  // namespace augurdb
