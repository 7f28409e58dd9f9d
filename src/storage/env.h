// Env: every file operation of the storage and db layers goes through this interface, so tests
// can inject I/O errors, short writes, failed fsyncs and simulated crashes (LevelDB's Env,
// SQLite's VFS). PosixEnv (env_posix.cc) is the default; fault-injecting wrappers live in tests.
//
// Thread safety: Env methods may be called from any thread. A file object is used by one thread
// at a time unless its class says otherwise.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <augurdb/status.h>

namespace augurdb::storage {

// Append-only file (WAL, checkpoint being written).
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  // Appends all of `data`; a short write is an error (kIOError naming the path).
  virtual Status Append(std::string_view data) = 0;
  // Makes every appended byte durable (fdatasync).
  virtual Status Sync() = 0;
  virtual Status Close() = 0;
  virtual uint64_t size() const = 0;
};

// Read-only random access.
class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  // Reads exactly n bytes at offset into scratch; fewer bytes is kIOError.
  virtual Status Read(uint64_t offset, size_t n, char* scratch) const = 0;
  virtual uint64_t size() const = 0;
};

// A file mapped into memory, copy-on-write: writes through data() change memory only, never the
// file. The mapping stays valid while this object lives, even after the file is deleted.
class MappedFile {
 public:
  virtual ~MappedFile() = default;
  virtual char* data() = 0;
  virtual size_t size() const = 0;
};

// An exclusive lock on a file, released on destruction or process exit.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

class Env {
 public:
  virtual ~Env() = default;
  // The process-wide POSIX environment (never destroyed).
  static Env* Default();

  // Creates or truncates `path` for appending.
  virtual Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) = 0;
  // Opens an existing file for appending at its end.
  virtual Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) = 0;
  virtual Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) = 0;
  virtual Result<std::unique_ptr<MappedFile>> MapFile(const std::string& path) = 0;

  virtual bool FileExists(const std::string& path) = 0;
  virtual Result<uint64_t> FileSize(const std::string& path) = 0;
  virtual Result<std::vector<std::string>> ListDir(const std::string& dir) = 0;
  virtual Status CreateDir(const std::string& dir) = 0;  // and missing parents; ok if it exists
  virtual Status RemoveFile(const std::string& path) = 0;
  virtual Status RenameFile(const std::string& from, const std::string& to) = 0;
  virtual Status TruncateFile(const std::string& path, uint64_t size) = 0;
  // Makes renames and creations in `dir` durable.
  virtual Status SyncDir(const std::string& dir) = 0;
  // Takes an exclusive lock without waiting; kLocked (with `holder_info` of the current holder,
  // read from the lock file) if another process holds it. Writes `owner_info` into the file.
  virtual Result<std::unique_ptr<FileLock>> LockFile(const std::string& path,
                                                      const std::string& owner_info) = 0;
};

std::string JoinPath(const std::string& dir, const std::string& name);

}  // namespace augurdb::storage
