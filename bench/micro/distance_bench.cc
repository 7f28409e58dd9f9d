// ns per fp32 distance: AugurDB's kernels at every SIMD level this CPU has, and hnswlib's AVX2 /
// AVX-512 kernels (bench/micro/hnswlib_kernels.cc) built with the same ISA flags, run in the same
// invocation.
//
// Benchmark names: <metric>/<kernel>/<dim>, metric L2 (squared L2) or IP (the inner-product
// distance: our NegDot = -dot, hnswlib's InnerProductDistance = 1 - dot). One benchmark
// iteration is one distance, so the reported time per iteration is ns per distance.
//
// Every kernel is called through a function pointer, as search does. One query is compared with
// a cycling set of 64 to 256 base vectors, at most 512 KiB (more than L1, less than L2 on current
// x86), so the figures are compute-bound, not DRAM-bound.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "simd/cpu_features.h"
#include "simd/distance.h"

#if defined(AUGURDB_BENCH_HAVE_HNSWLIB)
float HnswlibL2Sq_avx2(const float* a, const float* b, size_t dim) noexcept;
float HnswlibIpDist_avx2(const float* a, const float* b, size_t dim) noexcept;
bool HnswlibPrepare_avx2(size_t dim);
float HnswlibL2Sq_avx512(const float* a, const float* b, size_t dim) noexcept;
float HnswlibIpDist_avx512(const float* a, const float* b, size_t dim) noexcept;
bool HnswlibPrepare_avx512(size_t dim);
#endif

namespace {

using augurdb::simd::SimdLevel;
using Kernel = float (*)(const float* a, const float* b, size_t dim) noexcept;

constexpr size_t kWorkingSetBytes = 512 * 1024;
constexpr size_t kMaxVectors = 256;

struct Candidate {
  std::string name;  // augurdb_avx512, hnswlib_avx2, ...
  Kernel l2;
  Kernel ip;
  double ip_offset;  // reference IP distance = ip_offset - dot
};

// Base vectors per dim: a power of two (so cycling is a mask), 64 to 256 of them, at most
// kWorkingSetBytes for the dims benchmarked here.
constexpr size_t VectorCount(size_t dim) {
  return std::max<size_t>(64, std::min(kMaxVectors, std::bit_floor(kWorkingSetBytes / (dim * 4))));
}

// Floats between consecutive base vectors: dim rounded up to a whole, odd number of 64-byte
// lines. With a power-of-two count >= 64, the base vectors' offsets within a 4 KiB page then take
// each of the 64 line positions equally often, so every query/base page-offset relation is
// sampled evenly, as with vectors at arbitrary offsets in a real index. Timings depend on that
// relation: with a plain dim stride (128-d: only 8 distinct offsets) our AVX-512 L2 at 128-d
// measured 3.96 instead of 3.15 ns on Zen 5 (likely L1 bank contention between the operands).
constexpr size_t Stride(size_t dim) {
  const size_t lines = (dim * sizeof(float) + 63) / 64;
  return (lines | 1) * 64 / sizeof(float);
}

// One query plus `count` base vectors `stride` floats apart, 64-byte aligned.
struct Data {
  size_t count = 0;
  size_t stride = 0;
  float* query = nullptr;
  float* base = nullptr;
  std::unique_ptr<float, decltype(&std::free)> storage{nullptr, &std::free};
};

Data MakeData(size_t dim, uint32_t seed) {
  Data d;
  d.count = VectorCount(dim);
  d.stride = Stride(dim);
  const size_t floats = (d.count + 1) * d.stride;
  d.storage.reset(static_cast<float*>(std::aligned_alloc(64, floats * sizeof(float))));
  if (!d.storage) std::abort();
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (size_t i = 0; i < floats; ++i) d.storage.get()[i] = u(rng);
  d.query = d.storage.get();
  d.base = d.storage.get() + d.stride;
  return d;
}

// dim (so count and stride) is a template parameter only to keep the harness's live values in
// callee-saved registers. When a pointer the call takes was reloaded from the stack every
// iteration, each call's loads waited on that reload (our AVX-512 L2 at 784-d: 18.5 instead of
// 14.3 ns on Zen 5), a harness cost, not the kernel's. The kernel still gets dim at run time.
template <size_t kDim>
void RunKernel(benchmark::State& state, Kernel fn) {
  constexpr size_t kCount = VectorCount(kDim);
  const Data data = MakeData(kDim, 42);
  // Launder the pointer so the call stays indirect, like search's call through a KernelTable.
  benchmark::DoNotOptimize(fn);
  const float* const query = data.query;
  const float* const base = data.base;
  size_t i = 0;
  for (auto _ : state) {
    float r = fn(query, base + (i & (kCount - 1)) * Stride(kDim), kDim);
    benchmark::DoNotOptimize(r);
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["vectors"] = static_cast<double>(kCount);
}

using Runner = void (*)(benchmark::State&, Kernel);
struct DimRunner {
  size_t dim;
  Runner run;
};
constexpr DimRunner kDims[] = {{96, &RunKernel<96>},   {128, &RunKernel<128>},
                               {384, &RunKernel<384>}, {768, &RunKernel<768>},
                               {784, &RunKernel<784>}, {1536, &RunKernel<1536>}};

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const size_t colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(" \t", colon + 1));
    }
  }
  return "unknown";
}

std::string Compiler() {
#if defined(__clang__)
  return std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
  return std::string("gcc ") + __VERSION__;
#else
  return "unknown";
#endif
}

// Catches wiring mistakes (a kernel registered under the wrong name or metric), not precision:
// the unit tests own that.
bool Agrees(const Candidate& c, size_t dim) {
  const Data data = MakeData(dim, 7);
  const float* a = data.query;
  const float* b = data.base;
  double l2 = 0, dot = 0;
  for (size_t i = 0; i < dim; ++i) {
    l2 += (double{a[i]} - b[i]) * (double{a[i]} - b[i]);
    dot += double{a[i]} * b[i];
  }
  const double ip = c.ip_offset - dot;
  const double got_l2 = c.l2(a, b, dim);
  const double got_ip = c.ip(a, b, dim);
  const double tol = 1e-3 * (1.0 + std::fabs(l2));
  if (std::fabs(got_l2 - l2) > tol || std::fabs(got_ip - ip) > tol) {
    std::fprintf(stderr, "distance_bench: %s disagrees at dim %zu: l2 %g vs %g, ip %g vs %g\n",
                 c.name.c_str(), dim, got_l2, l2, got_ip, ip);
    return false;
  }
  return true;
}

std::vector<Candidate> Candidates() {
  std::vector<Candidate> out;
  for (SimdLevel level : {SimdLevel::kScalar, SimdLevel::kNeon, SimdLevel::kAvx2,
                          SimdLevel::kAvx512}) {
    const augurdb::simd::KernelTable* table = augurdb::simd::KernelsFor(level);
    if (table == nullptr) continue;
    out.push_back({"augurdb_" + std::string(augurdb::simd::SimdLevelName(level)), table->l2sq,
                   table->neg_dot, 0.0});
  }
#if defined(AUGURDB_BENCH_HAVE_HNSWLIB)
  // Gated on our own level checks: the AVX-512 copy is compiled with BW/DQ/VL/VNNI as well.
  if (augurdb::simd::SimdLevelSupported(SimdLevel::kAvx2)) {
    out.push_back({"hnswlib_avx2", &HnswlibL2Sq_avx2, &HnswlibIpDist_avx2, 1.0});
  }
  if (augurdb::simd::SimdLevelSupported(SimdLevel::kAvx512)) {
    out.push_back({"hnswlib_avx512", &HnswlibL2Sq_avx512, &HnswlibIpDist_avx512, 1.0});
  }
#endif
  return out;
}

bool PrepareHnswlib([[maybe_unused]] const std::string& name, [[maybe_unused]] size_t dim) {
#if defined(AUGURDB_BENCH_HAVE_HNSWLIB)
  bool same = true;
  if (name == "hnswlib_avx2") same = HnswlibPrepare_avx2(dim);
  if (name == "hnswlib_avx512") same = HnswlibPrepare_avx512(dim);
  if (!same) {
    std::fprintf(stderr, "distance_bench: %s: kernel differs from hnswlib's own choice, dim %zu\n",
                 name.c_str(), dim);
  }
  return same;
#else
  return true;
#endif
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<Candidate> candidates = Candidates();
  bool ok = true;
  for (const Candidate& c : candidates) {
    for (const DimRunner& d : kDims) ok = PrepareHnswlib(c.name, d.dim) && Agrees(c, d.dim) && ok;
  }
  if (!ok) return 1;

  for (const char* metric : {"L2", "IP"}) {
    const bool l2 = metric[0] == 'L';
    for (const DimRunner& d : kDims) {
      for (const Candidate& c : candidates) {
        const std::string name = std::string(metric) + "/" + c.name + "/" + std::to_string(d.dim);
        benchmark::RegisterBenchmark(name.c_str(), d.run, l2 ? c.l2 : c.ip);
      }
    }
  }

  std::string kernels;
  for (const Candidate& c : candidates) kernels += (kernels.empty() ? "" : ",") + c.name;
  benchmark::AddCustomContext("cpu_model", CpuModel());
  benchmark::AddCustomContext(
      "simd_detected",
      std::string(augurdb::simd::SimdLevelName(augurdb::simd::DetectedSimdLevel())));
  benchmark::AddCustomContext(
      "simd_active", std::string(augurdb::simd::SimdLevelName(augurdb::simd::ActiveSimdLevel())));
  benchmark::AddCustomContext("kernels", kernels);
  benchmark::AddCustomContext("compiler", Compiler());
  const char* commit = std::getenv("AUGURDB_COMMIT");
  benchmark::AddCustomContext("augurdb_commit", commit != nullptr ? commit : "unknown");

  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
