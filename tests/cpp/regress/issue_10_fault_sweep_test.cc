// Regressions for the bugs the I/O fault and crash sweeps of issue 10 found
// (tests/cpp/crash/fault_sweep_test.cc). Each test fails on the code before its fix.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <augurdb/collection.h>

#include "db/collection_testing.h"
#include "storage/env.h"
#include "support/fault_env.h"
#include "support/file_helpers.h"

namespace augurdb {
namespace {

using storage::Env;
using storage::JoinPath;
using testing::FaultEnv;

Status AddOne(Collection& col, int64_t id) {
  const std::vector<int64_t> ids = {id};
  const std::vector<float> v = {static_cast<float>(id), 1, 2, 3};
  return col.Add(IdsView::Ints(ids), MatrixView{v.data(), 1, 4, 0});
}

// Bug: a new database's directory (and any parent created with it, mkdir -p) was never made
// durable: nothing synced its parent directory. After a power cut the directory entry could be
// lost with every acknowledged write in it. Fix: creating a database syncs the parents of the
// directories it created (src/db/recovery.cc, OpenStorage).
TEST(Issue10Regress, NewDatabaseDirectorySurvivesAPowerCut) {
  const std::string root = augurdb::testing::MakeTempDir("regress_dir");
  const std::string db = JoinPath(root, "parent/db");  // two levels created by the open
  FaultEnv env(Env::Default());
  {
    CollectionOptions options;
    options.path = db;
    options.dim = 4;
    options.durability = Durability::kSync;
    Result<std::unique_ptr<Collection>> col = TEST_OpenCollection(options, &env);
    ASSERT_TRUE(col.ok()) << col.status().ToString();
    ASSERT_TRUE(AddOne(**col, 7).ok()) << "acknowledged under durability=sync";
    ASSERT_TRUE((*col)->Close().ok());
  }
  ASSERT_TRUE(env.Crash().ok());  // power cut: only what was synced survives
  CollectionOptions options;
  options.path = db;
  Result<std::unique_ptr<Collection>> reopened = Collection::Open(options);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_TRUE((*reopened)->Contains(Id{int64_t{7}}))
      << "the acknowledged write was lost with the database directory";
}

// Bug: when creating a database failed before its first checkpoint was in place (disk full, I/O
// error) and the log it had created could not be removed either, the directory held an empty
// wal-000001.log and no checkpoint: every later open failed with kCorruption ("holds files but
// no checkpoint"), so the database could never be created there. Fix: an empty log, like a temp
// file or the lock file, counts as a leftover of a failed creation.
TEST(Issue10Regress, FailedCreationLeavesADirectoryThatStillOpens) {
  const std::string db = augurdb::testing::MakeTempDir("regress_create");
  augurdb::testing::WriteAll(JoinPath(db, "LOCK"), "pid 1\n");
  augurdb::testing::WriteAll(JoinPath(db, "wal-000001.log"), "");
  augurdb::testing::WriteAll(JoinPath(db, "checkpoint-000001.adb.tmp"), "AUGURCKP partial");
  CollectionOptions options;
  options.path = db;
  options.dim = 4;
  Result<std::unique_ptr<Collection>> col = Collection::Open(options);
  ASSERT_TRUE(col.ok()) << col.status().ToString();
  ASSERT_TRUE(AddOne(**col, 1).ok());
  ASSERT_TRUE((*col)->Close().ok());
  Result<std::unique_ptr<Collection>> reopened = Collection::Open(options);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_EQ((*reopened)->size(), 1u);
}

// The same leftovers driven through the engine: from the nth call on, every call fails (a disk
// that went bad while the database was being created, so the cleanup fails too); once the
// disk is back, the database must open. n covers every call of the creation.
TEST(Issue10Regress, DatabaseOpensAfterItsCreationFailedForGood) {
  const std::string root = augurdb::testing::MakeTempDir("regress_eio");
  CollectionOptions options;
  options.dim = 4;
  for (uint64_t n = 1;; ++n) {
    options.path = JoinPath(root, std::to_string(n));
    FaultEnv env(Env::Default());
    env.FailNth(testing::FaultKind::kEio, n, /*sticky=*/true);
    {
      Result<std::unique_ptr<Collection>> col = TEST_OpenCollection(options, &env);
      if (col.ok()) break;  // n is past the creation's last call
    }
    ASSERT_TRUE(env.Shutdown().ok());
    Result<std::unique_ptr<Collection>> col = Collection::Open(options);
    ASSERT_TRUE(col.ok()) << "after failing from call " << n << " (" << env.fired_call()
                          << "): " << col.status().ToString();
    EXPECT_TRUE(AddOne(**col, 1).ok());
  }
}

// What the fix must keep: a log with records but no checkpoint is a database whose checkpoint
// was deleted, and opening it must still refuse rather than start over on top of the data.
TEST(Issue10Regress, NonEmptyLogWithoutCheckpointIsStillRefused) {
  const std::string db = augurdb::testing::MakeTempDir("regress_nockpt");
  augurdb::testing::WriteAll(JoinPath(db, "wal-000001.log"), "records of a deleted checkpoint");
  CollectionOptions options;
  options.path = db;
  Result<std::unique_ptr<Collection>> col = Collection::Open(options);
  ASSERT_FALSE(col.ok());
  EXPECT_EQ(col.status().code(), StatusCode::kCorruption) << col.status().ToString();
}

}  // namespace
}  // namespace augurdb
