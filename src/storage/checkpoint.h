// Checkpoint files: an immutable snapshot made of typed byte sections, each checksummed and
// page-aligned so that a reader can map the file and use the sections in place (format:
// docs/format/checkpoint.md). The storage layer knows sections only as bytes; the db layer
// decides what they hold.
//
// Writing is atomic: temp file -> fsync -> rename -> fsync of the directory.
// Thread safety: a CheckpointFile is immutable after Open and may be read from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <augurdb/status.h>

#include "storage/env.h"

namespace augurdb::storage {

inline constexpr char kCheckpointMagic[8] = {'A', 'U', 'G', 'U', 'R', 'C', 'K', 'P'};
// 2: documents (WAL type 3, params v3); 3: the embedding function's identity (params v4);
// 4: fixed-degree neighbour rows (index sections 15 and 16 replace 3 and 6).
inline constexpr uint32_t kCheckpointFormatVersion = 4;
inline constexpr size_t kCheckpointAlignment = 4096;

// One section to write: `parts` are concatenated (so callers can write large arrays without
// first copying them into one buffer).
struct SectionSource {
  uint32_t kind;
  std::vector<std::string_view> parts;
};

// Writes the checkpoint `dir/name` (via `dir/name.tmp`). `meta` is a small opaque blob stored in
// the checksummed header. `*renamed` (if given) tells whether the file reached its final name:
// after a failure with *renamed true, the new checkpoint may or may not survive a crash.
Status WriteCheckpointFile(Env* env, const std::string& dir, const std::string& name,
                           uint64_t sequence, std::string_view meta,
                           const std::vector<SectionSource>& sections, bool* renamed = nullptr);

class CheckpointFile {
 public:
  // Maps `path` and verifies its header and every section checksum (with `verify_sections`
  // false, only the header's: for a file this process has just written and synced, whose bytes
  // it still holds in memory).
  // Errors: kCorruption (naming the path and byte offset), kNotSupported (a newer format
  // version), kIOError/kNotFound.
  static Result<std::unique_ptr<CheckpointFile>> Open(Env* env, const std::string& path,
                                                      bool verify_sections = true);

  uint64_t sequence() const { return sequence_; }
  std::string_view meta() const { return meta_; }
  const std::string& path() const { return path_; }
  // The bytes of section `kind` (writable: the mapping is private copy-on-write), or an empty
  // span if the file has no such section.
  std::span<char> section(uint32_t kind) const;
  // Keeps the mapping alive for whoever adopts section memory.
  std::shared_ptr<MappedFile> mapping() const { return mapping_; }

 private:
  struct Entry {
    uint32_t kind;
    uint64_t offset;
    uint64_t size;
  };
  std::string path_;
  uint64_t sequence_ = 0;
  std::string meta_;
  std::vector<Entry> entries_;
  std::shared_ptr<MappedFile> mapping_;
};

}  // namespace augurdb::storage
