#include "db/vector_checks.h"

#include <cmath>
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
    // Summing is cheaper than testing each element and NaN/Inf propagate through the sum; only
    // an overflow to Inf of finite values needs the slow path to tell it apart.
    float sum = 0.0f, sq = 0.0f;
    for (size_t d = 0; d < vectors.dim; ++d) {
      sum += row[d] * 0.0f;  // 0 for finite values, NaN for NaN or Inf
      sq += row[d] * row[d];
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
    if (metric == Metric::kCosine && sq == 0.0f) {
      return Status::InvalidVector(std::string(what) + " row " + std::to_string(r) +
                                   " is all zeros, which has no direction under the cosine metric");
    }
  }
  return Status::OK();
}

}  // namespace augurdb::db
