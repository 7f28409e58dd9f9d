// Persistent collections only: reopen equivalence, vectors on disk, a reader beside a writer,
// stored options, locking, read-only mode, damaged directories and durability levels.
#include <augurdb/collection.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "unit/db/collection_test_support.h"

namespace augurdb {
namespace {

using namespace augurdb::testing;  // NOLINT(google-build-using-namespace)

class DiskTest : public ::testing::Test {
 protected:
  CollectionOptions Options() const {
    CollectionOptions o;
    o.path = dir_.Sub("db");
    o.dim = kDim;
    o.threads = 1;  // one thread + same seed = same graph, also when the WAL is replayed
    return o;
  }
  TempDir dir_;
};

// A mix of adds (with and without metadata), upserts and deletes: 340 records remain.
void Churn(Collection& col, bool strings) {
  const std::vector<float> data = RandomVectors(400, kDim, 40);
  std::vector<std::string> sids;
  for (int i = 0; i < 400; ++i) sids.push_back("doc-" + std::to_string(i));
  std::vector<Metadata> meta;
  for (int i = 0; i < 400; ++i) meta.push_back(RichMetadata(i));
  const std::vector<int64_t> iids = Iota(0, 400);
  auto view = [&](size_t first, size_t n) {
    return strings ? IdsView::Strings(std::span<const std::string>(sids).subspan(first, n))
                   : IdsView::Ints(std::span<const int64_t>(iids).subspan(first, n));
  };
  auto rows = [&](size_t first, size_t n) {
    return MatrixView{data.data() + first * kDim, n, kDim, 0};
  };
  ASSERT_OK(col.Add(view(0, 300), rows(0, 300), std::span<const Metadata>(meta).subspan(0, 300)));
  ASSERT_OK(col.Add(view(300, 50), rows(300, 50)));
  const std::vector<float> moved = RandomVectors(40, kDim, 41);
  ASSERT_OK(col.Upsert(view(100, 40), MatrixView{moved.data(), 40, kDim, 0}));
  ASSERT_TRUE(IsOk(col.Delete(view(200, 60))));
  ASSERT_OK(
      col.Upsert(view(350, 50), rows(350, 50), std::span<const Metadata>(meta).subspan(350, 50)));
}

void ExpectSameResults(const BatchResults& a, const BatchResults& b) {
  EXPECT_EQ(a.rows, b.rows);
  EXPECT_EQ(a.k, b.k);
  EXPECT_EQ(a.int_ids, b.int_ids);
  EXPECT_EQ(a.string_ids, b.string_ids);
  ASSERT_EQ(a.distances.size(), b.distances.size());
  for (size_t i = 0; i < a.distances.size(); ++i) {
    // Bitwise identical, infinities included.
    EXPECT_EQ(std::memcmp(&a.distances[i], &b.distances[i], sizeof(float)), 0) << i;
  }
}

TEST_F(DiskTest, ReopenReturnsIdenticalSearchBatch) {
  for (bool strings : {false, true}) {
    for (Durability durability : {Durability::kSync, Durability::kBatch, Durability::kNone}) {
      SCOPED_TRACE(std::string(strings ? "string" : "int") + " ids, durability " +
                   std::to_string(static_cast<int>(durability)));
      TempDir local;
      CollectionOptions o = Options();
      o.path = local.Sub("db");
      o.durability = durability;
      const std::vector<float> queries = RandomVectors(25, kDim, 42);
      const SearchOptions so{.k = 12, .ef = 40};
      BatchResults before;
      Metadata meta_before;
      {
        auto col = OpenOrFail(o);
        ASSERT_NE(col, nullptr);
        Churn(*col, strings);
        if (HasFailure()) return;
        auto r = col->SearchBatch(View(queries, kDim), so);
        ASSERT_OK(r);
        before = std::move(r).value();
        ASSERT_OK(col->Close());
      }
      {
        auto col = OpenOrFail(o);  // writer
        ASSERT_NE(col, nullptr);
        EXPECT_EQ(col->size(), 340u);
        auto r = col->SearchBatch(View(queries, kDim), so);
        ASSERT_OK(r);
        ExpectSameResults(before, *r);
        // Options left 0 come back from the database.
        const CollectionStats st = col->Stats();
        EXPECT_EQ(st.m, 16u);
        EXPECT_EQ(st.id_kind, strings ? IdKind::kString : IdKind::kInt);
      }  // the destructor closes
      {
        CollectionOptions ro = o;
        ro.read_only = true;
        ro.dim = 0;
        auto col = OpenOrFail(ro);
        ASSERT_NE(col, nullptr);
        EXPECT_TRUE(col->read_only());
        EXPECT_EQ(col->dim(), kDim);
        auto r = col->SearchBatch(View(queries, kDim), so);
        ASSERT_OK(r);
        ExpectSameResults(before, *r);
      }
    }
  }
}

// vectors_on_disk: the fp32 rows move from memory to the checkpoint mapping at each checkpoint
// and after reopen; searches, Get, churn (reused slots are written into the private mapping),
// growth, Verify and a second reopen all behave as with the vectors in memory.
TEST_F(DiskTest, VectorsOnDiskServeTheSameResults) {
  for (Quantization q : {Quantization::kSq8, Quantization::kSq4}) {
    SCOPED_TRACE(std::string(QuantizationName(q)));
    TempDir local;
    CollectionOptions mem = Options();
    mem.path = local.Sub("mem");
    mem.quantization = q;
    CollectionOptions disk = mem;
    disk.path = local.Sub("disk");
    disk.vectors_on_disk = true;
    const std::vector<float> queries = RandomVectors(25, kDim, 42);
    const SearchOptions so{.k = 12, .ef = 40};
    auto a = OpenOrFail(mem);
    auto b = OpenOrFail(disk);
    ASSERT_NE(a, nullptr);
    ASSERT_NE(b, nullptr);
    Churn(*a, false);
    Churn(*b, false);
    if (HasFailure()) return;
    const size_t in_memory = b->Stats().memory_bytes;
    EXPECT_EQ(b->Stats().mapped_vector_bytes, 0u);  // nothing checkpointed yet
    ASSERT_OK(b->Checkpoint());
    const CollectionStats after = b->Stats();
    EXPECT_GT(after.mapped_vector_bytes, 340 * kDim * sizeof(float));
    EXPECT_LT(after.memory_bytes, in_memory);
    auto ra = a->SearchBatch(View(queries, kDim), so);
    auto rb = b->SearchBatch(View(queries, kDim), so);
    ASSERT_OK(ra);
    ASSERT_OK(rb);
    ExpectSameResults(*ra, *rb);
    // Writes after the checkpoint: deletes free slots, compaction reclaims them, adds reuse
    // them (rows inside the mapping) and grow past it (rows in memory).
    const std::vector<float> more = RandomVectors(600, kDim, 43);
    for (Collection* c : {a.get(), b.get()}) {
      ASSERT_TRUE(IsOk(c->Delete(IdsView::Ints(Iota(0, 50)))));
      ASSERT_OK(c->Compact());
      ASSERT_OK(c->Add(IdsView::Ints(Iota(1000, 600)), View(more, kDim)));
    }
    ra = a->SearchBatch(View(queries, kDim), so);
    rb = b->SearchBatch(View(queries, kDim), so);
    ASSERT_OK(ra);
    ASSERT_OK(rb);
    ExpectSameResults(*ra, *rb);
    auto got = b->Get(IdsView::Ints(Iota(1001, 1)));
    ASSERT_OK(got);
    ASSERT_TRUE((*got)[0].has_value());
    EXPECT_EQ((*got)[0]->vector, std::vector<float>(more.begin() + kDim, more.begin() + 2 * kDim));
    ASSERT_OK(b->Verify());
    ASSERT_OK(a->Close());
    ASSERT_OK(b->Close());
    b = OpenOrFail(disk);  // reopen: every row from the checkpoint mapping
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->size(), 890u);
    EXPECT_GT(b->Stats().mapped_vector_bytes, 890 * kDim * sizeof(float));
    rb = b->SearchBatch(View(queries, kDim), so);
    ASSERT_OK(rb);
    ExpectSameResults(*ra, *rb);
    ASSERT_OK(b->Verify());
  }
}

TEST_F(DiskTest, VectorsOnDiskNeedAPathAndCodes) {
  CollectionOptions o = Options();
  o.vectors_on_disk = true;
  o.quantization = Quantization::kNone;
  EXPECT_EQ(Collection::Open(o).status().code(), StatusCode::kInvalidArgument);
  o.quantization = Quantization::kSq8;
  o.path.clear();
  EXPECT_EQ(Collection::Open(o).status().code(), StatusCode::kInvalidArgument);
  // A stored fp32 collection cannot be reopened with its vectors on disk.
  CollectionOptions plain = Options();
  ASSERT_OK(OpenOrFail(plain)->Close());
  plain.vectors_on_disk = true;
  EXPECT_EQ(Collection::Open(plain).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(DiskTest, ReaderReplaysTheWalOfAnOpenWriter) {
  // The writer keeps its changes in the WAL (no checkpoint yet); a read-only open beside it
  // replays them and must answer exactly as the writer does.
  CollectionOptions o = Options();
  o.durability = Durability::kSync;
  auto writer = OpenOrFail(o);
  ASSERT_NE(writer, nullptr);
  Churn(*writer, false);
  ASSERT_FALSE(HasFailure());
  EXPECT_GT(writer->Stats().wal_bytes, 0u);
  const std::vector<float> queries = RandomVectors(20, kDim, 43);
  auto want = writer->SearchBatch(View(queries, kDim), {.k = 8});
  ASSERT_OK(want);

  CollectionOptions ro = o;
  ro.read_only = true;
  auto reader = OpenOrFail(ro);
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(reader->size(), writer->size());
  auto got = reader->SearchBatch(View(queries, kDim), {.k = 8});
  ASSERT_OK(got);
  ExpectSameResults(*want, *got);
  auto rec = reader->Get(IdsView::Ints(Iota(0, 1)));
  ASSERT_OK(rec);
  ASSERT_TRUE((*rec)[0].has_value());
  EXPECT_EQ((*rec)[0]->metadata, RichMetadata(0));
  EXPECT_OK(reader->Close());
  EXPECT_OK(writer->Close());
}

TEST_F(DiskTest, ReopenChecksStoredOptions) {
  CollectionOptions o = Options();
  o.metric = Metric::kInnerProduct;
  o.m = 12;
  o.ef_construction = 50;
  o.ef_search = 30;
  {
    auto col = OpenOrFail(o);
    ASSERT_NE(col, nullptr);
    const std::vector<float> data = RandomVectors(5, kDim, 44);
    ASSERT_OK(col->Add(IdsView::Ints(Iota(0, 5)), View(data, kDim)));
  }
  CollectionOptions other = o;
  other.metric = Metric::kL2;
  EXPECT_CODE(Collection::Open(other), kInvalidArgument) << "metric";
  other = o;
  other.dim = kDim + 1;
  EXPECT_CODE(Collection::Open(other), kDimensionMismatch) << "dim";
  other = o;
  other.m = 16;
  EXPECT_CODE(Collection::Open(other), kInvalidArgument) << "m";
  other = o;
  other.ef_construction = 51;
  EXPECT_CODE(Collection::Open(other), kInvalidArgument) << "ef_construction";
  // Unset options take the stored values; ef_search may change per session.
  CollectionOptions unset;
  unset.path = o.path;
  auto col = OpenOrFail(unset);
  ASSERT_NE(col, nullptr);
  EXPECT_EQ(col->metric(), Metric::kInnerProduct);
  EXPECT_EQ(col->dim(), kDim);
  CollectionStats st = col->Stats();
  EXPECT_EQ(st.m, 12u);
  EXPECT_EQ(st.ef_construction, 50u);
  EXPECT_EQ(st.ef_search, 30u);
  ASSERT_OK(col->Close());
  other = o;
  other.ef_search = 99;
  col = OpenOrFail(other);
  ASSERT_NE(col, nullptr);
  EXPECT_EQ(col->Stats().ef_search, 99u);
  EXPECT_EQ(col->size(), 5u);
}

TEST_F(DiskTest, SecondWriterIsLocked) {
  auto first = OpenOrFail(Options());
  ASSERT_NE(first, nullptr);
  Result<std::unique_ptr<Collection>> second = Collection::Open(Options());
  EXPECT_CODE(second, kLocked);
  if (!second.ok()) {
    // The message names the database so the user knows what is held.
    EXPECT_NE(second.status().message().find(Options().path), std::string::npos)
        << second.status().ToString();
  }
  // Readers need no lock.
  CollectionOptions ro = Options();
  ro.read_only = true;
  EXPECT_OK(Collection::Open(ro));
  ASSERT_OK(first->Close());
  EXPECT_OK(Collection::Open(Options()));
  // The destructor releases the lock too.
  first = OpenOrFail(Options());
  ASSERT_NE(first, nullptr);
  first.reset();
  EXPECT_OK(Collection::Open(Options()));
}

TEST_F(DiskTest, ReadOnlyOfMissingDatabaseIsNotFound) {
  CollectionOptions ro = Options();
  ro.read_only = true;
  EXPECT_CODE(Collection::Open(ro), kNotFound);
  EXPECT_FALSE(fs::exists(ro.path)) << "a read-only open created the directory";
  fs::create_directories(ro.path);
  EXPECT_CODE(Collection::Open(ro), kNotFound) << "empty directory";
  ro.path = dir_.Sub("no/such/parent");
  EXPECT_CODE(Collection::Open(ro), kNotFound);
}

TEST_F(DiskTest, ReadOnlyRejectsWrites) {
  {
    auto col = OpenOrFail(Options());
    ASSERT_NE(col, nullptr);
    const std::vector<float> data = RandomVectors(3, kDim, 45);
    ASSERT_OK(col->Add(IdsView::Ints(Iota(0, 3)), View(data, kDim)));
  }
  CollectionOptions ro = Options();
  ro.read_only = true;
  auto col = OpenOrFail(ro);
  ASSERT_NE(col, nullptr);
  const std::vector<float> data = RandomVectors(3, kDim, 46);
  EXPECT_CODE(col->Add(IdsView::Ints(Iota(10, 3)), View(data, kDim)), kNotSupported);
  EXPECT_CODE(col->Upsert(IdsView::Ints(Iota(0, 3)), View(data, kDim)), kNotSupported);
  EXPECT_CODE(col->Delete(IdsView::Ints(Iota(0, 3))), kNotSupported);
  EXPECT_CODE(col->Compact(), kNotSupported);
  EXPECT_CODE(col->Checkpoint(), kNotSupported);
  EXPECT_CODE(col->SetEmbeddingFunction(R"({"name": "x"})"), kNotSupported);
  EXPECT_OK(col->Flush());  // nothing to make durable
  EXPECT_EQ(col->size(), 3u);
  auto hits = col->Search(Row(data, kDim, 0), {.k = 3});
  ASSERT_OK(hits);
  EXPECT_EQ(hits->size(), 3u);
  EXPECT_OK(col->Close());
  // Nothing changed on disk.
  auto again = OpenOrFail(Options());
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->size(), 3u);
}

// The identity is durable when SetEmbeddingFunction returns (a checkpoint, not the WAL): a
// crash right after it (no Close) keeps it, as a reader opened beside the writer sees.
TEST_F(DiskTest, EmbeddingFunctionIdentityIsStoredAndChecked) {
  const std::string identity = R"({"name": "onnx", "config": {"model_sha256": "00ff"}})";
  auto col = OpenOrFail(Options());
  ASSERT_NE(col, nullptr);
  EXPECT_EQ(col->embedding_function(), "");
  for (const char* bad : {"not json", "[1, 2]", "\"name\"", "{\"name\": "}) {
    EXPECT_CODE(col->SetEmbeddingFunction(bad), kInvalidArgument) << bad;
  }
  EXPECT_CODE(col->SetEmbeddingFunction("{\"pad\": \"" + std::string(70000, 'x') + "\"}"),
              kInvalidArgument);
  EXPECT_EQ(col->embedding_function(), "");
  const std::vector<float> data = RandomVectors(3, kDim, 47);
  ASSERT_OK(col->Add(IdsView::Ints(Iota(0, 3)), View(data, kDim)));
  ASSERT_OK(col->SetEmbeddingFunction(identity));
  EXPECT_EQ(col->embedding_function(), identity);
  CollectionOptions ro = Options();
  ro.read_only = true;
  {
    auto reader = OpenOrFail(ro);
    ASSERT_NE(reader, nullptr);
    EXPECT_EQ(reader->embedding_function(), identity);
    EXPECT_EQ(reader->size(), 3u);
  }
  ASSERT_OK(col->SetEmbeddingFunction(""));  // cleared
  EXPECT_EQ(col->embedding_function(), "");
  ASSERT_OK(col->SetEmbeddingFunction(identity));
  ASSERT_OK(col->Close());
  auto again = OpenOrFail(Options());
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->embedding_function(), identity);
  ASSERT_OK(again->Verify());

  CollectionOptions memory = Options();
  memory.path.clear();
  auto in_memory = OpenOrFail(memory);
  ASSERT_NE(in_memory, nullptr);
  ASSERT_OK(in_memory->SetEmbeddingFunction(identity));
  EXPECT_EQ(in_memory->embedding_function(), identity);
}

TEST_F(DiskTest, ForeignDirectoryIsCorruption) {
  fs::create_directories(Options().path);
  std::ofstream(fs::path(Options().path) / "notes.txt") << "not a database";
  EXPECT_CODE(Collection::Open(Options()), kCorruption);
  EXPECT_TRUE(fs::exists(fs::path(Options().path) / "notes.txt")) << "user file was removed";
}

// The newest checkpoint file in `dir` (whatever its name, it ends in ".adb").
std::optional<fs::path> CheckpointIn(const std::string& dir) {
  std::optional<fs::path> found;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".adb" && (!found || entry.path() > *found)) {
      found = entry.path();
    }
  }
  return found;
}

TEST_F(DiskTest, DamagedCheckpointIsCorruption) {
  {
    auto col = OpenOrFail(Options());
    ASSERT_NE(col, nullptr);
    const std::vector<float> data = RandomVectors(500, kDim, 47);
    ASSERT_OK(col->Add(IdsView::Ints(Iota(0, 500)), View(data, kDim)));
  }
  const std::optional<fs::path> file = CheckpointIn(Options().path);
  ASSERT_TRUE(file.has_value());
  const uintmax_t size = fs::file_size(*file);
  const fs::path saved = dir_.path() / "saved.adb";
  fs::copy_file(*file, saved);

  // A flipped bit in the middle (vector data).
  {
    std::fstream f(*file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(size / 2));
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x10);
    f.seekp(static_cast<std::streamoff>(size / 2));
    f.write(&c, 1);
  }
  Result<std::unique_ptr<Collection>> opened = Collection::Open(Options());
  EXPECT_CODE(opened, kCorruption) << "bit flip";
  if (!opened.ok()) {
    EXPECT_NE(opened.status().message().find(file->filename().string()), std::string::npos)
        << "the message should name the file: " << opened.status().ToString();
  }
  CollectionOptions ro = Options();
  ro.read_only = true;
  EXPECT_CODE(Collection::Open(ro), kCorruption) << "bit flip, read-only";

  // Truncated to half.
  fs::copy_file(saved, *file, fs::copy_options::overwrite_existing);
  fs::resize_file(*file, size / 2);
  EXPECT_CODE(Collection::Open(Options()), kCorruption) << "truncated";

  // Restored: opens again with every record.
  fs::copy_file(saved, *file, fs::copy_options::overwrite_existing);
  auto col = OpenOrFail(Options());
  ASSERT_NE(col, nullptr);
  EXPECT_EQ(col->size(), 500u);
}

TEST_F(DiskTest, WriterOpenUnderMissingParent) {
  // The header reserves kNotFound for read_only opens; a writer either creates what it needs
  // or reports kIOError naming the path.
  CollectionOptions o = Options();
  o.path = dir_.Sub("missing/parent/db");
  Result<std::unique_ptr<Collection>> col = Collection::Open(o);
  if (!col.ok()) {
    EXPECT_CODE(col, kIOError);
    EXPECT_NE(col.status().message().find("missing"), std::string::npos) << col.status().ToString();
  }
}

TEST_F(DiskTest, PathThatIsAFileIsIOError) {
  const std::string file = dir_.Sub("plain_file");
  std::ofstream(file) << "x";
  CollectionOptions o = Options();
  o.path = file;
  EXPECT_CODE(Collection::Open(o), kIOError);
}

TEST_F(DiskTest, AutomaticCheckpointsAndDurabilityLevels) {
  for (Durability durability : {Durability::kSync, Durability::kBatch, Durability::kNone}) {
    SCOPED_TRACE(static_cast<int>(durability));
    TempDir local;
    CollectionOptions o = Options();
    o.path = local.Sub("db");
    o.durability = durability;
    o.checkpoint_wal_bytes = 4096;
    const std::vector<float> data = RandomVectors(200, kDim, 48);
    {
      auto col = OpenOrFail(o);
      ASSERT_NE(col, nullptr);
      const uint64_t first = col->Stats().checkpoint_sequence;
      for (size_t i = 0; i < 200; i += 20) {
        ASSERT_OK(col->Add(IdsView::Ints(Iota(static_cast<int64_t>(i), 20)),
                           MatrixView{data.data() + i * kDim, 20, kDim, 0}));
      }
      const CollectionStats st = col->Stats();
      EXPECT_GT(st.checkpoint_sequence, first + 1) << "the WAL limit did not trigger checkpoints";
      EXPECT_LE(st.wal_bytes, 4096u + 20 * kDim * sizeof(float) + 4096u);
      ASSERT_OK(col->Flush());
    }
    auto col = OpenOrFail(o);
    ASSERT_NE(col, nullptr);
    EXPECT_EQ(col->size(), 200u);
    auto got = col->Get(IdsView::Ints(Iota(199, 1)));
    ASSERT_OK(got);
    ASSERT_TRUE((*got)[0].has_value());
    EXPECT_EQ((*got)[0]->vector[0], data[199 * kDim]);
  }
}

// A checkpoint of an unchanged collection would rewrite the same snapshot: skipped, but only
// once this process wrote one (the file found at open may be an older format). Compact
// reshapes the index image, so the checkpoint after it is written again.
TEST_F(DiskTest, CheckpointOfUnchangedCollectionIsSkipped) {
  TempDir local;
  CollectionOptions o = Options();
  o.path = local.Sub("db");
  const std::vector<float> data = RandomVectors(20, kDim, 49);
  {
    auto col = OpenOrFail(o);
    ASSERT_NE(col, nullptr);
    ASSERT_OK(col->Add(IdsView::Ints(Iota(0, 20)), MatrixView{data.data(), 20, kDim, 0}));
    ASSERT_OK(col->Close());
  }
  auto col = OpenOrFail(o);
  ASSERT_NE(col, nullptr);
  const uint64_t first = col->Stats().checkpoint_sequence;
  ASSERT_OK(col->Checkpoint());
  EXPECT_EQ(col->Stats().checkpoint_sequence, first + 1);
  ASSERT_OK(col->Checkpoint());
  EXPECT_EQ(col->Stats().checkpoint_sequence, first + 1);
  ASSERT_OK(col->Compact());
  ASSERT_OK(col->Checkpoint());
  EXPECT_EQ(col->Stats().checkpoint_sequence, first + 2);
  ASSERT_OK(col->Delete(IdsView::Ints(Iota(0, 1))).status());
  ASSERT_OK(col->Checkpoint());
  EXPECT_EQ(col->Stats().checkpoint_sequence, first + 3);
}

}  // namespace
}  // namespace augurdb
