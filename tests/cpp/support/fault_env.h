// FaultEnv: a storage::Env wrapper for reliability tests. It counts every I/O call, can fail the
// Nth call of a kind with EIO, ENOSPC, a short write or an fsync failure (SQLite test_vfs.c,
// LevelDB's ErrorEnv), and can simulate an OS crash or power loss: it tracks, per file, how many
// bytes were last made durable by Sync, and which creations, renames, removals and mkdirs were
// followed by a SyncDir of their directory; Crash() then drops everything else the way LevelDB's
// FaultInjectionTestEnv does (files cut back to their synced length, unsynced directory changes
// undone), so that the database can be reopened with the real Env and checked.
//
// Model (what a file system that fsyncs honestly guarantees, and no more):
//   * data appended to a file is durable once Sync of that file returns OK;
//   * a file's existence under a name (creation, rename, removal, mkdir) is durable once SyncDir
//     of the directory holding the name returns OK (mkdir: the parent directory);
//   * files this Env did not write are durable as found; truncation is durable at once (it only
//     shrinks, and recovery treats a longer unsynced tail as torn anyway).
// Removed files are kept under a hidden name (".faultenv-trash-N", never listed) until the
// removal is durable, so that a crash can bring them back.
//
// Thread safety: all methods may be called from any thread (one mutex). Files returned are used
// by one thread at a time, as storage::Env requires.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "storage/env.h"

namespace augurdb::testing {

// Every operation FaultEnv counts.
enum class IoOp : uint8_t {
  kCreate,      // NewWritableFile
  kOpenAppend,  // NewAppendableFile
  kOpenRead,    // NewRandomAccessFile
  kMap,         // MapFile
  kExists,      // FileExists (counted, never failed: it cannot report an error)
  kSize,        // FileSize
  kList,        // ListDir
  kMkdir,       // CreateDir
  kRemove,      // RemoveFile
  kRename,      // RenameFile
  kTruncate,    // TruncateFile
  kSyncDir,     // SyncDir
  kLock,        // LockFile
  kAppend,      // WritableFile::Append
  kSync,        // WritableFile::Sync
  kClose,       // WritableFile::Close
  kRead,        // RandomAccessFile::Read
};
inline constexpr size_t kIoOpCount = 17;
const char* IoOpName(IoOp op);

enum class FaultKind : uint8_t {
  kEio,          // any call that can fail returns EIO; nothing happens
  kEnospc,       // a call that can allocate space (create, append, sync, rename, mkdir, close,
                 // lock) returns ENOSPC; nothing happens
  kShortWrite,   // an Append writes the first half of its bytes, then returns ENOSPC
  kSyncFailure,  // Sync or SyncDir returns EIO and makes nothing durable
};
inline constexpr std::array<FaultKind, 4> kAllFaultKinds = {
    FaultKind::kEio, FaultKind::kEnospc, FaultKind::kShortWrite, FaultKind::kSyncFailure};
const char* FaultKindName(FaultKind kind);
// True if a fault of `kind` can hit `op`: the Nth call of a kind counts only these.
bool FaultApplies(FaultKind kind, IoOp op);

// What a crash does to the bytes appended after a file's last successful Sync (SQLite's crash
// VFS keeps, drops or trashes each unsynced sector; these are its deterministic corners).
enum class CrashMode : uint8_t {
  kDropUnsynced,  // the file ends at its synced length (LevelDB's FaultInjectionTestEnv)
  kTornUnsynced,  // the first half of the unsynced bytes reached the disk: a torn last write
  kZeroUnsynced,  // the size reached the disk, the data did not: the unsynced bytes read as zeros
};
inline constexpr std::array<CrashMode, 3> kAllCrashModes = {
    CrashMode::kDropUnsynced, CrashMode::kTornUnsynced, CrashMode::kZeroUnsynced};
const char* CrashModeName(CrashMode mode);

class FaultEnv final : public storage::Env {
 public:
  // `base` does the real work and must outlive this Env. With `forward_syncs` false, Sync and
  // SyncDir are tracked but not passed on (durability is simulated, so tests need not wait for
  // the disk); true passes them on as well.
  explicit FaultEnv(storage::Env* base, bool forward_syncs = false);
  ~FaultEnv() override;
  FaultEnv(const FaultEnv&) = delete;
  FaultEnv& operator=(const FaultEnv&) = delete;

  // ---- counting ----
  uint64_t calls() const;                   // every call so far
  uint64_t calls(IoOp op) const;
  uint64_t eligible_calls(FaultKind kind) const;  // calls a fault of `kind` could have hit
  uint64_t sync_calls() const;              // successful Sync + SyncDir calls

  // ---- faults ----
  // Fails the nth (1-based) call that `kind` applies to, counted from the Env's creation. With
  // `sticky`, every later applicable call fails too (a disk that stays full or broken).
  void FailNth(FaultKind kind, uint64_t n, bool sticky = false);
  bool fault_fired() const;
  std::string fired_call() const;  // "append /dir/wal-000001.log" for the call that failed first
  IoOp fired_op() const;

  // ---- crash ----
  // After the kth successful Sync/SyncDir (k = 0: at once) the machine "dies": that call still
  // succeeds, every later call fails with kIOError and changes nothing, as if the process had
  // stopped there. Call Crash() afterwards to lose what was not durable.
  void CrashAfterSync(uint64_t k);
  bool dead() const;
  // Simulated OS crash / power loss. REQUIRES: no file of this Env is still written to (close
  // the collection first). Treats the unsynced bytes of every file written through this Env as
  // `mode` says, undoes unsynced creations, renames, removals and mkdirs (newest first), and
  // deletes removed files whose removal was durable. The Env is dead afterwards.
  Status Crash(CrashMode mode = CrashMode::kDropUnsynced);
  // Clean process exit without a crash: removed files are deleted for good, nothing is dropped.
  // REQUIRES: as for Crash().
  Status Shutdown();

  // ---- storage::Env ----
  Result<std::unique_ptr<storage::WritableFile>> NewWritableFile(
      const std::string& path) override;
  Result<std::unique_ptr<storage::WritableFile>> NewAppendableFile(
      const std::string& path) override;
  Result<std::unique_ptr<storage::RandomAccessFile>> NewRandomAccessFile(
      const std::string& path) override;
  Result<std::unique_ptr<storage::MappedFile>> MapFile(const std::string& path) override;
  bool FileExists(const std::string& path) override;
  Result<uint64_t> FileSize(const std::string& path) override;
  Result<std::vector<std::string>> ListDir(const std::string& dir) override;
  Status CreateDir(const std::string& dir) override;
  Status RemoveFile(const std::string& path) override;
  Status RenameFile(const std::string& from, const std::string& to) override;
  Status TruncateFile(const std::string& path, uint64_t size) override;
  Status SyncDir(const std::string& dir) override;
  Result<std::unique_ptr<storage::FileLock>> LockFile(
      const std::string& path, const std::string& owner_info) override;

  // Internal, for the file wrappers in fault_env.cc.
  struct FileState;
  enum class Admit : uint8_t { kProceed, kFail, kShort };
  Admit BeginCall(IoOp op, const std::string& path, Status* error);
  void SyncDone(FileState* file, uint64_t durable_size);
  uint64_t TrackedSize(FileState* file);
  void Appended(FileState* file, uint64_t bytes);
  bool forward_syncs() const { return forward_syncs_; }

 private:
  struct DirOp;
  std::shared_ptr<FileState> TrackLocked(const std::string& path, uint64_t size, uint64_t synced);
  std::string TrashNameLocked(const std::string& path);
  void AfterSyncLocked();
  Status DeleteTrashLocked();

  storage::Env* const base_;
  const bool forward_syncs_;
  mutable std::mutex mutex_;
  uint64_t total_calls_ = 0;
  std::array<uint64_t, kIoOpCount> op_calls_{};
  std::array<uint64_t, 4> eligible_calls_{};
  uint64_t sync_calls_ = 0;
  // Armed fault.
  bool armed_ = false;
  FaultKind fault_kind_ = FaultKind::kEio;
  uint64_t fault_at_ = 0;
  bool sticky_ = false;
  bool fired_ = false;
  std::string fired_call_;
  IoOp fired_op_ = IoOp::kCreate;
  // Crash point.
  bool crash_armed_ = false;
  uint64_t crash_after_sync_ = 0;
  bool dead_ = false;
  // Durability tracking: files written through this Env by current path, removed files in the
  // trash, and directory changes not yet known durable, oldest first.
  std::vector<std::shared_ptr<FileState>> files_;
  std::vector<DirOp> dir_ops_;
  uint64_t trash_counter_ = 0;
};

}  // namespace augurdb::testing
