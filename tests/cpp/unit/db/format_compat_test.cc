// Databases written before documents existed (checkpoint format 1, parameter block 2, WAL with
// kPut records only) still open, read as collections without documents under the "simple"
// tokenizer, take documents afterwards and are rewritten as format 2 at their next checkpoint.
//
// The format-1 file is derived from one this build writes: same sections, the parameter block
// cut back to version 2 and the header's version set to 1 (the two differences between the
// formats for a collection without documents).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include <augurdb/collection.h>

#include "db/checkpoint_sections.h"
#include "db/db_files.h"
#include "storage/checkpoint.h"
#include "storage/env.h"
#include "support/file_helpers.h"
#include "util/coding.h"
#include "util/crc32c.h"

namespace augurdb {
namespace {

namespace fs = std::filesystem;

// Rewrites checkpoint `name` in `dir` as format 1 with a version-2 parameter block.
void DowngradeToFormat1(const fs::path& dir, const std::string& name) {
  storage::Env* env = storage::Env::Default();
  std::vector<std::string> payloads;
  std::vector<uint32_t> kinds;
  std::string meta;
  uint64_t seq = 0;
  {
    auto file = storage::CheckpointFile::Open(env, (dir / name).string());
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    seq = (*file)->sequence();
    meta = std::string((*file)->meta());
    for (uint32_t kind = 1; kind <= 12; ++kind) {  // format 1 had no kinds past 12
      const std::span<char> bytes = (*file)->section(kind);
      if (bytes.empty()) continue;
      kinds.push_back(kind);
      payloads.emplace_back(bytes.data(), bytes.size());
    }
  }
  ASSERT_EQ(DecodeFixed32(meta.data()), 3u);
  meta.pop_back();  // the tokenizer byte
  meta[0] = 2;
  std::vector<storage::SectionSource> sections;
  for (size_t i = 0; i < kinds.size(); ++i) sections.push_back({kinds[i], {payloads[i]}});
  ASSERT_TRUE(storage::WriteCheckpointFile(env, dir.string(), name, seq, meta, sections).ok());
  std::string bytes = testing::ReadAll((dir / name).string());
  ASSERT_EQ(DecodeFixed32(bytes.data() + 8), storage::kCheckpointFormatVersion);
  std::string prefix = bytes.substr(0, 8);
  PutFixed32(&prefix, 1);
  PutFixed32(&prefix, crc32c::Mask(crc32c::Value(prefix.data(), 12)));
  bytes.replace(0, 16, prefix);
  testing::WriteAll((dir / name).string(), bytes);
}

TEST(FormatCompatTest, Format1DatabaseOpensAndTakesDocuments) {
  const fs::path root = testing::MakeTempDir("format_compat");
  const fs::path live = root / "live", old = root / "old";
  std::vector<float> vecs(20 * 4);
  for (size_t i = 0; i < vecs.size(); ++i) vecs[i] = static_cast<float>(i % 7) + 0.01f * i;
  std::vector<int64_t> ids(20);
  for (int64_t i = 0; i < 20; ++i) ids[i] = i;
  {
    auto col = Collection::Open({.path = live.string(), .dim = 4});
    ASSERT_TRUE(col.ok());
    const std::vector<Metadata> meta(10, Metadata{{"n", Value(int64_t{1})}});
    ASSERT_TRUE((*col)->Add(IdsView::Ints({ids.data(), 10}), {vecs.data(), 10, 4, 0}, meta).ok());
    ASSERT_TRUE((*col)->Checkpoint().ok());
    // These stay in the WAL as kPut records, the only put type format 1 had.
    ASSERT_TRUE((*col)->Add(IdsView::Ints({ids.data() + 10, 10}), {vecs.data() + 40, 10, 4, 0}).ok());
    ASSERT_TRUE((*col)->Flush().ok());
    fs::copy(live, old, fs::copy_options::recursive);
    fs::remove(old / "LOCK");
  }
  std::string checkpoint;
  for (const auto& entry : fs::directory_iterator(old)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("checkpoint-", 0) == 0) checkpoint = name;
  }
  ASSERT_FALSE(checkpoint.empty());
  DowngradeToFormat1(old, checkpoint);

  {
    auto col = Collection::Open({.path = old.string()});
    ASSERT_TRUE(col.ok()) << col.status().ToString();
    EXPECT_EQ((*col)->size(), 20u);
    EXPECT_EQ((*col)->Stats().tokenizer, "simple");
    EXPECT_EQ((*col)->Stats().documents, 0u);
    EXPECT_EQ(*(*col)->Count(R"({"n": 1})"), 10u);
    const std::vector<int64_t> one = {99};
    const std::vector<std::optional<std::string>> docs = {"a new document"};
    ASSERT_TRUE((*col)->Add(IdsView::Ints(one), {vecs.data(), 1, 4, 0}, {}, docs).ok());
    ASSERT_TRUE((*col)->Verify().ok());
  }  // close: checkpoint in format 2
  auto col = Collection::Open({.path = old.string()});
  ASSERT_TRUE(col.ok()) << col.status().ToString();
  EXPECT_EQ((*col)->size(), 21u);
  auto hits = (*col)->SearchText("document", {});
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ(std::get<int64_t>((*hits)[0].id), 99);
  col->reset();
  std::error_code ec;
  fs::remove_all(root, ec);
}

}  // namespace
}  // namespace augurdb
