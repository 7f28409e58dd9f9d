// Writes the seed corpora of the fuzz targets: WAL and checkpoint files produced by the real
// writer (Collection through PosixEnv) for a few small databases that between them use every
// section kind and record type, and a set of filters. Run by hand after a format change:
//   build/fuzz/fuzz/make_corpus fuzz/corpus
// Files are small on purpose (dim <= 8, a dozen records): mutations stay cheap.
#include <stdlib.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include <augurdb/collection.h>

#include "storage/env.h"
#include "util/coding.h"

namespace augurdb::fuzz {
namespace {

storage::Env* env() { return storage::Env::Default(); }

void Check(const Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "make_corpus: %s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  }
}

std::string ReadFile(const std::string& path) {
  auto file = env()->NewRandomAccessFile(path);
  Check(file.status(), path.c_str());
  std::string out((*file)->size(), '\0');
  if (!out.empty()) Check((*file)->Read(0, out.size(), out.data()), path.c_str());
  return out;
}

void WriteFile(const std::string& path, const std::string& bytes) {
  auto file = env()->NewWritableFile(path);
  Check(file.status(), path.c_str());
  Check((*file)->Append(bytes), path.c_str());
  Check((*file)->Close(), path.c_str());
}

// The current checkpoint and WAL of a database directory.
struct Snapshot {
  std::string checkpoint, wal;
};
Snapshot Take(const std::string& dir) {
  auto names = env()->ListDir(dir);
  Check(names.status(), dir.c_str());
  Snapshot out;
  for (const std::string& name : *names) {
    if (name.rfind("checkpoint-", 0) == 0 && name.ends_with(".adb")) {
      out.checkpoint = ReadFile(storage::JoinPath(dir, name));
    } else if (name.rfind("wal-", 0) == 0 && name.ends_with(".log")) {
      out.wal = ReadFile(storage::JoinPath(dir, name));
    }
  }
  return out;
}

class Writer {
 public:
  explicit Writer(std::string out) : out_(std::move(out)) {
    for (const char* sub : {"wal_reader", "checkpoint", "db_open", "filter"}) {
      Check(env()->CreateDir(storage::JoinPath(out_, sub)), sub);
    }
  }
  void Save(const std::string& tag, const Snapshot& snap) {
    if (!snap.wal.empty()) WriteFile(Path("wal_reader", tag + ".log"), snap.wal);
    WriteFile(Path("checkpoint", tag + ".adb"), snap.checkpoint);
    std::string combined;
    PutFixed32(&combined, static_cast<uint32_t>(snap.checkpoint.size()));
    combined += snap.checkpoint;
    combined += snap.wal;
    WriteFile(Path("db_open", tag + ".bin"), combined);
  }
  void SaveFilter(size_t i, const std::string& text) {
    char name[32];
    std::snprintf(name, sizeof(name), "f%03zu.json", i);
    WriteFile(Path("filter", name), text);
  }

 private:
  std::string Path(const char* sub, const std::string& name) const {
    return storage::JoinPath(storage::JoinPath(out_, sub), name);
  }
  std::string out_;
};

// A fresh directory that removes itself (and the database in it) when it goes out of scope.
class TempDir {
 public:
  TempDir() : path_("/tmp/augurdb_corpus_XXXXXX") {
    if (::mkdtemp(path_.data()) == nullptr) Check(Status::IOError("mkdtemp"), "temp dir");
  }
  ~TempDir() {
    if (auto names = env()->ListDir(path_); names.ok()) {
      for (const std::string& name : *names) {
        (void)env()->RemoveFile(storage::JoinPath(path_, name));
      }
    }
    (void)std::remove(path_.c_str());
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::vector<float> Vectors(size_t rows, size_t dim, float base) {
  std::vector<float> out(rows * dim);
  for (size_t i = 0; i < out.size(); ++i) out[i] = base + static_cast<float>((i * 37) % 11) * 0.25f;
  return out;
}

Metadata Meta(size_t i) {
  Metadata m{{"tag", i % 2 == 0 ? "a" : "b"}, {"n", static_cast<int64_t>(i)}};
  if (i % 3 == 0) m["score"] = 0.5 * static_cast<double>(i);
  if (i % 4 == 0) m["list"] = Value::List{"x", static_cast<int64_t>(i), true};
  if (i % 5 == 0) m["none"] = nullptr;
  return m;
}

// Int ids with metadata: checkpoint with data, then puts, upserts and deletes in the WAL.
void IntIds(Writer& w, Metric metric, Quantization quant, const std::string& tag) {
  const TempDir tmp;
  const std::string& dir = tmp.path();
  CollectionOptions o;
  o.path = dir;
  o.dim = 4;
  o.metric = metric;
  o.quantization = quant;
  o.m = 4;
  o.ef_construction = 16;
  o.threads = 1;
  auto col = Collection::Open(o);
  Check(col.status(), "open");
  w.Save(tag + "_new", Take(dir));
  std::vector<int64_t> ids(12);
  std::vector<Metadata> meta;
  for (size_t i = 0; i < ids.size(); ++i) {
    ids[i] = static_cast<int64_t>(i * 7 + 1);
    meta.push_back(Meta(i));
  }
  std::vector<float> vecs = Vectors(ids.size(), 4, 0.5f);
  // Documents on most rows (WAL record type 3, checkpoint sections 13 and 14), none on some.
  std::vector<std::optional<std::string>> docs(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i % 4 != 3) docs[i] = "record " + std::to_string(i) + (i % 2 ? " odd caf\xc3\xa9" : " even");
  }
  Check((*col)->Add(IdsView::Ints(ids), MatrixView{vecs.data(), ids.size(), 4, 0}, meta, docs),
        "add");
  w.Save(tag + "_wal", Take(dir));
  Check((*col)->Checkpoint(), "checkpoint");
  std::vector<int64_t> more{100, 7 * 2 + 1};
  std::vector<float> more_vecs = Vectors(2, 4, -1.0f);
  const std::vector<std::optional<std::string>> more_docs = {"upserted", std::nullopt};
  Check((*col)->Upsert(IdsView::Ints(more), MatrixView{more_vecs.data(), 2, 4, 0}, {}, more_docs),
        "upsert");
  std::vector<int64_t> gone{1, 8, 12345};
  Check((*col)->Delete(IdsView::Ints(gone)).status(), "delete");
  Check((*col)->Flush(), "flush");
  w.Save(tag + "_mixed", Take(dir));
  Check((*col)->Checkpoint(), "checkpoint");
  w.Save(tag + "_deleted", Take(dir));
  Check((*col)->Compact(), "compact");
  Check((*col)->Checkpoint(), "checkpoint");
  w.Save(tag + "_compacted", Take(dir));
}

// String ids, no metadata, created without a dim (the first logged batch fixes it).
void StringIds(Writer& w) {
  const TempDir tmp;
  const std::string& dir = tmp.path();
  CollectionOptions o;
  o.path = dir;
  o.m = 3;
  o.ef_construction = 8;
  o.threads = 1;
  auto col = Collection::Open(o);
  Check(col.status(), "open");
  w.Save("str_nodim", Take(dir));
  std::vector<std::string> ids{"alpha", "b", "caf\xc3\xa9", "delta", "e", "f"};
  std::vector<float> vecs = Vectors(ids.size(), 3, 1.0f);
  Check((*col)->Add(IdsView::Strings(ids), MatrixView{vecs.data(), ids.size(), 3, 0}), "add");
  std::vector<std::string> gone{"e"};
  Check((*col)->Delete(IdsView::Strings(gone)).status(), "delete");
  Check((*col)->Flush(), "flush");
  w.Save("str_wal", Take(dir));
  Check((*col)->Checkpoint(), "checkpoint");
  w.Save("str_ckpt", Take(dir));
}

const char* const kFilters[] = {
    "{}",
    R"({"tag": "a"})",
    R"({"tag": {"$eq": "b"}})",
    R"({"tag": {"$ne": "a"}})",
    R"({"n": {"$gt": 3}})",
    R"({"n": {"$gte": 2, "$lt": 9}})",
    R"({"n": {"$lte": 2.5}})",
    R"({"score": {"$gt": -1e308, "$lte": 1e308}})",
    R"({"n": {"$in": [1, 2.0, "3", null, true]}})",
    R"({"n": {"$nin": []}})",
    R"({"tag": {"$in": []}})",
    R"({"list": {"$contains": "x"}})",
    R"({"list": {"$contains": 4}})",
    R"({"none": null})",
    R"({"none": {"$exists": true}})",
    R"({"missing": {"$exists": false}})",
    R"({"$and": [{"tag": "a"}, {"n": {"$gt": 1}}]})",
    R"({"$or": [{"tag": "b"}, {"score": {"$lt": 1}}]})",
    R"({"$not": {"tag": "a"}})",
    R"({"$and": [{"$or": [{"n": 1}, {"n": 2}]}, {"$not": {"list": {"$contains": true}}}]})",
    R"({"tag": "a", "n": {"$ne": 4}})",
    R"({"genre": {"$gt": "m"}})",
    R"({"genre": {"$lt": "o", "$gte": ""}})",
    R"({"ok": true})",
    R"({"ok": {"$ne": false}})",
    R"({"year": 2020})",
    R"({"year": {"$gte": 2020.0}})",
    R"({"a.b": "dotted"})",
    R"({"tags": "a"})",
    R"({"tags": {"$in": ["x", 1]}})",
    R"({"tags": {"$nin": ["a"]}})",
    R"({"n": -1})",
    R"({"year": 9223372036854775807})",
    R"({"year": -9223372036854775808})",
    R"({"score": -0.0})",
    R"({"score": 1e400})",
    R"({"genre": "caf\u00e9"})",
    R"({"genre": "\ud83d\ude00"})",
    R"({"$or": [{"$and": [{"$not": {"$or": [{"n": 3}]}}]}]})",
    R"({"n": {"$gt": "a"}})",
    R"({"n": {"$gt": [1]}})",
    R"({"$and": []})",
    R"({"$foo": 1})",
    R"({"tag": {"$eq": "a", "$ne": "b", "$exists": true}})",
    R"([1, 2])",
    R"({"a": 1,})",
    R"({"a": 01})",
    "{\"a\": \"\x80\"}",
    R"({"a":)",
};

}  // namespace
}  // namespace augurdb::fuzz

int main(int argc, char** argv) {
  using namespace augurdb::fuzz;
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR (e.g. fuzz/corpus)\n", argv[0]);
    return 2;
  }
  Writer w(argv[1]);
  IntIds(w, augurdb::Metric::kL2, augurdb::Quantization::kNone, "int_l2");
  IntIds(w, augurdb::Metric::kCosine, augurdb::Quantization::kNone, "int_cos");
  IntIds(w, augurdb::Metric::kInnerProduct, augurdb::Quantization::kSq8, "int_ip_sq8");
  // L2 quantized collections also keep per-slot code norms; SQ4 packs nibbles.
  IntIds(w, augurdb::Metric::kL2, augurdb::Quantization::kSq8, "int_l2_sq8");
  IntIds(w, augurdb::Metric::kL2, augurdb::Quantization::kSq4, "int_l2_sq4");
  StringIds(w);
  for (size_t i = 0; i < std::size(kFilters); ++i) w.SaveFilter(i, kFilters[i]);
  return 0;
}
