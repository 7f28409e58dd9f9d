// Database file names (db_files.h).
#include "db/db_files.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

namespace augurdb::db {

std::string CheckpointName(uint64_t seq) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "checkpoint-%06" PRIu64 ".adb", seq);
  return buf;
}

std::string WalName(uint64_t seq) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "wal-%06" PRIu64 ".log", seq);
  return buf;
}

bool ParseSeq(const std::string& name, const std::string& prefix, const std::string& suffix,
              uint64_t* seq) {
  if (name.size() <= prefix.size() + suffix.size() || name.rfind(prefix, 0) != 0 ||
      name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) {
    return false;
  }
  const std::string digits = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  if (digits.empty() || digits.size() > 18 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  *seq = std::stoull(digits);
  return true;
}

std::string ParentDir(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace augurdb::db
