// Parse: where-filter JSON -> FilterPlan. Every malformed filter and every operator-argument
// type error is kInvalidFilter naming the operator and field; a type mismatch between a
// comparison and stored data is not an error (it simply does not match).
#include "filter/filter_plan.h"

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <new>
#include <string_view>

#include "filter/filter.h"
#include "filter/json.h"
#include "util/unicode_tables.h"

namespace augurdb::filter {
namespace {

struct OperatorName {
  std::string_view name;
  PlanOp op;
};

constexpr OperatorName kFieldOperators[] = {
    {"$eq", PlanOp::kEq},         {"$ne", PlanOp::kNe},
    {"$gt", PlanOp::kGt},         {"$gte", PlanOp::kGte},
    {"$lt", PlanOp::kLt},         {"$lte", PlanOp::kLte},
    {"$in", PlanOp::kIn},         {"$nin", PlanOp::kNin},
    {"$exists", PlanOp::kExists}, {"$contains", PlanOp::kContains},
    {"$substring", PlanOp::kSubstring}, {"$isubstring", PlanOp::kSubstringNoCase},
    {"$empty", PlanOp::kEmpty},
};

bool LookupFieldOperator(std::string_view name, PlanOp* op) {
  for (const OperatorName& entry : kFieldOperators) {
    if (entry.name == name) {
      *op = entry.op;
      return true;
    }
  }
  return false;
}

bool IsScalar(const JsonValue& v) { return !v.is_array() && !v.is_object(); }

// REQUIRES: IsScalar(v).
Value ToValue(const JsonValue& v) {
  switch (v.type) {
    case JsonType::kBool:
      return Value(v.bool_value);
    case JsonType::kInt:
      return Value(v.int_value);
    case JsonType::kDouble:
      return Value(v.double_value);
    case JsonType::kString:
      return Value(v.string_value);
    default:
      return Value();
  }
}

std::string Quote(std::string_view field) {
  // Built by append: GCC 12 raises a false -Wrestrict on "'" + std::string(...).
  std::string out;
  out.reserve(field.size() + 2);
  out.push_back('\'');
  out.append(field);
  out.push_back('\'');
  return out;
}

// "$gt on field 'year'".
std::string OnField(std::string_view op, std::string_view field) {
  return std::string(op) + " on field " + Quote(field);
}

// Cheap, selective predicates first: the evaluator narrows the eligible set child by child,
// so an equality before a range means the range scans only the equality's matches.
int CostRank(const PlanNode& node) {
  switch (node.op) {
    case PlanOp::kEq:
    case PlanOp::kIn:
    case PlanOp::kContains:
      return 0;
    case PlanOp::kExists:
    case PlanOp::kMatchAll:
      return 1;
    case PlanOp::kNe:
    case PlanOp::kNin:
    case PlanOp::kEmpty:
      return 2;
    case PlanOp::kAnd:
    case PlanOp::kOr:
    case PlanOp::kNot:
      return 3;
    case PlanOp::kGt:
    case PlanOp::kGte:
    case PlanOp::kLt:
    case PlanOp::kLte:
      return 4;
    case PlanOp::kSubstring:
    case PlanOp::kSubstringNoCase:
      return 5;  // a scan that reads the strings
  }
  return 6;
}

PlanNode MakeAnd(std::vector<PlanNode> nodes) {
  if (nodes.size() == 1) return std::move(nodes.front());
  std::stable_sort(nodes.begin(), nodes.end(),
                   [](const PlanNode& a, const PlanNode& b) { return CostRank(a) < CostRank(b); });
  PlanNode node;
  node.op = PlanOp::kAnd;
  node.children = std::move(nodes);
  return node;
}

Status ParseFilter(const JsonValue& json, PlanNode* out);

// One field operator and its argument, e.g. "$gt": 5 on `field`.
Status ParseLeaf(std::string_view field, std::string_view op_name, const JsonValue& arg,
                 PlanNode* out) {
  PlanOp op;
  if (!LookupFieldOperator(op_name, &op)) {
    std::string msg = "unknown operator " + Quote(op_name) + " on field " + Quote(field);
    if (op_name == "$not") {
      msg += " ($not takes a whole filter: {\"$not\": {\"" + std::string(field) + "\": {...}}})";
    } else if (op_name == "$and" || op_name == "$or") {
      msg += " (" + std::string(op_name) + " goes at the top level, over a list of filters)";
    }
    return Status::InvalidFilter(std::move(msg));
  }
  out->op = op;
  out->field = std::string(field);
  switch (op) {
    case PlanOp::kEq:
    case PlanOp::kNe:
    case PlanOp::kContains:
      if (!IsScalar(arg)) {
        return Status::InvalidFilter(OnField(op_name, field) +
                                     " needs a string, number, bool or null, got " +
                                     std::string(JsonTypeName(arg.type)));
      }
      out->operands.push_back(ToValue(arg));
      return Status::OK();
    case PlanOp::kGt:
    case PlanOp::kGte:
    case PlanOp::kLt:
    case PlanOp::kLte:
      if (!arg.is_number() && !arg.is_string()) {
        return Status::InvalidFilter(OnField(op_name, field) + " needs a number or a string, got " +
                                     std::string(JsonTypeName(arg.type)));
      }
      out->operands.push_back(ToValue(arg));
      return Status::OK();
    case PlanOp::kIn:
    case PlanOp::kNin:
      if (!arg.is_array()) {
        return Status::InvalidFilter(OnField(op_name, field) + " needs a list, got " +
                                     std::string(JsonTypeName(arg.type)));
      }
      out->operands.reserve(arg.items.size());
      for (size_t i = 0; i < arg.items.size(); ++i) {
        if (!IsScalar(arg.items[i])) {
          return Status::InvalidFilter(
              OnField(op_name, field) +
              " needs a list of strings, numbers, bools or nulls; element " + std::to_string(i) +
              " is " + std::string(JsonTypeName(arg.items[i].type)));
        }
        out->operands.push_back(ToValue(arg.items[i]));
      }
      return Status::OK();
    case PlanOp::kSubstring:
    case PlanOp::kSubstringNoCase:
      if (!arg.is_string()) {
        return Status::InvalidFilter(OnField(op_name, field) + " needs a string, got " +
                                     std::string(JsonTypeName(arg.type)));
      }
      out->operands.emplace_back(op == PlanOp::kSubstring ? arg.string_value
                                                          : ToLowerUtf8(arg.string_value));
      return Status::OK();
    case PlanOp::kExists:
    case PlanOp::kEmpty:
      if (arg.type != JsonType::kBool) {
        return Status::InvalidFilter(OnField(op_name, field) + " needs true or false, got " +
                                     std::string(JsonTypeName(arg.type)));
      }
      out->flag = arg.bool_value;
      return Status::OK();
    default:
      break;
  }
  return Status::Internal("filter parser: unhandled operator " + std::string(op_name));
}

// The value of a field key: a scalar (implicit $eq) or an object of operators (AND-ed).
Status ParseFieldCondition(std::string_view field, const JsonValue& value, PlanNode* out) {
  if (IsScalar(value)) {
    out->op = PlanOp::kEq;
    out->field = std::string(field);
    out->operands.push_back(ToValue(value));
    return Status::OK();
  }
  if (value.is_array()) {
    return Status::InvalidFilter(
        "value for field " + Quote(field) +
        " must be a string, number, bool, null or an object of operators, got a list (use "
        "{\"$in\": [...]} to match any of several values)");
  }
  if (value.keys.empty()) {
    return Status::InvalidFilter("field " + Quote(field) +
                                 " has an empty operator object (expected e.g. {\"$gt\": 1})");
  }
  std::vector<PlanNode> leaves(value.keys.size());
  for (size_t i = 0; i < value.keys.size(); ++i) {
    const std::string& key = value.keys[i];
    if (key.empty() || key[0] != '$') {
      return Status::InvalidFilter("field " + Quote(field) + " has an object value with key " +
                                   Quote(key) +
                                   "; expected operators such as $eq or $gt (nested objects and "
                                   "dotted paths are not supported)");
    }
    AUGUR_RETURN_IF_ERROR(ParseLeaf(field, key, value.items[i], &leaves[i]));
  }
  *out = MakeAnd(std::move(leaves));
  return Status::OK();
}

// $and / $or: a non-empty list of filter objects.
Status ParseCombinator(std::string_view name, PlanOp op, const JsonValue& arg, PlanNode* out) {
  if (!arg.is_array() || arg.items.empty()) {
    std::string msg = std::string(name) + " needs a non-empty list of filters, got ";
    msg += arg.is_array() ? "an empty list" : std::string(JsonTypeName(arg.type));
    return Status::InvalidFilter(std::move(msg));
  }
  std::vector<PlanNode> children(arg.items.size());
  for (size_t i = 0; i < arg.items.size(); ++i) {
    if (!arg.items[i].is_object()) {
      return Status::InvalidFilter(
          std::string(name) + " needs a non-empty list of filters; element " + std::to_string(i) +
          " is " + std::string(JsonTypeName(arg.items[i].type)));
    }
    AUGUR_RETURN_IF_ERROR(ParseFilter(arg.items[i], &children[i]));
  }
  if (op == PlanOp::kAnd) {
    *out = MakeAnd(std::move(children));
  } else if (children.size() == 1) {
    *out = std::move(children.front());
  } else {
    out->op = PlanOp::kOr;
    out->children = std::move(children);
  }
  return Status::OK();
}

// A filter object: its keys (fields or combinators) are AND-ed; {} matches everything.
Status ParseFilter(const JsonValue& json, PlanNode* out) {
  if (json.keys.empty()) {
    out->op = PlanOp::kMatchAll;
    return Status::OK();
  }
  std::vector<PlanNode> nodes(json.keys.size());
  for (size_t i = 0; i < json.keys.size(); ++i) {
    const std::string& key = json.keys[i];
    const JsonValue& value = json.items[i];
    if (!key.empty() && key[0] == '$') {
      if (key == "$and" || key == "$or") {
        AUGUR_RETURN_IF_ERROR(
            ParseCombinator(key, key == "$and" ? PlanOp::kAnd : PlanOp::kOr, value, &nodes[i]));
      } else if (key == "$not") {
        if (!value.is_object()) {
          return Status::InvalidFilter("$not needs a filter object, got " +
                                       std::string(JsonTypeName(value.type)));
        }
        nodes[i].op = PlanOp::kNot;
        nodes[i].children.resize(1);
        AUGUR_RETURN_IF_ERROR(ParseFilter(value, &nodes[i].children[0]));
      } else {
        PlanOp unused;
        std::string msg = "unknown operator " + Quote(key);
        if (LookupFieldOperator(key, &unused)) {
          msg += " at the top level (field operators go inside a field: {\"field\": {\"" + key +
                 "\": ...}})";
        }
        return Status::InvalidFilter(std::move(msg));
      }
    } else {
      AUGUR_RETURN_IF_ERROR(ParseFieldCondition(key, value, &nodes[i]));
    }
  }
  *out = MakeAnd(std::move(nodes));
  return Status::OK();
}

// Indexed by PlanOp; the names of the plan dump below.
constexpr std::string_view kOpNames[] = {
    "all", "and", "or",  "not",      "eq",        "ne",          "gt",   "gte",
    "lt",  "lte", "in",  "nin",      "exists",    "contains",    "substring", "isubstring",
    "empty"};
static_assert(std::size(kOpNames) == static_cast<size_t>(PlanOp::kEmpty) + 1);

std::string_view OpName(PlanOp op) {
  const auto i = static_cast<size_t>(op);
  return i < std::size(kOpNames) ? kOpNames[i] : "?";
}

void AppendValue(const Value& v, std::string* out) {
  if (v.is_null()) {
    *out += "null";
  } else if (v.is_bool()) {
    *out += v.as_bool() ? "true" : "false";
  } else if (v.is_int()) {
    *out += std::to_string(v.as_int());
  } else if (v.is_double()) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.17g", v.as_double());
    *out += buf;
    if (std::string_view(buf).find_first_of(".en") == std::string_view::npos) *out += ".0";
  } else if (v.is_string()) {
    *out += '"';
    *out += v.as_string();
    *out += '"';
  } else {
    *out += "[list]";
  }
}

void AppendNode(const PlanNode& node, std::string* out) {
  *out += OpName(node.op);
  if (node.op == PlanOp::kMatchAll) return;
  *out += '(';
  if (!node.children.empty()) {
    for (size_t i = 0; i < node.children.size(); ++i) {
      if (i > 0) *out += ',';
      AppendNode(node.children[i], out);
    }
  } else {
    *out += node.field;
    *out += ',';
    if (node.op == PlanOp::kExists || node.op == PlanOp::kEmpty) {
      *out += node.flag ? "true" : "false";
    } else if (node.op == PlanOp::kIn || node.op == PlanOp::kNin) {
      *out += '[';
      for (size_t i = 0; i < node.operands.size(); ++i) {
        if (i > 0) *out += ',';
        AppendValue(node.operands[i], out);
      }
      *out += ']';
    } else {
      AppendValue(node.operands.front(), out);
    }
  }
  *out += ')';
}

}  // namespace

std::string FilterPlan::DebugString() const {
  std::string out;
  AppendNode(root_, &out);
  return out;
}

Result<std::shared_ptr<const FilterPlan>> Parse(std::string_view json) {
  try {
    AUGUR_ASSIGN_OR_RETURN(JsonValue root, ParseJson(json));
    if (!root.is_object()) {
      return Status::InvalidFilter("a filter must be a JSON object, got " +
                                   std::string(JsonTypeName(root.type)));
    }
    PlanNode plan;
    AUGUR_RETURN_IF_ERROR(ParseFilter(root, &plan));
    return std::shared_ptr<const FilterPlan>(std::make_shared<FilterPlan>(std::move(plan)));
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted("out of memory while parsing a filter");
  }
}

}  // namespace augurdb::filter
