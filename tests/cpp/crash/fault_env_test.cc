// FaultEnv (tests/cpp/support/fault_env.h) itself: counting, each fault kind, the crash model
// (synced lengths, unsynced creations, renames, removals and mkdirs undone), so that the sweeps
// built on it test the engine and not a broken harness.
#include "support/fault_env.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "support/file_helpers.h"

namespace augurdb::testing {
namespace {

using storage::Env;
using storage::JoinPath;

class FaultEnvTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = MakeTempDir("faultenv"); }
  std::string Path(const std::string& name) const { return JoinPath(dir_, name); }
  bool Exists(const std::string& name) const { return Env::Default()->FileExists(Path(name)); }
  std::string dir_;
};

TEST_F(FaultEnvTest, CountsEveryCall) {
  FaultEnv env(Env::Default());
  auto file = env.NewWritableFile(Path("a"));
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("hello").ok());
  ASSERT_TRUE((*file)->Sync().ok());
  ASSERT_TRUE((*file)->Close().ok());
  ASSERT_TRUE(env.SyncDir(dir_).ok());
  auto read = env.NewRandomAccessFile(Path("a"));
  ASSERT_TRUE(read.ok());
  char buf[5];
  ASSERT_TRUE((*read)->Read(0, 5, buf).ok());
  EXPECT_EQ(env.calls(), 7u);
  EXPECT_EQ(env.calls(IoOp::kAppend), 1u);
  EXPECT_EQ(env.sync_calls(), 2u);
  EXPECT_EQ(env.eligible_calls(FaultKind::kShortWrite), 1u);
  EXPECT_EQ(env.eligible_calls(FaultKind::kSyncFailure), 2u);
  EXPECT_EQ(env.eligible_calls(FaultKind::kEio), 7u);
}

TEST_F(FaultEnvTest, FailsTheNthApplicableCallOnce) {
  FaultEnv env(Env::Default());
  env.FailNth(FaultKind::kEnospc, 3);  // create, append, append*: the second append
  auto file = env.NewWritableFile(Path("a"));
  ASSERT_TRUE(file.ok());
  EXPECT_TRUE((*file)->Append("one").ok());
  EXPECT_FALSE(env.fault_fired());
  const Status s = (*file)->Append("two");
  EXPECT_EQ(s.code(), StatusCode::kIOError);
  EXPECT_NE(s.message().find("No space left"), std::string::npos) << s.ToString();
  EXPECT_TRUE(env.fault_fired());
  EXPECT_EQ(env.fired_op(), IoOp::kAppend);
  EXPECT_TRUE((*file)->Append("three").ok()) << "one-shot faults fire once";
  ASSERT_TRUE((*file)->Close().ok());
  EXPECT_EQ(ReadAll(Path("a")), "onethree");
}

TEST_F(FaultEnvTest, StickyFaultsKeepFailing) {
  FaultEnv env(Env::Default());
  env.FailNth(FaultKind::kEio, 2, /*sticky=*/true);
  EXPECT_TRUE(env.CreateDir(Path("d")).ok());
  EXPECT_FALSE(env.CreateDir(Path("e")).ok());
  EXPECT_FALSE(env.ListDir(dir_).ok());
  EXPECT_TRUE(env.FileExists(Path("d"))) << "FileExists cannot fail";
}

TEST_F(FaultEnvTest, ShortWriteLeavesAPrefix) {
  FaultEnv env(Env::Default());
  env.FailNth(FaultKind::kShortWrite, 1);
  auto file = env.NewWritableFile(Path("a"));
  ASSERT_TRUE(file.ok());
  EXPECT_FALSE((*file)->Append("0123456789").ok());
  EXPECT_EQ((*file)->size(), 5u);
  ASSERT_TRUE((*file)->Close().ok());
  EXPECT_EQ(ReadAll(Path("a")), "01234");
}

TEST_F(FaultEnvTest, FailedSyncMakesNothingDurable) {
  FaultEnv env(Env::Default());
  env.FailNth(FaultKind::kSyncFailure, 2);
  ASSERT_TRUE(env.SyncDir(dir_).ok());
  auto file = env.NewWritableFile(Path("a"));
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("abc").ok());
  EXPECT_FALSE((*file)->Sync().ok());
  ASSERT_TRUE(env.SyncDir(dir_).ok());  // the name is durable, the bytes are not
  file->reset();
  ASSERT_TRUE(env.Crash().ok());
  EXPECT_TRUE(Exists("a"));
  EXPECT_EQ(ReadAll(Path("a")), "");
}

TEST_F(FaultEnvTest, CrashKeepsOnlySyncedBytesAndNames) {
  ASSERT_TRUE(Env::Default()->CreateDir(dir_).ok());
  WriteAll(Path("old"), "durable before the test");
  WriteAll(Path("victim"), "to be removed");
  FaultEnv env(Env::Default());
  {
    auto synced = env.NewWritableFile(Path("synced"));
    ASSERT_TRUE(synced.ok());
    ASSERT_TRUE((*synced)->Append("kept").ok());
    ASSERT_TRUE((*synced)->Sync().ok());
    ASSERT_TRUE((*synced)->Append("lost").ok());
    ASSERT_TRUE(env.SyncDir(dir_).ok());
    auto unnamed = env.NewWritableFile(Path("unnamed"));  // data synced, name never
    ASSERT_TRUE(unnamed.ok());
    ASSERT_TRUE((*unnamed)->Append("x").ok());
    ASSERT_TRUE((*unnamed)->Sync().ok());
  }
  // Unsynced rename over an existing file, and an unsynced removal: both come undone.
  auto tmp = env.NewWritableFile(Path("new.tmp"));
  ASSERT_TRUE(tmp.ok());
  ASSERT_TRUE((*tmp)->Append("replacement").ok());
  ASSERT_TRUE((*tmp)->Sync().ok());
  tmp->reset();
  ASSERT_TRUE(env.RenameFile(Path("new.tmp"), Path("old")).ok());
  ASSERT_TRUE(env.RemoveFile(Path("victim")).ok());
  EXPECT_FALSE(env.FileExists(Path("victim")));
  auto names = env.ListDir(dir_);
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(std::count_if(names->begin(), names->end(),
                          [](const std::string& n) { return n.find("trash") != std::string::npos; }),
            0) << "removed files are hidden";
  ASSERT_TRUE(env.CreateDir(Path("sub/deeper")).ok());

  ASSERT_TRUE(env.Crash().ok());
  EXPECT_EQ(ReadAll(Path("synced")), "kept");
  EXPECT_FALSE(Exists("unnamed"));
  EXPECT_EQ(ReadAll(Path("old")), "durable before the test");
  EXPECT_FALSE(Exists("new.tmp")) << "created after the last SyncDir: its name is lost too";
  EXPECT_EQ(ReadAll(Path("victim")), "to be removed");
  EXPECT_FALSE(Exists("sub"));
  EXPECT_TRUE(env.dead());
  EXPECT_FALSE(env.NewWritableFile(Path("z")).ok()) << "nothing happens after a crash";
}

TEST_F(FaultEnvTest, DurableRenameAndRemovalSurviveTheCrash) {
  ASSERT_TRUE(Env::Default()->CreateDir(dir_).ok());
  WriteAll(Path("victim"), "to be removed");
  FaultEnv env(Env::Default());
  auto tmp = env.NewWritableFile(Path("a.tmp"));
  ASSERT_TRUE(tmp.ok());
  ASSERT_TRUE((*tmp)->Append("data").ok());
  ASSERT_TRUE((*tmp)->Sync().ok());
  tmp->reset();
  ASSERT_TRUE(env.RenameFile(Path("a.tmp"), Path("a")).ok());
  ASSERT_TRUE(env.RemoveFile(Path("victim")).ok());
  ASSERT_TRUE(env.SyncDir(dir_).ok());
  ASSERT_TRUE(env.Crash().ok());
  EXPECT_EQ(ReadAll(Path("a")), "data");
  EXPECT_FALSE(Exists("a.tmp"));
  EXPECT_FALSE(Exists("victim"));
  auto names = Env::Default()->ListDir(dir_);
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(names->size(), 1u) << "no trash left behind";
}

TEST_F(FaultEnvTest, CrashAfterTheKthSyncStopsEverything) {
  FaultEnv env(Env::Default());
  env.CrashAfterSync(1);
  auto file = env.NewWritableFile(Path("a"));
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("abc").ok());
  EXPECT_TRUE((*file)->Sync().ok()) << "the crash comes right after this sync";
  EXPECT_TRUE(env.dead());
  EXPECT_FALSE((*file)->Append("def").ok());
  file->reset();
  ASSERT_TRUE(env.Crash().ok());
  EXPECT_FALSE(Exists("a")) << "its name was never synced";
}

}  // namespace
}  // namespace augurdb::testing
