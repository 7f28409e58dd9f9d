// Databases written by older versions still open and are rewritten in the current format at
// their next checkpoint:
// - format 1 (before documents: parameter block 2, WAL with kPut records only) reads as a
//   collection without documents under the "simple" tokenizer and takes documents afterwards;
// - format 2 (before the embedding function's identity: parameter block 3) reads with no
//   identity and stores one afterwards.
//
// The old files are derived from one this build writes: same sections, the parameter block cut
// back and the header's version set (the differences between the formats for a collection
// without documents and without an embedding function).
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

// Rewrites checkpoint `name` in `dir` as `format` (1 or 2) with its parameter block (2 or 3).
void Downgrade(const fs::path& dir, const std::string& name, uint32_t format) {
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
    const uint32_t last_kind = format == 1 ? 12 : 14;  // format 1 had no kinds past 12
    for (uint32_t kind = 1; kind <= last_kind; ++kind) {
      const std::span<char> bytes = (*file)->section(kind);
      if (bytes.empty()) continue;
      kinds.push_back(kind);
      payloads.emplace_back(bytes.data(), bytes.size());
    }
  }
  ASSERT_EQ(DecodeFixed32(meta.data()), 4u);
  // The block ends with the embedding function: a fixed32 length, 0 (none stored).
  ASSERT_EQ(DecodeFixed32(meta.data() + meta.size() - 4), 0u);
  meta.resize(meta.size() - 4);
  meta[0] = 3;
  if (format == 1) {
    meta.pop_back();  // the tokenizer byte
    meta[0] = 2;
  }
  std::vector<storage::SectionSource> sections;
  for (size_t i = 0; i < kinds.size(); ++i) sections.push_back({kinds[i], {payloads[i]}});
  ASSERT_TRUE(storage::WriteCheckpointFile(env, dir.string(), name, seq, meta, sections).ok());
  std::string bytes = testing::ReadAll((dir / name).string());
  ASSERT_EQ(DecodeFixed32(bytes.data() + 8), storage::kCheckpointFormatVersion);
  std::string prefix = bytes.substr(0, 8);
  PutFixed32(&prefix, format);
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
  Downgrade(old, checkpoint, 1);

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

TEST(FormatCompatTest, Format2DatabaseOpensAndStoresAnEmbeddingFunction) {
  const fs::path root = testing::MakeTempDir("format_compat2");
  const fs::path dir = root / "db";
  const std::vector<float> vecs = {1, 0, 0, 0, 0, 1, 0, 0};
  const std::vector<int64_t> ids = {1, 2};
  const std::vector<std::optional<std::string>> docs = {"first words", std::nullopt};
  {
    auto col = Collection::Open({.path = dir.string(), .dim = 4});
    ASSERT_TRUE(col.ok());
    ASSERT_TRUE((*col)->Add(IdsView::Ints(ids), {vecs.data(), 2, 4, 0}, {}, docs).ok());
    ASSERT_TRUE((*col)->Close().ok());
  }
  std::string checkpoint;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("checkpoint-", 0) == 0) checkpoint = name;
  }
  ASSERT_FALSE(checkpoint.empty());
  Downgrade(dir, checkpoint, 2);
  const std::string identity = R"({"config": {"dim": 4}, "name": "test"})";
  {
    auto col = Collection::Open({.path = dir.string()});
    ASSERT_TRUE(col.ok()) << col.status().ToString();
    EXPECT_EQ((*col)->size(), 2u);
    EXPECT_EQ((*col)->Stats().documents, 1u);
    EXPECT_EQ((*col)->embedding_function(), "");
    ASSERT_TRUE((*col)->SetEmbeddingFunction(identity).ok());  // checkpoints in format 3
    ASSERT_TRUE((*col)->Verify().ok());
  }
  auto col = Collection::Open({.path = dir.string(), .read_only = true});
  ASSERT_TRUE(col.ok()) << col.status().ToString();
  EXPECT_EQ((*col)->embedding_function(), identity);
  auto hits = (*col)->SearchText("words", {});
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 1u);
  col->reset();
  std::error_code ec;
  fs::remove_all(root, ec);
}

}  // namespace
}  // namespace augurdb
