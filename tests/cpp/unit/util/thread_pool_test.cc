#include "util/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

namespace augurdb {
namespace {

TEST(ThreadPool, RunsEveryIndexOnce) {
  ThreadPool pool(4);
  EXPECT_EQ(pool.size(), 4u);
  for (size_t n : {0u, 1u, 7u, 1000u, 100000u}) {
    std::vector<std::atomic<int>> hits(n);
    pool.ParallelFor(n, 0, [&](size_t worker, size_t i) {
      EXPECT_LT(worker, 4u);
      hits[i].fetch_add(1);
    });
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << i;
  }
}

TEST(ThreadPool, GuidedChunksShrinkToSingleIndicesAtTheEnd) {
  // Early on: the cap. Near the end: a 2 * workers-th of what is left, down to 1.
  EXPECT_EQ(ThreadPool::GuidedChunk(60000, 2, 1875), 1875u);
  EXPECT_EQ(ThreadPool::GuidedChunk(4000, 2, 1875), 1000u);
  EXPECT_EQ(ThreadPool::GuidedChunk(7, 2, 1875), 1u);
  EXPECT_EQ(ThreadPool::GuidedChunk(1, 16, 1875), 1u);
  EXPECT_EQ(ThreadPool::GuidedChunk(100, 2, 0), 1u);  // a zero cap still makes progress
  // Handing out a whole loop: every chunk is within [1, remaining], the sizes never grow, and
  // the last 2 * workers indices go one at a time.
  for (size_t workers : {2u, 3u, 16u}) {
    const size_t n = 100000, cap = n / (workers * 16);
    size_t next = 0, last = cap;
    std::vector<size_t> sizes;
    while (next < n) {
      const size_t take = ThreadPool::GuidedChunk(n - next, workers, cap);
      ASSERT_GE(take, 1u);
      ASSERT_LE(take, n - next);
      ASSERT_LE(take, last);
      sizes.push_back(take);
      last = take;
      next += take;
    }
    for (size_t k = 0; k < 2 * workers; ++k) EXPECT_EQ(sizes[sizes.size() - 1 - k], 1u) << k;
  }
}

TEST(ThreadPool, MaxWorkersCapsWorkerIds) {
  ThreadPool pool(4);
  std::atomic<size_t> max_worker{0};
  pool.ParallelFor(10000, 2, [&](size_t worker, size_t) {
    size_t seen = max_worker.load();
    while (worker > seen && !max_worker.compare_exchange_weak(seen, worker)) {
    }
  });
  EXPECT_LT(max_worker.load(), 2u);
}

TEST(ThreadPool, ConcurrentCallersAllComplete) {
  ThreadPool pool(3);
  std::atomic<size_t> total{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 4; ++t) {
    callers.emplace_back([&] {
      for (int r = 0; r < 50; ++r) pool.ParallelFor(100, 0, [&](size_t, size_t) { total++; });
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(total.load(), 4u * 50u * 100u);
}

}  // namespace
}  // namespace augurdb
