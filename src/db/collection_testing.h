// Test-only entry points into the db layer. Not installed and not exported: tests link the static
// library and call these to drive a Collection through a fault-injecting storage::Env
// (tests/cpp/support/fault_env.h), which the public API deliberately cannot name.
#pragma once

#include <memory>

#include <augurdb/collection.h>
#include <augurdb/status.h>

#include "storage/env.h"

namespace augurdb {

// Collection::Open, except that every file operation goes through `env`. REQUIRES: `env`
// outlives the returned collection. Engine code never calls this.
Result<std::unique_ptr<Collection>> TEST_OpenCollection(const CollectionOptions& options,
                                                        storage::Env* env);

}  // namespace augurdb
