// Tests of the public C++ API (include/augurdb/) as an application sees it: every Collection
// method and every StatusCode a caller can reach through it, in memory and on disk, with
// integer and string ids; reopen equivalence; and a reader/writer concurrency test meant to run
// under TSan (make test-tsan). Only installed headers are included: nothing here may depend on
// src/ internals, so these tests also pin what the installed package promises.
#include <augurdb/collection.h>
#include <augurdb/export.h>
#include <augurdb/metric.h>
#include <augurdb/status.h>
#include <augurdb/value.h>
#include <augurdb/version.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define AUGUR_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define AUGUR_TEST_SANITIZED 1
#endif
#endif

namespace augurdb {
namespace {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------
// Helpers

::testing::AssertionResult IsOk(const Status& s) {
  if (s.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << s.ToString();
}
template <typename T>
::testing::AssertionResult IsOk(const Result<T>& r) {
  return IsOk(r.status());
}

// An error must carry the expected code and a message saying what failed.
::testing::AssertionResult HasCode(const Status& s, StatusCode code) {
  if (s.code() != code) {
    return ::testing::AssertionFailure()
           << "expected " << StatusCodeName(code) << ", got " << s.ToString();
  }
  if (code != StatusCode::kOk && s.message().empty()) {
    return ::testing::AssertionFailure() << StatusCodeName(code) << " with an empty message";
  }
  return ::testing::AssertionSuccess();
}
template <typename T>
::testing::AssertionResult HasCode(const Result<T>& r, StatusCode code) {
  return HasCode(r.status(), code);
}

#define EXPECT_OK(expr) EXPECT_TRUE(IsOk(expr))
#define ASSERT_OK(expr) ASSERT_TRUE(IsOk(expr))
#define EXPECT_CODE(expr, code) EXPECT_TRUE(HasCode((expr), StatusCode::code))
#define ASSERT_CODE(expr, code) ASSERT_TRUE(HasCode((expr), StatusCode::code))

// A fresh directory under the system temp dir, removed (with everything in it) at scope exit.
class TempDir {
 public:
  TempDir() {
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = "augurdb_db_test";
    if (info != nullptr) name += std::string("_") + info->test_suite_name() + "_" + info->name();
    for (char& c : name) {
      if (c == '/') c = '_';
    }
    std::random_device rd;
    name += "_" + std::to_string(rd()) + std::to_string(rd());
    path_ = fs::temp_directory_path() / name;
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string Sub(const std::string& name) const { return (path_ / name).string(); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::vector<float> RandomVectors(size_t n, size_t dim, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> out(n * dim);
  for (float& x : out) x = uniform(rng);
  return out;
}

MatrixView View(const std::vector<float>& data, size_t dim) {
  return MatrixView{data.data(), data.size() / dim, dim, 0};
}

std::span<const float> Row(const std::vector<float>& data, size_t dim, size_t row) {
  return std::span<const float>(data.data() + row * dim, dim);
}

std::vector<int64_t> Iota(int64_t first, size_t n) {
  std::vector<int64_t> ids(n);
  for (size_t i = 0; i < n; ++i) ids[i] = first + static_cast<int64_t>(i);
  return ids;
}

float Dot(std::span<const float> a, std::span<const float> b) {
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i) sum += double{a[i]} * double{b[i]};
  return static_cast<float>(sum);
}

// The distance the header documents for each metric ("smaller is closer").
float RefDistance(Metric metric, std::span<const float> a, std::span<const float> b) {
  switch (metric) {
    case Metric::kL2: {
      double sum = 0;
      for (size_t i = 0; i < a.size(); ++i) {
        const double d = double{a[i]} - double{b[i]};
        sum += d * d;
      }
      return static_cast<float>(sum);
    }
    case Metric::kInnerProduct:
      return -Dot(a, b);
    case Metric::kCosine:
      return 1.0f - Dot(a, b) / std::sqrt(Dot(a, a) * Dot(b, b));
  }
  return 0;
}

bool Near(float got, float want) {
  return std::fabs(got - want) <= 1e-4f * (1.0f + std::fabs(want));
}

// Row indices of the k nearest rows of `data` to `query`, closest first.
std::vector<size_t> BruteForce(Metric metric, const std::vector<float>& data, size_t dim,
                               std::span<const float> query, size_t k) {
  std::vector<std::pair<float, size_t>> all;
  for (size_t r = 0; r < data.size() / dim; ++r) {
    all.emplace_back(RefDistance(metric, query, Row(data, dim, r)), r);
  }
  std::sort(all.begin(), all.end());
  std::vector<size_t> rows;
  for (size_t i = 0; i < std::min(k, all.size()); ++i) rows.push_back(all[i].second);
  return rows;
}

std::unique_ptr<Collection> OpenOrFail(const CollectionOptions& options) {
  Result<std::unique_ptr<Collection>> col = Collection::Open(options);
  EXPECT_OK(col);
  if (!col.ok()) return nullptr;
  return std::move(col).value();
}

int64_t IntId(const Id& id) { return std::get<int64_t>(id); }
const std::string& StrId(const Id& id) { return std::get<std::string>(id); }

Metadata RichMetadata(int64_t n) {
  return Metadata{
      {"n", n},
      {"name", "record " + std::to_string(n)},
      {"score", 0.25 * static_cast<double>(n)},
      {"flag", n % 2 == 0},
      {"missing", nullptr},
      {"tags", Value::List{"a", int64_t{1}, 2.5, false, nullptr}},
      {"min", std::numeric_limits<int64_t>::min()},
      {"unicode", "na\xc3\xafve \xe2\x98\x83"},
      {"binary", std::string("a\0b", 3)},
      {"long", std::string(300, 'x')},
  };
}

constexpr size_t kDim = 8;

// ---------------------------------------------------------------------------------------------
// Value types of the public headers: Status, Result, the macros, version, metric, Value, IdsView

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

// ---------------------------------------------------------------------------------------------
// Open: options validation (in memory; nothing touches the disk)

TEST(Open, RejectsBadOptions) {
  std::vector<std::pair<std::string, CollectionOptions>> bad;
  auto add = [&](std::string what, auto edit) {
    CollectionOptions o;
    edit(o);
    bad.emplace_back(std::move(what), o);
  };
  add("dim too large", [](CollectionOptions& o) { o.dim = 65537; });
  add("m too small", [](CollectionOptions& o) { o.m = 1; });
  add("m too large", [](CollectionOptions& o) { o.m = 513; });
  add("ef_construction too large", [](CollectionOptions& o) { o.ef_construction = 100001; });
  add("ef_search too large", [](CollectionOptions& o) { o.ef_search = 100001; });
  add("threads too many", [](CollectionOptions& o) { o.threads = 1025; });
  add("unknown durability",
      [](CollectionOptions& o) { o.durability = static_cast<Durability>(3); });
  add("read_only in memory", [](CollectionOptions& o) { o.read_only = true; });
  for (const auto& [what, options] : bad) {
    EXPECT_CODE(Collection::Open(options), kInvalidArgument) << what;
  }
  // The edges of each range are accepted.
  CollectionOptions edges;
  edges.dim = 65536;
  edges.m = 512;
  edges.ef_construction = 100000;
  edges.ef_search = 100000;
  edges.threads = 1;
  EXPECT_OK(Collection::Open(edges));
  edges.dim = 1;
  edges.m = 2;
  edges.ef_construction = 1;
  edges.ef_search = 1;
  EXPECT_OK(Collection::Open(edges));
}

// ---------------------------------------------------------------------------------------------
// Behaviour that must be the same in memory and on disk

enum class Where { kMemory, kDisk };

class CollectionTest : public ::testing::TestWithParam<Where> {
 protected:
  bool disk() const { return GetParam() == Where::kDisk; }

  // Options for this test's collection: in memory, or the directory "db" in a temp dir.
  CollectionOptions Options(size_t dim = kDim, std::optional<Metric> metric = std::nullopt) const {
    CollectionOptions o;
    if (disk()) o.path = dir_.Sub("db");
    o.dim = dim;
    o.metric = metric;
    o.threads = 2;
    return o;
  }

  std::unique_ptr<Collection> Open(size_t dim = kDim,
                                   std::optional<Metric> metric = std::nullopt) const {
    return OpenOrFail(Options(dim, metric));
  }

  TempDir dir_;
};

INSTANTIATE_TEST_SUITE_P(Where, CollectionTest, ::testing::Values(Where::kMemory, Where::kDisk),
                         [](const ::testing::TestParamInfo<Where>& param_info) {
                           return param_info.param == Where::kMemory ? "Memory" : "Disk";
                         });

TEST_P(CollectionTest, OpenDefaults) {
  CollectionOptions o = Options(0);
  o.threads = 0;
  auto col = OpenOrFail(o);
  ASSERT_NE(col, nullptr);
  EXPECT_EQ(col->size(), 0u);
  EXPECT_EQ(col->dim(), 0u);
  EXPECT_EQ(col->metric(), Metric::kL2);
  EXPECT_EQ(col->id_kind(), IdKind::kUnset);
  EXPECT_FALSE(col->read_only());
  EXPECT_EQ(col->path(), o.path);
  EXPECT_TRUE(col->Ids().empty());
  EXPECT_FALSE(col->Contains(Id{int64_t{1}}));
  EXPECT_FALSE(col->Contains(Id{std::string("a")}));
  const CollectionStats st = col->Stats();
  EXPECT_EQ(st.count, 0u);
  EXPECT_EQ(st.m, 16u);
  EXPECT_EQ(st.ef_construction, 200u);
  EXPECT_EQ(st.ef_search, 64u);
  EXPECT_EQ(st.quantization, Quantization::kNone);
  EXPECT_GE(st.threads, 1u);  // 0 = all cores
  if (std::thread::hardware_concurrency() != 0) {
    EXPECT_EQ(st.threads, std::thread::hardware_concurrency());
  }
  if (disk()) {
    EXPECT_TRUE(fs::is_directory(o.path));
  }
  EXPECT_OK(col->Close());
}

TEST_P(CollectionTest, AddAndGetIntIdsWithMetadata) {
  auto col = Open();
  ASSERT_NE(col, nullptr);
  const std::vector<int64_t> ids = {0, -5, 42, std::numeric_limits<int64_t>::max(),
                                    std::numeric_limits<int64_t>::min()};
  const std::vector<float> data = RandomVectors(ids.size(), kDim, 1);
  std::vector<Metadata> meta;
  for (size_t i = 0; i < ids.size(); ++i) meta.push_back(RichMetadata(static_cast<int64_t>(i)));
  meta[2] = Metadata{};  // a row without metadata
  ASSERT_OK(col->Add(IdsView::Ints(ids), View(data, kDim), meta));
  EXPECT_EQ(col->size(), ids.size());
  EXPECT_EQ(col->id_kind(), IdKind::kInt);

  auto check = [&](const Collection& c) {
    Result<std::vector<std::optional<Record>>> got = c.Get(IdsView::Ints(ids));
    ASSERT_OK(got);
    ASSERT_EQ(got->size(), ids.size());
    for (size_t i = 0; i < ids.size(); ++i) {
      ASSERT_TRUE((*got)[i].has_value()) << ids[i];
      const Record& rec = *(*got)[i];
      EXPECT_EQ(IntId(rec.id), ids[i]);
      EXPECT_EQ(rec.vector,
                std::vector<float>(Row(data, kDim, i).begin(), Row(data, kDim, i).end()));
      EXPECT_EQ(rec.metadata, meta[i]) << "id " << ids[i];
      EXPECT_TRUE(c.Contains(Id{ids[i]}));
    }
    std::vector<Id> all = c.Ids();  // insertion-slot order
    ASSERT_EQ(all.size(), ids.size());
    for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(IntId(all[i]), ids[i]);
  };
  check(*col);
  EXPECT_FALSE(col->Contains(Id{int64_t{7}}));
  EXPECT_FALSE(col->Contains(Id{std::string("0")}));  // other id kind: simply absent
  if (disk()) {
    ASSERT_OK(col->Close());
    col = Open();
    ASSERT_NE(col, nullptr);
    check(*col);
  }
}

TEST_P(CollectionTest, AddAndGetStringIds) {
  auto col = Open();
  ASSERT_NE(col, nullptr);
  const std::vector<std::string> ids = {"alpha", "b", std::string(300, 'z'),
                                        "na\xc3\xafve \xe2\x98\x83", "with space"};
  const std::vector<float> data = RandomVectors(ids.size(), kDim, 2);
  std::vector<Metadata> meta(ids.size());
  meta[1] = Metadata{{"k", "v"}};
  ASSERT_OK(col->Add(IdsView::Strings(ids), View(data, kDim), meta));
  EXPECT_EQ(col->id_kind(), IdKind::kString);
  EXPECT_EQ(col->size(), ids.size());

  auto check = [&](const Collection& c) {
    std::vector<std::string> query = ids;
    query.push_back("absent");
    auto got = c.Get(IdsView::Strings(query));
    ASSERT_OK(got);
    ASSERT_EQ(got->size(), query.size());
    for (size_t i = 0; i < ids.size(); ++i) {
      ASSERT_TRUE((*got)[i].has_value()) << ids[i];
      EXPECT_EQ(StrId((*got)[i]->id), ids[i]);
      EXPECT_EQ((*got)[i]->vector[0], data[i * kDim]);
      EXPECT_EQ((*got)[i]->metadata, meta[i]);
      EXPECT_TRUE(c.Contains(Id{ids[i]}));
    }
    EXPECT_FALSE(got->back().has_value());
    std::vector<Id> all = c.Ids();
    ASSERT_EQ(all.size(), ids.size());
    for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(StrId(all[i]), ids[i]);
  };
  check(*col);
  EXPECT_FALSE(col->Contains(Id{int64_t{0}}));
  if (disk()) {
    ASSERT_OK(col->Close());
    col = Open();
    ASSERT_NE(col, nullptr);
    EXPECT_EQ(col->id_kind(), IdKind::kString);
    check(*col);
  }
}

TEST_P(CollectionTest, RowStrideAndDimFromFirstAdd) {
  auto col = Open(0);
  ASSERT_NE(col, nullptr);
  EXPECT_EQ(col->dim(), 0u);
  // Three rows of 3 floats inside rows of 5: the 2 padding floats must be ignored.
  const std::vector<float> padded = {1, 2, 3, 99, 99, 4, 5, 6, 99, 99, 7, 8, 9, 99, 99};
  ASSERT_OK(col->Add(IdsView::Ints(Iota(1, 3)), MatrixView{padded.data(), 3, 3, 5}));
  EXPECT_EQ(col->dim(), 3u);
  EXPECT_EQ(col->Stats().dim, 3u);
  auto got = col->Get(IdsView::Ints(Iota(1, 3)));
  ASSERT_OK(got);
  EXPECT_EQ((*got)[1]->vector, (std::vector<float>{4, 5, 6}));
  EXPECT_EQ((*got)[2]->vector, (std::vector<float>{7, 8, 9}));
  // The dim is now fixed.
  const std::vector<float> four = {1, 2, 3, 4};
  EXPECT_CODE(col->Add(IdsView::Ints(Iota(10, 1)), View(four, 4)), kDimensionMismatch);
  if (disk()) {
    ASSERT_OK(col->Close());
    col = Open(0);
    ASSERT_NE(col, nullptr);
    EXPECT_EQ(col->dim(), 3u);
  }
  // A query with a stride.
  const std::vector<float> queries = {4, 5, 6, -1, 1, 2, 3, -1};
  auto batch = col->SearchBatch(MatrixView{queries.data(), 2, 3, 4}, {.k = 1});
  ASSERT_OK(batch);
  EXPECT_EQ(batch->int_ids, (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(batch->distances, (std::vector<float>{0.0f, 0.0f}));
}

TEST_P(CollectionTest, AddErrorsLeaveTheCollectionUnchanged) {
  auto col = Open();
  ASSERT_NE(col, nullptr);
  const std::vector<float> two = RandomVectors(2, kDim, 3);
  ASSERT_OK(col->Add(IdsView::Ints(Iota(100, 2)), View(two, kDim)));
  const size_t before = col->size();

  const std::vector<float> one = RandomVectors(1, kDim, 4);
  const std::vector<int64_t> none;
  EXPECT_CODE(col->Add(IdsView::Ints(none), MatrixView{one.data(), 0, kDim, 0}), kInvalidArgument)
      << "empty batch";
  EXPECT_CODE(col->Add(IdsView::Ints(Iota(1, 2)), View(one, kDim)), kInvalidArgument)
      << "2 ids, 1 vector";
  const std::vector<int64_t> dup = {5, 6, 5};
  const std::vector<float> three = RandomVectors(3, kDim, 5);
  EXPECT_CODE(col->Add(IdsView::Ints(dup), View(three, kDim)), kInvalidArgument) << "duplicate";
  const std::vector<std::string> strs = {"a"};
  EXPECT_CODE(col->Add(IdsView::Strings(strs), View(one, kDim)), kInvalidArgument)
      << "string ids in an int collection";
  const std::vector<Metadata> meta(2);
  EXPECT_CODE(col->Add(IdsView::Ints(Iota(1, 1)), View(one, kDim), meta), kInvalidArgument)
      << "metadata count";
  EXPECT_CODE(col->Add(IdsView::Ints(Iota(1, 1)), MatrixView{nullptr, 1, kDim, 0}),
              kInvalidArgument)
      << "null data";
  // One existing id fails the whole batch: the other rows are not inserted either.
  const std::vector<int64_t> mixed = {7, 101, 8};
  EXPECT_CODE(col->Add(IdsView::Ints(mixed), View(three, kDim)), kAlreadyExists);
  EXPECT_FALSE(col->Contains(Id{int64_t{7}}));
  EXPECT_FALSE(col->Contains(Id{int64_t{8}}));
  const std::vector<float> wrong_dim = RandomVectors(1, kDim + 1, 6);
  EXPECT_CODE(col->Add(IdsView::Ints(Iota(1, 1)), View(wrong_dim, kDim + 1)), kDimensionMismatch);
  EXPECT_CODE(col->Add(IdsView::Ints(Iota(1, 1)), MatrixView{one.data(), 1, 0, 0}),
              kDimensionMismatch)
      << "dim 0";
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                    -std::numeric_limits<float>::infinity()}) {
    std::vector<float> rows = RandomVectors(2, kDim, 7);
    rows[kDim + 3] = bad;  // row 1, position 3
    const Status s = col->Add(IdsView::Ints(Iota(1, 2)), View(rows, kDim));
    EXPECT_CODE(s, kInvalidVector) << bad;
    EXPECT_NE(s.message().find("row 1"), std::string::npos) << s.ToString();
    EXPECT_FALSE(col->Contains(Id{int64_t{1}}));  // row 0 was fine but the batch is atomic
  }
  // A zero vector is fine under L2.
  const std::vector<float> zero(kDim, 0.0f);
  EXPECT_OK(col->Add(IdsView::Ints(Iota(200, 1)), View(zero, kDim)));
  EXPECT_EQ(col->size(), before + 1);
  EXPECT_EQ(col->Ids().size(), before + 1);
}

TEST_P(CollectionTest, StringIdErrors) {
  auto col = Open();
  ASSERT_NE(col, nullptr);
  const std::vector<std::string> ids = {"x", "y", "x"};
  const std::vector<float> three = RandomVectors(3, kDim, 8);
  EXPECT_CODE(col->Add(IdsView::Strings(ids), View(three, kDim)), kInvalidArgument);
  EXPECT_EQ(col->id_kind(), IdKind::kUnset);
  const std::vector<std::string> ok_ids = {"x", "y", "z"};
  ASSERT_OK(col->Add(IdsView::Strings(ok_ids), View(three, kDim)));
  EXPECT_CODE(col->Add(IdsView::Strings(ok_ids), View(three, kDim)), kAlreadyExists);
  EXPECT_CODE(col->Add(IdsView::Ints(Iota(1, 3)), View(three, kDim)), kInvalidArgument);
  EXPECT_CODE(col->Upsert(IdsView::Ints(Iota(1, 3)), View(three, kDim)), kInvalidArgument);
  EXPECT_CODE(col->Delete(IdsView::Ints(Iota(1, 3))), kInvalidArgument);
  EXPECT_CODE(col->Get(IdsView::Ints(Iota(1, 3))), kInvalidArgument);
  EXPECT_EQ(col->size(), 3u);
}

TEST_P(CollectionTest, CosineRejectsZeroVectorsAndNormalises) {
  auto col = Open(kDim, Metric::kCosine);
  ASSERT_NE(col, nullptr);
  EXPECT_EQ(col->metric(), Metric::kCosine);
  std::vector<float> rows = RandomVectors(2, kDim, 9);
  std::fill(rows.begin() + kDim, rows.end(), 0.0f);
  EXPECT_CODE(col->Add(IdsView::Ints(Iota(1, 2)), View(rows, kDim)), kInvalidVector);
  EXPECT_CODE(col->Upsert(IdsView::Ints(Iota(1, 2)), View(rows, kDim)), kInvalidVector);
  EXPECT_EQ(col->size(), 0u);
  const std::vector<float> good = {3, 4, 0, 0, 0, 0, 0, 0};
  ASSERT_OK(col->Add(IdsView::Ints(Iota(1, 1)), View(good, kDim)));
  auto got = col->Get(IdsView::Ints(Iota(1, 1)));
  ASSERT_OK(got);
  ASSERT_TRUE((*got)[0].has_value());
  // Stored as unit length.
  EXPECT_NEAR((*got)[0]->vector[0], 0.6f, 1e-6f);
  EXPECT_NEAR((*got)[0]->vector[1], 0.8f, 1e-6f);
  const std::vector<float> zero(kDim, 0.0f);
  EXPECT_CODE(col->Search(zero, {}), kInvalidVector);
  EXPECT_CODE(col->SearchBatch(View(zero, kDim), {}), kInvalidVector);
}

TEST_P(CollectionTest, UpsertReplacesAndInserts) {
  auto col = Open();
  ASSERT_NE(col, nullptr);
  const std::vector<float> old_rows = RandomVectors(3, kDim, 10);
  const std::vector<Metadata> old_meta = {{{"v", 1}}, {{"v", 1}}, {{"v", 1}}};
  ASSERT_OK(col->Add(IdsView::Ints(Iota(1, 3)), View(old_rows, kDim), old_meta));
  // Replace 2 and 3, insert 4; 3 gets no metadata, which clears its old metadata.
  const std::vector<int64_t> ids = {2, 3, 4};
  const std::vector<float> new_rows = RandomVectors(3, kDim, 11);
  const std::vector<Metadata> new_meta = {{{"v", 2}}, {}, {{"v", 2}}};
  ASSERT_OK(col->Upsert(IdsView::Ints(ids), View(new_rows, kDim), new_meta));
  EXPECT_EQ(col->size(), 4u);
  auto check = [&](const Collection& c) {
    auto got = c.Get(IdsView::Ints(Iota(1, 4)));
    ASSERT_OK(got);
    EXPECT_EQ((*got)[0]->vector[0], old_rows[0]);
    EXPECT_EQ((*got)[0]->metadata, old_meta[0]);
    for (size_t i = 0; i < 3; ++i) {
      ASSERT_TRUE((*got)[i + 1].has_value());
      EXPECT_EQ((*got)[i + 1]->vector,
                std::vector<float>(Row(new_rows, kDim, i).begin(), Row(new_rows, kDim, i).end()));
      EXPECT_EQ((*got)[i + 1]->metadata, new_meta[i]);
    }
    // Searching for an old vector no longer finds it at distance 0; the new one does.
    auto hit_old = c.Search(Row(old_rows, kDim, 1), {.k = 1});
    ASSERT_OK(hit_old);
    ASSERT_EQ(hit_old->size(), 1u);
    EXPECT_GT((*hit_old)[0].distance, 0.0f);
    auto hit_new = c.Search(Row(new_rows, kDim, 0), {.k = 1});
    ASSERT_OK(hit_new);
    EXPECT_EQ(IntId((*hit_new)[0].id), 2);
    EXPECT_EQ((*hit_new)[0].distance, 0.0f);
    EXPECT_EQ(c.Ids().size(), 4u);
  };
  check(*col);
  // Upserting the same ids again with the same data is idempotent.
  ASSERT_OK(col->Upsert(IdsView::Ints(ids), View(new_rows, kDim), new_meta));
  EXPECT_EQ(col->size(), 4u);
  check(*col);
  if (disk()) {
    ASSERT_OK(col->Close());
    col = Open();
    ASSERT_NE(col, nullptr);
    check(*col);
  }
}

TEST_P(CollectionTest, UpsertErrors) {
  auto col = Open();
  ASSERT_NE(col, nullptr);
  const std::vector<float> one = RandomVectors(1, kDim, 12);
  const std::vector<int64_t> none;
  EXPECT_CODE(col->Upsert(IdsView::Ints(none), MatrixView{one.data(), 0, kDim, 0}),
              kInvalidArgument);
  const std::vector<int64_t> dup = {1, 1};
  const std::vector<float> two = RandomVectors(2, kDim, 13);
  EXPECT_CODE(col->Upsert(IdsView::Ints(dup), View(two, kDim)), kInvalidArgument);
  const std::vector<Metadata> meta(3);
  EXPECT_CODE(col->Upsert(IdsView::Ints(Iota(1, 2)), View(two, kDim), meta), kInvalidArgument);
  const std::vector<float> wrong = RandomVectors(1, kDim - 1, 14);
  EXPECT_CODE(col->Upsert(IdsView::Ints(Iota(1, 1)), View(wrong, kDim - 1)), kDimensionMismatch);
  std::vector<float> nan_row = one;
  nan_row[0] = std::nanf("");
  EXPECT_CODE(col->Upsert(IdsView::Ints(Iota(1, 1)), View(nan_row, kDim)), kInvalidVector);
  EXPECT_EQ(col->size(), 0u);
  // Upsert of an existing id is not kAlreadyExists.
  ASSERT_OK(col->Upsert(IdsView::Ints(Iota(1, 1)), View(one, kDim)));
  EXPECT_OK(col->Upsert(IdsView::Ints(Iota(1, 1)), View(one, kDim)));
  EXPECT_EQ(col->size(), 1u);
}

TEST_P(CollectionTest, DeleteCounts) {
  auto col = Open();
  ASSERT_NE(col, nullptr);
  // Deleting from a collection that never had a record.
  Result<size_t> none = col->Delete(IdsView::Ints(Iota(1, 3)));
  ASSERT_OK(none);
  EXPECT_EQ(*none, 0u);
  const std::vector<float> data = RandomVectors(10, kDim, 15);
  ASSERT_OK(col->Add(IdsView::Ints(Iota(0, 10)), View(data, kDim)));

  const std::vector<int64_t> some = {1, 3, 3, 99, 5};  // 3 twice, 99 unknown
  Result<size_t> removed = col->Delete(IdsView::Ints(some));
  ASSERT_OK(removed);
  EXPECT_EQ(*removed, 3u);
  EXPECT_EQ(col->size(), 7u);
  removed = col->Delete(IdsView::Ints(some));  // nothing left to remove
  ASSERT_OK(removed);
  EXPECT_EQ(*removed, 0u);
  const std::vector<int64_t> empty;
  removed = col->Delete(IdsView::Ints(empty));
  ASSERT_OK(removed);
  EXPECT_EQ(*removed, 0u);

  auto check = [&](const Collection& c) {
    EXPECT_EQ(c.size(), 7u);
    for (int64_t id : {1, 3, 5}) {
      EXPECT_FALSE(c.Contains(Id{id}));
      auto hits = c.Search(Row(data, kDim, static_cast<size_t>(id)), {.k = 10});
      ASSERT_OK(hits);
      EXPECT_EQ(hits->size(), 7u);
      for (const Hit& h : *hits) EXPECT_NE(IntId(h.id), id);
    }
    auto got = c.Get(IdsView::Ints(Iota(0, 10)));
    ASSERT_OK(got);
    for (int64_t id = 0; id < 10; ++id) {
      EXPECT_EQ((*got)[static_cast<size_t>(id)].has_value(), id != 1 && id != 3 && id != 5) << id;
    }
    EXPECT_EQ(c.Ids().size(), 7u);
    EXPECT_EQ(c.Stats().count, 7u);
  };
  check(*col);
  if (disk()) {
    ASSERT_OK(col->Close());
    col = Open();
    ASSERT_NE(col, nullptr);
    check(*col);
  }
  // A deleted id can be added again.
  ASSERT_OK(
      col->Add(IdsView::Ints(Iota(3, 1)),
               View(std::vector<float>(data.begin() + 3 * kDim, data.begin() + 4 * kDim), kDim)));
  EXPECT_TRUE(col->Contains(Id{int64_t{3}}));
  EXPECT_EQ(col->size(), 8u);
}

TEST_P(CollectionTest, GetOfMissingIds) {
  auto col = Open();
  ASSERT_NE(col, nullptr);
  // Before any record: every position is nullopt, whatever the id kind.
  auto empty_int = col->Get(IdsView::Ints(Iota(1, 2)));
  ASSERT_OK(empty_int);
  ASSERT_EQ(empty_int->size(), 2u);
  EXPECT_FALSE((*empty_int)[0].has_value());
  const std::vector<std::string> strs = {"a"};
  auto empty_str = col->Get(IdsView::Strings(strs));
  ASSERT_OK(empty_str);
  EXPECT_FALSE((*empty_str)[0].has_value());
  auto no_ids = col->Get(IdsView::Ints({}));
  ASSERT_OK(no_ids);
  EXPECT_TRUE(no_ids->empty());

  const std::vector<float> data = RandomVectors(2, kDim, 16);
  ASSERT_OK(col->Add(IdsView::Ints(Iota(10, 2)), View(data, kDim)));
  const std::vector<int64_t> ask = {9, 10, 12, 11, 10};
  auto got = col->Get(IdsView::Ints(ask));
  ASSERT_OK(got);
  ASSERT_EQ(got->size(), ask.size());
  EXPECT_FALSE((*got)[0].has_value());
  EXPECT_TRUE((*got)[1].has_value());
  EXPECT_FALSE((*got)[2].has_value());
  ASSERT_TRUE((*got)[3].has_value());
  EXPECT_EQ(IntId((*got)[3]->id), 11);
  ASSERT_TRUE((*got)[4].has_value());  // asking twice answers twice
  EXPECT_EQ(IntId((*got)[4]->id), 10);
}

TEST_P(CollectionTest, SearchIsExactOnSmallCollections) {
  for (Metric metric : {Metric::kL2, Metric::kInnerProduct, Metric::kCosine}) {
    SCOPED_TRACE(std::string(MetricName(metric)));
    TempDir local;  // one database per metric
    CollectionOptions o = Options(kDim, metric);
    if (disk()) o.path = local.Sub("db");
    auto col = OpenOrFail(o);
    ASSERT_NE(col, nullptr);
    const size_t n = 60;
    const std::vector<float> data = RandomVectors(n, kDim, 17);
    ASSERT_OK(col->Add(IdsView::Ints(Iota(0, n)), View(data, kDim)));
    const std::vector<float> queries = RandomVectors(5, kDim, 18);
    for (size_t q = 0; q < 5; ++q) {
      auto hits = col->Search(Row(queries, kDim, q), {.k = 5, .ef = 100});
      ASSERT_OK(hits);
      ASSERT_EQ(hits->size(), 5u);
      const std::vector<size_t> want = BruteForce(metric, data, kDim, Row(queries, kDim, q), 5);
      for (size_t j = 0; j < 5; ++j) {
        EXPECT_EQ(IntId((*hits)[j].id), static_cast<int64_t>(want[j])) << "q" << q << " j" << j;
        const float ref = RefDistance(metric, Row(queries, kDim, q),
                                      Row(data, kDim, static_cast<size_t>(IntId((*hits)[j].id))));
        EXPECT_TRUE(Near((*hits)[j].distance, ref)) << (*hits)[j].distance << " vs " << ref;
        if (j > 0) {
          EXPECT_LE((*hits)[j - 1].distance, (*hits)[j].distance);
        }
        EXPECT_TRUE((*hits)[j].metadata.empty());
      }
    }
  }
}

TEST_P(CollectionTest, SearchFindsNeighboursOnLargerCollections) {
  // Past the exact-scan threshold the graph answers; an exact copy of a record is its own
  // nearest neighbour.
  auto col = Open();
  ASSERT_NE(col, nullptr);
  const size_t n = 2000;
  const std::vector<float> data = RandomVectors(n, kDim, 19);
  ASSERT_OK(col->Add(IdsView::Ints(Iota(0, n)), View(data, kDim)));
  size_t found = 0;
  for (size_t r = 0; r < n; r += 97) {
    auto hits = col->Search(Row(data, kDim, r), {.k = 1, .ef = 64});
    ASSERT_OK(hits);
    ASSERT_EQ(hits->size(), 1u);
    found += IntId((*hits)[0].id) == static_cast<int64_t>(r);
  }
  EXPECT_GE(found, 20u);  // of 21
}

// Without an ef in the call the collection's ef_search is raised to k (asking for many results
// keeps its recall); an ef given in the call is the beam as given, even below k, and still
// returns k results (a beam that runs dry walks again as wide as k).
TEST_P(CollectionTest, DefaultEfIsRaisedToKButAnExplicitOneIsNot) {
  auto col = Open();
  ASSERT_NE(col, nullptr);
  const size_t n = 3000;
  const std::vector<float> data = RandomVectors(n, kDim, 23);
  ASSERT_OK(col->Add(IdsView::Ints(Iota(0, n)), View(data, kDim)));
  ASSERT_EQ(col->Stats().ef_search, 64u);
  size_t narrower = 0;
  for (size_t r = 0; r < n; r += 150) {
    auto by_default = col->Search(Row(data, kDim, r), {.k = 200});
    auto at_k = col->Search(Row(data, kDim, r), {.k = 200, .ef = 200});
    auto dry = col->Search(Row(data, kDim, r), {.k = 200, .ef = 2});
    ASSERT_OK(by_default);
    ASSERT_OK(at_k);
    ASSERT_OK(dry);
    ASSERT_EQ(by_default->size(), 200u);
    ASSERT_EQ(dry->size(), 200u);
    for (size_t i = 0; i < 200; ++i) ASSERT_EQ((*by_default)[i].id, (*at_k)[i].id) << r << " " << i;
    auto narrow = col->Search(Row(data, kDim, r), {.k = 20, .ef = 2});
    auto wide = col->Search(Row(data, kDim, r), {.k = 20, .ef = 20});
    ASSERT_OK(narrow);
    ASSERT_OK(wide);
    ASSERT_EQ(narrow->size(), 20u);
    narrower += (*narrow)[19].distance > (*wide)[19].distance;
  }
  EXPECT_GT(narrower, 0u) << "a beam of 2 should miss some of the 20 nearest";
}

TEST_P(CollectionTest, IncludeMetadata) {
  auto col = Open();
  ASSERT_NE(col, nullptr);
  const std::vector<float> data = RandomVectors(3, kDim, 20);
  const std::vector<Metadata> meta = {RichMetadata(0), {}, RichMetadata(2)};
  ASSERT_OK(col->Add(IdsView::Ints(Iota(0, 3)), View(data, kDim), meta));
  auto with = col->Search(Row(data, kDim, 0), {.k = 3, .include_metadata = true});
  ASSERT_OK(with);
  ASSERT_EQ(with->size(), 3u);
  for (const Hit& h : *with) EXPECT_EQ(h.metadata, meta[static_cast<size_t>(IntId(h.id))]);
  auto without = col->Search(Row(data, kDim, 0), {.k = 3});
  ASSERT_OK(without);
  for (const Hit& h : *without) EXPECT_TRUE(h.metadata.empty());
}

TEST_P(CollectionTest, PaddingWhenKExceedsSize) {
  for (bool strings : {false, true}) {
    SCOPED_TRACE(strings ? "string ids" : "int ids");
    TempDir local;
    CollectionOptions o = Options();
    if (disk()) o.path = local.Sub("db");
    auto col = OpenOrFail(o);
    ASSERT_NE(col, nullptr);
    const std::vector<float> data = RandomVectors(3, kDim, 21);
    const std::vector<std::string> sids = {"a", "b", "c"};
    if (strings) {
      ASSERT_OK(col->Add(IdsView::Strings(sids), View(data, kDim)));
    } else {
      ASSERT_OK(col->Add(IdsView::Ints(Iota(0, 3)), View(data, kDim)));
    }
    auto hits = col->Search(Row(data, kDim, 0), {.k = 10});
    ASSERT_OK(hits);
    EXPECT_EQ(hits->size(), 3u);  // Search returns what exists, no padding

    const std::vector<float> queries = RandomVectors(2, kDim, 22);
    auto batch = col->SearchBatch(View(queries, kDim), {.k = 5});
    ASSERT_OK(batch);
    EXPECT_EQ(batch->rows, 2u);
    EXPECT_EQ(batch->k, 5u);
    ASSERT_EQ(batch->distances.size(), 10u);
    if (strings) {
      ASSERT_EQ(batch->string_ids.size(), 10u);
      EXPECT_TRUE(batch->int_ids.empty());
    } else {
      ASSERT_EQ(batch->int_ids.size(), 10u);
      EXPECT_TRUE(batch->string_ids.empty());
    }
    for (size_t q = 0; q < 2; ++q) {
      for (size_t j = 0; j < 5; ++j) {
        const size_t at = q * 5 + j;
        if (j < 3) {
          EXPECT_TRUE(std::isfinite(batch->distances[at]));
          if (strings) {
            EXPECT_TRUE(batch->string_ids[at].has_value());
          } else {
            EXPECT_GE(batch->int_ids[at], 0);
          }
        } else {
          EXPECT_TRUE(std::isinf(batch->distances[at]) && batch->distances[at] > 0) << at;
          if (strings) {
            EXPECT_FALSE(batch->string_ids[at].has_value()) << at;
          } else {
            EXPECT_EQ(batch->int_ids[at], -1) << at;
          }
        }
      }
    }
  }
}

TEST_P(CollectionTest, SearchOnEmptyCollections) {
  // No dim yet: any query dimension is accepted and nothing is found.
  auto col = Open(0);
  ASSERT_NE(col, nullptr);
  const std::vector<float> q = RandomVectors(2, 5, 23);
  auto hits = col->Search(Row(q, 5, 0), {});
  ASSERT_OK(hits);
  EXPECT_TRUE(hits->empty());
  auto batch = col->SearchBatch(View(q, 5), {.k = 3});
  ASSERT_OK(batch);
  EXPECT_EQ(batch->rows, 2u);
  ASSERT_EQ(batch->distances.size(), 6u);
  ASSERT_EQ(batch->int_ids.size(), 6u);  // no id kind yet: int padding
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_TRUE(std::isinf(batch->distances[i]));
    EXPECT_EQ(batch->int_ids[i], -1);
  }
  col.reset();

  // A dim but no records; then records all deleted.
  TempDir local;
  CollectionOptions o = Options();
  if (disk()) o.path = local.Sub("db");
  col = OpenOrFail(o);
  ASSERT_NE(col, nullptr);
  const std::vector<float> data = RandomVectors(2, kDim, 24);
  hits = col->Search(Row(data, kDim, 0), {});
  ASSERT_OK(hits);
  EXPECT_TRUE(hits->empty());
  ASSERT_OK(col->Add(IdsView::Ints(Iota(0, 2)), View(data, kDim)));
  ASSERT_OK(col->Delete(IdsView::Ints(Iota(0, 2))));
  hits = col->Search(Row(data, kDim, 0), {});
  ASSERT_OK(hits);
  EXPECT_TRUE(hits->empty());
  batch = col->SearchBatch(View(data, kDim), {.k = 2});
  ASSERT_OK(batch);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(batch->int_ids[i], -1);
  // An empty batch of queries.
  batch = col->SearchBatch(MatrixView{data.data(), 0, kDim, 0}, {.k = 2});
  ASSERT_OK(batch);
  EXPECT_EQ(batch->rows, 0u);
  EXPECT_TRUE(batch->distances.empty());
}

TEST_P(CollectionTest, SearchErrors) {
  auto col = Open();
  ASSERT_NE(col, nullptr);
  const std::vector<float> data = RandomVectors(4, kDim, 25);
  ASSERT_OK(col->Add(IdsView::Ints(Iota(0, 4)), View(data, kDim)));
  EXPECT_CODE(col->Search(Row(data, kDim, 0), {.k = 0}), kInvalidArgument);
  EXPECT_CODE(col->SearchBatch(View(data, kDim), {.k = 0}), kInvalidArgument);
  const std::vector<float> short_q(kDim - 1, 0.5f);
  EXPECT_CODE(col->Search(short_q, {}), kDimensionMismatch);
  EXPECT_CODE(col->Search(std::span<const float>(), {}), kDimensionMismatch);
  EXPECT_CODE(col->SearchBatch(View(short_q, kDim - 1), {}), kDimensionMismatch);
  std::vector<float> bad(data.begin(), data.begin() + kDim);
  bad[2] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_CODE(col->Search(bad, {}), kInvalidVector);
  bad[2] = std::numeric_limits<float>::infinity();
  EXPECT_CODE(col->Search(bad, {}), kInvalidVector);
  std::vector<float> batch = data;
  batch[3 * kDim] = -std::numeric_limits<float>::infinity();
  EXPECT_CODE(col->SearchBatch(View(batch, kDim), {}), kInvalidVector);
  EXPECT_CODE(col->SearchBatch(MatrixView{nullptr, 2, kDim, 0}, {}), kInvalidArgument);
  // ef below k is raised to k, never an error.
  auto small_ef = col->Search(Row(data, kDim, 0), {.k = 4, .ef = 1});
  ASSERT_OK(small_ef);
  EXPECT_EQ(small_ef->size(), 4u);
}

TEST_P(CollectionTest, HugeKIsNeverAnException) {
#ifdef AUGUR_TEST_SANITIZED
  GTEST_SKIP() << "sanitizer allocators abort on impossible allocations instead of throwing "
                  "std::bad_alloc, so this path cannot be exercised under ASan/TSan";
#else
  auto col = Open();
  ASSERT_NE(col, nullptr);
  const std::vector<float> data = RandomVectors(2, kDim, 26);
  ASSERT_OK(col->Add(IdsView::Ints(Iota(0, 2)), View(data, kDim)));
  // k * sizeof(result) passes the overflow checks but no machine can allocate it.
  const size_t huge_k = std::numeric_limits<size_t>::max() / 16;
  try {
    EXPECT_CODE(col->SearchBatch(View(data, kDim), {.k = huge_k / 2}), kResourceExhausted);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "SearchBatch threw " << e.what() << " (no exception may leave the API)";
  }
  try {
    // Search may bound k by the record count (then it returns every record) or report
    // kResourceExhausted; it may not throw.
    Result<std::vector<Hit>> hits = col->Search(Row(data, kDim, 0), {.k = huge_k});
    if (hits.ok()) {
      EXPECT_EQ(hits->size(), 2u);
    } else {
      EXPECT_CODE(hits, kResourceExhausted);
    }
  } catch (const std::exception& e) {
    ADD_FAILURE() << "Search threw " << e.what() << " (no exception may leave the API)";
  }
  // k * rows overflowing size_t is rejected up front.
  EXPECT_CODE(col->SearchBatch(View(data, kDim), {.k = std::numeric_limits<size_t>::max()}),
              kInvalidArgument);
#endif
}

TEST_P(CollectionTest, SearchBatchMatchesSearchAndIgnoresThreadCount) {
  auto col = Open();
  ASSERT_NE(col, nullptr);
  const size_t n = 500;
  const std::vector<float> data = RandomVectors(n, kDim, 27);
  ASSERT_OK(col->Add(IdsView::Ints(Iota(1000, n)), View(data, kDim)));
  const size_t rows = 17, k = 7;
  const std::vector<float> queries = RandomVectors(rows, kDim, 28);
  auto one = col->SearchBatch(View(queries, kDim), {.k = k, .threads = 1});
  auto many = col->SearchBatch(View(queries, kDim), {.k = k, .threads = 2});
  ASSERT_OK(one);
  ASSERT_OK(many);
  EXPECT_EQ(one->int_ids, many->int_ids);
  EXPECT_EQ(one->distances, many->distances);
  ASSERT_EQ(one->int_ids.size(), rows * k);
  for (size_t q = 0; q < rows; ++q) {
    auto hits = col->Search(Row(queries, kDim, q), {.k = k});
    ASSERT_OK(hits);
    ASSERT_EQ(hits->size(), k);
    for (size_t j = 0; j < k; ++j) {
      EXPECT_EQ(IntId((*hits)[j].id), one->int_ids[q * k + j]);
      EXPECT_EQ((*hits)[j].distance, one->distances[q * k + j]);
    }
  }
}

TEST_P(CollectionTest, SearchBatchStringIds) {
  auto col = Open();
  ASSERT_NE(col, nullptr);
  const std::vector<std::string> ids = {"p", "q", "r", "s"};
  const std::vector<float> data = RandomVectors(4, kDim, 29);
  ASSERT_OK(col->Add(IdsView::Strings(ids), View(data, kDim)));
  auto batch = col->SearchBatch(View(data, kDim), {.k = 1});
  ASSERT_OK(batch);
  ASSERT_EQ(batch->string_ids.size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    ASSERT_TRUE(batch->string_ids[i].has_value());
    EXPECT_EQ(*batch->string_ids[i], ids[i]);
    EXPECT_EQ(batch->distances[i], 0.0f);
  }
  auto hits = col->Search(Row(data, kDim, 2), {.k = 1});
  ASSERT_OK(hits);
  EXPECT_EQ(StrId((*hits)[0].id), "r");
}

TEST_P(CollectionTest, CompactReclaimsDeletedSlots) {
  auto col = Open();
  ASSERT_NE(col, nullptr);
  const size_t n = 200;
  const std::vector<float> data = RandomVectors(n, kDim, 30);
  ASSERT_OK(col->Add(IdsView::Ints(Iota(0, n)), View(data, kDim)));
  ASSERT_OK(col->Delete(IdsView::Ints(Iota(0, 50))));
  EXPECT_EQ(col->Stats().deleted, 50u);
  EXPECT_OK(col->Compact());
  EXPECT_EQ(col->Stats().deleted, 0u);
  EXPECT_EQ(col->size(), n - 50);
  EXPECT_OK(col->Compact());  // nothing to do
  // Reclaimed slots are reused by new records and everything is still found.
  const std::vector<float> more = RandomVectors(50, kDim, 31);
  ASSERT_OK(col->Add(IdsView::Ints(Iota(10000, 50)), View(more, kDim)));
  for (size_t r = 0; r < 50; r += 7) {
    auto hits = col->Search(Row(more, kDim, r), {.k = 1, .ef = 300});
    ASSERT_OK(hits);
    EXPECT_EQ(IntId((*hits)[0].id), 10000 + static_cast<int64_t>(r));
  }
  for (size_t r = 50; r < n; r += 13) {
    auto hits = col->Search(Row(data, kDim, r), {.k = 1, .ef = 300});
    ASSERT_OK(hits);
    EXPECT_EQ(IntId((*hits)[0].id), static_cast<int64_t>(r));
  }
  // Empty collection: Compact is a no-op.
  TempDir local;
  CollectionOptions o = Options(0);
  if (disk()) o.path = local.Sub("db");
  auto empty = OpenOrFail(o);
  ASSERT_NE(empty, nullptr);
  EXPECT_OK(empty->Compact());
}

TEST_P(CollectionTest, FlushCheckpointAndStats) {
  auto col = Open();
  ASSERT_NE(col, nullptr);
  const CollectionStats fresh = col->Stats();
  EXPECT_EQ(fresh.count, 0u);
  EXPECT_EQ(fresh.dim, kDim);
  EXPECT_EQ(fresh.metric, Metric::kL2);
  EXPECT_EQ(fresh.id_kind, IdKind::kUnset);
  EXPECT_EQ(fresh.threads, 2u);
  EXPECT_EQ(fresh.deleted, 0u);
  EXPECT_FALSE(fresh.simd.empty());

  const std::vector<float> data = RandomVectors(100, kDim, 32);
  std::vector<Metadata> meta(100, Metadata{{"payload", std::string(100, 'm')}});
  ASSERT_OK(col->Add(IdsView::Ints(Iota(0, 100)), View(data, kDim), meta));
  ASSERT_OK(col->Delete(IdsView::Ints(Iota(0, 10))));
  EXPECT_OK(col->Flush());
  CollectionStats st = col->Stats();
  EXPECT_EQ(st.count, 90u);
  EXPECT_EQ(st.deleted, 10u);
  EXPECT_EQ(st.id_kind, IdKind::kInt);
  EXPECT_GE(st.index_bytes, 100 * kDim * sizeof(float));
  EXPECT_GT(st.memory_bytes, st.index_bytes);  // ids and metadata come on top
  EXPECT_GE(st.memory_bytes - st.index_bytes, 90u * 100u);
  EXPECT_EQ(st.m, 16u);
  EXPECT_EQ(st.ef_construction, 200u);
  EXPECT_EQ(st.ef_search, 64u);
  if (disk()) {
    EXPECT_GT(st.wal_bytes, 100 * kDim * sizeof(float));  // the Add is in the WAL
    EXPECT_GT(st.checkpoint_bytes, 0u);                   // the empty one written at creation
    const uint64_t seq = st.checkpoint_sequence;
    EXPECT_GE(seq, 1u);
    ASSERT_OK(col->Checkpoint());
    st = col->Stats();
    EXPECT_EQ(st.wal_bytes, 0u);
    EXPECT_EQ(st.checkpoint_sequence, seq + 1);
    EXPECT_GT(st.checkpoint_bytes, 90 * kDim * sizeof(float));
    EXPECT_EQ(st.count, 90u);
  } else {
    EXPECT_EQ(st.wal_bytes, 0u);
    EXPECT_EQ(st.checkpoint_bytes, 0u);
    EXPECT_EQ(st.checkpoint_sequence, 0u);
    EXPECT_OK(col->Checkpoint());  // a no-op in memory
  }
  EXPECT_OK(col->Flush());
  EXPECT_OK(col->Close());
}

TEST_P(CollectionTest, CloseThenEveryCallFails) {
  auto col = Open();
  ASSERT_NE(col, nullptr);
  const std::vector<float> data = RandomVectors(3, kDim, 33);
  ASSERT_OK(col->Add(IdsView::Ints(Iota(0, 3)), View(data, kDim)));
  ASSERT_OK(col->Close());
  EXPECT_OK(col->Close());  // idempotent
  EXPECT_CODE(col->Add(IdsView::Ints(Iota(10, 3)), View(data, kDim)), kInvalidArgument);
  EXPECT_CODE(col->Upsert(IdsView::Ints(Iota(0, 3)), View(data, kDim)), kInvalidArgument);
  EXPECT_CODE(col->Delete(IdsView::Ints(Iota(0, 3))), kInvalidArgument);
  EXPECT_CODE(col->Compact(), kInvalidArgument);
  EXPECT_CODE(col->Flush(), kInvalidArgument);
  EXPECT_CODE(col->Checkpoint(), kInvalidArgument);
  // The header: "Later calls return kInvalidArgument" -- reads included.
  EXPECT_CODE(col->Get(IdsView::Ints(Iota(0, 3))), kInvalidArgument);
  EXPECT_CODE(col->Search(Row(data, kDim, 0), {}), kInvalidArgument);
  EXPECT_CODE(col->SearchBatch(View(data, kDim), {}), kInvalidArgument);
  // Accessors without a Status must not crash.
  (void)col->size();
  (void)col->dim();
  (void)col->Contains(Id{int64_t{0}});
  (void)col->Ids();
  (void)col->Stats();
  if (disk()) {
    // Close released the writer lock: the database opens again, with its records.
    auto again = Open();
    ASSERT_NE(again, nullptr);
    EXPECT_EQ(again->size(), 3u);
  }
}

TEST_P(CollectionTest, Sq8QuantizationRerankReturnsExactDistances) {
  for (Metric metric : {Metric::kL2, Metric::kInnerProduct, Metric::kCosine}) {
    SCOPED_TRACE(std::string(MetricName(metric)));
    TempDir local;
    CollectionOptions o = Options(kDim, metric);
    if (disk()) o.path = local.Sub("db");
    o.quantization = Quantization::kSq8;
    o.rerank = 20;
    auto col = OpenOrFail(o);
    ASSERT_NE(col, nullptr);
    EXPECT_EQ(col->Stats().quantization, Quantization::kSq8);
    const size_t n = 1500;
    const std::vector<float> data = RandomVectors(n, kDim, 60);
    ASSERT_OK(col->Add(IdsView::Ints(Iota(0, n)), View(data, kDim)));
    // Get returns the fp32 vectors, not the codes.
    auto got = col->Get(IdsView::Ints(Iota(7, 1)));
    ASSERT_OK(got);
    if (metric != Metric::kCosine) {
      EXPECT_EQ((*got)[0]->vector,
                std::vector<float>(data.begin() + 7 * kDim, data.begin() + 8 * kDim));
    }
    const std::vector<float> queries = RandomVectors(20, kDim, 61);
    size_t agree = 0;
    for (size_t q = 0; q < 20; ++q) {
      auto hits = col->Search(Row(queries, kDim, q), {.k = 5, .ef = 100, .rerank = 50});
      ASSERT_OK(hits);
      ASSERT_EQ(hits->size(), 5u);
      for (size_t j = 0; j < hits->size(); ++j) {
        // Reranked: the distances are the exact fp32 ones, in order.
        const float ref = RefDistance(metric, Row(queries, kDim, q),
                                      Row(data, kDim, static_cast<size_t>(IntId((*hits)[j].id))));
        EXPECT_TRUE(Near((*hits)[j].distance, ref)) << (*hits)[j].distance << " vs " << ref;
        if (j > 0) {
          EXPECT_LE((*hits)[j - 1].distance, (*hits)[j].distance);
        }
      }
      const std::vector<size_t> want = BruteForce(metric, data, kDim, Row(queries, kDim, q), 1);
      agree += IntId((*hits)[0].id) == static_cast<int64_t>(want[0]);
    }
    EXPECT_GE(agree, 18u) << "top-1 agreement with exact search over 20 queries";
    // Batch and single searches agree; the collection-wide rerank default applies.
    auto batch = col->SearchBatch(View(queries, kDim), {.k = 3, .ef = 100});
    ASSERT_OK(batch);
    for (size_t q = 0; q < 20; ++q) {
      auto hits = col->Search(Row(queries, kDim, q), {.k = 3, .ef = 100});
      ASSERT_OK(hits);
      for (size_t j = 0; j < 3; ++j) EXPECT_EQ(IntId((*hits)[j].id), batch->int_ids[q * 3 + j]);
    }
    if (disk()) {
      ASSERT_OK(col->Close());
      CollectionOptions none = o;
      none.quantization = Quantization::kNone;
      EXPECT_CODE(Collection::Open(none), kInvalidArgument) << "quantization cannot change";
      CollectionOptions unset = o;
      unset.quantization.reset();
      col = OpenOrFail(unset);
      ASSERT_NE(col, nullptr);
      EXPECT_EQ(col->Stats().quantization, Quantization::kSq8);
      auto again = col->SearchBatch(View(queries, kDim), {.k = 3, .ef = 100});
      ASSERT_OK(again);
      EXPECT_EQ(again->int_ids, batch->int_ids);
      EXPECT_EQ(again->distances, batch->distances);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Concurrency: several readers beside one writer. Run under TSan (make test-tsan).
//
// Contract checked (collection.h): readers see each record entirely before or after a change,
// never a record already deleted when the reader started; stable records never disappear.
// A result row may come back short (Search: fewer hits; SearchBatch: -1/+inf padding at the
// end) when a hit was deleted between the graph walk and the id lookup: the engine drops it
// rather than search again, so that much is tolerated here (padding only at the end).

std::vector<float> VectorOf(int64_t id) {
  return RandomVectors(1, kDim, static_cast<uint64_t>(id) * 7919u + 1u);
}

TEST_P(CollectionTest, ReadersRunBesideOneWriter) {
  CollectionOptions o = Options();
  o.m = 8;
  o.ef_construction = 32;
  o.durability = Durability::kNone;
  o.checkpoint_wal_bytes = 16 << 10;  // on disk: several automatic checkpoints during the run
  auto col = OpenOrFail(o);
  ASSERT_NE(col, nullptr);

  constexpr int64_t kStable = 300;       // ids [0, kStable): never deleted
  constexpr int64_t kChurn = 1'000'000;  // churn ids: kChurn + round * kBatch + i
  constexpr int64_t kBatch = 16;
  constexpr int kRounds = 100;  // > 1024 slots in all, so the index grows mid-run
  auto rows_of = [](const std::vector<int64_t>& ids) {
    std::vector<float> rows;
    for (int64_t id : ids) {
      const std::vector<float> v = VectorOf(id);
      rows.insert(rows.end(), v.begin(), v.end());
    }
    return rows;
  };
  {
    const std::vector<int64_t> stable = Iota(0, kStable);
    ASSERT_OK(col->Add(IdsView::Ints(stable), View(rows_of(stable), kDim)));
  }

  // Every churn id below this was deleted (and is never added again).
  std::atomic<int64_t> deleted_below{kChurn};
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::atomic<uint64_t> reads{0};
  auto fail = [&](const std::string& what) {
    if (failures.fetch_add(1) < 10) ADD_FAILURE() << what;
  };

  auto check_hit = [&](int64_t id, float distance, std::span<const float> query, int64_t below,
                       const char* where) {
    if (id >= kChurn && id < below) {
      fail(std::string(where) + " returned id " + std::to_string(id) +
           ", deleted before the search started");
    }
    if (id < 0 || (id >= kStable && id < kChurn)) {
      fail(std::string(where) + " returned unknown id " + std::to_string(id));
      return;
    }
    // Every id always has the same vector, so the distance must be that vector's.
    const float want = RefDistance(Metric::kL2, query, VectorOf(id));
    if (!Near(distance, want)) {
      fail(std::string(where) + " id " + std::to_string(id) + " has distance " +
           std::to_string(distance) + ", its vector is at " + std::to_string(want));
    }
  };

  auto reader = [&](int seed) {
    std::mt19937_64 rng(static_cast<uint64_t>(seed));
    while (!done.load(std::memory_order_acquire)) {
      const int64_t below = deleted_below.load(std::memory_order_acquire);
      const int64_t target = static_cast<int64_t>(rng() % kStable);
      const std::vector<float> query = VectorOf(target);
      Result<std::vector<Hit>> hits = col->Search(query, {.k = 10, .include_metadata = true});
      if (!hits.ok()) {
        fail("Search: " + hits.status().ToString());
        continue;
      }
      if (hits->empty() || hits->size() > 10) {
        fail("Search returned " + std::to_string(hits->size()) + " hits");
      }
      for (size_t j = 0; j < hits->size(); ++j) {
        check_hit(IntId((*hits)[j].id), (*hits)[j].distance, query, below, "Search");
        if (j > 0 && (*hits)[j].distance < (*hits)[j - 1].distance) fail("Search out of order");
      }

      std::vector<float> queries = query;
      const std::vector<float> other = VectorOf(static_cast<int64_t>(rng() % kStable));
      queries.insert(queries.end(), other.begin(), other.end());
      Result<BatchResults> batch = col->SearchBatch(View(queries, kDim), {.k = 5});
      if (!batch.ok()) {
        fail("SearchBatch: " + batch.status().ToString());
        continue;
      }
      for (size_t i = 0; i < batch->int_ids.size(); ++i) {
        if (batch->int_ids[i] == -1) {
          if (!std::isinf(batch->distances[i])) fail("SearchBatch padding without +inf");
          if (i % 5 == 0) fail("SearchBatch row without any hit");
          if (i % 5 != 4 && batch->int_ids[i + 1] != -1) fail("SearchBatch padding mid-row");
          continue;
        }
        check_hit(batch->int_ids[i], batch->distances[i], Row(queries, kDim, i / 5), below,
                  "SearchBatch");
      }

      const std::vector<int64_t> probe = {target, (target + 1) % kStable};
      Result<std::vector<std::optional<Record>>> got = col->Get(IdsView::Ints(probe));
      if (!got.ok()) {
        fail("Get: " + got.status().ToString());
        continue;
      }
      for (size_t i = 0; i < probe.size(); ++i) {
        if (!(*got)[i].has_value()) {
          fail("Get lost stable id " + std::to_string(probe[i]));
        } else if ((*got)[i]->vector != VectorOf(probe[i])) {
          fail("Get returned a wrong vector for stable id " + std::to_string(probe[i]));
        }
      }
      if (!col->Contains(Id{target})) fail("Contains lost stable id " + std::to_string(target));
      if (col->size() < static_cast<size_t>(kStable)) fail("size() below the stable count");
      const CollectionStats st = col->Stats();
      if (st.count < static_cast<size_t>(kStable)) fail("Stats().count below the stable count");
      if (rng() % 8 == 0 && col->Ids().size() < static_cast<size_t>(kStable)) {
        fail("Ids() below the stable count");
      }
      reads.fetch_add(1, std::memory_order_relaxed);
    }
  };

  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) readers.emplace_back(reader, t + 1);

  for (int round = 0; round < kRounds && failures.load() == 0; ++round) {
    const std::vector<int64_t> churn = Iota(kChurn + round * kBatch, kBatch);
    Status s = col->Add(IdsView::Ints(churn), View(rows_of(churn), kDim));
    if (!s.ok()) fail("Add: " + s.ToString());
    // Re-put a few stable records with their own vector and new metadata.
    const std::vector<int64_t> again = {round % kStable, (round * 7 + 3) % kStable};
    const std::vector<Metadata> meta(2, Metadata{{"round", round}});
    s = col->Upsert(IdsView::Ints(again), View(rows_of(again), kDim), meta);
    if (!s.ok()) fail("Upsert: " + s.ToString());
    if (round > 0) {
      const std::vector<int64_t> previous = Iota(kChurn + (round - 1) * kBatch, kBatch);
      Result<size_t> removed = col->Delete(IdsView::Ints(previous));
      if (!removed.ok() || *removed != static_cast<size_t>(kBatch)) {
        fail("Delete: " + removed.status().ToString());
      }
      deleted_below.store(kChurn + round * kBatch, std::memory_order_release);
    }
    if (round >= kRounds / 2 && round % 5 == 0) {
      s = col->Compact();
      if (!s.ok()) fail("Compact: " + s.ToString());
    }
    if (disk() && round % 25 == 24) {
      s = col->Flush();
      if (!s.ok()) fail("Flush: " + s.ToString());
    }
  }
  // Let the readers overlap the end state too.
  while (reads.load(std::memory_order_relaxed) < 20 && failures.load() == 0) {
    std::this_thread::yield();
  }
  done.store(true, std::memory_order_release);
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(col->size(), static_cast<size_t>(kStable + kBatch));
  if (disk()) {
    EXPECT_GT(col->Stats().checkpoint_sequence, 1u) << "no automatic checkpoint ran";
  }
  EXPECT_OK(col->Close());
}

// Several threads writing at once are serialised: no lost or duplicated records.
TEST_P(CollectionTest, ConcurrentWritersAreSerialised) {
  CollectionOptions o = Options();
  o.m = 8;
  o.ef_construction = 32;
  o.durability = Durability::kBatch;
  auto col = OpenOrFail(o);
  ASSERT_NE(col, nullptr);
  constexpr int kThreads = 3, kPerThread = 40;
  std::atomic<int> failures{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::vector<int64_t> id = {t * 1000 + i};
        const std::vector<float> v = VectorOf(id[0]);
        if (!col->Add(IdsView::Ints(id), View(v, kDim)).ok()) failures.fetch_add(1);
        // Every writer also tries one id that all of them share: exactly one Add wins.
        if (i == 0) {
          const std::vector<int64_t> shared = {999999};
          const Status s = col->Add(IdsView::Ints(shared), View(v, kDim));
          if (!s.ok() && s.code() != StatusCode::kAlreadyExists) failures.fetch_add(1);
        }
      }
    });
  }
  for (std::thread& t : writers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(col->size(), static_cast<size_t>(kThreads * kPerThread + 1));
  EXPECT_OK(col->Close());
}

// ---------------------------------------------------------------------------------------------
// On disk only: reopening, locking, read-only mode, damaged directories, durability levels

class DiskTest : public ::testing::Test {
 protected:
  CollectionOptions Options() const {
    CollectionOptions o;
    o.path = dir_.Sub("db");
    o.dim = kDim;
    o.threads = 1;  // one thread + same seed = same graph, also when the WAL is replayed
    return o;
  }
  TempDir dir_;
};

// A mix of adds (with and without metadata), upserts and deletes: 340 records remain.
void Churn(Collection& col, bool strings) {
  const std::vector<float> data = RandomVectors(400, kDim, 40);
  std::vector<std::string> sids;
  for (int i = 0; i < 400; ++i) sids.push_back("doc-" + std::to_string(i));
  std::vector<Metadata> meta;
  for (int i = 0; i < 400; ++i) meta.push_back(RichMetadata(i));
  const std::vector<int64_t> iids = Iota(0, 400);
  auto view = [&](size_t first, size_t n) {
    return strings ? IdsView::Strings(std::span<const std::string>(sids).subspan(first, n))
                   : IdsView::Ints(std::span<const int64_t>(iids).subspan(first, n));
  };
  auto rows = [&](size_t first, size_t n) {
    return MatrixView{data.data() + first * kDim, n, kDim, 0};
  };
  ASSERT_OK(col.Add(view(0, 300), rows(0, 300), std::span<const Metadata>(meta).subspan(0, 300)));
  ASSERT_OK(col.Add(view(300, 50), rows(300, 50)));
  const std::vector<float> moved = RandomVectors(40, kDim, 41);
  ASSERT_OK(col.Upsert(view(100, 40), MatrixView{moved.data(), 40, kDim, 0}));
  ASSERT_TRUE(IsOk(col.Delete(view(200, 60))));
  ASSERT_OK(
      col.Upsert(view(350, 50), rows(350, 50), std::span<const Metadata>(meta).subspan(350, 50)));
}

void ExpectSameResults(const BatchResults& a, const BatchResults& b) {
  EXPECT_EQ(a.rows, b.rows);
  EXPECT_EQ(a.k, b.k);
  EXPECT_EQ(a.int_ids, b.int_ids);
  EXPECT_EQ(a.string_ids, b.string_ids);
  ASSERT_EQ(a.distances.size(), b.distances.size());
  for (size_t i = 0; i < a.distances.size(); ++i) {
    // Bitwise identical, infinities included.
    EXPECT_EQ(std::memcmp(&a.distances[i], &b.distances[i], sizeof(float)), 0) << i;
  }
}

TEST_F(DiskTest, ReopenReturnsIdenticalSearchBatch) {
  for (bool strings : {false, true}) {
    for (Durability durability : {Durability::kSync, Durability::kBatch, Durability::kNone}) {
      SCOPED_TRACE(std::string(strings ? "string" : "int") + " ids, durability " +
                   std::to_string(static_cast<int>(durability)));
      TempDir local;
      CollectionOptions o = Options();
      o.path = local.Sub("db");
      o.durability = durability;
      const std::vector<float> queries = RandomVectors(25, kDim, 42);
      const SearchOptions so{.k = 12, .ef = 40};
      BatchResults before;
      Metadata meta_before;
      {
        auto col = OpenOrFail(o);
        ASSERT_NE(col, nullptr);
        Churn(*col, strings);
        if (HasFailure()) return;
        auto r = col->SearchBatch(View(queries, kDim), so);
        ASSERT_OK(r);
        before = std::move(r).value();
        ASSERT_OK(col->Close());
      }
      {
        auto col = OpenOrFail(o);  // writer
        ASSERT_NE(col, nullptr);
        EXPECT_EQ(col->size(), 340u);
        auto r = col->SearchBatch(View(queries, kDim), so);
        ASSERT_OK(r);
        ExpectSameResults(before, *r);
        // Options left 0 come back from the database.
        const CollectionStats st = col->Stats();
        EXPECT_EQ(st.m, 16u);
        EXPECT_EQ(st.id_kind, strings ? IdKind::kString : IdKind::kInt);
      }  // the destructor closes
      {
        CollectionOptions ro = o;
        ro.read_only = true;
        ro.dim = 0;
        auto col = OpenOrFail(ro);
        ASSERT_NE(col, nullptr);
        EXPECT_TRUE(col->read_only());
        EXPECT_EQ(col->dim(), kDim);
        auto r = col->SearchBatch(View(queries, kDim), so);
        ASSERT_OK(r);
        ExpectSameResults(before, *r);
      }
    }
  }
}

// vectors_on_disk: the fp32 rows move from memory to the checkpoint mapping at each checkpoint
// and after reopen; searches, Get, churn (reused slots are written into the private mapping),
// growth, Verify and a second reopen all behave as with the vectors in memory.
TEST_F(DiskTest, VectorsOnDiskServeTheSameResults) {
  for (Quantization q : {Quantization::kSq8, Quantization::kSq4}) {
    SCOPED_TRACE(std::string(QuantizationName(q)));
    TempDir local;
    CollectionOptions mem = Options();
    mem.path = local.Sub("mem");
    mem.quantization = q;
    CollectionOptions disk = mem;
    disk.path = local.Sub("disk");
    disk.vectors_on_disk = true;
    const std::vector<float> queries = RandomVectors(25, kDim, 42);
    const SearchOptions so{.k = 12, .ef = 40};
    auto a = OpenOrFail(mem);
    auto b = OpenOrFail(disk);
    ASSERT_NE(a, nullptr);
    ASSERT_NE(b, nullptr);
    Churn(*a, false);
    Churn(*b, false);
    if (HasFailure()) return;
    const size_t in_memory = b->Stats().memory_bytes;
    EXPECT_EQ(b->Stats().mapped_vector_bytes, 0u);  // nothing checkpointed yet
    ASSERT_OK(b->Checkpoint());
    const CollectionStats after = b->Stats();
    EXPECT_GT(after.mapped_vector_bytes, 340 * kDim * sizeof(float));
    EXPECT_LT(after.memory_bytes, in_memory);
    auto ra = a->SearchBatch(View(queries, kDim), so);
    auto rb = b->SearchBatch(View(queries, kDim), so);
    ASSERT_OK(ra);
    ASSERT_OK(rb);
    ExpectSameResults(*ra, *rb);
    // Writes after the checkpoint: deletes free slots, compaction reclaims them, adds reuse
    // them (rows inside the mapping) and grow past it (rows in memory).
    const std::vector<float> more = RandomVectors(600, kDim, 43);
    for (Collection* c : {a.get(), b.get()}) {
      ASSERT_TRUE(IsOk(c->Delete(IdsView::Ints(Iota(0, 50)))));
      ASSERT_OK(c->Compact());
      ASSERT_OK(c->Add(IdsView::Ints(Iota(1000, 600)), View(more, kDim)));
    }
    ra = a->SearchBatch(View(queries, kDim), so);
    rb = b->SearchBatch(View(queries, kDim), so);
    ASSERT_OK(ra);
    ASSERT_OK(rb);
    ExpectSameResults(*ra, *rb);
    auto got = b->Get(IdsView::Ints(Iota(1001, 1)));
    ASSERT_OK(got);
    ASSERT_TRUE((*got)[0].has_value());
    EXPECT_EQ((*got)[0]->vector, std::vector<float>(more.begin() + kDim, more.begin() + 2 * kDim));
    ASSERT_OK(b->Verify());
    ASSERT_OK(a->Close());
    ASSERT_OK(b->Close());
    b = OpenOrFail(disk);  // reopen: every row from the checkpoint mapping
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->size(), 890u);
    EXPECT_GT(b->Stats().mapped_vector_bytes, 890 * kDim * sizeof(float));
    rb = b->SearchBatch(View(queries, kDim), so);
    ASSERT_OK(rb);
    ExpectSameResults(*ra, *rb);
    ASSERT_OK(b->Verify());
  }
}

TEST_F(DiskTest, VectorsOnDiskNeedAPathAndCodes) {
  CollectionOptions o = Options();
  o.vectors_on_disk = true;
  o.quantization = Quantization::kNone;
  EXPECT_EQ(Collection::Open(o).status().code(), StatusCode::kInvalidArgument);
  o.quantization = Quantization::kSq8;
  o.path.clear();
  EXPECT_EQ(Collection::Open(o).status().code(), StatusCode::kInvalidArgument);
  // A stored fp32 collection cannot be reopened with its vectors on disk.
  CollectionOptions plain = Options();
  ASSERT_OK(OpenOrFail(plain)->Close());
  plain.vectors_on_disk = true;
  EXPECT_EQ(Collection::Open(plain).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(DiskTest, ReaderReplaysTheWalOfAnOpenWriter) {
  // The writer keeps its changes in the WAL (no checkpoint yet); a read-only open beside it
  // replays them and must answer exactly as the writer does.
  CollectionOptions o = Options();
  o.durability = Durability::kSync;
  auto writer = OpenOrFail(o);
  ASSERT_NE(writer, nullptr);
  Churn(*writer, false);
  ASSERT_FALSE(HasFailure());
  EXPECT_GT(writer->Stats().wal_bytes, 0u);
  const std::vector<float> queries = RandomVectors(20, kDim, 43);
  auto want = writer->SearchBatch(View(queries, kDim), {.k = 8});
  ASSERT_OK(want);

  CollectionOptions ro = o;
  ro.read_only = true;
  auto reader = OpenOrFail(ro);
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(reader->size(), writer->size());
  auto got = reader->SearchBatch(View(queries, kDim), {.k = 8});
  ASSERT_OK(got);
  ExpectSameResults(*want, *got);
  auto rec = reader->Get(IdsView::Ints(Iota(0, 1)));
  ASSERT_OK(rec);
  ASSERT_TRUE((*rec)[0].has_value());
  EXPECT_EQ((*rec)[0]->metadata, RichMetadata(0));
  EXPECT_OK(reader->Close());
  EXPECT_OK(writer->Close());
}

TEST_F(DiskTest, ReopenChecksStoredOptions) {
  CollectionOptions o = Options();
  o.metric = Metric::kInnerProduct;
  o.m = 12;
  o.ef_construction = 50;
  o.ef_search = 30;
  {
    auto col = OpenOrFail(o);
    ASSERT_NE(col, nullptr);
    const std::vector<float> data = RandomVectors(5, kDim, 44);
    ASSERT_OK(col->Add(IdsView::Ints(Iota(0, 5)), View(data, kDim)));
  }
  CollectionOptions other = o;
  other.metric = Metric::kL2;
  EXPECT_CODE(Collection::Open(other), kInvalidArgument) << "metric";
  other = o;
  other.dim = kDim + 1;
  EXPECT_CODE(Collection::Open(other), kDimensionMismatch) << "dim";
  other = o;
  other.m = 16;
  EXPECT_CODE(Collection::Open(other), kInvalidArgument) << "m";
  other = o;
  other.ef_construction = 51;
  EXPECT_CODE(Collection::Open(other), kInvalidArgument) << "ef_construction";
  // Unset options take the stored values; ef_search may change per session.
  CollectionOptions unset;
  unset.path = o.path;
  auto col = OpenOrFail(unset);
  ASSERT_NE(col, nullptr);
  EXPECT_EQ(col->metric(), Metric::kInnerProduct);
  EXPECT_EQ(col->dim(), kDim);
  CollectionStats st = col->Stats();
  EXPECT_EQ(st.m, 12u);
  EXPECT_EQ(st.ef_construction, 50u);
  EXPECT_EQ(st.ef_search, 30u);
  ASSERT_OK(col->Close());
  other = o;
  other.ef_search = 99;
  col = OpenOrFail(other);
  ASSERT_NE(col, nullptr);
  EXPECT_EQ(col->Stats().ef_search, 99u);
  EXPECT_EQ(col->size(), 5u);
}

TEST_F(DiskTest, SecondWriterIsLocked) {
  auto first = OpenOrFail(Options());
  ASSERT_NE(first, nullptr);
  Result<std::unique_ptr<Collection>> second = Collection::Open(Options());
  EXPECT_CODE(second, kLocked);
  if (!second.ok()) {
    // The message names the database so the user knows what is held.
    EXPECT_NE(second.status().message().find(Options().path), std::string::npos)
        << second.status().ToString();
  }
  // Readers need no lock.
  CollectionOptions ro = Options();
  ro.read_only = true;
  EXPECT_OK(Collection::Open(ro));
  ASSERT_OK(first->Close());
  EXPECT_OK(Collection::Open(Options()));
  // The destructor releases the lock too.
  first = OpenOrFail(Options());
  ASSERT_NE(first, nullptr);
  first.reset();
  EXPECT_OK(Collection::Open(Options()));
}

TEST_F(DiskTest, ReadOnlyOfMissingDatabaseIsNotFound) {
  CollectionOptions ro = Options();
  ro.read_only = true;
  EXPECT_CODE(Collection::Open(ro), kNotFound);
  EXPECT_FALSE(fs::exists(ro.path)) << "a read-only open created the directory";
  fs::create_directories(ro.path);
  EXPECT_CODE(Collection::Open(ro), kNotFound) << "empty directory";
  ro.path = dir_.Sub("no/such/parent");
  EXPECT_CODE(Collection::Open(ro), kNotFound);
}

TEST_F(DiskTest, ReadOnlyRejectsWrites) {
  {
    auto col = OpenOrFail(Options());
    ASSERT_NE(col, nullptr);
    const std::vector<float> data = RandomVectors(3, kDim, 45);
    ASSERT_OK(col->Add(IdsView::Ints(Iota(0, 3)), View(data, kDim)));
  }
  CollectionOptions ro = Options();
  ro.read_only = true;
  auto col = OpenOrFail(ro);
  ASSERT_NE(col, nullptr);
  const std::vector<float> data = RandomVectors(3, kDim, 46);
  EXPECT_CODE(col->Add(IdsView::Ints(Iota(10, 3)), View(data, kDim)), kNotSupported);
  EXPECT_CODE(col->Upsert(IdsView::Ints(Iota(0, 3)), View(data, kDim)), kNotSupported);
  EXPECT_CODE(col->Delete(IdsView::Ints(Iota(0, 3))), kNotSupported);
  EXPECT_CODE(col->Compact(), kNotSupported);
  EXPECT_CODE(col->Checkpoint(), kNotSupported);
  EXPECT_OK(col->Flush());  // nothing to make durable
  EXPECT_EQ(col->size(), 3u);
  auto hits = col->Search(Row(data, kDim, 0), {.k = 3});
  ASSERT_OK(hits);
  EXPECT_EQ(hits->size(), 3u);
  EXPECT_OK(col->Close());
  // Nothing changed on disk.
  auto again = OpenOrFail(Options());
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->size(), 3u);
}

TEST_F(DiskTest, ForeignDirectoryIsCorruption) {
  fs::create_directories(Options().path);
  std::ofstream(fs::path(Options().path) / "notes.txt") << "not a database";
  EXPECT_CODE(Collection::Open(Options()), kCorruption);
  EXPECT_TRUE(fs::exists(fs::path(Options().path) / "notes.txt")) << "user file was removed";
}

// The newest checkpoint file in `dir` (whatever its name, it ends in ".adb").
std::optional<fs::path> CheckpointIn(const std::string& dir) {
  std::optional<fs::path> found;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".adb" && (!found || entry.path() > *found)) {
      found = entry.path();
    }
  }
  return found;
}

TEST_F(DiskTest, DamagedCheckpointIsCorruption) {
  {
    auto col = OpenOrFail(Options());
    ASSERT_NE(col, nullptr);
    const std::vector<float> data = RandomVectors(500, kDim, 47);
    ASSERT_OK(col->Add(IdsView::Ints(Iota(0, 500)), View(data, kDim)));
  }
  const std::optional<fs::path> file = CheckpointIn(Options().path);
  ASSERT_TRUE(file.has_value());
  const uintmax_t size = fs::file_size(*file);
  const fs::path saved = dir_.path() / "saved.adb";
  fs::copy_file(*file, saved);

  // A flipped bit in the middle (vector data).
  {
    std::fstream f(*file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(size / 2));
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x10);
    f.seekp(static_cast<std::streamoff>(size / 2));
    f.write(&c, 1);
  }
  Result<std::unique_ptr<Collection>> opened = Collection::Open(Options());
  EXPECT_CODE(opened, kCorruption) << "bit flip";
  if (!opened.ok()) {
    EXPECT_NE(opened.status().message().find(file->filename().string()), std::string::npos)
        << "the message should name the file: " << opened.status().ToString();
  }
  CollectionOptions ro = Options();
  ro.read_only = true;
  EXPECT_CODE(Collection::Open(ro), kCorruption) << "bit flip, read-only";

  // Truncated to half.
  fs::copy_file(saved, *file, fs::copy_options::overwrite_existing);
  fs::resize_file(*file, size / 2);
  EXPECT_CODE(Collection::Open(Options()), kCorruption) << "truncated";

  // Restored: opens again with every record.
  fs::copy_file(saved, *file, fs::copy_options::overwrite_existing);
  auto col = OpenOrFail(Options());
  ASSERT_NE(col, nullptr);
  EXPECT_EQ(col->size(), 500u);
}

TEST_F(DiskTest, WriterOpenUnderMissingParent) {
  // The header reserves kNotFound for read_only opens; a writer either creates what it needs
  // or reports kIOError naming the path.
  CollectionOptions o = Options();
  o.path = dir_.Sub("missing/parent/db");
  Result<std::unique_ptr<Collection>> col = Collection::Open(o);
  if (!col.ok()) {
    EXPECT_CODE(col, kIOError);
    EXPECT_NE(col.status().message().find("missing"), std::string::npos) << col.status().ToString();
  }
}

TEST_F(DiskTest, PathThatIsAFileIsIOError) {
  const std::string file = dir_.Sub("plain_file");
  std::ofstream(file) << "x";
  CollectionOptions o = Options();
  o.path = file;
  EXPECT_CODE(Collection::Open(o), kIOError);
}

TEST_F(DiskTest, AutomaticCheckpointsAndDurabilityLevels) {
  for (Durability durability : {Durability::kSync, Durability::kBatch, Durability::kNone}) {
    SCOPED_TRACE(static_cast<int>(durability));
    TempDir local;
    CollectionOptions o = Options();
    o.path = local.Sub("db");
    o.durability = durability;
    o.checkpoint_wal_bytes = 4096;
    const std::vector<float> data = RandomVectors(200, kDim, 48);
    {
      auto col = OpenOrFail(o);
      ASSERT_NE(col, nullptr);
      const uint64_t first = col->Stats().checkpoint_sequence;
      for (size_t i = 0; i < 200; i += 20) {
        ASSERT_OK(col->Add(IdsView::Ints(Iota(static_cast<int64_t>(i), 20)),
                           MatrixView{data.data() + i * kDim, 20, kDim, 0}));
      }
      const CollectionStats st = col->Stats();
      EXPECT_GT(st.checkpoint_sequence, first + 1) << "the WAL limit did not trigger checkpoints";
      EXPECT_LE(st.wal_bytes, 4096u + 20 * kDim * sizeof(float) + 4096u);
      ASSERT_OK(col->Flush());
    }
    auto col = OpenOrFail(o);
    ASSERT_NE(col, nullptr);
    EXPECT_EQ(col->size(), 200u);
    auto got = col->Get(IdsView::Ints(Iota(199, 1)));
    ASSERT_OK(got);
    ASSERT_TRUE((*got)[0].has_value());
    EXPECT_EQ((*got)[0]->vector[0], data[199 * kDim]);
  }
}

}  // namespace
}  // namespace augurdb
