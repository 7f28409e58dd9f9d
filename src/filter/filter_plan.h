// The typed plan a where-filter parses into (internal to src/filter and its tests): a tree of
// combinators (and, or, not) over leaf predicates on one field each. Parse (filter.h) builds it
// from JSON; MetadataColumns::Evaluate runs it.
//
// Invariants (established by Parse, relied on by Evaluate):
//  1. Leaf operands are scalars (null, bool, int, double, string), never lists.
//  2. kGt/kGte/kLt/kLte have one operand, a number or a string; kEq/kNe/kContains have one;
//     kIn/kNin have zero or more; kSubstring has one string, kSubstringNoCase one string
//     already lower-cased (ToLowerUtf8); kExists and kEmpty none (their argument is `flag`).
//  3. kAnd/kOr have at least one child, kNot exactly one; kMatchAll is the empty filter {}.
//
// Thread safety: a FilterPlan is immutable after construction and may be shared.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <augurdb/value.h>

#include "filter/filter.h"

namespace augurdb::filter {

enum class PlanOp : uint8_t {
  kMatchAll,  // {}: every eligible slot
  kAnd,
  kOr,
  kNot,  // relative to the eligible slots
  kEq,
  kNe,  // has the field, and no value (or list element) equals the operand
  kGt,
  kGte,
  kLt,
  kLte,
  kIn,
  kNin,  // has the field, and no value (or list element) is in the set
  kExists,
  kContains,  // the field holds a list with an element equal to the operand
  kSubstring,        // a string value (not a list) contains the operand
  kSubstringNoCase,  // the same after simple lower-casing of both
  kEmpty,            // flag true: missing, null, "" or []; false: anything else
};

struct PlanNode {
  PlanOp op = PlanOp::kMatchAll;
  std::string field;               // leaves: the field name (dots are part of the name)
  std::vector<Value> operands;     // leaves: see invariant 2
  bool flag = true;  // kExists: true matches present fields, false absent ones; kEmpty: see above
  std::vector<PlanNode> children;  // kAnd, kOr, kNot
};

class FilterPlan {
 public:
  explicit FilterPlan(PlanNode root) : root_(std::move(root)) {}
  const PlanNode& root() const noexcept { return root_; }
  // A compact rendering for tests and logs, e.g. and(eq(genre,"news"),gt(year,2000)).
  std::string DebugString() const;

 private:
  PlanNode root_;
};

}  // namespace augurdb::filter
