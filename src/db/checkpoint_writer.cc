// Writing a checkpoint (docs/format/checkpoint.md): the index image, the id and slot tables and
// every record's metadata, written to a temp file, synced and renamed into place
// (storage::WriteCheckpointFile), with the empty WAL that follows it. Also close, which
// checkpoints what changed, and the storage half of verify.
//
// A checkpoint is complete once renamed into place, so a crash at any point leaves either the
// old checkpoint with its WAL or the new one (whose WAL may be missing: then it is empty).
#include <cstdio>
#include <mutex>

#include "db/checkpoint_sections.h"
#include "db/collection_impl.h"
#include "db/db_files.h"
#include "db/record_codec.h"
#include "filter/json.h"
#include "storage/checkpoint.h"
#include "util/coding.h"

namespace augurdb {

using index::Slot;
using Impl = Collection::Impl;
using db::CheckpointName;
using db::WalName;

Status Impl::CheckpointLocked() {
  const uint64_t seq = checkpoint_seq + 1;
  db::StoredParams params;
  params.dim = static_cast<uint32_t>(dim.load());
  params.metric = *options.metric;
  params.m = static_cast<uint32_t>(options.m);
  params.ef_construction = static_cast<uint32_t>(options.ef_construction);
  params.ef_search = static_cast<uint32_t>(options.ef_search);
  params.seed = options.seed;
  params.id_kind = ids.kind();
  params.quantization = *options.quantization;
  params.tokenizer = static_cast<uint8_t>(text_index->tokenizer().kind());
  params.embedding_function = embedding_function;

  std::vector<storage::SectionSource> sections;
  std::string index_header, upper, quantizer, str_ids, metadata, docs, text_image;
  if (index_owner) {
    const index::HnswImage image = index_owner->ExportImage(&upper, &quantizer);
    db::AddIndexSections(image, &index_header, &sections);
    const size_t end = image.slot_end;
    // The id map's arrays may be longer than the index's slot range (they grow ahead).
    const std::vector<uint8_t>& used = ids.slot_used();
    if (ids.kind() == IdKind::kString) {
      for (size_t s = 0; s < end; ++s) {
        PutLengthPrefixed(&str_ids, used[s] ? ids.string_id(static_cast<Slot>(s)) : "");
      }
      sections.push_back({db::kStringIds, {str_ids}});
    } else if (ids.kind() == IdKind::kInt) {
      sections.push_back({db::kIntIds, {db::Bytes(ids.int_ids().data(), end * sizeof(int64_t))}});
    }
    sections.push_back({db::kUsed, {db::Bytes(used.data(), end)}});
    std::string blob;
    for (size_t s = 0; s < end; ++s) {
      blob.clear();
      if (used[s]) {
        const Metadata record = columns.Get(static_cast<Slot>(s));
        if (!record.empty()) db::EncodeMetadata(record, &blob);
      }
      PutLengthPrefixed(&metadata, blob);
    }
    sections.push_back({db::kMetadata, {metadata}});
    if (documents.count() > 0) {
      for (size_t s = 0; s < end; ++s) {
        db::EncodeDocument(used[s] ? documents.Get(static_cast<Slot>(s)) : nullptr, &docs);
      }
      sections.push_back({db::kDocuments, {docs}});
      text_image = text_index->ExportImage();
      sections.push_back({db::kTextIndex, {text_image}});
    }
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
  checkpoint_current = true;
  if (options.vectors_on_disk && index_owner) {
    checkpoint_current = ServeVectorsFrom(storage::JoinPath(dir, name));
  }
  return Status::OK();
}

bool Impl::ServeVectorsFrom(const std::string& path) {
  // The checkpoint is durable and complete; failing to map it only means the vectors stay in
  // memory until the next checkpoint, so report and carry on.
  Result<std::unique_ptr<storage::CheckpointFile>> file =
      storage::CheckpointFile::Open(env, path, /*verify_sections=*/false);
  if (!file.ok()) {
    std::fprintf(stderr, "augurdb: vectors stay in memory: %s\n", file.status().ToString().c_str());
    return false;
  }
  const std::span<char> rows = (*file)->section(index::image_format::kVectors);
  index::HnswIndex& idx = *index_owner;
  if (rows.size() != idx.slot_end() * idx.vector_stride() * sizeof(float)) {
    std::fprintf(stderr, "augurdb: vectors stay in memory: %s has %zu vector bytes\n",
                 path.c_str(), rows.size());
    return false;
  }
  try {
    idx.RemapVectors(reinterpret_cast<float*>(rows.data()), (*file)->mapping());
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "augurdb: vectors stay in memory: out of memory remapping them\n");
    return false;
  }
  return true;
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

Status Collection::Checkpoint() {
  std::lock_guard<std::mutex> lock(impl_->write_mutex);
  AUGUR_RETURN_IF_ERROR(impl_->CheckWritable());
  // Nothing changed since this process wrote the last checkpoint: it already holds everything
  // (and the WAL is empty), so writing the same snapshot again would only cost its bytes.
  if (!impl_->persistent() || (!impl_->dirty && impl_->checkpoint_current)) return Status::OK();
  return impl_->CheckpointLocked();
}

std::string Collection::embedding_function() const {
  std::lock_guard<std::mutex> lock(impl_->write_mutex);
  return impl_->embedding_function;
}

Status Collection::SetEmbeddingFunction(std::string_view json) {
  constexpr size_t kMaxBytes = size_t{64} << 10;
  if (!json.empty()) {
    Result<filter::JsonValue> parsed = filter::ParseJson(json, kMaxBytes);
    if (!parsed.ok()) {
      return Status::InvalidArgument("embedding function identity: " + parsed.status().message());
    }
    if (!parsed->is_object()) {
      return Status::InvalidArgument("embedding function identity must be a JSON object");
    }
  }
  std::lock_guard<std::mutex> lock(impl_->write_mutex);
  AUGUR_RETURN_IF_ERROR(impl_->CheckWritable());
  if (impl_->embedding_function == json) return Status::OK();
  std::string previous = std::move(impl_->embedding_function);
  impl_->embedding_function.assign(json);
  if (!impl_->persistent()) return Status::OK();
  // Durable on return: the identity lives in the checkpoint's params, not in the WAL.
  Status s = impl_->CheckpointLocked();
  if (!s.ok()) impl_->embedding_function = std::move(previous);
  return s;
}

Status Collection::Close() {
  std::lock_guard<std::mutex> lock(impl_->write_mutex);
  if (impl_->closed) return Status::OK();
  return impl_->CloseLocked();
}

}  // namespace augurdb
