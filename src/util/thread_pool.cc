#include "util/thread_pool.h"

#include <algorithm>

namespace augurdb {

size_t ThreadPool::DefaultThreads() noexcept {
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : hw;
}

ThreadPool::ThreadPool(size_t num_threads) {
  if (num_threads == 0) num_threads = DefaultThreads();
  threads_.reserve(num_threads - 1);
  for (size_t w = 1; w < num_threads; ++w) threads_.emplace_back([this, w] { WorkerLoop(w); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void ThreadPool::RunChunks(size_t worker) {
  size_t begin = next_.load(std::memory_order_relaxed);
  while (begin < n_) {
    const size_t take = GuidedChunk(n_ - begin, active_workers_ + 1, chunk_);
    if (!next_.compare_exchange_weak(begin, begin + take, std::memory_order_relaxed)) continue;
    const size_t end = std::min(n_, begin + take);
    for (size_t i = begin; i < end; ++i) (*task_)(worker, i);
    begin = next_.load(std::memory_order_relaxed);
  }
}

void ThreadPool::WorkerLoop(size_t worker) {
  uint64_t seen = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
      if (stopping_) return;
      seen = generation_;
      if (worker > active_workers_) continue;  // not invited to this loop
    }
    RunChunks(worker);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (--running_ == 0) done_.notify_one();
    }
  }
}

void ThreadPool::ParallelFor(size_t n, size_t max_workers, const Task& task) {
  if (n == 0) return;
  size_t workers = max_workers == 0 ? size() : std::min(max_workers, size());
  workers = std::min(workers, n);
  std::unique_lock<std::mutex> loop_lock(loop_mutex_, std::try_to_lock);
  if (workers <= 1 || !loop_lock.owns_lock()) {
    for (size_t i = 0; i < n; ++i) task(0, i);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    task_ = &task;
    n_ = n;
    // Small chunks balance uneven tasks; ~16 chunks per worker keeps the counter cold.
    chunk_ = std::max<size_t>(1, n / (workers * 16));
    next_.store(0, std::memory_order_relaxed);
    active_workers_ = workers - 1;
    running_ = workers - 1;
    ++generation_;
  }
  wake_.notify_all();
  RunChunks(0);
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, [&] { return running_ == 0; });
  task_ = nullptr;
}

}  // namespace augurdb
