// A put whose log record alone would pass checkpoint_wal_bytes is applied and checkpointed
// instead of logged (Impl::CheckpointsInstead), so a bulk load writes its rows once. The promise
// stays the same as for a logged write: a put that returned OK survives a power loss right after
// it, whatever the durability level; a put whose checkpoint failed is logged instead and still
// acknowledged; one that reached neither file reports it, is all or nothing after a reopen, and
// no later write is acknowledged.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <augurdb/collection.h>

#include "db/collection_testing.h"
#include "support/fault_env.h"
#include "support/file_helpers.h"
#include "support/put_rows.h"

namespace augurdb::testing {
namespace {

constexpr size_t kDim = 8;
constexpr uint64_t kWalBytes = 4096;
constexpr size_t kSmall = 10;   // 320 vector bytes: logged
constexpr size_t kBulk = 200;   // 6,400 vector bytes > kWalBytes: checkpointed instead

std::vector<float> Rows(size_t n, int64_t first) { return PatternRows(n, first, kDim); }
std::vector<int64_t> Ids(size_t n, int64_t first) { return IdRange(n, first); }

Status AddRows(Collection& col, size_t n, int64_t first) {
  const std::vector<float> rows = Rows(n, first);
  return col.Add(IdsView::Ints(Ids(n, first)), MatrixView{rows.data(), n, kDim, 0});
}

CollectionOptions Options(const std::string& dir, Durability durability) {
  CollectionOptions options;
  options.path = dir;
  options.dim = kDim;
  options.m = 8;
  options.ef_construction = 32;
  options.threads = 1;
  options.durability = durability;
  options.checkpoint_wal_bytes = kWalBytes;
  return options;
}

// Reopens `dir` with the real Env (after a simulated crash), verifies it and checks that it
// holds exactly `want` rows of ids [first, first + n) for each {n, first} given.
void ExpectHolds(const std::string& dir, std::vector<std::pair<size_t, int64_t>> want) {
  Result<std::unique_ptr<Collection>> col = Collection::Open(Options(dir, Durability::kSync));
  ASSERT_TRUE(col.ok()) << col.status().ToString();
  ASSERT_TRUE((*col)->Verify().ok());
  size_t total = 0;
  for (const auto& [n, first] : want) {
    total += n;
    Result<std::vector<std::optional<Record>>> got = (*col)->Get(IdsView::Ints(Ids(n, first)));
    ASSERT_TRUE(got.ok());
    const std::vector<float> rows = Rows(n, first);
    for (size_t i = 0; i < n; ++i) {
      ASSERT_TRUE((*got)[i].has_value()) << "id " << first + static_cast<int64_t>(i);
      EXPECT_EQ((*got)[i]->vector,
                std::vector<float>(rows.begin() + i * kDim, rows.begin() + (i + 1) * kDim));
    }
  }
  EXPECT_EQ((*col)->size(), total);
}

class BulkPutTest : public ::testing::TestWithParam<Durability> {};

TEST_P(BulkPutTest, AcknowledgedBulkPutSurvivesPowerLossRightAfter) {
  const std::string dir = MakeTempDir("bulkput");
  FaultEnv env(storage::Env::Default());
  {
    Result<std::unique_ptr<Collection>> col = TEST_OpenCollection(Options(dir, GetParam()), &env);
    ASSERT_TRUE(col.ok()) << col.status().ToString();
    ASSERT_TRUE(AddRows(**col, kSmall, 0).ok());
    const CollectionStats before = (*col)->Stats();
    EXPECT_GT(before.wal_bytes, 0u);  // the small put was logged
    ASSERT_TRUE(AddRows(**col, kBulk, 100).ok());
    const CollectionStats after = (*col)->Stats();
    EXPECT_EQ(after.wal_bytes, 0u);
    EXPECT_EQ(after.checkpoint_sequence, before.checkpoint_sequence + 1);
    env.CrashAfterSync(env.sync_calls());  // the machine dies the moment Add returned
    (void)(*col)->Close();
  }
  ASSERT_TRUE(env.Crash(CrashMode::kDropUnsynced).ok());
  ExpectHolds(dir, {{kSmall, 0}, {kBulk, 100}});
}

// The bulk put's first I/O is its checkpoint's (creating the next log), not a log record: fail
// that call and the put is logged instead, still acknowledged and still durable.
TEST_P(BulkPutTest, FailedCheckpointFallsBackToTheLog) {
  const std::string dir = MakeTempDir("bulkput");
  FaultEnv env(storage::Env::Default());
  {
    Result<std::unique_ptr<Collection>> col = TEST_OpenCollection(Options(dir, GetParam()), &env);
    ASSERT_TRUE(col.ok()) << col.status().ToString();
    ASSERT_TRUE(AddRows(**col, kSmall, 0).ok());
    const uint64_t seq = (*col)->Stats().checkpoint_sequence;
    env.FailNth(FaultKind::kEio, env.eligible_calls(FaultKind::kEio) + 1);
    ASSERT_TRUE(AddRows(**col, kBulk, 100).ok());
    ASSERT_TRUE(env.fault_fired());
    EXPECT_EQ(env.fired_op(), IoOp::kCreate) << env.fired_call();
    EXPECT_NE(env.fired_call().find("wal-"), std::string::npos) << env.fired_call();
    // Logged, the put took the log past checkpoint_wal_bytes, so the automatic checkpoint after
    // it retried (the fault was a single one) and emptied the log again.
    const CollectionStats after = (*col)->Stats();
    EXPECT_EQ(after.checkpoint_sequence, seq + 1);
    EXPECT_EQ(after.wal_bytes, 0u);
    ASSERT_TRUE((*col)->Flush().ok());  // durability "none" promises nothing before this
    env.CrashAfterSync(env.sync_calls());
    (void)(*col)->Close();
  }
  ASSERT_TRUE(env.Crash(CrashMode::kDropUnsynced).ok());
  ExpectHolds(dir, {{kSmall, 0}, {kBulk, 100}});
}

TEST_P(BulkPutTest, PutThatReachedNeitherFileFailsAndStopsLaterWrites) {
  const std::string dir = MakeTempDir("bulkput");
  FaultEnv env(storage::Env::Default());
  {
    Result<std::unique_ptr<Collection>> col = TEST_OpenCollection(Options(dir, GetParam()), &env);
    ASSERT_TRUE(col.ok()) << col.status().ToString();
    ASSERT_TRUE(AddRows(**col, kSmall, 0).ok());
    ASSERT_TRUE((*col)->Flush().ok());
    env.FailNth(FaultKind::kEio, env.eligible_calls(FaultKind::kEio) + 1, /*sticky=*/true);
    const Status s = AddRows(**col, kBulk, 100);
    EXPECT_FALSE(s.ok());
    EXPECT_NE(s.message().find("reopen the database"), std::string::npos) << s.ToString();
    // The disk heals: still no later write, and no checkpoint at close, may save the failed put.
    env.FailNth(FaultKind::kEio, UINT64_MAX);
    EXPECT_FALSE(AddRows(**col, 1, 1000).ok());
    EXPECT_FALSE((*col)->Checkpoint().ok());
    (void)(*col)->Close();
  }
  ASSERT_TRUE(env.Crash(CrashMode::kDropUnsynced).ok());
  ExpectHolds(dir, {{kSmall, 0}});
}

// A power loss after any sync of the bulk put's checkpoint leaves the put all or nothing and
// every earlier acknowledged write in place.
TEST_P(BulkPutTest, CrashAtEverySyncLeavesThePutWholeOrAbsent) {
  uint64_t syncs = 0;
  {
    FaultEnv env(storage::Env::Default());
    const std::string dir = MakeTempDir("bulkput");
    Result<std::unique_ptr<Collection>> col = TEST_OpenCollection(Options(dir, GetParam()), &env);
    ASSERT_TRUE(col.ok()) << col.status().ToString();
    ASSERT_TRUE(AddRows(**col, kSmall, 0).ok());
    ASSERT_TRUE((*col)->Flush().ok());
    const uint64_t start = env.sync_calls();
    ASSERT_TRUE(AddRows(**col, kBulk, 100).ok());
    syncs = env.sync_calls() - start;
    (void)(*col)->Close();
  }
  ASSERT_GE(syncs, 2u);  // the checkpoint file, then its directory
  for (uint64_t k = 0; k <= syncs; ++k) {
    SCOPED_TRACE("crash after sync " + std::to_string(k) + " of the bulk put");
    const std::string dir = MakeTempDir("bulkput");
    FaultEnv env(storage::Env::Default());
    Status bulk;
    {
      Result<std::unique_ptr<Collection>> col =
          TEST_OpenCollection(Options(dir, GetParam()), &env);
      ASSERT_TRUE(col.ok()) << col.status().ToString();
      ASSERT_TRUE(AddRows(**col, kSmall, 0).ok());
      ASSERT_TRUE((*col)->Flush().ok());
      env.CrashAfterSync(env.sync_calls() + k);
      bulk = AddRows(**col, kBulk, 100);
      (void)(*col)->Close();
    }
    ASSERT_TRUE(env.Crash(CrashMode::kDropUnsynced).ok());
    Result<std::unique_ptr<Collection>> col = Collection::Open(Options(dir, Durability::kSync));
    ASSERT_TRUE(col.ok()) << col.status().ToString();
    const size_t n = (*col)->size();
    EXPECT_TRUE(n == kSmall || n == kSmall + kBulk) << n;
    if (bulk.ok()) EXPECT_EQ(n, kSmall + kBulk);
    (void)(*col)->Close();
    if (n == kSmall + kBulk) {
      ExpectHolds(dir, {{kSmall, 0}, {kBulk, 100}});
    } else {
      ExpectHolds(dir, {{kSmall, 0}});
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Durability, BulkPutTest,
                         ::testing::Values(Durability::kSync, Durability::kNone),
                         [](const ::testing::TestParamInfo<Durability>& info) {
                           return info.param == Durability::kSync ? std::string("Sync")
                                                                  : std::string("None");
                         });

}  // namespace
}  // namespace augurdb::testing
