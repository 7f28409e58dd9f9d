// Recovery (src/db/recovery.cc) against crafted database files: the inputs that the fuzz
// targets in fuzz/ found crashing or losing data, replayed the way the target runs them, each
// expecting the Status a user gets. The crashing inputs live in fuzz/corpus/<target>/crash-*.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <augurdb/collection.h>

#include "fuzz_support.h"
#include "storage/env.h"
#include "support/file_helpers.h"
#include "util/coding.h"

namespace augurdb {
namespace {

using storage::JoinPath;

// Lays out a db_open_fuzzer input in `dir` exactly as the target does.
void WriteDbOpenInput(const std::string& dir, const std::string& input) {
  ASSERT_GE(input.size(), 4u);
  const size_t n = std::min<size_t>(DecodeFixed32(input.data()), input.size() - 4);
  std::string checkpoint = input.substr(4, n);
  std::string wal = input.substr(4 + n);
  fuzz::RepairCheckpointChecksums(&checkpoint);
  fuzz::RepairWalChecksums(&wal);
  const uint64_t seq = fuzz::CheckpointSequence(checkpoint);
  testing::WriteAll(JoinPath(dir, fuzz::SeqName("checkpoint-", seq, ".adb")), checkpoint);
  testing::WriteAll(JoinPath(dir, fuzz::SeqName("wal-", seq, ".log")), wal);
}

std::string CorpusFile(const std::string& name) {
  return testing::ReadAll(std::string(AUGURDB_SOURCE_DIR) + "/fuzz/corpus/" + name);
}

CollectionOptions At(const std::string& dir) {
  CollectionOptions o;
  o.path = dir;
  o.threads = 1;
  return o;
}

// A checkpoint whose params say "no id kind yet" but whose slot table marks a slot used made
// the loader index the empty int-id table (UBSan: offset applied to a null pointer).
TEST(CollectionPersistTest, UsedSlotWithoutIdKindIsCorruption) {
  const std::string dir = testing::MakeTempDir("persist_unset_kind");
  WriteDbOpenInput(dir, CorpusFile("db_open/crash-a187f9e305089fc3b62b02417886c649373f9975"));
  Result<std::unique_ptr<Collection>> col = Collection::Open(At(dir));
  ASSERT_FALSE(col.ok());
  EXPECT_EQ(col.status().code(), StatusCode::kCorruption) << col.status().ToString();
  EXPECT_NE(col.status().message().find("no id kind"), std::string::npos)
      << col.status().ToString();
}

// A checkpoint whose upper-level lists link a node of a lower level passed the open's bounds
// pass; replaying the WAL then inserted through it and read a missing upper list (UBSan:
// reference binding to null in SearchLayer).
TEST(CollectionPersistTest, UpperLinkToLowerLevelIsCorruption) {
  const std::string dir = testing::MakeTempDir("persist_upper_link");
  WriteDbOpenInput(dir, CorpusFile("db_open/crash-f0ac66d63d92712706b1538ae0a8b0b15bd09161"));
  Result<std::unique_ptr<Collection>> col = Collection::Open(At(dir));
  ASSERT_FALSE(col.ok());
  EXPECT_EQ(col.status().code(), StatusCode::kCorruption) << col.status().ToString();
  EXPECT_NE(col.status().message().find("index image"), std::string::npos)
      << col.status().ToString();
}

// An SQ8 collection whose stored range has a zero scale for a dimension, then a logged vector
// about FLT_MAX away from that dimension's minimum: encoding computed inf * 0 = NaN and cast it to
// uint8_t (UBSan: "-nan is outside the range of representable values"). Whatever the open
// returns, it must be a Status, and the collection must be usable (the sanitizer build checks).
TEST(CollectionPersistTest, QuantizerNaNLevelIsDefined) {
  const std::string dir = testing::MakeTempDir("persist_sq_nan");
  WriteDbOpenInput(dir, CorpusFile("db_open/crash-7cd6fd40a5d4c219a8af5f2c8a99d796a1be741a"));
  Result<std::unique_ptr<Collection>> col = Collection::Open(At(dir));
  ASSERT_TRUE(col.ok()) << col.status().ToString();
  ASSERT_GT((*col)->dim(), 0u);
  const std::vector<float> query((*col)->dim(), 0.5f);
  SearchOptions opts;
  opts.k = 4;
  EXPECT_TRUE((*col)->Search(query, opts).ok());
  EXPECT_TRUE((*col)->Close().ok());
}

// A live node linking a free slot whose (unchecked) level-0 list held ids past the end: the open's
// bounds pass skips free slots, so a search read past the visited table (ASan: heap overflow in
// VisitedTable::TestAndMark). Free slots' lists are now emptied at load.
TEST(CollectionPersistTest, LinkToFreeSlotIsSafeToSearch) {
  const std::string dir = testing::MakeTempDir("persist_free_link");
  WriteDbOpenInput(dir, CorpusFile("db_open/crash-7ab980a999c7d8ca306faa1c5c34fd8623878731"));
  Result<std::unique_ptr<Collection>> col = Collection::Open(At(dir));
  ASSERT_TRUE(col.ok()) << col.status().ToString();
  const std::vector<float> query((*col)->dim(), 0.5f);
  SearchOptions opts;
  opts.k = 4;
  EXPECT_TRUE((*col)->Search(query, opts).ok());
  // The graph still links a free slot: the full check reports it.
  Result<VerifyReport> report = (*col)->Verify();
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), StatusCode::kCorruption) << report.status().ToString();
}

// A quantized collection whose stored range puts the query about FLT_MAX away: preparing the
// int16 query computed inf (or inf x 0 = NaN) levels and cast them to int (UBSan: "-nan is
// outside the range of representable values of type 'int'"). Such levels now saturate.
TEST(CollectionPersistTest, QuantizedQueryOverflowIsDefined) {
  const std::string dir = testing::MakeTempDir("persist_sq_query");
  WriteDbOpenInput(dir, CorpusFile("db_open/crash-78cdfaa70ccb0a1a1eae137d3f6a721578a66f9a"));
  Result<std::unique_ptr<Collection>> col = Collection::Open(At(dir));
  ASSERT_TRUE(col.ok()) << col.status().ToString();
  const std::vector<float> query((*col)->dim(), 0.5f);
  SearchOptions opts;
  opts.k = 4;
  EXPECT_TRUE((*col)->Search(query, opts).ok());
}

// Writes a small database and returns its checkpoint bytes and path.
std::string MakeCheckpoint(const std::string& dir, std::string* path) {
  {
    CollectionOptions o = At(dir);
    o.dim = 2;
    o.m = 2;
    Result<std::unique_ptr<Collection>> col = Collection::Open(o);
    EXPECT_TRUE(col.ok()) << col.status().ToString();
    std::vector<int64_t> ids;
    std::vector<float> vecs;
    for (int i = 0; i < 40; ++i) {
      ids.push_back(i);
      vecs.push_back(static_cast<float>(i));
      vecs.push_back(static_cast<float>(i % 7));
    }
    EXPECT_TRUE((*col)->Add(IdsView::Ints(ids), MatrixView{vecs.data(), ids.size(), 2, 0}).ok());
    EXPECT_TRUE((*col)->Close().ok());
  }
  *path = JoinPath(dir, "checkpoint-000002.adb");
  return testing::ReadAll(*path);
}

// Offset of the index header section (kind 1: slot_end, entry, insert_counter) in a checkpoint.
size_t IndexHeaderOffset(const std::string& file) {
  const uint32_t count = DecodeFixed32(file.data() + 24);
  const size_t table = 32 + DecodeFixed32(file.data() + 28);
  for (uint32_t i = 0; i < count; ++i) {
    const char* entry = file.data() + table + i * 32;
    if (DecodeFixed32(entry) == 1) return static_cast<size_t>(DecodeFixed64(entry + 8));
  }
  ADD_FAILURE() << "no index header section";
  return 0;
}

// Entry points whose level field is out of range or disagrees with the node's level: the first
// overflowed an int in EntryLevel() (UB), the second made searches read missing upper lists.
TEST(CollectionPersistTest, BadEntryPointLevelIsCorruption) {
  const std::string dir = testing::MakeTempDir("persist_entry_level");
  std::string path;
  const std::string good = MakeCheckpoint(dir, &path);
  const size_t at = IndexHeaderOffset(good) + 8;
  const uint64_t entry = DecodeFixed64(good.data() + at);
  const uint64_t slot = entry & 0xffffffffu;
  for (const uint64_t level_field :
       {uint64_t{0x80000000}, uint64_t{0xffffffff}, uint64_t{31}, (entry >> 32) + 1}) {
    std::string bad = good;
    std::string patched;
    PutFixed64(&patched, (level_field << 32) | slot);
    bad.replace(at, 8, patched);
    fuzz::RepairCheckpointChecksums(&bad);
    testing::WriteAll(path, bad);
    CollectionOptions o = At(dir);
    o.read_only = true;
    Result<std::unique_ptr<Collection>> col = Collection::Open(o);
    ASSERT_FALSE(col.ok()) << "level field " << level_field;
    EXPECT_EQ(col.status().code(), StatusCode::kCorruption) << col.status().ToString();
  }
  testing::WriteAll(path, good);
  CollectionOptions o = At(dir);
  o.read_only = true;
  Result<std::unique_ptr<Collection>> col = Collection::Open(o);
  ASSERT_TRUE(col.ok()) << col.status().ToString();
  EXPECT_TRUE((*col)->Verify().ok());
}

// A checkpoint renamed to another sequence number was loaded with the sequence in its header,
// so the open's cleanup deleted it as superseded: the next open found no database at all.
TEST(CollectionPersistTest, RenamedCheckpointIsCorruptionAndKept) {
  const std::string dir = testing::MakeTempDir("persist_renamed");
  {
    CollectionOptions o = At(dir);
    o.dim = 2;
    Result<std::unique_ptr<Collection>> col = Collection::Open(o);
    ASSERT_TRUE(col.ok()) << col.status().ToString();
    const std::vector<int64_t> ids{1, 2};
    const std::vector<float> vecs{0, 1, 1, 0};
    ASSERT_TRUE((*col)->Add(IdsView::Ints(ids), MatrixView{vecs.data(), 2, 2, 0}).ok());
    ASSERT_TRUE((*col)->Close().ok());  // checkpoint-000002.adb holds both records
  }
  storage::Env* env = storage::Env::Default();
  const std::string real = JoinPath(dir, "checkpoint-000002.adb");
  const std::string renamed = JoinPath(dir, "checkpoint-000007.adb");
  ASSERT_TRUE(env->FileExists(real));
  ASSERT_TRUE(env->RenameFile(real, renamed).ok());
  ASSERT_TRUE(
      env->RenameFile(JoinPath(dir, "wal-000002.log"), JoinPath(dir, "wal-000007.log")).ok());

  Result<std::unique_ptr<Collection>> col = Collection::Open(At(dir));
  ASSERT_FALSE(col.ok());
  EXPECT_EQ(col.status().code(), StatusCode::kCorruption) << col.status().ToString();
  EXPECT_NE(col.status().message().find("checkpoint-000002.adb"), std::string::npos)
      << col.status().ToString();
  ASSERT_TRUE(env->FileExists(renamed)) << "the rejected checkpoint must not be deleted";

  // Named back as the message says, the database opens with its records.
  ASSERT_TRUE(env->RenameFile(renamed, real).ok());
  col = Collection::Open(At(dir));
  ASSERT_TRUE(col.ok()) << col.status().ToString();
  EXPECT_EQ((*col)->size(), 2u);
  EXPECT_TRUE((*col)->Verify().ok());
}

}  // namespace
}  // namespace augurdb
