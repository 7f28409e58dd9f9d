// Databases written by older versions still open and are rewritten in the current format at
// their next checkpoint:
// - format 1 (before documents: parameter block 2, WAL with kPut records only) reads as a
//   collection without documents under the "simple" tokenizer and takes documents afterwards;
// - format 2 (before the embedding function's identity: parameter block 3) reads with no
//   identity and stores one afterwards;
// - format 3 (count-prefixed neighbour lists, index sections 3 and 6) is converted to
//   fixed-degree rows on open.
//
// The old files are derived from one this build writes: same sections, the neighbour lists
// rewritten in the old layout, the parameter block cut back and the header's version set (the
// differences between the formats for a collection without documents and without an embedding
// function).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include <augurdb/collection.h>

#include "db/checkpoint_sections.h"
#include "db/db_files.h"
#include "index/image_format.h"
#include "storage/checkpoint.h"
#include "storage/env.h"
#include "support/file_helpers.h"
#include "util/coding.h"
#include "util/crc32c.h"

namespace augurdb {
namespace {

namespace fs = std::filesystem;

// Format 3's lists: [count, ids...] per list, `stride` uint32 per list, from rows of `max` ids
// ended by kNoLink (the collections here use the default m = 16).
std::string LegacyLists(std::span<const char> rows, size_t max, size_t stride) {
  std::string out;
  for (size_t at = 0; at < rows.size(); at += max * 4) {
    std::vector<uint32_t> list(stride, 0);
    for (size_t j = 0; j < max; ++j) {
      const uint32_t id = DecodeFixed32(rows.data() + at + j * 4);
      if (id == index::kNoLink) break;
      list[1 + list[0]++] = id;
    }
    out.append(reinterpret_cast<const char*>(list.data()), stride * 4);
  }
  return out;
}

// The name of the (one) checkpoint file in `dir`; empty if none.
std::string CheckpointName(const fs::path& dir) {
  std::string checkpoint;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("checkpoint-", 0) == 0) checkpoint = name;
  }
  return checkpoint;
}

// Writes the checkpoint with these sections, then sets the header's format version.
void WriteAs(const fs::path& dir, const std::string& name, uint64_t seq, const std::string& meta,
             const std::vector<uint32_t>& kinds, const std::vector<std::string>& payloads,
             uint32_t format) {
  storage::Env* env = storage::Env::Default();
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

// Rewrites checkpoint `name` in `dir` as `format` (1, 2 or 3) with its parameter block (2, 3 or
// 4) and count-prefixed neighbour lists.
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
    constexpr size_t kM = 16;
    kinds.push_back(index::image_format::kLinks0);
    payloads.push_back(LegacyLists((*file)->section(index::image_format::kLinks0Rows), 2 * kM,
                                   index::LegacyLinks0Stride(kM)));
    kinds.push_back(index::image_format::kUpperLinks);
    payloads.push_back(
        LegacyLists((*file)->section(index::image_format::kUpperRows), kM, 1 + kM));
  }
  ASSERT_EQ(DecodeFixed32(meta.data()), 4u);
  if (format <= 2) {
    // The block ends with the embedding function: a fixed32 length, 0 (none stored).
    ASSERT_EQ(DecodeFixed32(meta.data() + meta.size() - 4), 0u);
    meta.resize(meta.size() - 4);
    meta[0] = 3;
  }
  if (format == 1) {
    meta.pop_back();  // the tokenizer byte
    meta[0] = 2;
  }
  WriteAs(dir, name, seq, meta, kinds, payloads, format);
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
  const std::string checkpoint = CheckpointName(old);
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
  const std::string checkpoint = CheckpointName(dir);
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

TEST(FormatCompatTest, Format3DatabaseOpensWithItsListsConverted) {
  const fs::path root = testing::MakeTempDir("format_compat3");
  const fs::path live = root / "live", old = root / "old";
  // Enough rows for upper levels and full level-0 lists (m = 16), some deleted.
  constexpr size_t kRows = 600, kDim = 8;
  std::vector<float> vecs(kRows * kDim);
  for (size_t i = 0; i < vecs.size(); ++i) vecs[i] = static_cast<float>((i * 7919) % 1000) / 10;
  std::vector<int64_t> ids(kRows);
  for (size_t i = 0; i < kRows; ++i) ids[i] = static_cast<int64_t>(i);
  std::vector<std::vector<Hit>> before;
  {
    auto col = Collection::Open({.path = live.string(), .dim = kDim});
    ASSERT_TRUE(col.ok());
    ASSERT_TRUE((*col)->Add(IdsView::Ints(ids), {vecs.data(), kRows, kDim, 0}).ok());
    const std::vector<int64_t> gone = {3, 30, 300};
    ASSERT_TRUE((*col)->Delete(IdsView::Ints(gone)).ok());
    ASSERT_TRUE((*col)->Checkpoint().ok());
    for (size_t q = 0; q < 20; ++q) {
      auto hits = (*col)->Search({vecs.data() + q * 29 * kDim, kDim}, {.k = 10, .ef = 64});
      ASSERT_TRUE(hits.ok());
      before.push_back(*hits);
    }
    ASSERT_TRUE((*col)->Close().ok());
    fs::copy(live, old, fs::copy_options::recursive);
  }
  const std::string checkpoint = CheckpointName(old);
  ASSERT_FALSE(checkpoint.empty());
  Downgrade(old, checkpoint, 3);
  {
    auto col = Collection::Open({.path = old.string()});
    ASSERT_TRUE(col.ok()) << col.status().ToString();
    EXPECT_EQ((*col)->size(), kRows - 3);
    ASSERT_TRUE((*col)->Verify().ok());
    // The same graph: every search finds what it found before the downgrade.
    for (size_t q = 0; q < 20; ++q) {
      auto hits = (*col)->Search({vecs.data() + q * 29 * kDim, kDim}, {.k = 10, .ef = 64});
      ASSERT_TRUE(hits.ok());
      ASSERT_EQ(hits->size(), before[q].size());
      for (size_t i = 0; i < hits->size(); ++i) EXPECT_EQ((*hits)[i].id, before[q][i].id);
    }
    ASSERT_TRUE((*col)->Add(IdsView::Ints(std::vector<int64_t>{1000}), {vecs.data(), 1, kDim, 0})
                    .ok());
    ASSERT_TRUE((*col)->Checkpoint().ok());  // written in the current format
  }
  auto col = Collection::Open({.path = old.string(), .read_only = true});
  ASSERT_TRUE(col.ok()) << col.status().ToString();
  EXPECT_EQ((*col)->size(), kRows - 2);
  EXPECT_TRUE((*col)->Verify().ok());
  col->reset();
  std::error_code ec;
  fs::remove_all(root, ec);
}

}  // namespace
}  // namespace augurdb
