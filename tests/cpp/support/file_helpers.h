// File helpers shared by the storage tests: a fresh temp dir and whole-file read/write through
// the default Env.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <string>
#include <string_view>

#include "storage/env.h"

namespace augurdb::testing {

inline std::string MakeTempDir(const std::string& tag) {
  std::string pattern = ::testing::TempDir();
  if (pattern.empty() || pattern.back() != '/') pattern += '/';
  pattern += "augurdb_" + tag + "_XXXXXX";
  char* made = ::mkdtemp(pattern.data());
  EXPECT_NE(made, nullptr) << "mkdtemp " << pattern;
  return pattern;
}

inline std::string ReadAll(const std::string& path) {
  auto file = storage::Env::Default()->NewRandomAccessFile(path);
  EXPECT_TRUE(file.ok()) << file.status().ToString();
  if (!file.ok()) return {};
  std::string out((*file)->size(), '\0');
  if (!out.empty()) EXPECT_TRUE((*file)->Read(0, out.size(), out.data()).ok());
  return out;
}

inline void WriteAll(const std::string& path, std::string_view bytes) {
  auto file = storage::Env::Default()->NewWritableFile(path);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  ASSERT_TRUE((*file)->Append(bytes).ok());
  ASSERT_TRUE((*file)->Close().ok());
}

}  // namespace augurdb::testing
