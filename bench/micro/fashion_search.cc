// C++ core benchmark on Fashion-MNIST: parallel build rate, then single-thread QPS, recall@10,
// distance computations and hops per query over an ef sweep, with no Python in the loop. Used
// to profile the engine and as the "C++ core" side of the Python-overhead comparison.
//
// Usage: fashion_search [--threads N] [--limit N] [--ef 10,16,...] [--shared DIR]
//                       [--quant sq8,sq4] [--fp32 0]
// With --quant, an fp32 index and one per listed quantization are built and swept interleaved
// (fp32, sq8, sq4, fp32, ...)
// so that both see the same machine noise.
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "index/hnsw_index.h"
#include "simd/distance.h"

namespace {

using namespace augurdb;
using Clock = std::chrono::steady_clock;

std::vector<float> ReadIdxImages(const std::string& path, size_t* rows, size_t* cols) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) {
    std::fprintf(stderr, "cannot open %s (apt-get install dataset-fashion-mnist)\n", path.c_str());
    std::exit(2);
  }
  unsigned char header[16];
  gzread(f, header, 16);
  auto be32 = [&](int off) {
    return (uint32_t{header[off]} << 24) | (uint32_t{header[off + 1]} << 16) |
           (uint32_t{header[off + 2]} << 8) | header[off + 3];
  };
  *rows = be32(4);
  *cols = size_t{be32(8)} * be32(12);
  std::vector<unsigned char> bytes(*rows * *cols);
  gzread(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
  return std::vector<float>(bytes.begin(), bytes.end());
}

// Minimal .npy reader for the int32 ground-truth matrices.
std::vector<int32_t> ReadNpyInt32(const std::string& path, size_t* rows, size_t* cols) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot open %s\n", path.c_str());
    std::exit(2);
  }
  char magic[8];
  in.read(magic, 8);
  uint16_t header_len = 0;
  in.read(reinterpret_cast<char*>(&header_len), 2);
  std::string header(header_len, ' ');
  in.read(header.data(), header_len);
  const size_t lp = header.find('('), comma = header.find(',', lp), rp = header.find(')', lp);
  *rows = std::stoul(header.substr(lp + 1, comma - lp - 1));
  *cols = std::stoul(header.substr(comma + 1, rp - comma - 1));
  std::vector<int32_t> out(*rows * *cols);
  in.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(out.size() * 4));
  return out;
}

std::vector<size_t> ParseList(const char* s) {
  std::vector<size_t> out;
  for (const char* p = s; *p;) {
    out.push_back(std::strtoul(p, const_cast<char**>(&p), 10));
    if (*p == ',') ++p;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  size_t threads = 2, limit = 0;
  bool with_fp32 = true;
  std::vector<Quantization> variants = {Quantization::kNone};
  std::vector<size_t> efs = {10, 16, 24, 32, 48, 64, 96, 128};
  std::string shared = "../shared/data";
  std::string dir = "/usr/share/datasets/fashion-mnist";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--threads") threads = std::strtoul(argv[i + 1], nullptr, 10);
    else if (flag == "--limit") limit = std::strtoul(argv[i + 1], nullptr, 10);
    else if (flag == "--ef") efs = ParseList(argv[i + 1]);
    else if (flag == "--shared") shared = argv[i + 1];
    else if (flag == "--sq8") variants.push_back(Quantization::kSq8);  // older spelling
    else if (flag == "--fp32") with_fp32 = std::strtoul(argv[i + 1], nullptr, 10) != 0;
    else if (flag == "--quant") {
      std::string list = argv[i + 1];
      for (size_t pos = 0; pos <= list.size();) {
        const size_t comma = std::min(list.find(',', pos), list.size());
        const auto q = ParseQuantization(list.substr(pos, comma - pos));
        if (!q) {
          std::fprintf(stderr, "unknown quantization in --quant %s\n", list.c_str());
          return 2;
        }
        variants.push_back(*q);
        pos = comma + 1;
      }
    }
  }
  if (!with_fp32) {  // "--fp32 0": sweep only the --quant indexes (profiling)
    variants.erase(std::remove(variants.begin(), variants.end(), Quantization::kNone),
                   variants.end());
    if (variants.empty()) {
      std::fprintf(stderr, "--fp32 0 needs --quant\n");
      return 2;
    }
  }
  size_t n = 0, nq = 0, dim = 0, gt_rows = 0, gt_cols = 0;
  std::vector<float> base = ReadIdxImages(dir + "/train-images-idx3-ubyte.gz", &n, &dim);
  std::vector<float> queries = ReadIdxImages(dir + "/t10k-images-idx3-ubyte.gz", &nq, &dim);
  std::vector<int32_t> gt =
      ReadNpyInt32(shared + "/fashion-mnist-784-euclidean.gt100.sqdist.npy", &gt_rows, &gt_cols);
  if (limit != 0) nq = std::min(nq, limit);

  const simd::KernelTable& kernels = simd::ActiveKernels();
  std::printf("simd %s, threads %zu, n %zu, queries %zu\n",
              std::string(simd::SimdLevelName(kernels.level)).c_str(), threads, n, nq);
  std::vector<std::unique_ptr<index::HnswIndex>> indexes;
  std::vector<std::string> names;
  for (Quantization variant : variants) {
    index::HnswParams params;
    params.dim = dim;
    params.m = 16;
    params.ef_construction = 200;
    params.quantization = variant;
    auto index = std::move(index::HnswIndex::Create(params, kernels)).value();
    ThreadPool pool(threads);
    std::vector<index::Slot> slots;
    if (!index->AllocateSlots(n, &slots).ok()) return 1;
    auto t0 = Clock::now();
    index->Insert(slots, base.data(), dim, &pool, threads);
    index->Publish(slots);
    const double build_s = std::chrono::duration<double>(Clock::now() - t0).count();
    names.push_back(variant == Quantization::kNone ? "fp32" : std::string(QuantizationName(variant)));
    std::printf("%s build: %.2f s, %.0f vec/s, memory %.1f MiB\n", names.back().c_str(), build_s,
                static_cast<double>(n) / build_s, index->MemoryBytes() / 1048576.0);
    indexes.push_back(std::move(index));
  }

  std::printf("%6s %6s %8s %10s %10s %8s\n", "index", "ef", "recall", "qps", "dist/q", "hops/q");
  std::vector<index::Neighbor> out(10);
  for (size_t ef : efs) {
    std::vector<double> best(indexes.size(), 0.0);
    std::vector<index::SearchStats> stats(indexes.size());
    for (int run = 0; run < 3; ++run) {
      for (size_t v = 0; v < indexes.size(); ++v) {
        index::SearchStats run_stats;
        auto start = Clock::now();
        for (size_t q = 0; q < nq; ++q) {
          indexes[v]->Search(queries.data() + q * dim, index::SearchParams{10, ef, 0}, out.data(),
                             &run_stats);
        }
        const double s = std::chrono::duration<double>(Clock::now() - start).count();
        best[v] = std::max(best[v], static_cast<double>(nq) / s);
        stats[v] = run_stats;
      }
    }
    for (size_t v = 0; v < indexes.size(); ++v) {
      size_t correct = 0;
      for (size_t q = 0; q < nq; ++q) {
        const size_t found =
            indexes[v]->Search(queries.data() + q * dim, index::SearchParams{10, ef, 0}, out.data());
        const double threshold = std::sqrt(static_cast<double>(gt[q * gt_cols + 9])) + 1e-3;
        for (size_t j = 0; j < found; ++j) {
          double d = 0;
          const float* v2 = base.data() + static_cast<size_t>(out[j].slot) * dim;
          for (size_t x = 0; x < dim; ++x) {
            const double diff = static_cast<double>(queries[q * dim + x]) - v2[x];
            d += diff * diff;
          }
          if (std::sqrt(d) <= threshold) ++correct;
        }
      }
      std::printf("%6s %6zu %8.4f %10.0f %10.1f %8.1f\n", names[v].c_str(), ef,
                  static_cast<double>(correct) / (nq * 10.0), best[v],
                  static_cast<double>(stats[v].distances) / nq,
                  static_cast<double>(stats[v].hops) / nq);
    }
  }
  return 0;
}
