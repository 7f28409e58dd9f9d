// FaultEnv (fault_env.h): counting, fault injection and crash simulation over a real Env.
//
// Method: every call first goes through BeginCall(), which counts it and decides whether it
// proceeds, fails, or (Append only) is cut short. Mutations of names are recorded as DirOps; a
// SyncDir marks the ops of that directory durable. Crash() undoes the rest newest first, after
// cutting every tracked file back to its synced length.
#include "support/fault_env.h"

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <utility>

namespace augurdb::testing {

using storage::FileLock;
using storage::MappedFile;
using storage::RandomAccessFile;
using storage::WritableFile;

const char* IoOpName(IoOp op) {
  static constexpr const char* kNames[kIoOpCount] = {
      "create", "open-append", "open-read", "map",      "exists", "size",
      "list",   "mkdir",       "remove",    "rename",   "truncate", "syncdir",
      "lock",   "append",      "sync",      "close",    "read"};
  return kNames[static_cast<size_t>(op)];
}

const char* FaultKindName(FaultKind kind) {
  switch (kind) {
    case FaultKind::kEio: return "eio";
    case FaultKind::kEnospc: return "enospc";
    case FaultKind::kShortWrite: return "short-write";
    case FaultKind::kSyncFailure: return "sync-failure";
  }
  return "?";
}

const char* CrashModeName(CrashMode mode) {
  switch (mode) {
    case CrashMode::kDropUnsynced: return "drop";
    case CrashMode::kTornUnsynced: return "torn";
    case CrashMode::kZeroUnsynced: return "zero";
  }
  return "?";
}

bool FaultApplies(FaultKind kind, IoOp op) {
  switch (kind) {
    case FaultKind::kEio:
      return op != IoOp::kExists;
    case FaultKind::kEnospc:
      return op == IoOp::kCreate || op == IoOp::kOpenAppend || op == IoOp::kMkdir ||
             op == IoOp::kRename || op == IoOp::kAppend || op == IoOp::kSync ||
             op == IoOp::kSyncDir || op == IoOp::kClose || op == IoOp::kLock;
    case FaultKind::kShortWrite:
      return op == IoOp::kAppend;
    case FaultKind::kSyncFailure:
      return op == IoOp::kSync || op == IoOp::kSyncDir;
  }
  return false;
}

namespace {

std::string DirName(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

constexpr std::string_view kTrashMarker = ".faultenv-trash-";

bool IsTrash(const std::string& name) { return name.find(kTrashMarker) != std::string::npos; }

}  // namespace

// A file written through this Env. `path` follows renames; `removed` files sit at trash paths.
struct FaultEnv::FileState {
  std::string path;
  uint64_t size = 0;    // bytes in the file as far as this Env knows
  uint64_t synced = 0;  // bytes a crash keeps
};

// A change to a directory's names that a crash undoes unless SyncDir(dir) followed it.
struct FaultEnv::DirOp {
  enum class Kind : uint8_t { kCreateFile, kRename, kRemove, kMkdir };
  Kind kind;
  std::string dir;        // the directory whose SyncDir makes it durable
  std::string path;       // created file, rename target, removed file, created directory
  std::string from;       // kRename: the old name
  std::string trash;      // kRemove: where the file waits; kRename: the file `path` replaced
  bool durable = false;
};

namespace {

class FaultWritableFile final : public WritableFile {
 public:
  FaultWritableFile(FaultEnv* env, std::shared_ptr<FaultEnv::FileState> state,
                    std::unique_ptr<WritableFile> base)
      : env_(env), state_(std::move(state)), base_(std::move(base)) {}
  ~FaultWritableFile() override { (void)base_->Close(); }

  Status Append(std::string_view data) override {
    Status error;
    const FaultEnv::Admit admit = env_->BeginCall(IoOp::kAppend, state_->path, &error);
    if (admit == FaultEnv::Admit::kFail) return error;
    if (admit == FaultEnv::Admit::kShort) {
      // What a full disk does to write(2): part of the buffer lands, then ENOSPC.
      const std::string_view prefix = data.substr(0, data.size() / 2);
      if (!prefix.empty()) {
        Status s = base_->Append(prefix);
        if (!s.ok()) return s;
        env_->Appended(state_.get(), prefix.size());
      }
      return error;
    }
    Status s = base_->Append(data);
    if (s.ok()) env_->Appended(state_.get(), data.size());
    return s;
  }
  Status Sync() override {
    Status error;
    if (env_->BeginCall(IoOp::kSync, state_->path, &error) != FaultEnv::Admit::kProceed) {
      return error;
    }
    // What fdatasync covers: every byte appended before it started. Appends may run beside it
    // (WalWriter syncs outside its lock), so the length is taken from the tracked state.
    const uint64_t covered = env_->TrackedSize(state_.get());
    if (env_->forward_syncs()) AUGUR_RETURN_IF_ERROR(base_->Sync());
    env_->SyncDone(state_.get(), covered);
    return Status::OK();
  }
  Status Close() override {
    Status error;
    if (env_->BeginCall(IoOp::kClose, state_->path, &error) != FaultEnv::Admit::kProceed) {
      return error;
    }
    return base_->Close();
  }
  uint64_t size() const override { return base_->size(); }

 private:
  FaultEnv* env_;
  std::shared_ptr<FaultEnv::FileState> state_;
  std::unique_ptr<WritableFile> base_;
};

class FaultRandomAccessFile final : public RandomAccessFile {
 public:
  FaultRandomAccessFile(FaultEnv* env, std::string path, std::unique_ptr<RandomAccessFile> base)
      : env_(env), path_(std::move(path)), base_(std::move(base)) {}
  Status Read(uint64_t offset, size_t n, char* scratch) const override {
    Status error;
    if (env_->BeginCall(IoOp::kRead, path_, &error) != FaultEnv::Admit::kProceed) return error;
    return base_->Read(offset, n, scratch);
  }
  uint64_t size() const override { return base_->size(); }

 private:
  FaultEnv* env_;
  std::string path_;
  std::unique_ptr<RandomAccessFile> base_;
};

}  // namespace

FaultEnv::FaultEnv(storage::Env* base, bool forward_syncs)
    : base_(base), forward_syncs_(forward_syncs) {}

FaultEnv::~FaultEnv() = default;

// ---------------------------------------------------------------- counting and faults

FaultEnv::Admit FaultEnv::BeginCall(IoOp op, const std::string& path, Status* error) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++total_calls_;
  ++op_calls_[static_cast<size_t>(op)];
  for (FaultKind kind : kAllFaultKinds) {
    if (FaultApplies(kind, op)) ++eligible_calls_[static_cast<size_t>(kind)];
  }
  const std::string call = std::string(IoOpName(op)) + " " + path;
  if (dead_) {
    *error = Status::IOError("simulated crash: " + call + " never happened");
    return Admit::kFail;
  }
  if (!armed_ || !FaultApplies(fault_kind_, op)) return Admit::kProceed;
  const uint64_t seen = eligible_calls_[static_cast<size_t>(fault_kind_)];
  if (seen < fault_at_ || (seen > fault_at_ && !sticky_)) return Admit::kProceed;
  if (!fired_) {
    fired_ = true;
    fired_call_ = call;
    fired_op_ = op;
  }
  // Messages as PosixEnv words them, plus a marker that says they were injected.
  switch (fault_kind_) {
    case FaultKind::kEio:
    case FaultKind::kSyncFailure:
      *error = Status::IOError("injected: " + call + ": Input/output error");
      return Admit::kFail;
    case FaultKind::kEnospc:
      *error = Status::IOError("injected: " + call + ": No space left on device (disk full)");
      return Admit::kFail;
    case FaultKind::kShortWrite:
      *error = Status::IOError("injected short write: " + call +
                               ": No space left on device (disk full)");
      return Admit::kShort;
  }
  return Admit::kFail;
}

void FaultEnv::Appended(FileState* file, uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  file->size += bytes;
}

uint64_t FaultEnv::TrackedSize(FileState* file) {
  std::lock_guard<std::mutex> lock(mutex_);
  return file->size;
}

void FaultEnv::SyncDone(FileState* file, uint64_t durable_size) {
  std::lock_guard<std::mutex> lock(mutex_);
  file->synced = std::max(file->synced, std::min(durable_size, file->size));
  AfterSyncLocked();
}

void FaultEnv::AfterSyncLocked() {
  ++sync_calls_;
  if (crash_armed_ && sync_calls_ >= crash_after_sync_) dead_ = true;
}

uint64_t FaultEnv::calls() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return total_calls_;
}
uint64_t FaultEnv::calls(IoOp op) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return op_calls_[static_cast<size_t>(op)];
}
uint64_t FaultEnv::eligible_calls(FaultKind kind) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return eligible_calls_[static_cast<size_t>(kind)];
}
uint64_t FaultEnv::sync_calls() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return sync_calls_;
}

void FaultEnv::FailNth(FaultKind kind, uint64_t n, bool sticky) {
  std::lock_guard<std::mutex> lock(mutex_);
  armed_ = true;
  fault_kind_ = kind;
  fault_at_ = n;
  sticky_ = sticky;
}
bool FaultEnv::fault_fired() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return fired_;
}
std::string FaultEnv::fired_call() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return fired_call_;
}
IoOp FaultEnv::fired_op() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return fired_op_;
}

void FaultEnv::CrashAfterSync(uint64_t k) {
  std::lock_guard<std::mutex> lock(mutex_);
  crash_armed_ = true;
  crash_after_sync_ = k;
  if (sync_calls_ >= k) dead_ = true;
}
bool FaultEnv::dead() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return dead_;
}

// ---------------------------------------------------------------- tracking

std::shared_ptr<FaultEnv::FileState> FaultEnv::TrackLocked(const std::string& path, uint64_t size,
                                                           uint64_t synced) {
  for (const std::shared_ptr<FileState>& f : files_) {
    if (f->path == path) {
      f->size = size;
      f->synced = synced;
      return f;
    }
  }
  auto state = std::make_shared<FileState>();
  state->path = path;
  state->size = size;
  state->synced = synced;
  files_.push_back(state);
  return state;
}

std::string FaultEnv::TrashNameLocked(const std::string& path) {
  return path + std::string(kTrashMarker) + std::to_string(++trash_counter_);
}

// ---------------------------------------------------------------- Env

Result<std::unique_ptr<WritableFile>> FaultEnv::NewWritableFile(const std::string& path) {
  Status error;
  if (BeginCall(IoOp::kCreate, path, &error) != Admit::kProceed) return error;
  const bool existed = base_->FileExists(path);
  AUGUR_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, base_->NewWritableFile(path));
  std::shared_ptr<FileState> state;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    // Truncated: whatever was durable before is gone (conservative: a crash may keep less).
    state = TrackLocked(path, 0, 0);
    if (!existed) dir_ops_.push_back({DirOp::Kind::kCreateFile, DirName(path), path, "", "", false});
  }
  return std::unique_ptr<WritableFile>(
      std::make_unique<FaultWritableFile>(this, std::move(state), std::move(file)));
}

Result<std::unique_ptr<WritableFile>> FaultEnv::NewAppendableFile(const std::string& path) {
  Status error;
  if (BeginCall(IoOp::kOpenAppend, path, &error) != Admit::kProceed) return error;
  const bool existed = base_->FileExists(path);
  AUGUR_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, base_->NewAppendableFile(path));
  std::shared_ptr<FileState> state;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto known = std::find_if(files_.begin(), files_.end(),
                              [&](const std::shared_ptr<FileState>& f) { return f->path == path; });
    if (known != files_.end()) {
      state = *known;  // written through this Env before: keep its synced length
    } else {
      // Not written by us: durable as found.
      state = TrackLocked(path, file->size(), file->size());
      if (!existed) {
        dir_ops_.push_back({DirOp::Kind::kCreateFile, DirName(path), path, "", "", false});
      }
    }
  }
  return std::unique_ptr<WritableFile>(
      std::make_unique<FaultWritableFile>(this, std::move(state), std::move(file)));
}

Result<std::unique_ptr<RandomAccessFile>> FaultEnv::NewRandomAccessFile(const std::string& path) {
  Status error;
  if (BeginCall(IoOp::kOpenRead, path, &error) != Admit::kProceed) return error;
  AUGUR_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file, base_->NewRandomAccessFile(path));
  return std::unique_ptr<RandomAccessFile>(
      std::make_unique<FaultRandomAccessFile>(this, path, std::move(file)));
}

Result<std::unique_ptr<MappedFile>> FaultEnv::MapFile(const std::string& path) {
  Status error;
  if (BeginCall(IoOp::kMap, path, &error) != Admit::kProceed) return error;
  return base_->MapFile(path);
}

bool FaultEnv::FileExists(const std::string& path) {
  Status ignored;
  (void)BeginCall(IoOp::kExists, path, &ignored);  // never fails: only counted
  return !IsTrash(path) && base_->FileExists(path);
}

Result<uint64_t> FaultEnv::FileSize(const std::string& path) {
  Status error;
  if (BeginCall(IoOp::kSize, path, &error) != Admit::kProceed) return error;
  return base_->FileSize(path);
}

Result<std::vector<std::string>> FaultEnv::ListDir(const std::string& dir) {
  Status error;
  if (BeginCall(IoOp::kList, dir, &error) != Admit::kProceed) return error;
  AUGUR_ASSIGN_OR_RETURN(std::vector<std::string> names, base_->ListDir(dir));
  names.erase(std::remove_if(names.begin(), names.end(), IsTrash), names.end());
  return names;
}

Status FaultEnv::CreateDir(const std::string& dir) {
  Status error;
  if (BeginCall(IoOp::kMkdir, dir, &error) != Admit::kProceed) return error;
  // mkdir -p: remember each level that did not exist, to remove it again at a crash.
  std::vector<std::string> created;
  for (std::string d = dir; !d.empty() && d != "/" && d != "." && !base_->FileExists(d);
       d = DirName(d)) {
    created.push_back(d);
  }
  AUGUR_RETURN_IF_ERROR(base_->CreateDir(dir));
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto it = created.rbegin(); it != created.rend(); ++it) {  // outermost first
    dir_ops_.push_back({DirOp::Kind::kMkdir, DirName(*it), *it, "", "", false});
  }
  return Status::OK();
}

Status FaultEnv::RemoveFile(const std::string& path) {
  Status error;
  if (BeginCall(IoOp::kRemove, path, &error) != Admit::kProceed) return error;
  std::lock_guard<std::mutex> lock(mutex_);
  if (!base_->FileExists(path)) return base_->RemoveFile(path);  // its NotFound, as PosixEnv says it
  // Kept under a hidden name until the removal is durable; open handles keep working.
  const std::string trash = TrashNameLocked(path);
  AUGUR_RETURN_IF_ERROR(base_->RenameFile(path, trash));
  for (const std::shared_ptr<FileState>& f : files_) {
    if (f->path == path) f->path = trash;
  }
  dir_ops_.push_back({DirOp::Kind::kRemove, DirName(path), path, "", trash, false});
  return Status::OK();
}

Status FaultEnv::RenameFile(const std::string& from, const std::string& to) {
  Status error;
  if (BeginCall(IoOp::kRename, from + " to " + to, &error) != Admit::kProceed) return error;
  std::lock_guard<std::mutex> lock(mutex_);
  if (!base_->FileExists(from)) return base_->RenameFile(from, to);  // its NotFound
  std::string displaced;
  if (base_->FileExists(to)) {
    // rename(2) replaces `to` atomically; keep the old file so that a crash can restore it.
    displaced = TrashNameLocked(to);
    AUGUR_RETURN_IF_ERROR(base_->RenameFile(to, displaced));
    for (const std::shared_ptr<FileState>& f : files_) {
      if (f->path == to) f->path = displaced;
    }
  }
  AUGUR_RETURN_IF_ERROR(base_->RenameFile(from, to));
  for (const std::shared_ptr<FileState>& f : files_) {
    if (f->path == from) f->path = to;
  }
  dir_ops_.push_back({DirOp::Kind::kRename, DirName(to), to, from, displaced, false});
  return Status::OK();
}

Status FaultEnv::TruncateFile(const std::string& path, uint64_t size) {
  Status error;
  if (BeginCall(IoOp::kTruncate, path, &error) != Admit::kProceed) return error;
  AUGUR_RETURN_IF_ERROR(base_->TruncateFile(path, size));
  std::lock_guard<std::mutex> lock(mutex_);
  for (const std::shared_ptr<FileState>& f : files_) {
    if (f->path == path) {
      f->size = size;
      f->synced = std::min(f->synced, size);
    }
  }
  return Status::OK();
}

Status FaultEnv::SyncDir(const std::string& dir) {
  Status error;
  if (BeginCall(IoOp::kSyncDir, dir, &error) != Admit::kProceed) return error;
  if (forward_syncs_) AUGUR_RETURN_IF_ERROR(base_->SyncDir(dir));
  std::lock_guard<std::mutex> lock(mutex_);
  for (DirOp& op : dir_ops_) {
    if (op.dir == dir) op.durable = true;
  }
  AfterSyncLocked();
  return Status::OK();
}

Result<std::unique_ptr<FileLock>> FaultEnv::LockFile(const std::string& path,
                                                     const std::string& owner_info) {
  Status error;
  if (BeginCall(IoOp::kLock, path, &error) != Admit::kProceed) return error;
  return base_->LockFile(path, owner_info);
}

// ---------------------------------------------------------------- crash

Status FaultEnv::DeleteTrashLocked() {
  for (const DirOp& op : dir_ops_) {
    if (!op.trash.empty() && base_->FileExists(op.trash)) {
      AUGUR_RETURN_IF_ERROR(base_->RemoveFile(op.trash));
    }
  }
  return Status::OK();
}

Status FaultEnv::Crash(CrashMode mode) {
  std::lock_guard<std::mutex> lock(mutex_);
  dead_ = true;
  // 1. Data: every file written here keeps what a Sync made durable; the rest as `mode` says.
  for (const std::shared_ptr<FileState>& f : files_) {
    if (!base_->FileExists(f->path)) continue;
    AUGUR_ASSIGN_OR_RETURN(const uint64_t on_disk, base_->FileSize(f->path));
    if (on_disk <= f->synced) continue;
    const uint64_t unsynced = on_disk - f->synced;
    switch (mode) {
      case CrashMode::kDropUnsynced:
        AUGUR_RETURN_IF_ERROR(base_->TruncateFile(f->path, f->synced));
        break;
      case CrashMode::kTornUnsynced:
        AUGUR_RETURN_IF_ERROR(base_->TruncateFile(f->path, f->synced + unsynced / 2));
        break;
      case CrashMode::kZeroUnsynced: {
        AUGUR_RETURN_IF_ERROR(base_->TruncateFile(f->path, f->synced));
        AUGUR_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file,
                               base_->NewAppendableFile(f->path));
        AUGUR_RETURN_IF_ERROR(file->Append(std::string(unsynced, '\0')));
        AUGUR_RETURN_IF_ERROR(file->Close());
        break;
      }
    }
  }
  // 2. Names: undo directory changes no SyncDir covered, newest first, so that each undo finds
  // the names as they were right after its own change.
  for (auto it = dir_ops_.rbegin(); it != dir_ops_.rend(); ++it) {
    DirOp& op = *it;
    if (op.durable) continue;
    switch (op.kind) {
      case DirOp::Kind::kCreateFile:
        if (base_->FileExists(op.path)) AUGUR_RETURN_IF_ERROR(base_->RemoveFile(op.path));
        break;
      case DirOp::Kind::kRename:
        if (base_->FileExists(op.path)) AUGUR_RETURN_IF_ERROR(base_->RenameFile(op.path, op.from));
        if (!op.trash.empty()) {
          AUGUR_RETURN_IF_ERROR(base_->RenameFile(op.trash, op.path));
          op.trash.clear();
        }
        break;
      case DirOp::Kind::kRemove:
        AUGUR_RETURN_IF_ERROR(base_->RenameFile(op.trash, op.path));
        op.trash.clear();
        break;
      case DirOp::Kind::kMkdir: {
        std::error_code ec;
        std::filesystem::remove_all(op.path, ec);  // Env has no rmdir; tests may do without it
        if (ec) return Status::IOError("crash: removing " + op.path + ": " + ec.message());
        break;
      }
    }
  }
  // 3. Removals that were durable are final.
  Status s = DeleteTrashLocked();
  files_.clear();
  dir_ops_.clear();
  return s;
}

Status FaultEnv::Shutdown() {
  std::lock_guard<std::mutex> lock(mutex_);
  Status s = DeleteTrashLocked();
  files_.clear();
  dir_ops_.clear();
  return s;
}

}  // namespace augurdb::testing
