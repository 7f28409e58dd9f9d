// Validation of user vectors before anything is changed: dimension, finiteness, and (for the
// cosine metric) non-zero length. Every failure names the row and what to do.
#pragma once

#include <augurdb/collection.h>
#include <augurdb/status.h>

namespace augurdb::db {

// Checks every row of `vectors` against `dim` (0 = any dim >= 1 is accepted).
Status CheckVectors(const MatrixView& vectors, size_t dim, Metric metric, const char* what);

}  // namespace augurdb::db
