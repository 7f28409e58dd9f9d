// Cross-language check (issue: both languages read and write the same database directory).
//   interop_tool write DIR N DIM     writes N deterministic vectors (ids 0..N-1, metadata
//                                    {"parity": i % 2}) through the C++ API, closes
//   interop_tool search DIR FILE K   reads queries (raw float32, DIM per row) and prints one line
//                                    of K ids per query, searching with ef=200
// tests/python/test_interop.py drives it against the Python API.
#include <augurdb/collection.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: interop_tool write DIR N DIM | search DIR FILE K\n");
    return 2;
  }
  const std::string mode = argv[1], dir = argv[2];
  augurdb::CollectionOptions options;
  options.path = dir;
  if (mode == "write") {
    const size_t n = std::strtoul(argv[3], nullptr, 10), dim = std::strtoul(argv[4], nullptr, 10);
    options.dim = dim;
    auto col = augurdb::Collection::Open(options);
    if (!col.ok()) {
      std::fprintf(stderr, "%s\n", col.status().ToString().c_str());
      return 1;
    }
    std::vector<float> data(n * dim);
    uint64_t x = 12345;
    for (float& v : data) {
      x = x * 6364136223846793005ULL + 1442695040888963407ULL;
      v = static_cast<float>((x >> 40) % 1000) / 100.0f;
    }
    std::vector<int64_t> ids(n);
    std::vector<augurdb::Metadata> metadata(n);
    for (size_t i = 0; i < n; ++i) {
      ids[i] = static_cast<int64_t>(i);
      metadata[i]["parity"] = augurdb::Value(static_cast<int64_t>(i % 2));
    }
    augurdb::Status s = (*col)->Add(augurdb::IdsView::Ints(ids), {data.data(), n, dim, 0}, metadata);
    if (s.ok()) s = (*col)->Close();
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", s.ToString().c_str());
      return 1;
    }
    return 0;
  }
  if (mode == "search") {
    options.read_only = true;
    auto col = augurdb::Collection::Open(options);
    if (!col.ok()) {
      std::fprintf(stderr, "%s\n", col.status().ToString().c_str());
      return 1;
    }
    const size_t dim = (*col)->dim(), k = std::strtoul(argv[4], nullptr, 10);
    std::ifstream in2(argv[3], std::ios::binary | std::ios::ate);
    const size_t bytes = static_cast<size_t>(in2.tellg());
    std::vector<float> queries(bytes / sizeof(float));
    in2.seekg(0);
    in2.read(reinterpret_cast<char*>(queries.data()), static_cast<std::streamsize>(bytes));
    augurdb::SearchOptions so;
    so.k = k;
    so.ef = 200;
    auto res = (*col)->SearchBatch({queries.data(), queries.size() / dim, dim, 0}, so);
    if (!res.ok()) {
      std::fprintf(stderr, "%s\n", res.status().ToString().c_str());
      return 1;
    }
    for (size_t r = 0; r < res->rows; ++r) {
      for (size_t j = 0; j < k; ++j) std::printf("%lld ", static_cast<long long>(res->int_ids[r * k + j]));
      std::printf("\n");
    }
    return 0;
  }
  std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
  return 2;
}
