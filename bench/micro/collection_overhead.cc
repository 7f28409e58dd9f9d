// The C++ side of the Python-overhead comparison: the public Collection API doing exactly what
// python/augurdb/bench/python_overhead.py does through Python (same data, same calls).
//
// Usage: collection_overhead [--repeat N]   (prints one line per measured call, best of N)
#include <augurdb/collection.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

std::vector<float> ReadIdx(const std::string& path, size_t* rows, size_t* cols) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) {
    std::fprintf(stderr, "cannot open %s (apt-get install dataset-fashion-mnist)\n", path.c_str());
    std::exit(2);
  }
  unsigned char h[16];
  gzread(f, h, 16);
  auto be32 = [&](int o) {
    return (uint32_t{h[o]} << 24) | (uint32_t{h[o + 1]} << 16) | (uint32_t{h[o + 2]} << 8) | h[o + 3];
  };
  *rows = be32(4);
  *cols = size_t{be32(8)} * be32(12);
  std::vector<unsigned char> bytes(*rows * *cols);
  gzread(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
  return std::vector<float>(bytes.begin(), bytes.end());
}

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  int repeat = 3;
  if (argc == 3 && std::string(argv[1]) == "--repeat") repeat = std::atoi(argv[2]);
  const std::string dir = "/usr/share/datasets/fashion-mnist/";
  size_t n = 0, nq = 0, dim = 0;
  const std::vector<float> base = ReadIdx(dir + "train-images-idx3-ubyte.gz", &n, &dim);
  const std::vector<float> queries = ReadIdx(dir + "t10k-images-idx3-ubyte.gz", &nq, &dim);
  std::vector<int64_t> ids(n);
  for (size_t i = 0; i < n; ++i) ids[i] = static_cast<int64_t>(i);

  double add_best = 1e30, batch1_best = 1e30, batch2_best = 1e30, single_best = 1e30;
  for (int r = 0; r < repeat; ++r) {
    augurdb::CollectionOptions options;
    options.dim = dim;
    options.threads = 2;
    auto col = std::move(augurdb::Collection::Open(options)).value();
    auto t = Clock::now();
    if (!col->Add(augurdb::IdsView::Ints(ids), {base.data(), n, dim, 0}).ok()) return 1;
    add_best = std::min(add_best, Seconds(t));
    augurdb::SearchOptions so;
    so.k = 10;
    so.ef = 64;
    so.threads = 1;
    t = Clock::now();
    if (!col->SearchBatch({queries.data(), nq, dim, 0}, so).ok()) return 1;
    batch1_best = std::min(batch1_best, Seconds(t));
    so.threads = 2;
    t = Clock::now();
    if (!col->SearchBatch({queries.data(), nq, dim, 0}, so).ok()) return 1;
    batch2_best = std::min(batch2_best, Seconds(t));
    so.threads = 1;
    t = Clock::now();
    for (size_t q = 0; q < nq; ++q) {
      if (!col->SearchBatch({queries.data() + q * dim, 1, dim, 0}, so).ok()) return 1;
    }
    single_best = std::min(single_best, Seconds(t));
  }
  std::printf("add_60000_threads2_s %.4f\n", add_best);
  std::printf("search_batch_10000_threads1_s %.4f\n", batch1_best);
  std::printf("search_batch_10000_threads2_s %.4f\n", batch2_best);
  std::printf("search_batch_1x10000_calls_s %.4f\n", single_best);
  return 0;
}
