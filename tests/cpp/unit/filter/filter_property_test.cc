// A seeded property test of MetadataColumns::Evaluate against a brute-force evaluator written
// here from the semantics in filter.h, and a mutation test: damaged filters parse or fail cleanly.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "filter/filter.h"
#include "filter/filter_plan.h"
#include "filter/json.h"
#include "test_data.h"
#include "util/unicode_tables.h"

namespace augurdb::filter {
namespace {

using augurdb::testing::TestSeed;

// A filter as the test builds it: rendered to JSON for Parse, and evaluated directly by the
// brute-force oracle below.
struct TestFilter {
  enum class Kind {
    kAll,
    kAnd,
    kOr,
    kNot,
    kEq,
    kNe,
    kGt,
    kGte,
    kLt,
    kLte,
    kIn,
    kNin,
    kExists,
    kContains,
    kSubstring,
    kISubstring,
    kEmpty
  };
  Kind kind = Kind::kAll;
  std::string field;
  std::vector<Value> args;
  bool exists = true;
  std::vector<TestFilter> kids;
};

std::string JsonOf(const Value& v) {
  if (v.is_null()) return "null";
  if (v.is_bool()) return v.as_bool() ? "true" : "false";
  if (v.is_int()) return std::to_string(v.as_int());
  if (v.is_double()) {
    char buf[40];
    std::snprintf(buf, sizeof(buf), "%.17g", v.as_double());
    std::string s = buf;
    if (s.find_first_of(".e") == std::string::npos) s += ".0";
    return s;
  }
  std::string out = "\"";
  for (char c : v.as_string()) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string JsonOf(const TestFilter& f) {
  using K = TestFilter::Kind;
  const auto list = [](const std::vector<Value>& vs) {
    std::string s = "[";
    for (size_t i = 0; i < vs.size(); ++i) s += (i ? "," : "") + JsonOf(vs[i]);
    return s + "]";
  };
  const auto field_op = [&](const char* op, const std::string& arg) {
    return "{" + JsonOf(Value(f.field)) + ": {\"" + op + "\": " + arg + "}}";
  };
  switch (f.kind) {
    case K::kAll:
      return "{}";
    case K::kAnd:
    case K::kOr: {
      std::string s = f.kind == K::kAnd ? "{\"$and\": [" : "{\"$or\": [";
      for (size_t i = 0; i < f.kids.size(); ++i) s += (i ? ", " : "") + JsonOf(f.kids[i]);
      return s + "]}";
    }
    case K::kNot:
      return "{\"$not\": " + JsonOf(f.kids[0]) + "}";
    case K::kEq:
      // Alternate the implicit and the explicit form.
      if (f.args[0].is_int()) return "{" + JsonOf(Value(f.field)) + ": " + JsonOf(f.args[0]) + "}";
      return field_op("$eq", JsonOf(f.args[0]));
    case K::kNe:
      return field_op("$ne", JsonOf(f.args[0]));
    case K::kGt:
      return field_op("$gt", JsonOf(f.args[0]));
    case K::kGte:
      return field_op("$gte", JsonOf(f.args[0]));
    case K::kLt:
      return field_op("$lt", JsonOf(f.args[0]));
    case K::kLte:
      return field_op("$lte", JsonOf(f.args[0]));
    case K::kIn:
      return field_op("$in", list(f.args));
    case K::kNin:
      return field_op("$nin", list(f.args));
    case K::kExists:
      return field_op("$exists", f.exists ? "true" : "false");
    case K::kContains:
      return field_op("$contains", JsonOf(f.args[0]));
    case K::kSubstring:
      return field_op("$substring", JsonOf(f.args[0]));
    case K::kISubstring:
      return field_op("$isubstring", JsonOf(f.args[0]));
    case K::kEmpty:
      return field_op("$empty", f.exists ? "true" : "false");
  }
  return "{}";
}

// The oracle: filter.h's semantics written as plainly as possible. Int/double comparisons use
// long double, which holds every int64 and every double exactly on the platforms we build for.
bool IsNumber(const Value& v) { return v.is_int() || v.is_double(); }
long double AsLong(const Value& v) {
  return v.is_int() ? static_cast<long double>(v.as_int())
                    : static_cast<long double>(v.as_double());
}

bool ScalarEqual(const Value& stored, const Value& operand) {
  if (IsNumber(stored) && IsNumber(operand)) return AsLong(stored) == AsLong(operand);
  if (stored.is_null() && operand.is_null()) return true;
  if (stored.is_bool() && operand.is_bool()) return stored.as_bool() == operand.as_bool();
  if (stored.is_string() && operand.is_string()) return stored.as_string() == operand.as_string();
  return false;
}

bool ScalarRange(const Value& stored, TestFilter::Kind kind, const Value& operand) {
  int c;
  if (IsNumber(stored) && IsNumber(operand)) {
    const long double a = AsLong(stored), b = AsLong(operand);
    c = a < b ? -1 : (a > b ? 1 : 0);
  } else if (stored.is_string() && operand.is_string()) {
    const int r = stored.as_string().compare(operand.as_string());
    c = r < 0 ? -1 : (r > 0 ? 1 : 0);
  } else {
    return false;
  }
  switch (kind) {
    case TestFilter::Kind::kGt:
      return c > 0;
    case TestFilter::Kind::kGte:
      return c >= 0;
    case TestFilter::Kind::kLt:
      return c < 0;
    default:
      return c <= 0;
  }
}

template <typename Pred>
bool AnyValue(const Value& stored, Pred pred) {
  if (!stored.is_list()) return pred(stored);
  for (const Value& e : stored.as_list()) {
    if (pred(e)) return true;
  }
  return false;
}

constexpr size_t npos = std::string::npos;

bool OracleMatch(const TestFilter& f, const Metadata& md) {
  using K = TestFilter::Kind;
  switch (f.kind) {
    case K::kAll:
      return true;
    case K::kAnd:
      for (const TestFilter& k : f.kids) {
        if (!OracleMatch(k, md)) return false;
      }
      return true;
    case K::kOr:
      for (const TestFilter& k : f.kids) {
        if (OracleMatch(k, md)) return true;
      }
      return false;
    case K::kNot:
      return !OracleMatch(f.kids[0], md);
    default:
      break;
  }
  auto it = md.find(f.field);
  if (f.kind == K::kExists) return (it != md.end()) == f.exists;
  if (f.kind == K::kEmpty) {
    const bool empty = it == md.end() || it->second.is_null() ||
                       (it->second.is_string() && it->second.as_string().empty()) ||
                       (it->second.is_list() && it->second.as_list().empty());
    return empty == f.exists;
  }
  if (it == md.end()) return false;
  const Value& v = it->second;
  const auto equal_any = [&](const std::vector<Value>& operands) {
    return AnyValue(v, [&](const Value& e) {
      for (const Value& o : operands) {
        if (ScalarEqual(e, o)) return true;
      }
      return false;
    });
  };
  switch (f.kind) {
    case K::kEq:
    case K::kIn:
      return equal_any(f.args);
    case K::kNe:
    case K::kNin:
      return !equal_any(f.args);
    case K::kGt:
    case K::kGte:
    case K::kLt:
    case K::kLte:
      return AnyValue(v, [&](const Value& e) { return ScalarRange(e, f.kind, f.args[0]); });
    case K::kContains:
      return v.is_list() && AnyValue(v, [&](const Value& e) { return ScalarEqual(e, f.args[0]); });
    case K::kSubstring:
    case K::kISubstring:
      if (!v.is_string()) return false;
      if (f.kind == K::kSubstring) return v.as_string().find(f.args[0].as_string()) != npos;
      return ToLowerUtf8(v.as_string()).find(ToLowerUtf8(f.args[0].as_string())) != npos;
    default:
      return false;
  }
}

class RandomWorld {
 public:
  explicit RandomWorld(uint64_t seed) : rng_(seed) {}

  size_t Uniform(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  bool Chance(double p) { return std::bernoulli_distribution(p)(rng_); }

  Value Scalar() {
    static const int64_t kInts[] = {-2,
                                    -1,
                                    0,
                                    1,
                                    2,
                                    3,
                                    7,
                                    9007199254740993LL,
                                    9007199254740992LL,
                                    9007199254740991LL,
                                    std::numeric_limits<int64_t>::max(),
                                    std::numeric_limits<int64_t>::max() - 1,
                                    std::numeric_limits<int64_t>::min(),
                                    std::numeric_limits<int64_t>::min() + 1};
    static const double kDoubles[] = {-1.5,
                                      -0.0,
                                      0.0,
                                      1.0,
                                      2.0,
                                      2.5,
                                      3.0,
                                      6.75,
                                      0.5,
                                      9007199254740992.0,
                                      9007199254740994.0,
                                      1e300,
                                      -1e300,
                                      0.1,
                                      9223372036854775808.0,
                                      -9223372036854775808.0,
                                      9223372036854774784.0,
                                      -9223372036854774784.0,
                                      1.7976931348623157e308,
                                      4.9e-324};
    static const char* kStrings[] = {"",    "a",         "b",         "ab",       "B",
                                     "abc", "\xC3\xA9", "\xC3\x89", "q\"uote"};  // é, É
    switch (Uniform(10)) {
      case 0:
        return Value();
      case 1:
        return Value(Chance(0.5));
      case 2:
      case 3:
      case 4:
        return Value(kInts[Uniform(std::size(kInts))]);
      case 5:
      case 6:
        return Value(kDoubles[Uniform(std::size(kDoubles))]);
      default:
        return Value(kStrings[Uniform(std::size(kStrings))]);
    }
  }

  Value StoredValue() {
    if (Chance(0.2)) {
      Value::List list;
      const size_t n = Uniform(4);
      for (size_t i = 0; i < n; ++i) list.push_back(Scalar());
      return Value(std::move(list));
    }
    return Scalar();
  }

  Metadata Record() {
    Metadata md;
    for (const char* field : kFields) {
      if (Chance(0.6)) md[field] = StoredValue();
    }
    // Single-type columns take the evaluator's specialised scans.
    if (Chance(0.7)) {
      Value v = Scalar();
      while (!v.is_int()) v = Scalar();
      md["ints"] = std::move(v);
    }
    if (Chance(0.7)) {
      Value v = Scalar();
      while (!v.is_double()) v = Scalar();
      md["doubles"] = std::move(v);
    }
    return md;
  }

  TestFilter Filter(int depth) {
    using K = TestFilter::Kind;
    TestFilter f;
    if (depth < 3 && Chance(0.35)) {
      const size_t pick = Uniform(3);
      f.kind = pick == 0 ? K::kAnd : (pick == 1 ? K::kOr : K::kNot);
      const size_t kids = f.kind == K::kNot ? 1 : 1 + Uniform(3);
      for (size_t i = 0; i < kids; ++i) f.kids.push_back(Filter(depth + 1));
      return f;
    }
    static const K kLeaves[] = {K::kEq,        K::kNe,       K::kGt,         K::kGte,
                                K::kLt,        K::kLte,      K::kIn,         K::kNin,
                                K::kExists,    K::kContains, K::kSubstring,  K::kISubstring,
                                K::kEmpty,     K::kAll};
    f.kind = kLeaves[Uniform(std::size(kLeaves))];
    f.field = FilterField();
    switch (f.kind) {
      case K::kGt:
      case K::kGte:
      case K::kLt:
      case K::kLte: {
        Value v = Scalar();
        while (v.is_null() || v.is_bool()) v = Scalar();
        f.args.push_back(std::move(v));
        break;
      }
      case K::kIn:
      case K::kNin: {
        const size_t n = Uniform(4);
        for (size_t i = 0; i < n; ++i) f.args.push_back(Scalar());
        break;
      }
      case K::kExists:
      case K::kEmpty:
        f.exists = Chance(0.5);
        break;
      case K::kSubstring:
      case K::kISubstring: {
        Value v = Scalar();
        while (!v.is_string()) v = Scalar();
        f.args.push_back(std::move(v));
        break;
      }
      case K::kAll:
        break;
      default:
        f.args.push_back(Scalar());
        break;
    }
    return f;
  }

  std::string FilterField() {
    const size_t pick = Uniform(std::size(kFields) + 2);
    return pick < std::size(kFields) ? kFields[pick]
                                     : (pick == std::size(kFields) ? "ints" : "doubles");
  }

  static constexpr const char* kFields[] = {"a", "b", "c", "d.e", "never"};

 private:
  std::mt19937_64 rng_;
};

TEST(FilterProperty, EvaluateMatchesBruteForce) {
  const uint64_t seed = TestSeed();
  std::printf("filter property test: seed %llu (AUGUR_TEST_SEED=%llu replays)\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
  RandomWorld world(seed);
  constexpr size_t kSlots = 700;  // several words, a ragged tail
  std::vector<Metadata> records(kSlots);
  MetadataColumns columns;
  size_t checked = 0;
  for (int round = 0; round < 6; ++round) {
    // Churn: set, replace, clear; some slots never get metadata.
    for (size_t i = 0; i < kSlots; ++i) {
      const auto slot = static_cast<uint32_t>(world.Uniform(kSlots - 20));
      if (world.Chance(0.15)) {
        columns.Clear(slot);
        records[slot].clear();
      } else {
        records[slot] = world.Record();
        columns.Set(slot, records[slot]);
      }
    }
    Bitset eligible(kSlots);
    for (uint32_t slot = 0; slot < kSlots; ++slot) {
      if (world.Chance(round % 2 == 0 ? 0.9 : 0.3)) eligible.Set(slot);
    }
    const size_t slot_end = kSlots - world.Uniform(70);
    for (int q = 0; q < 400; ++q) {
      const TestFilter filter = world.Filter(0);
      const std::string json = JsonOf(filter);
      auto plan = Parse(json);
      ASSERT_TRUE(plan.ok()) << "seed " << seed << ": " << json << " -> "
                             << plan.status().ToString();
      Bitset got;
      columns.Evaluate(**plan, eligible, slot_end, &got);
      ASSERT_EQ(got.size(), slot_end);
      size_t expected_count = 0;
      for (uint32_t slot = 0; slot < slot_end; ++slot) {
        const bool expect = eligible.Test(slot) && OracleMatch(filter, records[slot]);
        expected_count += expect;
        ASSERT_EQ(got.Test(slot), expect)
            << "seed " << seed << " round " << round << " slot " << slot << "\nfilter " << json
            << "\nplan " << (*plan)->DebugString();
      }
      ASSERT_EQ(got.Count(), expected_count) << "bits set past slot_end? " << json;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 6u * 400u);
}

TEST(FilterProperty, MutatedFiltersParseOrFailCleanly) {
  // Byte-level mutations of valid filters: each parse returns a plan or kInvalidFilter (never a
  // crash, another code, or a plan that fails to evaluate). Sanitizer builds make this sharper.
  const uint64_t seed = TestSeed() ^ 0xf1u;
  std::printf("mutation test: seed %llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  const char* seeds[] = {
      R"({"genre": "news", "year": {"$gte": 1990, "$lt": 2000.5}})",
      R"({"$or": [{"a": {"$in": [1, "x", null]}}, {"$not": {"b": {"$exists": false}}}]})",
      R"({"t": {"$contains": "\u00e9\ud83d\ude00"}, "n": {"$nin": [true, -0.0, 1e5]}})",
  };
  const std::string alphabet = "{}[]\":,$-.0123456789eE+tfnul\\ abx";
  MetadataColumns columns;
  columns.Set(0, {{"a", 1}, {"genre", "news"}, {"t", Value::List{"x"}}});
  Bitset all(1), out;
  all.Set(0);
  size_t ok = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string text = seeds[rng() % std::size(seeds)];
    for (int m = 1 + static_cast<int>(rng() % 4); m > 0 && !text.empty(); --m) {
      const size_t at = rng() % text.size();
      switch (rng() % 3) {
        case 0:
          text[at] = alphabet[rng() % alphabet.size()];
          break;
        case 1:
          text.erase(at, 1 + rng() % 3);
          break;
        default:
          text.insert(at, 1, alphabet[rng() % alphabet.size()]);
          break;
      }
    }
    auto plan = Parse(text);
    if (plan.ok()) {
      ++ok;
      columns.Evaluate(**plan, all, 1, &out);
    } else {
      ASSERT_EQ(plan.status().code(), StatusCode::kInvalidFilter) << text;
      ASSERT_FALSE(plan.status().message().empty());
    }
  }
  EXPECT_GT(ok, 0u);
}

}  // namespace
}  // namespace augurdb::filter
