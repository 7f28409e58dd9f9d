// Deterministic test data: Gaussian clusters in low intrinsic dimension (not uniform random,
// which has no neighbourhood structure and flatters or punishes an index unrealistically),
// plus a brute-force oracle.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <utility>
#include <vector>

#include "simd/distance.h"

namespace augurdb::testing {

inline uint64_t TestSeed() {
  const char* env = std::getenv("AUGUR_TEST_SEED");
  return env != nullptr ? std::strtoull(env, nullptr, 10) : 20261126;
}

// n vectors of `dim` floats: `clusters` centres; a point is its centre plus a Gaussian in a
// random `intrinsic`-dimensional subspace of that cluster, plus a little full-rank noise.
inline std::vector<float> ClusteredData(size_t n, size_t dim, uint64_t seed, size_t clusters = 16,
                                        size_t intrinsic = 6) {
  std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ULL);
  std::mt19937_64 shape_rng(0x5eed);  // centres and subspaces shared by data and query sets
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> centres(clusters * dim), bases(clusters * intrinsic * dim);
  for (float& x : centres) x = 3.0f * normal(shape_rng);
  for (float& x : bases) x = normal(shape_rng);
  std::vector<float> data(n * dim), z(intrinsic);
  for (size_t i = 0; i < n; ++i) {
    const size_t c = rng() % clusters;
    for (float& x : z) x = normal(rng);
    for (size_t d = 0; d < dim; ++d) {
      float v = centres[c * dim + d] + 0.05f * normal(rng);
      for (size_t j = 0; j < intrinsic; ++j) v += 0.5f * z[j] * bases[(c * intrinsic + j) * dim + d];
      data[i * dim + d] = v;
    }
  }
  return data;
}

// Exact k nearest (distance, row) of `query` among rows whose `alive[row]` is true.
inline std::vector<std::pair<float, uint32_t>> BruteForce(const std::vector<float>& data, size_t dim,
                                                          const float* query, size_t k,
                                                          simd::DistanceFn distance,
                                                          const std::vector<bool>* alive = nullptr) {
  std::vector<std::pair<float, uint32_t>> all;
  const size_t n = data.size() / dim;
  for (size_t i = 0; i < n; ++i) {
    if (alive != nullptr && !(*alive)[i]) continue;
    all.emplace_back(distance(query, data.data() + i * dim, dim), static_cast<uint32_t>(i));
  }
  k = std::min(k, all.size());
  std::partial_sort(all.begin(), all.begin() + static_cast<ptrdiff_t>(k), all.end());
  all.resize(k);
  return all;
}

}  // namespace augurdb::testing
