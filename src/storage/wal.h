// Write-ahead log: an append-only file of checksummed records (format: docs/format/wal.md).
//
// Record = [masked CRC32C of payload : u32][payload length : u32][type : u8]
//          [masked CRC32C of length+type : u32][payload]
// The header has its own checksum so that a damaged length is caught instead of being mistaken
// for a record torn at the end of the file.
//
// WalWriter: Append() adds a record and returns the log offset at its end; SyncTo(offset) makes
// the log durable up to there. Group commit: concurrent SyncTo calls share one fsync (the first
// caller syncs everything appended so far while the others wait for it).
// Thread safety: WalWriter methods may be called from any thread.
//
// ReadWal(): replays every intact record. What a crash during an append can leave at the end of
// the file (a short header, a payload cut short, a last record whose payload checksum fails, or
// a damaged record followed only by zero bytes, which some file systems leave when the size was
// extended before the data was written) ends the log and is reported as dropped; any other
// damage, i.e. damage followed by more data, is kCorruption naming the file and offset.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <augurdb/status.h>

#include "storage/env.h"

namespace augurdb::storage {

inline constexpr size_t kWalHeaderSize = 13;
// Largest payload Append accepts (1 GiB). Nothing splits a larger batch: Append rejects it, so
// the write that logged it fails and the user must send smaller batches.
inline constexpr uint32_t kWalMaxRecordBytes = 1u << 30;

class WalWriter {
 public:
  // `file` must be positioned at the end of the intact log.
  WalWriter(std::unique_ptr<WritableFile> file, std::string path);
  ~WalWriter();

  // Appends one record. A payload over kWalMaxRecordBytes is kInvalidArgument (nothing is
  // written); after a failed write or sync every call returns that first error.
  Status Append(uint8_t type, std::string_view payload, uint64_t* end_offset);
  // Durable up to `offset` (returns at once if already). Shares fsyncs between callers.
  Status SyncTo(uint64_t offset);
  // Syncs everything appended so far.
  Status Sync();
  uint64_t size() const;
  const std::string& path() const { return path_; }

 private:
  std::unique_ptr<WritableFile> file_;
  const std::string path_;
  mutable std::mutex mutex_;
  std::condition_variable synced_cv_;
  uint64_t written_ = 0;   // bytes appended
  uint64_t synced_ = 0;    // bytes known durable
  bool syncing_ = false;   // a caller is inside fsync
  Status sticky_error_;    // after a failed write or sync, the log refuses further use
};

struct WalReadResult {
  uint64_t records = 0;
  uint64_t valid_bytes = 0;    // offset just past the last intact record
  uint64_t dropped_bytes = 0;  // torn tail after valid_bytes (0 if the log ended cleanly)
};

// Calls `apply(type, payload)` for each intact record in order; stops at the first error that
// apply returns. The payload view is valid only during the call.
Result<WalReadResult> ReadWal(Env* env, const std::string& path,
                              const std::function<Status(uint8_t, std::string_view)>& apply);
// The same on a file already opened (its size as of opening is what is read): a reader opens
// the WAL before the writer could remove it, then reads at leisure.
Result<WalReadResult> ReadWal(const RandomAccessFile& file, const std::string& path,
                              const std::function<Status(uint8_t, std::string_view)>& apply);

// Encodes one record (header + payload), for tests and the writer.
std::string EncodeWalRecord(uint8_t type, std::string_view payload);

}  // namespace augurdb::storage
