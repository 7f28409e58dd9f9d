// Helpers shared by the libFuzzer targets in fuzz/: a scratch directory on tmpfs, an in-memory
// RandomAccessFile, and checksum repair for WAL and checkpoint images.
//
// Why repair checksums: every WAL record and checkpoint section is CRC32C-protected, so a
// mutated input almost never reaches the decoders behind the checksum. Each target therefore
// runs the raw bytes (which exercises the checksum and framing checks) and a copy whose
// checksums were recomputed (which exercises everything a crafted, well-checksummed file can
// reach: record decoding, parameter blocks, the index image and replay).
//
// Thread safety: none; a fuzz target runs one input at a time.
#pragma once

#include <stdlib.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include <augurdb/status.h>

#include "storage/env.h"
#include "storage/wal.h"
#include "util/coding.h"
#include "util/crc32c.h"

namespace augurdb::fuzz {

// Aborts with a message: a fuzz target's way of reporting a broken property as a crash.
[[noreturn]] inline void Fail(const std::string& what) {
  std::fprintf(stderr, "fuzz property violated: %s\n", what.c_str());
  std::abort();
}

// A RandomAccessFile over bytes the caller keeps alive.
class MemFile final : public storage::RandomAccessFile {
 public:
  explicit MemFile(std::string_view bytes) : bytes_(bytes) {}
  Status Read(uint64_t offset, size_t n, char* scratch) const override {
    if (offset > bytes_.size() || n > bytes_.size() - offset) {
      return Status::IOError("short read at offset " + std::to_string(offset));
    }
    if (n > 0) std::memcpy(scratch, bytes_.data() + offset, n);
    return Status::OK();
  }
  uint64_t size() const override { return bytes_.size(); }

 private:
  std::string_view bytes_;
};

// One directory per process on tmpfs (file I/O there costs no disk), emptied before each input.
class ScratchDir {
 public:
  ScratchDir() {
    const char* base = std::getenv("AUGURDB_FUZZ_TMP");
    std::string pattern = std::string(base != nullptr ? base : "/dev/shm") + "/augurdb_fuzz_XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
      pattern = "/tmp/augurdb_fuzz_XXXXXX";
      if (::mkdtemp(pattern.data()) == nullptr) Fail("cannot create a scratch directory");
    }
    path_ = pattern;
  }
  ~ScratchDir() {
    Clear();
    (void)std::remove(path_.c_str());
  }
  const std::string& path() const { return path_; }

  void Clear() const {
    storage::Env* env = storage::Env::Default();
    Result<std::vector<std::string>> names = env->ListDir(path_);
    if (!names.ok()) return;
    for (const std::string& name : *names) (void)env->RemoveFile(storage::JoinPath(path_, name));
  }

  void Write(const std::string& name, std::string_view bytes) const {
    auto file = storage::Env::Default()->NewWritableFile(storage::JoinPath(path_, name));
    if (!file.ok() || !(*file)->Append(bytes).ok() || !(*file)->Close().ok()) {
      Fail("cannot write scratch file " + name);
    }
  }

 private:
  std::string path_;
};

// The sequence a checkpoint image claims (header bytes 16..24; 1 if too short to hold one). The
// targets name files after it, as the writer does: open rejects a name that disagrees.
inline uint64_t CheckpointSequence(std::string_view checkpoint) {
  return checkpoint.size() >= 24 ? DecodeFixed64(checkpoint.data() + 16) : 1;
}
inline std::string SeqName(const char* prefix, uint64_t seq, const char* suffix) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%s%06llu%s", prefix, static_cast<unsigned long long>(seq),
                suffix);
  return buf;
}

// Recomputes both checksums of every complete record and the header checksum of a record cut
// short at the end.
inline void RepairWalChecksums(std::string* wal) {
  char* p = wal->data();
  const size_t size = wal->size();
  size_t offset = 0;
  while (size - offset >= storage::kWalHeaderSize) {
    char* header = p + offset;
    const uint32_t length = DecodeFixed32(header + 4);
    std::string fixed;
    PutFixed32(&fixed, crc32c::Mask(crc32c::Value(header + 4, 5)));
    std::memcpy(header + 9, fixed.data(), 4);
    // A record cut short keeps its (intact) header, as an append torn by a crash would.
    if (length > size - offset - storage::kWalHeaderSize) break;
    fixed.clear();
    PutFixed32(&fixed, crc32c::Mask(crc32c::Value(header + storage::kWalHeaderSize, length)));
    std::memcpy(header, fixed.data(), 4);
    offset += storage::kWalHeaderSize + length;
  }
}

// Recomputes the version checksum, every in-range section checksum and the header checksum
// (layout in docs/format/checkpoint.md). Leaves the bytes alone where the header itself is cut.
inline void RepairCheckpointChecksums(std::string* file) {
  char* p = file->data();
  const size_t size = file->size();
  auto put32 = [&](size_t at, uint32_t v) {
    std::string b;
    PutFixed32(&b, v);
    std::memcpy(p + at, b.data(), 4);
  };
  if (size < 16) return;
  put32(12, crc32c::Mask(crc32c::Value(p, 12)));
  if (size < 32) return;
  const uint64_t count = DecodeFixed32(p + 24);
  const uint64_t meta_size = DecodeFixed32(p + 28);
  if (count > 1024) return;
  const uint64_t table = 32 + meta_size;
  const uint64_t header_end = table + count * 32;
  if (header_end + 4 > size) return;
  for (uint64_t i = 0; i < count; ++i) {
    const char* entry = p + table + i * 32;
    const uint64_t offset = DecodeFixed64(entry + 8);
    const uint64_t length = DecodeFixed64(entry + 16);
    if (offset > size || length > size - offset) continue;
    put32(table + i * 32 + 24, crc32c::Mask(crc32c::Value(p + offset, length)));
  }
  put32(header_end, crc32c::Mask(crc32c::Value(p + 16, header_end - 16)));
}

}  // namespace augurdb::fuzz
