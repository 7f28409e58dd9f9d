// A large put under durability "sync" fsyncs its log record on a thread of its own while the
// index insert runs (Impl::StartSync). The promise must not move: a put that returned OK
// survives a power loss right after it, and a put whose fsync failed reports it, stays all or
// nothing, and no later write is acknowledged. Both sides of the overlap threshold (Impl::kOverlapSyncMinRows) are tried, so a
// change to it cannot leave one path untested.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <augurdb/collection.h>

#include "db/collection_impl.h"
#include "db/collection_testing.h"
#include "support/fault_env.h"
#include "support/file_helpers.h"
#include "support/put_rows.h"

namespace augurdb::testing {
namespace {

constexpr size_t kDim = 8;
constexpr size_t kLarge = Collection::Impl::kOverlapSyncMinRows * 4;
constexpr size_t kSmall = Collection::Impl::kOverlapSyncMinRows / 2;

std::vector<float> Rows(size_t n, int64_t first) { return PatternRows(n, first, kDim); }
std::vector<int64_t> Ids(size_t n, int64_t first) { return IdRange(n, first); }

CollectionOptions SyncOptions(const std::string& dir) {
  CollectionOptions options;
  options.path = dir;
  options.dim = kDim;
  options.durability = Durability::kSync;
  options.threads = 2;
  return options;
}

// Reopens `dir` with the real Env (after a simulated crash) and checks it.
std::unique_ptr<Collection> Reopen(const std::string& dir) {
  Result<std::unique_ptr<Collection>> col = Collection::Open(SyncOptions(dir));
  EXPECT_TRUE(col.ok()) << col.status().ToString();
  if (!col.ok()) return nullptr;
  EXPECT_TRUE((*col)->Verify().ok());
  return std::move(col).value();
}

class LargePutSyncTest : public ::testing::TestWithParam<size_t> {};

TEST_P(LargePutSyncTest, AcknowledgedPutSurvivesPowerLossRightAfter) {
  const size_t n = GetParam();
  const std::string dir = MakeTempDir("largeput");
  FaultEnv env(storage::Env::Default());
  {
    Result<std::unique_ptr<Collection>> col = TEST_OpenCollection(SyncOptions(dir), &env);
    ASSERT_TRUE(col.ok()) << col.status().ToString();
    const std::vector<float> rows = Rows(n, 0);
    ASSERT_TRUE((*col)->Add(IdsView::Ints(Ids(n, 0)), MatrixView{rows.data(), n, kDim, 0}).ok());
    env.CrashAfterSync(env.sync_calls());  // the machine dies the moment Add returned
    (void)(*col)->Close();                 // cannot write anything any more
  }
  ASSERT_TRUE(env.Crash(CrashMode::kDropUnsynced).ok());
  std::unique_ptr<Collection> col = Reopen(dir);
  ASSERT_NE(col, nullptr);
  ASSERT_EQ(col->size(), n);
  const std::vector<float> rows = Rows(n, 0);
  Result<std::vector<std::optional<Record>>> got = col->Get(IdsView::Ints(Ids(n, 0)));
  ASSERT_TRUE(got.ok());
  for (size_t i = 0; i < n; ++i) {
    ASSERT_TRUE((*got)[i].has_value()) << "id " << i;
    const std::vector<float> want(rows.begin() + i * kDim, rows.begin() + (i + 1) * kDim);
    EXPECT_EQ((*got)[i]->vector, want) << "id " << i;
  }
}

TEST_P(LargePutSyncTest, FailedSyncIsReportedAndNothingAfterIsAcknowledged) {
  const size_t n = GetParam();
  const std::string dir = MakeTempDir("largeput");
  FaultEnv env(storage::Env::Default());
  {
    Result<std::unique_ptr<Collection>> col = TEST_OpenCollection(SyncOptions(dir), &env);
    ASSERT_TRUE(col.ok()) << col.status().ToString();
    const std::vector<float> first = Rows(10, 0);
    ASSERT_TRUE((*col)->Add(IdsView::Ints(Ids(10, 0)), MatrixView{first.data(), 10, kDim, 0}).ok());
    env.FailNth(FaultKind::kSyncFailure, env.eligible_calls(FaultKind::kSyncFailure) + 1);
    const std::vector<float> rows = Rows(n, 100);
    const Status s = (*col)->Add(IdsView::Ints(Ids(n, 100)), MatrixView{rows.data(), n, kDim, 0});
    EXPECT_FALSE(s.ok());
    EXPECT_NE(s.message().find("may not be durable"), std::string::npos) << s.ToString();
    EXPECT_TRUE(env.fault_fired());
    EXPECT_EQ(env.fired_op(), IoOp::kSync);
    // The log's error is sticky: a later write is refused rather than acknowledged.
    const std::vector<float> more = Rows(1, 1000);
    EXPECT_FALSE((*col)->Add(IdsView::Ints(Ids(1, 1000)), MatrixView{more.data(), 1, kDim, 0}).ok());
    (void)(*col)->Close();
  }
  ASSERT_TRUE(env.Crash(CrashMode::kDropUnsynced).ok());
  std::unique_ptr<Collection> col = Reopen(dir);
  ASSERT_NE(col, nullptr);
  // The failed put was applied in memory, so Close's checkpoint may have saved it: all of it or
  // none (the fault sweep's rule). The refused write never happened.
  EXPECT_TRUE(col->size() == 10 || col->size() == 10 + n) << col->size();
  EXPECT_EQ(col->Contains(Id(int64_t{100})), col->size() == 10 + n);
  EXPECT_FALSE(col->Contains(Id(int64_t{1000})));
}

// Writers share fsyncs (group commit): one writer's early fsync runs while the next appends.
TEST(LargePutSyncConcurrency, ConcurrentLargePutsAreAllDurable) {
  const std::string dir = MakeTempDir("largeput");
  FaultEnv env(storage::Env::Default());
  constexpr int kWriters = 2, kBatches = 6;
  {
    Result<std::unique_ptr<Collection>> col = TEST_OpenCollection(SyncOptions(dir), &env);
    ASSERT_TRUE(col.ok()) << col.status().ToString();
    std::vector<std::thread> writers;
    std::vector<Status> results(kWriters * kBatches);
    for (int w = 0; w < kWriters; ++w) {
      writers.emplace_back([&, w] {
        for (int b = 0; b < kBatches; ++b) {
          const int64_t first = static_cast<int64_t>((w * kBatches + b) * kLarge);
          const std::vector<float> rows = Rows(kLarge, first);
          results[w * kBatches + b] = (*col)->Add(IdsView::Ints(Ids(kLarge, first)),
                                                  MatrixView{rows.data(), kLarge, kDim, 0});
        }
      });
    }
    for (std::thread& t : writers) t.join();
    for (const Status& s : results) ASSERT_TRUE(s.ok()) << s.ToString();
    env.CrashAfterSync(env.sync_calls());
    (void)(*col)->Close();
  }
  ASSERT_TRUE(env.Crash(CrashMode::kDropUnsynced).ok());
  std::unique_ptr<Collection> col = Reopen(dir);
  ASSERT_NE(col, nullptr);
  EXPECT_EQ(col->size(), kWriters * kBatches * kLarge);
}

INSTANTIATE_TEST_SUITE_P(Rows, LargePutSyncTest, ::testing::Values(kSmall, kLarge),
                         [](const ::testing::TestParamInfo<size_t>& info) {
                           return info.param >= Collection::Impl::kOverlapSyncMinRows
                                      ? std::string("OverlappedSync")
                                      : std::string("InlineSync");
                         });

}  // namespace
}  // namespace augurdb::testing
