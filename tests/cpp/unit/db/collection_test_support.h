// Helpers shared by the db test files (tests/cpp/unit/db/collection_*_test.cc), which test the
// public C++ API (include/augurdb/) as an application sees it. Only installed headers are
// included: nothing here may depend on src/ internals, so these tests also pin what the installed
// package promises.
//
// Everything lives in a named namespace (not an anonymous one) because CollectionTest is shared
// by TEST_Ps in several files: gtest requires one fixture type per test suite across the binary.
#pragma once

#include <augurdb/collection.h>
#include <augurdb/metric.h>
#include <augurdb/status.h>
#include <augurdb/value.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace augurdb::testing {

namespace fs = std::filesystem;

inline ::testing::AssertionResult IsOk(const Status& s) {
  if (s.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << s.ToString();
}
template <typename T>
::testing::AssertionResult IsOk(const Result<T>& r) {
  return IsOk(r.status());
}

// An error must carry the expected code and a message saying what failed.
inline ::testing::AssertionResult HasCode(const Status& s, StatusCode code) {
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

inline std::vector<float> RandomVectors(size_t n, size_t dim, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> out(n * dim);
  for (float& x : out) x = uniform(rng);
  return out;
}

inline MatrixView View(const std::vector<float>& data, size_t dim) {
  return MatrixView{data.data(), data.size() / dim, dim, 0};
}

inline std::span<const float> Row(const std::vector<float>& data, size_t dim, size_t row) {
  return std::span<const float>(data.data() + row * dim, dim);
}

inline std::vector<int64_t> Iota(int64_t first, size_t n) {
  std::vector<int64_t> ids(n);
  for (size_t i = 0; i < n; ++i) ids[i] = first + static_cast<int64_t>(i);
  return ids;
}

inline float Dot(std::span<const float> a, std::span<const float> b) {
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i) sum += double{a[i]} * double{b[i]};
  return static_cast<float>(sum);
}

// The distance the header documents for each metric ("smaller is closer").
inline float RefDistance(Metric metric, std::span<const float> a, std::span<const float> b) {
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

inline bool Near(float got, float want) {
  return std::fabs(got - want) <= 1e-4f * (1.0f + std::fabs(want));
}

// Row indices of the k nearest rows of `data` to `query`, closest first.
inline std::vector<size_t> BruteForce(Metric metric, const std::vector<float>& data, size_t dim,
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

inline std::unique_ptr<Collection> OpenOrFail(const CollectionOptions& options) {
  Result<std::unique_ptr<Collection>> col = Collection::Open(options);
  EXPECT_OK(col);
  if (!col.ok()) return nullptr;
  return std::move(col).value();
}

inline int64_t IntId(const Id& id) { return std::get<int64_t>(id); }
inline const std::string& StrId(const Id& id) { return std::get<std::string>(id); }

inline Metadata RichMetadata(int64_t n) {
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

inline constexpr size_t kDim = 8;

// Behaviour that must be the same in memory and on disk: each TEST_P runs once per Where
// (instantiated once, in collection_options_test.cc).
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

  // On disk: closes `col`, reopens it as `col` (Open(dim)) and runs check(*col), so a test checks
  // what was persisted with the same code that checked the open collection. In memory: nothing
  // (there is nothing to reopen). Call it inside ASSERT_NO_FATAL_FAILURE: a failed Close or
  // reopen ends only this function, and the test must not go on with a null `col`.
  template <class Check>
  void ReopenAndCheck(std::unique_ptr<Collection>& col, Check&& check, size_t dim = kDim) const {
    if (!disk()) return;
    ASSERT_OK(col->Close());
    col = Open(dim);
    ASSERT_NE(col, nullptr);
    check(*col);
  }

  TempDir dir_;
};

}  // namespace augurdb::testing
