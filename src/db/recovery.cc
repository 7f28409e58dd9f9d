// Recovery: opening a database directory (creating it if new), loading its newest checkpoint
// and replaying the WAL that follows it (docs/format/durability.md).
//
// Take the highest-numbered checkpoint, verify every checksum, map it, replay wal-<seq>.log
// through the same path as live writes (logged_write.cc: Impl::Replay); a torn tail is
// truncated (writer) or ignored (reader). Every file access goes through storage::Env.
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "db/checkpoint_sections.h"
#include "db/collection_impl.h"
#include "db/collection_options.h"
#include "db/db_files.h"
#include "db/record_codec.h"
#include "storage/checkpoint.h"
#include "util/coding.h"

namespace augurdb {

using index::Slot;
using Impl = Collection::Impl;
using db::CheckpointName;
using db::ParentDir;
using db::ParseSeq;
using db::WalName;

namespace {

Status Corrupt(const std::string& path, const std::string& why) {
  return Status::Corruption("checkpoint " + path + ": " + why);
}

// The id map's tables from `file`: the int or string id of every slot in [0, end).
Status LoadIds(const storage::CheckpointFile& file, IdKind kind, size_t end, db::IdMap* ids) {
  const std::span<char> used = file.section(db::kUsed);
  if (used.size() != end) return Corrupt(file.path(), "slot table has the wrong size");
  std::vector<int64_t> int_ids;
  std::vector<std::string> str_ids;
  if (kind == IdKind::kInt) {
    const std::span<char> table = file.section(db::kIntIds);
    if (table.size() != end * sizeof(int64_t)) return Corrupt(file.path(), "id table has the wrong size");
    int_ids.resize(end);
    if (end > 0) std::memcpy(int_ids.data(), table.data(), table.size());
  } else if (kind == IdKind::kString) {
    Decoder d(file.section(db::kStringIds).data(), file.section(db::kStringIds).size());
    str_ids.resize(end);
    for (size_t s = 0; s < end; ++s) {
      std::string_view id;
      if (!d.GetLengthPrefixed(&id)) return Corrupt(file.path(), "string id table truncated");
      str_ids[s] = std::string(id);
    }
  }
  Status loaded = ids->Load(kind, used, std::move(int_ids), std::move(str_ids));
  return loaded.ok() ? loaded : Corrupt(file.path(), loaded.message());
}

// The documents of every used slot in [0, end) and the text index over them. A checkpoint
// written before documents existed has neither section: no documents, an empty index.
Status LoadDocuments(Impl& impl, const storage::CheckpointFile& file, size_t end) {
  const std::span<char> docs = file.section(db::kDocuments);
  const std::span<char> image = file.section(db::kTextIndex);
  if (docs.empty() != image.empty()) {
    return Corrupt(file.path(), "documents and text index sections must come together");
  }
  if (docs.empty()) return Status::OK();
  Decoder d(docs.data(), docs.size());
  for (size_t s = 0; s < end; ++s) {
    std::optional<std::string> doc;
    if (!db::DecodeDocument(d, &doc)) {
      return Corrupt(file.path(), "documents table truncated at slot " + std::to_string(s));
    }
    if (doc && impl.ids.used(static_cast<Slot>(s))) {
      impl.documents.Set(static_cast<Slot>(s), *doc);
    }
  }
  Result<std::unique_ptr<text::InvertedIndex>> loaded =
      text::InvertedIndex::FromImage({image.data(), image.size()});
  if (!loaded.ok()) return Corrupt(file.path(), "text index: " + loaded.status().message());
  if ((*loaded)->tokenizer().kind() != impl.text_index->tokenizer().kind()) {
    return Corrupt(file.path(), "text index tokenizer differs from the collection's");
  }
  // The image is trusted only as far as it agrees with the documents: every document is
  // indexed and nothing else (its terms are checked by verify()).
  if ((*loaded)->Stats().doc_count != impl.documents.count()) {
    return Corrupt(file.path(), "text index and documents disagree on the document count");
  }
  for (size_t s = 0; s < end; ++s) {
    if (impl.documents.Has(static_cast<Slot>(s)) != (*loaded)->Contains(static_cast<Slot>(s))) {
      return Corrupt(file.path(), "text index and documents disagree at slot " +
                                      std::to_string(s));
    }
  }
  impl.text_index = std::move(loaded).value();
  return Status::OK();
}

// Loads one checkpoint into `impl` (params, index, ids, metadata, documents).
Status LoadCheckpoint(Impl& impl, const storage::CheckpointFile& file) {
  db::StoredParams stored;
  if (Status ps = db::DecodeParams(file.meta(), &stored); !ps.ok()) {
    return Corrupt(file.path(), ps.message());
  }
  const size_t dim = stored.dim != 0 ? stored.dim : impl.options.dim;
  AUGUR_RETURN_IF_ERROR(db::ApplyStoredParams(stored, impl.dir, &impl.options));
  impl.text_index = std::make_unique<text::InvertedIndex>(
      static_cast<text::TokenizerKind>(stored.tokenizer));  // checked by DecodeParams
  impl.embedding_function = stored.embedding_function;
  impl.checkpoint_seq = file.sequence();
  if (dim == 0) {
    // Nothing was ever written: no index, and the id kind is still open.
    if (stored.id_kind != IdKind::kUnset) {
      AUGUR_RETURN_IF_ERROR(impl.ids.Load(stored.id_kind, {}, {}, {}));
    }
    return Status::OK();
  }

  if (!db::HasIndexSections(file)) {
    if (stored.dim == 0) {
      AUGUR_RETURN_IF_ERROR(impl.ids.Load(stored.id_kind, {}, {}, {}));
      return impl.EnsureIndex(dim);
    }
    return Corrupt(file.path(), "index sections missing");
  }
  index::HnswImage image;
  if (Status hs = db::ReadIndexSections(file, &image); !hs.ok()) {
    return Corrupt(file.path(), hs.message());
  }
  index::HnswParams params;
  params.quantization = stored.quantization;
  params.dim = dim;
  params.metric = stored.metric;
  params.m = stored.m;
  params.ef_construction = stored.ef_construction;
  params.seed = stored.seed;
  params.vectors_on_disk = impl.options.vectors_on_disk;
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
  AUGUR_RETURN_IF_ERROR(LoadIds(file, stored.id_kind, end, &impl.ids));
  const std::span<char> meta = file.section(db::kMetadata);
  Decoder md(meta.data(), meta.size());
  for (size_t s = 0; s < end; ++s) {
    std::string_view blob;
    if (!md.GetLengthPrefixed(&blob)) return Corrupt(file.path(), "metadata table truncated");
    if (!blob.empty()) {
      Metadata record;
      Status ms = db::DecodeMetadata(blob, &record);
      if (!ms.ok()) return Corrupt(file.path(), "slot " + std::to_string(s) + ": " + ms.message());
      if (impl.ids.used(static_cast<Slot>(s))) impl.columns.Set(static_cast<Slot>(s), record);
    }
  }
  for (size_t s = 0; s < end; ++s) {
    if (impl.ids.used(static_cast<Slot>(s)) &&
        impl.index_owner->state(static_cast<Slot>(s)) != index::HnswIndex::SlotState::kLive) {
      return Corrupt(file.path(), "slot " + std::to_string(s) + " is used but not live");
    }
  }
  if (impl.ids.size() != impl.index_owner->live_count()) {
    return Corrupt(file.path(), "id table and index disagree on the record count");
  }
  return LoadDocuments(impl, file, end);
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
      db::ApplyNewCollectionDefaults(&options);
      AUGUR_ASSIGN_OR_RETURN(const text::TokenizerKind kind,
                             text::ParseTokenizerKind(options.tokenizer));
      text_index = std::make_unique<text::InvertedIndex>(kind);
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
                             return Replay(type, payload);
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
