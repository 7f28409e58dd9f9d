// CollectionOptions resolved once: named choices parsed, values checked, defaults filled for a
// new collection, stored parameters taken when reopening. Collection::Open and the Python
// bindings both go through here, so each rule and its message exist once.
#pragma once

#include <string>
#include <string_view>

#include <augurdb/collection.h>
#include <augurdb/status.h>

#include "db/record_codec.h"

namespace augurdb::db {

// Sets the option `field` ("metric", "quantization", "durability" or "tokenizer") from its name, as a user
// writes it ("cosine", "sq8", "batch"). kInvalidArgument naming the choices otherwise.
Status SetNamedOption(std::string_view field, std::string_view name, CollectionOptions* options);

// Ranges and combinations that hold for any open (0 means "default" for every size field).
// kInvalidArgument naming the option, the allowed range and the value.
Status ValidateOptions(const CollectionOptions& options);

// A new collection: unset parameters take their defaults (l2, no quantization, m 16,
// ef_construction 200, ef_search 64, tokenizer "simple").
void ApplyNewCollectionDefaults(CollectionOptions* options);

// Reopening the database in `dir`: set parameters must equal the stored ones (ef_search
// excepted: a per-session default), then every parameter takes the stored value.
// kInvalidArgument / kDimensionMismatch naming both values.
Status ApplyStoredParams(const StoredParams& stored, const std::string& dir,
                         CollectionOptions* options);

}  // namespace augurdb::db
