#include "db/vector_checks.h"

#include <bit>
#include <cmath>
#include <cstdint>
#include <string>

namespace augurdb::db {

Status CheckVectors(const MatrixView& vectors, size_t dim, Metric metric, const char* what) {
  if (vectors.dim == 0) return Status::DimensionMismatch(std::string(what) + " have dimension 0");
  if (dim != 0 && vectors.dim != dim) {
    return Status::DimensionMismatch(std::string(what) + " have dimension " +
                                     std::to_string(vectors.dim) + " but the collection has dim " +
                                     std::to_string(dim));
  }
  if (vectors.rows > 0 && vectors.data == nullptr) {
    return Status::InvalidArgument(std::string(what) + ": null data pointer");
  }
  const size_t stride = vectors.row_stride == 0 ? vectors.dim : vectors.row_stride;
  for (size_t r = 0; r < vectors.rows; ++r) {
    const float* row = vectors.data + r * stride;
    // x * 0 is 0 for finite x and NaN for NaN or Inf, so one NaN test of the sum finds both;
    // OR-ing the magnitude bits tells an all-zero row. Eight independent lanes let the
    // compiler vectorise (a single float sum is a serial chain: ~1 us per 784-d query).
    constexpr size_t kLanes = 8;
    float probe[kLanes] = {};
    uint32_t bits[kLanes] = {};
    const size_t full = vectors.dim / kLanes * kLanes;
    for (size_t d = 0; d < full; d += kLanes) {
      for (size_t l = 0; l < kLanes; ++l) {
        probe[l] += row[d + l] * 0.0f;
        bits[l] |= std::bit_cast<uint32_t>(row[d + l]) & 0x7fffffffu;
      }
    }
    for (size_t d = full; d < vectors.dim; ++d) {
      probe[0] += row[d] * 0.0f;
      bits[0] |= std::bit_cast<uint32_t>(row[d]) & 0x7fffffffu;
    }
    float sum = 0.0f;
    uint32_t any = 0;
    for (size_t l = 0; l < kLanes; ++l) {
      sum += probe[l];
      any |= bits[l];
    }
    if (std::isnan(sum)) {
      for (size_t d = 0; d < vectors.dim; ++d) {
        if (!std::isfinite(row[d])) {
          return Status::InvalidVector(std::string(what) + " row " + std::to_string(r) +
                                       " has a non-finite value (" +
                                       (std::isnan(row[d]) ? "NaN" : "Inf") + ") at position " +
                                       std::to_string(d) + "; clean or drop it before adding");
        }
      }
    }
    if (metric == Metric::kCosine && any == 0) {
      return Status::InvalidVector(std::string(what) + " row " + std::to_string(r) +
                                   " is all zeros, which has no direction under the cosine metric");
    }
  }
  return Status::OK();
}

}  // namespace augurdb::db
