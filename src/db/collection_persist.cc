// Persistence of a Collection: the database directory, WAL logging with group commit,
// checkpoints and recovery (docs/format/). Every file access goes through storage::Env.
//
// Directory contents:
//   LOCK                      flock'ed by the writer; holds "pid <n>" for error messages
//   checkpoint-<seq>.adb      the newest complete snapshot (older ones are removed)
//   wal-<seq>.log             every change after checkpoint <seq>, in order
//   *.tmp                     a checkpoint being written (removed at open)
//
// Recovery: take the highest-numbered checkpoint, verify every checksum, map it, replay
// wal-<seq>.log; a torn tail is truncated (writer) or ignored (reader). A checkpoint is
// complete once renamed into place, so a crash at any point leaves either the old checkpoint
// with its WAL or the new one (whose WAL may be missing: then it is empty).
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "db/collection_impl.h"
#include "util/coding.h"
#include "db/record_codec.h"
#include "db/vector_checks.h"
#include "index/image_format.h"
#include "storage/checkpoint.h"

namespace augurdb {

using index::Slot;
using Impl = Collection::Impl;

namespace {

// Checkpoint section kinds of the db layer. Numbers are part of the format: never reuse one.
// Kinds 1-6, 11 and 12 are the index image's (index/image_format.h).
enum Section : uint32_t {
  kIntIds = 7,     // slot_end int64
  kStringIds = 8,  // slot_end length-prefixed strings
  kUsed = 9,       // slot_end uint8
  kMetadata = 10,  // slot_end length-prefixed metadata blobs (empty = none)
};

constexpr auto kBatchSyncInterval = std::chrono::milliseconds(100);

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
// Parses "<prefix><digits><suffix>"; false for anything else.
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

// "a/b/c" -> "a/b", "c" -> ".", "/c" -> "/"; trailing slashes are ignored.
std::string ParentDir(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string_view Bytes(const void* p, size_t n) { return {static_cast<const char*>(p), n}; }

Status Corrupt(const std::string& path, const std::string& why) {
  return Status::Corruption("checkpoint " + path + ": " + why);
}

}  // namespace

Status Impl::LogPut(const IdsView& ids, const MatrixView& vectors,
                    std::span<const Metadata> metadata, uint64_t* end) {
  dirty = true;
  if (!persistent()) return Status::OK();
  std::string payload;
  db::EncodePut(ids, vectors, metadata, &payload);
  return wal->Append(static_cast<uint8_t>(db::WalOp::kPut), payload, end);
}

Status Impl::LogDelete(const IdsView& ids, uint64_t* end) {
  dirty = true;
  if (!persistent()) return Status::OK();
  std::string payload;
  db::EncodeDelete(ids, &payload);
  return wal->Append(static_cast<uint8_t>(db::WalOp::kDelete), payload, end);
}

Status Impl::AfterWrite(const std::shared_ptr<storage::WalWriter>& log, uint64_t end) {
  if (!log) return Status::OK();
  bool sync = options.durability == Durability::kSync;
  if (options.durability == Durability::kBatch) {
    std::lock_guard<std::mutex> lock(sync_mutex);
    const auto now = std::chrono::steady_clock::now();
    if (now - last_sync >= kBatchSyncInterval) {
      sync = true;
      last_sync = now;
    }
  }
  if (sync) {
    Status s = log->SyncTo(end);
    if (!s.ok()) {
      return Status(s.code(), "the write was applied but may not be durable: " + s.message());
    }
  }
  if (log->size() > options.checkpoint_wal_bytes) {
    std::lock_guard<std::mutex> lock(write_mutex);
    if (wal == log && !closed && poisoned.ok()) {
      Status s = CheckpointLocked();
      // The write itself is durable in the WAL; a failed checkpoint is retried later.
      if (!s.ok()) std::fprintf(stderr, "augurdb: automatic checkpoint failed: %s\n", s.ToString().c_str());
    }
  }
  return Status::OK();
}

Status Impl::CheckpointLocked() {
  const uint64_t seq = checkpoint_seq + 1;
  db::StoredParams params;
  params.dim = static_cast<uint32_t>(dim.load());
  params.metric = *options.metric;
  params.m = static_cast<uint32_t>(options.m);
  params.ef_construction = static_cast<uint32_t>(options.ef_construction);
  params.ef_search = static_cast<uint32_t>(options.ef_search);
  params.seed = options.seed;
  params.id_kind = id_kind;
  params.quantization = *options.quantization;

  std::vector<storage::SectionSource> sections;
  std::string index_header, upper, quantizer, str_ids, metadata;
  if (index_owner) {
    const index::HnswImage image = index_owner->ExportImage(&upper, &quantizer);
    const size_t end = image.slot_end;
    for (index::image_format::Section& section :
         index::image_format::ToSections(image, &index_header)) {
      sections.push_back({section.kind, std::move(section.parts)});
    }
    if (id_kind == IdKind::kString) {
      for (size_t s = 0; s < end; ++s) PutLengthPrefixed(&str_ids, slot_used[s] ? slot_str_id[s] : "");
      sections.push_back({kStringIds, {str_ids}});
    } else if (id_kind == IdKind::kInt) {
      sections.push_back({kIntIds, {Bytes(slot_int_id.data(), end * sizeof(int64_t))}});
    }
    sections.push_back({kUsed, {Bytes(slot_used.data(), end)}});
    std::string blob;
    for (size_t s = 0; s < end; ++s) {
      blob.clear();
      if (slot_used[s] && !slot_metadata[s].empty()) db::EncodeMetadata(slot_metadata[s], &blob);
      PutLengthPrefixed(&metadata, blob);
    }
    sections.push_back({kMetadata, {metadata}});
  }
  const std::string name = CheckpointName(seq);
  // The new (empty) WAL exists before the checkpoint takes its final name: once checkpoint
  // <seq> is the newest file, recovery must find wal-<seq> and every later write in it. A
  // wal-<seq> left by a failure before the rename is stale and removed at the next open.
  const std::string wal_path = storage::JoinPath(dir, WalName(seq));
  AUGUR_ASSIGN_OR_RETURN(std::unique_ptr<storage::WritableFile> file, env->NewWritableFile(wal_path));
  bool renamed = false;
  Status written = storage::WriteCheckpointFile(env, dir, name, seq, db::EncodeParams(params),
                                                sections, &renamed);
  if (!written.ok()) {
    if (!renamed) {
      (void)env->RemoveFile(wal_path);
      return written;
    }
    // Renamed but not known durable: neither WAL can be trusted to receive later writes.
    poisoned = Status(written.code(), "a checkpoint failed after it was renamed into place (" +
                                          written.message() + "); reopen the database");
    return poisoned;
  }
  {
    std::lock_guard<std::mutex> lock(wal_ptr_mutex);
    wal = std::make_shared<storage::WalWriter>(std::move(file), wal_path);
  }
  (void)env->RemoveFile(storage::JoinPath(dir, WalName(checkpoint_seq)));
  (void)env->RemoveFile(storage::JoinPath(dir, CheckpointName(checkpoint_seq)));
  checkpoint_seq = seq;
  Result<uint64_t> size = env->FileSize(storage::JoinPath(dir, name));
  checkpoint_bytes = size.ok() ? *size : 0;
  dirty = false;
  if (options.vectors_on_disk && index_owner) ServeVectorsFrom(storage::JoinPath(dir, name));
  return Status::OK();
}

void Impl::ServeVectorsFrom(const std::string& path) {
  // The checkpoint is durable and complete; failing to map it only means the vectors stay in
  // memory until the next checkpoint, so report and carry on.
  Result<std::unique_ptr<storage::CheckpointFile>> file =
      storage::CheckpointFile::Open(env, path, /*verify_sections=*/false);
  if (!file.ok()) {
    std::fprintf(stderr, "augurdb: vectors stay in memory: %s\n", file.status().ToString().c_str());
    return;
  }
  const std::span<char> rows = (*file)->section(index::image_format::kVectors);
  index::HnswIndex& idx = *index_owner;
  if (rows.size() != idx.slot_end() * idx.vector_stride() * sizeof(float)) {
    std::fprintf(stderr, "augurdb: vectors stay in memory: %s has %zu vector bytes\n",
                 path.c_str(), rows.size());
    return;
  }
  try {
    idx.RemapVectors(reinterpret_cast<float*>(rows.data()), (*file)->mapping());
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "augurdb: vectors stay in memory: out of memory remapping them\n");
  }
}

Status Impl::VerifyStorageLocked(VerifyReport* report) const {
  if (!persistent()) return Status::OK();
  const std::string path = storage::JoinPath(dir, CheckpointName(checkpoint_seq.load()));
  AUGUR_ASSIGN_OR_RETURN(std::unique_ptr<storage::CheckpointFile> file,
                         storage::CheckpointFile::Open(env, path));  // recomputes every checksum
  report->checkpoint_bytes = file->mapping()->size();
  const std::string wal_path = storage::JoinPath(dir, WalName(checkpoint_seq.load()));
  if (!env->FileExists(wal_path)) return Status::OK();
  AUGUR_ASSIGN_OR_RETURN(storage::WalReadResult read,
                         storage::ReadWal(env, wal_path, [](uint8_t, std::string_view) {
                           return Status::OK();
                         }));
  report->wal_records = read.records;
  return Status::OK();
}

Status Impl::CloseLocked() {
  if (closed) return Status::OK();
  Status s;
  if (persistent() && !options.read_only && wal) {
    if (dirty && poisoned.ok()) {
      s = CheckpointLocked();
    } else {
      s = wal->Sync();
    }
  }
  {
    std::lock_guard<std::mutex> lock(wal_ptr_mutex);
    wal.reset();
  }
  file_lock.reset();
  closed = true;
  return s;
}

namespace {

// Loads one checkpoint into `impl` (params, index, ids, metadata).
Status LoadCheckpoint(Impl& impl, const storage::CheckpointFile& file) {
  db::StoredParams stored;
  if (Status ps = db::DecodeParams(file.meta(), &stored); !ps.ok()) {
    return Corrupt(file.path(), ps.message());
  }
  CollectionOptions& o = impl.options;
  if (o.metric && *o.metric != stored.metric) {
    return Status::InvalidArgument("database " + impl.dir + " uses metric '" +
                                   std::string(MetricName(stored.metric)) + "', opened with '" +
                                   std::string(MetricName(*o.metric)) + "'");
  }
  if (o.dim != 0 && stored.dim != 0 && o.dim != stored.dim) {
    return Status::DimensionMismatch("database " + impl.dir + " has dim " +
                                     std::to_string(stored.dim) + ", opened with dim " +
                                     std::to_string(o.dim));
  }
  if (o.m != 0 && o.m != stored.m) {
    return Status::InvalidArgument("database " + impl.dir + " was built with m=" +
                                   std::to_string(stored.m) + "; it cannot change (got " +
                                   std::to_string(o.m) + ")");
  }
  if (o.ef_construction != 0 && o.ef_construction != stored.ef_construction) {
    return Status::InvalidArgument("database " + impl.dir + " was built with ef_construction=" +
                                   std::to_string(stored.ef_construction) +
                                   "; it cannot change (got " +
                                   std::to_string(o.ef_construction) + ")");
  }
  if (o.quantization && *o.quantization != stored.quantization) {
    return Status::InvalidArgument("database " + impl.dir + " uses quantization '" +
                                   std::string(QuantizationName(stored.quantization)) +
                                   "'; it cannot change (got '" +
                                   std::string(QuantizationName(*o.quantization)) + "')");
  }
  o.quantization = stored.quantization;
  o.metric = stored.metric;
  o.m = stored.m;
  o.ef_construction = stored.ef_construction;
  if (o.ef_search == 0) o.ef_search = stored.ef_search;
  o.seed = stored.seed;
  impl.id_kind = stored.id_kind;
  const size_t dim = stored.dim != 0 ? stored.dim : o.dim;
  impl.checkpoint_seq = file.sequence();
  if (dim == 0) return Status::OK();

  if (file.section(index::image_format::kHeader).empty()) {
    if (stored.dim == 0) return impl.EnsureIndex(dim);
    return Corrupt(file.path(), "index sections missing");
  }
  index::HnswImage image;
  if (Status s = index::image_format::FromSections(
          [&](uint32_t kind) { return file.section(kind); }, &image);
      !s.ok()) {
    return Corrupt(file.path(), s.message());
  }
  index::HnswParams params;
  params.quantization = stored.quantization;
  params.dim = dim;
  params.metric = stored.metric;
  params.m = stored.m;
  params.ef_construction = stored.ef_construction;
  params.seed = stored.seed;
  params.vectors_on_disk = o.vectors_on_disk;
  Result<std::unique_ptr<index::HnswIndex>> loaded =
      index::HnswIndex::FromImage(params, impl.kernels, image, file.mapping());
  if (!loaded.ok()) {
    if (loaded.status().code() == StatusCode::kCorruption) {
      return Corrupt(file.path(), loaded.status().message());
    }
    return loaded.status();
  }
  impl.index_owner = std::move(loaded).value();
  impl.dim.store(dim);
  impl.index.store(impl.index_owner.get(), std::memory_order_release);

  const size_t end = image.slot_end;
  const std::span<char> used = file.section(kUsed);
  const std::span<char> meta = file.section(kMetadata);
  if (used.size() != end) return Corrupt(file.path(), "slot table has the wrong size");
  impl.slot_used.assign(used.begin(), used.end());
  impl.slot_metadata.assign(end, Metadata{});
  if (impl.id_kind == IdKind::kInt) {
    const std::span<char> ids = file.section(kIntIds);
    if (ids.size() != end * sizeof(int64_t)) return Corrupt(file.path(), "id table has the wrong size");
    impl.slot_int_id.resize(end);
    if (end > 0) std::memcpy(impl.slot_int_id.data(), ids.data(), ids.size());
  } else if (impl.id_kind == IdKind::kString) {
    Decoder d(file.section(kStringIds).data(), file.section(kStringIds).size());
    impl.slot_str_id.resize(end);
    for (size_t s = 0; s < end; ++s) {
      std::string_view id;
      if (!d.GetLengthPrefixed(&id)) return Corrupt(file.path(), "string id table truncated");
      impl.slot_str_id[s] = std::string(id);
    }
  }
  Decoder md(meta.data(), meta.size());
  for (size_t s = 0; s < end; ++s) {
    std::string_view blob;
    if (!md.GetLengthPrefixed(&blob)) return Corrupt(file.path(), "metadata table truncated");
    if (!blob.empty()) {
      Status ms = db::DecodeMetadata(blob, &impl.slot_metadata[s]);
      if (!ms.ok()) return Corrupt(file.path(), "slot " + std::to_string(s) + ": " + ms.message());
      if (impl.slot_used[s]) impl.columns.Set(static_cast<Slot>(s), impl.slot_metadata[s]);
    }
  }
  size_t used_count = 0;
  if (impl.id_kind == IdKind::kString) {
    impl.str_to_slot.reserve(impl.index_owner->live_count());
  } else {
    impl.int_to_slot.reserve(impl.index_owner->live_count());
  }
  for (size_t s = 0; s < end; ++s) {
    if (impl.slot_used[s] > 1) return Corrupt(file.path(), "slot table holds an invalid flag");
    if (!impl.slot_used[s]) continue;
    ++used_count;
    if (impl.index_owner->state(static_cast<Slot>(s)) != index::HnswIndex::SlotState::kLive) {
      return Corrupt(file.path(), "slot " + std::to_string(s) + " is used but not live");
    }
    // No id table was loaded for kUnset: a used slot would index an empty vector (found by
    // fuzz/db_open_fuzzer).
    if (impl.id_kind == IdKind::kUnset) {
      return Corrupt(file.path(), "slot " + std::to_string(s) + " is used but no id kind is set");
    }
    const bool fresh = impl.id_kind == IdKind::kString
                           ? impl.str_to_slot.emplace(impl.slot_str_id[s], static_cast<Slot>(s)).second
                           : impl.int_to_slot.emplace(impl.slot_int_id[s], static_cast<Slot>(s)).second;
    if (!fresh) return Corrupt(file.path(), "an id appears twice (slot " + std::to_string(s) + ")");
  }
  impl.used_bits.Resize(end);
  for (size_t s = 0; s < end; ++s) {
    if (impl.slot_used[s]) impl.used_bits.Set(static_cast<Slot>(s));
  }
  if (used_count != impl.index_owner->live_count()) {
    return Corrupt(file.path(), "id table and index disagree on the record count");
  }
  return Status::OK();
}

Status ReplayRecord(Impl& impl, uint8_t type, std::string_view payload) {
  switch (static_cast<db::WalOp>(type)) {
    case db::WalOp::kPut: {
      db::PutOp op;
      AUGUR_RETURN_IF_ERROR(db::DecodePut(payload, &op));
      const IdsView ids = op.string_ids ? IdsView::Strings(op.str_ids) : IdsView::Ints(op.int_ids);
      const MatrixView vectors{op.vectors.data(), ids.size(), op.dim, 0};
      Status s = impl.CheckBatch(ids, vectors, op.metadata);
      if (!s.ok()) return Status::Corruption("logged batch is invalid: " + s.message());
      return impl.InsertRows(ids, vectors, op.metadata);
    }
    case db::WalOp::kDelete: {
      db::DeleteOp op;
      AUGUR_RETURN_IF_ERROR(db::DecodeDelete(payload, &op));
      const IdsView ids = op.string_ids ? IdsView::Strings(op.str_ids) : IdsView::Ints(op.int_ids);
      if (impl.id_kind != IdKind::kUnset) {
        Status s = impl.CheckIds(ids);
        if (!s.ok()) return Status::Corruption("logged delete is invalid: " + s.message());
        impl.DeleteRows(ids);
      }
      return Status::OK();
    }
  }
  return Status::Corruption("unknown WAL record type " + std::to_string(type) +
                            " (written by a newer AugurDB?)");
}

}  // namespace

Status Impl::OpenStorage() {
  const bool writer = !options.read_only;
  // Directory levels this open creates (mkdir -p), outermost last.
  std::vector<std::string> created_dirs;
  if (writer) {
    for (std::string d = dir; !d.empty() && d != "/" && d != "." && !env->FileExists(d);
         d = ParentDir(d)) {
      created_dirs.push_back(d);
    }
    AUGUR_RETURN_IF_ERROR(env->CreateDir(dir));
    AUGUR_ASSIGN_OR_RETURN(file_lock, env->LockFile(storage::JoinPath(dir, "LOCK"),
                                               "pid " + std::to_string(::getpid())));
  }
  // A reader races with the writer's checkpoints (rename, then delete of the old files): retry
  // when the file it picked vanished.
  // A dim given at open is checked against the stored one after the WAL is replayed (a database
  // created without dim gets it from its first logged batch).
  const size_t requested_dim = options.dim;
  options.dim = 0;
  std::string wal_path;
  std::unique_ptr<storage::RandomAccessFile> log_file;
  std::unique_ptr<storage::CheckpointFile> file;
  for (int attempt = 0;; ++attempt) {
    Result<std::vector<std::string>> names = env->ListDir(dir);
    if (!names.ok()) {
      if (names.status().code() == StatusCode::kNotFound) {
        return Status::NotFound("no database at " + dir + " (open it for writing to create one)");
      }
      return names.status();
    }
    bool found = false;
    uint64_t seq = 0;
    for (const std::string& name : *names) {
      uint64_t s = 0;
      if (ParseSeq(name, "checkpoint-", ".adb", &s) && (!found || s > seq)) {
        found = true;
        seq = s;
      }
    }
    if (!found) {
      if (!writer) return Status::NotFound("no database at " + dir);
      // What a creation that failed before its first checkpoint was in place leaves: the lock
      // file, temp files and empty logs (nothing is acknowledged before checkpoint 1 exists,
      // and a failed creation may be unable to remove its log). Anything else means the
      // checkpoint is missing.
      bool empty_dir = true;
      for (const std::string& name : *names) {
        uint64_t s = 0;
        if (name == "LOCK" || name.find(".tmp") != std::string::npos) continue;
        if (ParseSeq(name, "wal-", ".log", &s)) {
          Result<uint64_t> size = env->FileSize(storage::JoinPath(dir, name));
          if (size.ok() && *size == 0) continue;
        }
        empty_dir = false;
      }
      if (!empty_dir) {
        return Status::Corruption("directory " + dir + " holds files but no checkpoint: not an "
                                  "AugurDB database, or its checkpoint was deleted");
      }
      // A new database: an empty checkpoint fixes its parameters, then an empty WAL.
      if (!options.metric) options.metric = Metric::kL2;
      if (!options.quantization) options.quantization = Quantization::kNone;
      if (options.m == 0) options.m = 16;
      if (options.ef_construction == 0) options.ef_construction = 200;
      if (options.ef_search == 0) options.ef_search = 64;
      if (requested_dim != 0) AUGUR_RETURN_IF_ERROR(EnsureIndex(requested_dim));
      // A directory's name is durable only once its parent is synced: without this, a power
      // cut after acknowledged writes could lose the whole database directory. Parents of the
      // levels created now, and of `dir` itself (an earlier open may have created it, then died).
      std::vector<std::string> parents = {ParentDir(dir)};
      for (const std::string& d : created_dirs) parents.push_back(ParentDir(d));
      std::sort(parents.begin(), parents.end());
      parents.erase(std::unique(parents.begin(), parents.end()), parents.end());
      for (const std::string& parent : parents) AUGUR_RETURN_IF_ERROR(env->SyncDir(parent));
      // With checkpoint_seq 0, CheckpointLocked writes checkpoint-1 and wal-1.
      checkpoint_seq = 0;
      return CheckpointLocked();
    }
    Result<std::unique_ptr<storage::CheckpointFile>> opened =
        storage::CheckpointFile::Open(env, storage::JoinPath(dir, CheckpointName(seq)));
    if (!opened.ok()) {
      if (!writer && opened.status().code() == StatusCode::kNotFound && attempt < 10) continue;
      return opened.status();
    }
    file = std::move(opened).value();
    // The writer names each checkpoint after the sequence in its header. A mismatch means the
    // file was renamed or copied by hand; trusting either number would let the cleanup below
    // delete the only checkpoint as "superseded" (found by fuzz/db_open_fuzzer).
    if (file->sequence() != seq) {
      return Status::Corruption("checkpoint " + file->path() + " holds sequence " +
                                std::to_string(file->sequence()) + ", but its name says " +
                                std::to_string(seq) + ": it was renamed or copied by hand; " +
                                "name it " + CheckpointName(file->sequence()) + " again");
    }
    // Open the WAL now: an open file survives the writer removing it at its next checkpoint,
    // so a reader keeps a consistent checkpoint + log pair.
    wal_path = storage::JoinPath(dir, WalName(seq));
    Result<std::unique_ptr<storage::RandomAccessFile>> opened_log = env->NewRandomAccessFile(wal_path);
    if (opened_log.ok()) {
      log_file = std::move(opened_log).value();
      break;
    }
    if (opened_log.status().code() != StatusCode::kNotFound) return opened_log.status();
    if (!writer && attempt < 10) {
      // Vanished: if the writer has moved on to a newer checkpoint, start over from the listing.
      bool newer = false;
      if (Result<std::vector<std::string>> again = env->ListDir(dir); again.ok()) {
        for (const std::string& name : *again) {
          uint64_t s2 = 0;
          newer = newer || (ParseSeq(name, "checkpoint-", ".adb", &s2) && s2 > seq);
        }
      }
      if (newer) continue;
    }
    break;  // no WAL yet for this checkpoint: an empty log
  }
  AUGUR_RETURN_IF_ERROR(LoadCheckpoint(*this, *file));
  checkpoint_bytes = file->mapping()->size();
  if (log_file) {
    AUGUR_ASSIGN_OR_RETURN(storage::WalReadResult replay,
                           storage::ReadWal(*log_file, wal_path, [&](uint8_t type, std::string_view payload) {
                             return ReplayRecord(*this, type, payload);
                           }));
    dirty = replay.records > 0;
    if (writer && replay.dropped_bytes > 0) {
      // A write torn by a crash was never acknowledged: drop it so new records follow good ones.
      AUGUR_RETURN_IF_ERROR(env->TruncateFile(wal_path, replay.valid_bytes));
    }
  }
  // The dimension of a database created without one is fixed by its first logged batch.
  if (requested_dim != 0) {
    if (dim.load() != 0 && dim.load() != requested_dim) {
      return Status::DimensionMismatch("database " + dir + " has dim " + std::to_string(dim.load()) +
                                       ", opened with dim " + std::to_string(requested_dim));
    }
    if (dim.load() == 0) AUGUR_RETURN_IF_ERROR(EnsureIndex(requested_dim));
  }
  if (!writer) return Status::OK();
  AUGUR_ASSIGN_OR_RETURN(std::unique_ptr<storage::WritableFile> log, env->NewAppendableFile(wal_path));
  AUGUR_RETURN_IF_ERROR(env->SyncDir(dir));
  wal = std::make_shared<storage::WalWriter>(std::move(log), wal_path);
  // Leftovers of interrupted checkpoints and superseded files.
  if (Result<std::vector<std::string>> names = env->ListDir(dir); names.ok()) {
    for (const std::string& name : *names) {
      uint64_t s = 0;
      const bool stale = name.size() > 4 && name.compare(name.size() - 4, 4, ".tmp") == 0;
      const bool old = (ParseSeq(name, "checkpoint-", ".adb", &s) || ParseSeq(name, "wal-", ".log", &s)) &&
                       s != checkpoint_seq;
      if (stale || old) (void)env->RemoveFile(storage::JoinPath(dir, name));
    }
  }
  return Status::OK();
}

}  // namespace augurdb
