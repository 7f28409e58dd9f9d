// AugurDB C++ quickstart: open a database directory, add vectors with integer ids and metadata,
// search, close, reopen and check that the same searches give the same answers.
//
//   quickstart [database-directory]     (default: a fresh directory under the temp dir)
//
// Exit status: 0 on success, 1 on any error or if the reopened database answers differently.
//
// Metadata filters (search restricted by a predicate over metadata, `where=` in Python) are
// not implemented yet: they belong to the metadata-filter issue (src/filter/). Until then this
// example filters nothing; once it lands, a filtered search goes here.
#include <augurdb/collection.h>
#include <augurdb/status.h>
#include <augurdb/version.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace {

constexpr size_t kDim = 16;
constexpr size_t kCount = 1000;
constexpr size_t kQueries = 5;
constexpr size_t kK = 3;

// Deterministic pseudo-random vectors, so every run stores and searches the same data.
std::vector<float> MakeVectors(size_t rows, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> data(rows * kDim);
  for (float& x : data) x = normal(rng);
  return data;
}

std::string ValueToString(const augurdb::Value& v) {
  if (v.is_string()) return "\"" + v.as_string() + "\"";
  if (v.is_int()) return std::to_string(v.as_int());
  if (v.is_double()) return std::to_string(v.as_double());
  if (v.is_bool()) return v.as_bool() ? "true" : "false";
  if (v.is_null()) return "null";
  return "[...]";
}

// Creates the collection and fills it. AUGUR_RETURN_IF_ERROR hands any failure to the caller.
augurdb::Status Fill(augurdb::Collection& col) {
  std::vector<int64_t> ids(kCount);
  std::vector<augurdb::Metadata> metadata(kCount);
  for (size_t i = 0; i < kCount; ++i) {
    ids[i] = static_cast<int64_t>(i) * 10;  // any int64 is a valid id
    metadata[i] = {{"title", "document " + std::to_string(i)},
                   {"year", int64_t{2000} + static_cast<int64_t>(i % 25)},
                   {"score", 0.001 * static_cast<double>(i)}};
  }
  const std::vector<float> vectors = MakeVectors(kCount, 1);
  const augurdb::MatrixView view{vectors.data(), kCount, kDim, 0};
  AUGUR_RETURN_IF_ERROR(col.Add(augurdb::IdsView::Ints(ids), view, metadata));
  return col.Flush();  // already durable under Durability::kSync; shown for completeness
}

// Runs every query through Search (printing the hits) and returns SearchBatch's answer, which
// the caller compares before and after the reopen.
augurdb::Result<augurdb::BatchResults> SearchAll(const augurdb::Collection& col,
                                                 const std::vector<float>& queries,
                                                 const char* label) {
  std::printf("%s: %zu records, dim %zu, metric %s\n", label, col.size(), col.dim(),
              std::string(augurdb::MetricName(col.metric())).c_str());
  for (size_t q = 0; q < kQueries; ++q) {
    const std::span<const float> query(queries.data() + q * kDim, kDim);
    AUGUR_ASSIGN_OR_RETURN(std::vector<augurdb::Hit> hits,
                           col.Search(query, {.k = kK, .include_metadata = true}));
    std::printf("  query %zu:\n", q);
    for (const augurdb::Hit& hit : hits) {
      std::printf("    id %-6lld distance %9.4f  title %s  year %s\n",
                  static_cast<long long>(std::get<int64_t>(hit.id)), hit.distance,
                  ValueToString(hit.metadata.at("title")).c_str(),
                  ValueToString(hit.metadata.at("year")).c_str());
    }
  }
  const augurdb::MatrixView batch{queries.data(), kQueries, kDim, 0};
  return col.SearchBatch(batch, {.k = kK});
}

bool SameResults(const augurdb::BatchResults& a, const augurdb::BatchResults& b) {
  return a.rows == b.rows && a.k == b.k && a.int_ids == b.int_ids && a.distances == b.distances;
}

augurdb::Status Run(const std::string& path) {
  augurdb::CollectionOptions options;
  options.path = path;  // empty would mean in memory only
  options.dim = kDim;
  options.metric = augurdb::Metric::kL2;
  options.durability = augurdb::Durability::kSync;  // every acknowledged write survives a crash

  const std::vector<float> queries = MakeVectors(kQueries, 2);
  augurdb::BatchResults before;
  {
    AUGUR_ASSIGN_OR_RETURN(std::unique_ptr<augurdb::Collection> col,
                           augurdb::Collection::Open(options));
    if (col->size() == 0) AUGUR_RETURN_IF_ERROR(Fill(*col));
    AUGUR_ASSIGN_OR_RETURN(before, SearchAll(*col, queries, "before reopen"));
    AUGUR_RETURN_IF_ERROR(col->Close());  // checkpoint + release the writer lock
  }
  {
    AUGUR_ASSIGN_OR_RETURN(std::unique_ptr<augurdb::Collection> col,
                           augurdb::Collection::Open(options));
    AUGUR_ASSIGN_OR_RETURN(augurdb::BatchResults after, SearchAll(*col, queries, "after reopen"));
    if (!SameResults(before, after)) {
      return augurdb::Status::Internal("the reopened database answered differently");
    }
    const augurdb::CollectionStats stats = col->Stats();
    std::printf("stats: %zu records, %zu bytes in memory, simd %s, checkpoint #%llu\n", stats.count,
                stats.memory_bytes, stats.simd.c_str(),
                static_cast<unsigned long long>(stats.checkpoint_sequence));
    AUGUR_RETURN_IF_ERROR(col->Close());
  }
  return augurdb::Status::OK();
}

}  // namespace

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  std::printf("AugurDB %s (%s)\n", AUGURDB_VERSION_STRING,
              augurdb::GetBuildInfo().compiler.c_str());
  fs::path dir;
  bool remove_after = false;
  if (argc > 1) {
    dir = argv[1];
  } else {
    dir = fs::temp_directory_path() /
          ("augurdb_quickstart_" + std::to_string(std::random_device{}()));
    remove_after = true;
  }
  const augurdb::Status status = Run(dir.string());
  if (remove_after) {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  if (!status.ok()) {
    std::fprintf(stderr, "quickstart failed: %s\n", status.ToString().c_str());
    return 1;
  }
  std::printf("ok: identical results after reopening %s\n", dir.string().c_str());
  return 0;
}
