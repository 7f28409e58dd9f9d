// File helpers shared by the storage tests: a fresh temp dir and whole-file read/write through
// the default Env.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "storage/env.h"

namespace augurdb::testing {

// The directories MakeTempDir made, removed with everything in them when the test binary exits
// (tests hand the path to code under test, which may still hold files open at scope end, so the
// removal waits for the process; without it every run left its databases in /tmp).
class TempDirRegistry {
 public:
  static TempDirRegistry& Get() {
    static TempDirRegistry registry;
    return registry;
  }
  void Add(std::string dir) {
    std::lock_guard<std::mutex> lock(mutex_);
    dirs_.push_back(std::move(dir));
  }
  ~TempDirRegistry() {
    if (::getpid() != owner_) return;  // a forked child leaves its parent's directories alone
    std::error_code ec;
    for (const std::string& dir : dirs_) std::filesystem::remove_all(dir, ec);
  }

 private:
  TempDirRegistry() = default;
  const pid_t owner_ = ::getpid();
  std::mutex mutex_;
  std::vector<std::string> dirs_;
};

// A fresh directory under the test temp dir, removed when the test binary exits.
inline std::string MakeTempDir(const std::string& tag) {
  std::string pattern = ::testing::TempDir();
  if (pattern.empty() || pattern.back() != '/') pattern += '/';
  pattern += "augurdb_" + tag + "_XXXXXX";
  char* made = ::mkdtemp(pattern.data());
  EXPECT_NE(made, nullptr) << "mkdtemp " << pattern;
  if (made != nullptr) TempDirRegistry::Get().Add(pattern);
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
