#include <augurdb/status.h>

#include <gtest/gtest.h>

#include <memory>

namespace augurdb {
namespace {

TEST(Status, OkAndErrors) {
  EXPECT_TRUE(Status::OK().ok());
  const Status s = Status::DimensionMismatch("expected 3, got 4");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kDimensionMismatch);
  EXPECT_EQ(s.ToString(), "DimensionMismatch: expected 3, got 4");
}

TEST(Status, CodesAreStable) {
  // These numbers reach Python and bug reports: changing one is a breaking change.
  EXPECT_EQ(static_cast<int>(StatusCode::kInvalidArgument), 1);
  EXPECT_EQ(static_cast<int>(StatusCode::kCorruption), 5);
  EXPECT_EQ(static_cast<int>(StatusCode::kLocked), 7);
  EXPECT_EQ(static_cast<int>(StatusCode::kInvalidVector), 12);
  for (int c = 0; c <= 13; ++c) EXPECT_NE(StatusCodeName(static_cast<StatusCode>(c)), "Unknown");
}

Result<int> Half(int x) {
  if (x % 2 != 0) return Status::InvalidArgument("odd");
  return x / 2;
}

Status Quarter(int x, int* out) {
  AUGUR_ASSIGN_OR_RETURN(int half, Half(x));
  AUGUR_ASSIGN_OR_RETURN(*out, Half(half));
  return Status::OK();
}

TEST(Result, ValueOrStatusAndMacros) {
  EXPECT_EQ(*Half(8), 4);
  EXPECT_EQ(Half(3).status().code(), StatusCode::kInvalidArgument);
  int q = 0;
  EXPECT_TRUE(Quarter(8, &q).ok());
  EXPECT_EQ(q, 2);
  EXPECT_EQ(Quarter(6, &q).code(), StatusCode::kInvalidArgument);
  Result<std::unique_ptr<int>> moved = std::make_unique<int>(7);
  std::unique_ptr<int> p = std::move(moved).value();
  EXPECT_EQ(*p, 7);
}

}  // namespace
}  // namespace augurdb
