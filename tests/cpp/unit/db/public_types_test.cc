// The value types of the public headers as an application sees them: Status and its codes,
// Result and the macros, version and build info, metric and quantization names, Value, IdsView.
#include <augurdb/collection.h>
#include <augurdb/export.h>
#include <augurdb/metric.h>
#include <augurdb/status.h>
#include <augurdb/value.h>
#include <augurdb/version.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "unit/db/collection_test_support.h"

namespace augurdb {
namespace {

using namespace augurdb::testing;  // NOLINT(google-build-using-namespace)

TEST(PublicTypes, StatusCodeNumbersAreStable) {
  // These numbers reach Python, logs and bug reports: changing one is a breaking change.
  const std::vector<std::pair<StatusCode, int>> expected = {
      {StatusCode::kOk, 0},
      {StatusCode::kInvalidArgument, 1},
      {StatusCode::kDimensionMismatch, 2},
      {StatusCode::kNotFound, 3},
      {StatusCode::kAlreadyExists, 4},
      {StatusCode::kCorruption, 5},
      {StatusCode::kIOError, 6},
      {StatusCode::kLocked, 7},
      {StatusCode::kResourceExhausted, 8},
      {StatusCode::kCancelled, 9},
      {StatusCode::kNotSupported, 10},
      {StatusCode::kInternal, 11},
      {StatusCode::kInvalidVector, 12},
  };
  static_assert(sizeof(StatusCode) == 1);
  std::set<std::string> names;
  for (const auto& [code, number] : expected) {
    EXPECT_EQ(static_cast<int>(code), number);
    const std::string name(StatusCodeName(code));
    EXPECT_NE(name, "Unknown") << number;
    names.insert(name);
  }
  EXPECT_EQ(names.size(), expected.size()) << "two codes share a name";
  EXPECT_EQ(StatusCodeName(StatusCode::kInvalidArgument), "InvalidArgument");
  EXPECT_EQ(StatusCodeName(StatusCode::kOk), "OK");
  EXPECT_EQ(StatusCodeName(static_cast<StatusCode>(200)), "Unknown");
}

TEST(PublicTypes, StatusFactoriesAndToString) {
  const std::vector<std::pair<Status, StatusCode>> made = {
      {Status::InvalidArgument("m"), StatusCode::kInvalidArgument},
      {Status::DimensionMismatch("m"), StatusCode::kDimensionMismatch},
      {Status::InvalidVector("m"), StatusCode::kInvalidVector},
      {Status::NotFound("m"), StatusCode::kNotFound},
      {Status::AlreadyExists("m"), StatusCode::kAlreadyExists},
      {Status::Corruption("m"), StatusCode::kCorruption},
      {Status::IOError("m"), StatusCode::kIOError},
      {Status::Locked("m"), StatusCode::kLocked},
      {Status::ResourceExhausted("m"), StatusCode::kResourceExhausted},
      {Status::Cancelled("m"), StatusCode::kCancelled},
      {Status::NotSupported("m"), StatusCode::kNotSupported},
      {Status::Internal("m"), StatusCode::kInternal},
  };
  for (const auto& [status, code] : made) {
    EXPECT_FALSE(status.ok());
    EXPECT_EQ(status.code(), code);
    EXPECT_EQ(status.message(), "m");
    EXPECT_EQ(status.ToString(), std::string(StatusCodeName(code)) + ": m");
  }
  EXPECT_TRUE(Status().ok());
  EXPECT_TRUE(Status::OK().ok());
  EXPECT_EQ(Status::OK().ToString(), "OK");
  const Status custom(StatusCode::kLocked, "held by pid 1");
  EXPECT_EQ(custom.code(), StatusCode::kLocked);
  EXPECT_EQ(custom.ToString(), "Locked: held by pid 1");
}

Result<int> ParseDigit(char c) {
  if (c < '0' || c > '9') return Status::InvalidArgument(std::string("not a digit: ") + c);
  return c - '0';
}

Status CheckEven(int x) {
  if (x % 2 != 0) return Status::InvalidArgument("odd");
  return Status::OK();
}

Result<int> EvenDigitTimesTen(char c) {
  AUGUR_ASSIGN_OR_RETURN(int digit, ParseDigit(c));
  AUGUR_RETURN_IF_ERROR(CheckEven(digit));
  return digit * 10;
}

Result<std::unique_ptr<int>> Boxed(int x) {
  if (x < 0) return Status::NotFound("negative");
  return std::make_unique<int>(x);
}

TEST(PublicTypes, ResultAndMacros) {
  Result<int> ok = ParseDigit('7');
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 7);
  EXPECT_EQ(ok.value(), 7);
  EXPECT_TRUE(ok.status().ok());
  Result<int> bad = ParseDigit('x');
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(std::move(bad).status().message(), "not a digit: x");

  EXPECT_EQ(*EvenDigitTimesTen('4'), 40);
  EXPECT_CODE(EvenDigitTimesTen('3'), kInvalidArgument);  // from AUGUR_RETURN_IF_ERROR
  EXPECT_CODE(EvenDigitTimesTen('?'), kInvalidArgument);  // from AUGUR_ASSIGN_OR_RETURN

  // Move-only values pass through Result and the macro.
  auto twice = [](int x) -> Result<int> {
    AUGUR_ASSIGN_OR_RETURN(std::unique_ptr<int> a, Boxed(x));
    AUGUR_ASSIGN_OR_RETURN(std::unique_ptr<int> b, Boxed(x));
    return *a + *b;
  };
  EXPECT_EQ(*twice(21), 42);
  EXPECT_CODE(twice(-1), kNotFound);
  Result<std::unique_ptr<int>> boxed = Boxed(5);
  ASSERT_TRUE(boxed.ok());
  EXPECT_EQ(**boxed, 5);
  std::unique_ptr<int> taken = std::move(boxed).value();
  EXPECT_EQ(*taken, 5);
}

TEST(PublicTypes, VersionAndBuildInfo) {
  const std::string composed = std::to_string(AUGURDB_VERSION_MAJOR) + "." +
                               std::to_string(AUGURDB_VERSION_MINOR) + "." +
                               std::to_string(AUGURDB_VERSION_PATCH);
  EXPECT_EQ(composed, AUGURDB_VERSION_STRING);
  const BuildInfo info = GetBuildInfo();
  EXPECT_EQ(info.version, AUGURDB_VERSION_STRING);
  EXPECT_FALSE(info.compiler.empty());
  const std::set<std::string> levels = {"scalar", "avx2", "avx512", "neon"};
  EXPECT_TRUE(levels.count(info.simd)) << info.simd;
  EXPECT_TRUE(levels.count(info.simd_detected)) << info.simd_detected;
  // A collection uses the level GetBuildInfo reports.
  auto col = OpenOrFail({});
  ASSERT_NE(col, nullptr);
  EXPECT_EQ(col->Stats().simd, info.simd);
}

TEST(PublicTypes, MetricNames) {
  static_assert(MetricName(Metric::kCosine) == "cosine");
  static_assert(ParseMetric("ip") == Metric::kInnerProduct);
  for (Metric m : {Metric::kL2, Metric::kInnerProduct, Metric::kCosine}) {
    EXPECT_EQ(ParseMetric(MetricName(m)), m);
  }
  EXPECT_EQ(MetricName(Metric::kL2), "l2");
  EXPECT_EQ(MetricName(Metric::kInnerProduct), "ip");
  EXPECT_EQ(ParseMetric("L2"), std::nullopt);
  EXPECT_EQ(ParseMetric(""), std::nullopt);
  EXPECT_EQ(ParseMetric("euclidean"), std::nullopt);
  EXPECT_EQ(static_cast<int>(Metric::kL2), 0);
  EXPECT_EQ(static_cast<int>(Metric::kInnerProduct), 1);
  EXPECT_EQ(static_cast<int>(Metric::kCosine), 2);
}

TEST(PublicTypes, QuantizationNames) {
  static_assert(QuantizationName(Quantization::kSq8) == "sq8");
  static_assert(QuantizationName(Quantization::kSq4) == "sq4");
  for (Quantization q : {Quantization::kNone, Quantization::kSq8, Quantization::kSq4}) {
    EXPECT_EQ(ParseQuantization(QuantizationName(q)), q);
  }
  EXPECT_EQ(QuantizationName(Quantization::kNone), "none");
  EXPECT_EQ(ParseQuantization("SQ8"), std::nullopt);
  EXPECT_EQ(ParseQuantization("pq"), std::nullopt);
  EXPECT_EQ(static_cast<int>(Quantization::kNone), 0);
  EXPECT_EQ(static_cast<int>(Quantization::kSq8), 1);
  EXPECT_EQ(static_cast<int>(Quantization::kSq4), 2);
  const CollectionOptions o;
  EXPECT_FALSE(o.quantization.has_value());
  EXPECT_EQ(o.rerank, 0u);
  EXPECT_EQ(SearchOptions{}.rerank, 0u);
  EXPECT_EQ(CollectionStats{}.quantization, Quantization::kNone);
}

TEST(PublicTypes, ValueKinds) {
  const Value null_value;
  EXPECT_TRUE(null_value.is_null());
  EXPECT_TRUE(Value(nullptr).is_null());
  EXPECT_TRUE(Value(true).is_bool());
  EXPECT_TRUE(Value(true).as_bool());
  EXPECT_TRUE(Value(3).is_int());
  EXPECT_EQ(Value(3).as_int(), 3);
  EXPECT_EQ(Value(int64_t{1} << 40).as_int(), int64_t{1} << 40);
  EXPECT_TRUE(Value(1.5).is_double());
  EXPECT_EQ(Value(1.5).as_double(), 1.5);
  EXPECT_TRUE(Value("text").is_string());
  EXPECT_EQ(Value("text").as_string(), "text");
  EXPECT_EQ(Value(std::string("s")).as_string(), "s");
  const Value list(Value::List{1, "two", 3.0, nullptr});
  ASSERT_TRUE(list.is_list());
  ASSERT_EQ(list.as_list().size(), 4u);
  EXPECT_EQ(list.as_list()[1].as_string(), "two");
  EXPECT_TRUE(std::holds_alternative<Value::List>(list.storage()));
  // Exactly one kind is true per value.
  for (const Value& v : {Value(), Value(false), Value(1), Value(1.0), Value("x"), list}) {
    EXPECT_EQ(v.is_null() + v.is_bool() + v.is_int() + v.is_double() + v.is_string() + v.is_list(),
              1);
  }
  EXPECT_EQ(Value(1), Value(int64_t{1}));
  EXPECT_FALSE(Value(1) == Value(1.0));  // no numeric coercion
  EXPECT_FALSE(Value("1") == Value(1));
  EXPECT_GE(Value().MemoryBytes(), sizeof(Value));
  EXPECT_GT(Value(std::string(1000, 'x')).MemoryBytes(), 1000u);
  EXPECT_GT(list.MemoryBytes(), 4 * sizeof(Value));
}

TEST(PublicTypes, IdsViewAndHandles) {
  const std::vector<int64_t> ints = {3, 1, 2};
  const IdsView iv = IdsView::Ints(ints);
  EXPECT_FALSE(iv.is_string());
  EXPECT_EQ(iv.size(), 3u);
  EXPECT_EQ(iv.ints().data(), ints.data());  // a view, not a copy
  EXPECT_TRUE(iv.strings().empty());
  const std::vector<std::string> strs = {"a", "b"};
  const IdsView sv = IdsView::Strings(strs);
  EXPECT_TRUE(sv.is_string());
  EXPECT_EQ(sv.size(), 2u);
  EXPECT_EQ(sv.strings().data(), strs.data());
  EXPECT_TRUE(sv.ints().empty());
  EXPECT_EQ(IdsView::Ints({}).size(), 0u);

  static_assert(!std::is_copy_constructible_v<Collection>);
  static_assert(!std::is_copy_assignable_v<Collection>);
  static_assert(std::is_same_v<decltype(Collection::Open(CollectionOptions{})),
                               Result<std::unique_ptr<Collection>>>);
  // Defaults documented in the header.
  const CollectionOptions o;
  EXPECT_TRUE(o.path.empty());
  EXPECT_FALSE(o.read_only);
  EXPECT_EQ(o.durability, Durability::kSync);
  EXPECT_EQ(o.dim, 0u);
  EXPECT_FALSE(o.metric.has_value());
  const SearchOptions so;
  EXPECT_EQ(so.k, 10u);
  EXPECT_FALSE(so.include_metadata);
  EXPECT_EQ(static_cast<int>(Durability::kSync), 0);
  EXPECT_EQ(static_cast<int>(Durability::kBatch), 1);
  EXPECT_EQ(static_cast<int>(Durability::kNone), 2);
  EXPECT_EQ(static_cast<int>(IdKind::kUnset), 0);
  EXPECT_EQ(static_cast<int>(IdKind::kInt), 1);
  EXPECT_EQ(static_cast<int>(IdKind::kString), 2);
}

}  // namespace
}  // namespace augurdb
