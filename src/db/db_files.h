// The files of a database directory and their names (docs/format/):
//   LOCK                      flock'ed by the writer; holds "pid <n>" for error messages
//   checkpoint-<seq>.adb      the newest complete snapshot (older ones are removed)
//   wal-<seq>.log             every change after checkpoint <seq>, in order
//   *.tmp                     a checkpoint being written (removed at open)
#pragma once

#include <cstdint>
#include <string>

namespace augurdb::db {

std::string CheckpointName(uint64_t seq);
std::string WalName(uint64_t seq);
// Parses "<prefix><digits><suffix>"; false for anything else.
bool ParseSeq(const std::string& name, const std::string& prefix, const std::string& suffix,
              uint64_t* seq);
// "a/b/c" -> "a/b", "c" -> ".", "/c" -> "/"; trailing slashes are ignored.
std::string ParentDir(std::string path);

}  // namespace augurdb::db
