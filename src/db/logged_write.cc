// Every change to a collection takes one path: validate -> log -> apply -> durability.
//
//   Add / Upsert / Delete / DeleteWhere   validate their input into a WriteOp (LoggedWrite's
//                                         `prepare`), under write_mutex
//   Impl::Log (durability.cc)             appends the op to the WAL
//   Impl::Apply                           changes memory: index, id map, metadata columns
//   Impl::AfterWrite (durability.cc)      after write_mutex is released: sync, maybe checkpoint
//
// A put whose record would take the log past checkpoint_wal_bytes (a bulk load) skips the log:
// validate -> apply -> checkpoint, all under write_mutex, so its rows are written once.
//
// Recovery replays each WAL record through Replay: the same validation (a failure is now
// corruption) and the same Apply, without logging it again.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <future>
#include <mutex>
#include <new>
#include <shared_mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include "db/collection_impl.h"
#include "db/vector_checks.h"
#include "util/check.h"
#include "util/utf8.h"

namespace augurdb {

using index::HnswIndex;
using index::Slot;
using Impl = Collection::Impl;

namespace {

std::string IdToString(const IdsView& ids, size_t i) {
  return ids.is_string() ? "'" + ids.strings()[i] + "'" : std::to_string(ids.ints()[i]);
}

// Ids a record may be stored under: an int id is 0 .. 2^63-1, because -1 pads search results
// that have fewer than k hits; a string id is non-empty, valid UTF-8 (it comes back out as a
// Python str or JSON). Also rejects an id repeated within the batch. `values` = false checks
// duplicates only: WAL replay must still accept ids that older versions allowed.
Status CheckBatchIds(const IdsView& ids, bool values) {
  if (ids.is_string()) {
    std::unordered_set<std::string_view> seen;
    seen.reserve(ids.size());
    for (size_t i = 0; i < ids.size(); ++i) {
      const std::string& id = ids.strings()[i];
      if (values && id.empty()) {
        return Status::InvalidArgument("ids[" + std::to_string(i) +
                                       "] is an empty string: string ids must be non-empty");
      }
      if (const size_t bad = values ? FindInvalidUtf8(id) : std::string_view::npos;
          bad != std::string_view::npos) {
        return Status::InvalidArgument("ids[" + std::to_string(i) +
                                       "] is not valid UTF-8 (byte " + std::to_string(bad) + ")");
      }
      if (!seen.insert(id).second) {
        return Status::InvalidArgument("duplicate id " + IdToString(ids, i) + " in the batch");
      }
    }
  } else {
    std::unordered_set<int64_t> seen;
    seen.reserve(ids.size());
    for (size_t i = 0; i < ids.size(); ++i) {
      if (values && ids.ints()[i] < 0) {
        return Status::InvalidArgument("negative id " + IdToString(ids, i) + " (ids[" +
                                       std::to_string(i) + "]): int ids must be in 0 .. 2^63-1");
      }
      if (!seen.insert(ids.ints()[i]).second) {
        return Status::InvalidArgument("duplicate id " + IdToString(ids, i) + " in the batch");
      }
    }
  }
  return Status::OK();
}

// Metadata is stored column-wise (filter::MetadataColumns), which keeps list elements but not
// lists inside lists; neither can the WAL and checkpoint decoders read them back.
Status CheckMetadata(std::span<const Metadata> metadata) {
  for (size_t row = 0; row < metadata.size(); ++row) {
    for (const auto& [key, value] : metadata[row]) {
      if (!value.is_list()) continue;
      for (const Value& item : value.as_list()) {
        if (item.is_list()) {
          return Status::InvalidArgument("metadata[" + std::to_string(row) + "]['" + key +
                                         "']: list items must be null, bool, int, float or "
                                         "string, not a list");
        }
      }
    }
  }
  return Status::OK();
}

// Makes a put that was applied without being logged (Impl::CheckpointsInstead) durable by a
// checkpoint, which holds it and every earlier write. A checkpoint that fails before its rename
// changed nothing on disk, so the put is then logged like any other write (`*logged`; the
// caller syncs it, and the next write retries the checkpoint). REQUIRES: write_mutex held.
Status CheckpointApplied(Impl& impl, const WriteOp& op, uint64_t* end, bool* logged) {
  // Memory holds a write that reached neither file: no later checkpoint may save it. Running
  // out of memory mid-checkpoint lands here too, as it may come after the rename.
  auto unsaved = [&impl](const Status& why) {
    impl.poisoned = Status(why.code(), "a write was applied but could be neither checkpointed "
                                       "nor logged (" + why.message() + "); reopen the database");
    return impl.poisoned;
  };
  Status s;
  try {
    s = impl.CheckpointLocked();
    if (s.ok() || !impl.poisoned.ok()) return s;  // poisoned: renamed, durability unknown
    std::fprintf(stderr, "augurdb: checkpoint of a large write failed, logging it instead: %s\n",
                 s.ToString().c_str());
    s = impl.Log(op, end);
  } catch (const std::bad_alloc&) {
    return unsaved(Status::ResourceExhausted("out of memory"));
  }
  if (!s.ok()) return unsaved(s);
  *logged = true;
  return Status::OK();
}

// Runs one user write: under write_mutex `prepare(&op)` validates and fills the op (returning
// false when there is nothing to change), which is then logged and applied; the durability
// wait and any automatic checkpoint come after the lock is released, so that concurrent
// writers share one fsync. A put too large for the log is applied and then checkpointed
// instead, before the lock is released. Returns the number of records deleted (0 for puts).
template <typename Prepare>
Result<size_t> LoggedWrite(Impl& impl, Prepare&& prepare) {
  std::shared_ptr<storage::WalWriter> log;
  uint64_t end = 0;
  size_t removed = 0;
  std::future<Status> synced;  // outlives the lock: an early return still waits for its fsync
  {
    std::lock_guard<std::mutex> lock(impl.write_mutex);
    AUGUR_RETURN_IF_ERROR(impl.CheckWritable());
    WriteOp op;
    AUGUR_ASSIGN_OR_RETURN(const bool any, prepare(&op));
    if (!any) return size_t{0};
    if (impl.CheckpointsInstead(op)) {
      AUGUR_ASSIGN_OR_RETURN(removed, impl.Apply(op));
      bool logged = false;
      AUGUR_RETURN_IF_ERROR(CheckpointApplied(impl, op, &end, &logged));
      if (!logged) return removed;  // durable: in the checkpoint, which was synced
    } else {
      AUGUR_RETURN_IF_ERROR(impl.Log(op, &end));
      synced = impl.StartSync(op, end);
      AUGUR_ASSIGN_OR_RETURN(removed, impl.Apply(op));
    }
    log = impl.wal;
  }
  AUGUR_RETURN_IF_ERROR(impl.AfterWrite(log, end, &synced));
  return removed;
}

}  // namespace

Status Impl::CheckBatch(WriteOp* op, bool replay) const {
  const IdsView& batch_ids = op->ids;
  const MatrixView& vectors = op->vectors;
  if (batch_ids.size() == 0) return Status::InvalidArgument("empty batch: pass at least one id");
  if (vectors.rows != batch_ids.size()) {
    return Status::InvalidArgument(std::to_string(batch_ids.size()) + " ids but " +
                                   std::to_string(vectors.rows) + " vectors");
  }
  if (!op->metadata.empty() && op->metadata.size() != batch_ids.size()) {
    return Status::InvalidArgument(std::to_string(batch_ids.size()) + " ids but " +
                                   std::to_string(op->metadata.size()) + " metadata entries");
  }
  if (!op->documents.empty() && op->documents.size() != batch_ids.size()) {
    return Status::InvalidArgument(std::to_string(batch_ids.size()) + " ids but " +
                                   std::to_string(op->documents.size()) + " documents");
  }
  AUGUR_RETURN_IF_ERROR(ids.CheckKind(batch_ids));
  AUGUR_RETURN_IF_ERROR(CheckBatchIds(batch_ids, /*values=*/!replay));
  AUGUR_RETURN_IF_ERROR(db::CheckVectors(vectors, dim.load(), *options.metric, "vectors"));
  AUGUR_RETURN_IF_ERROR(CheckMetadata(op->metadata));
  return TokenizeDocuments(op);
}

Status Impl::TokenizeDocuments(WriteOp* op) const {
  const size_t n = op->documents.size();
  op->tokens.assign(n, {});
  if (n == 0) return Status::OK();
  // Tokenizing validates the UTF-8 too; it is the costly part of indexing, so it runs on the
  // pool, before the write takes any lock other than write_mutex.
  std::vector<Status> errors(n);
  std::atomic<bool> failed{false};
  pool->ParallelFor(n, threads(), [&](size_t, size_t i) {
    if (failed.load(std::memory_order_relaxed) || !op->documents[i]) return;
    errors[i] = text_index->tokenizer().Tokenize(*op->documents[i], &op->tokens[i]);
    if (!errors[i].ok()) failed.store(true, std::memory_order_relaxed);
  });
  if (!failed.load()) return Status::OK();
  for (size_t i = 0; i < n; ++i) {
    if (!errors[i].ok()) {
      return Status::InvalidArgument("documents[" + std::to_string(i) + "]: " +
                                     errors[i].message());
    }
  }
  return Status::OK();
}

Status Impl::EnsureIndex(size_t d) {
  if (index_owner) return Status::OK();
  index::HnswParams params;
  params.dim = d;
  params.metric = *options.metric;
  params.m = options.m;
  params.ef_construction = options.ef_construction;
  params.seed = options.seed;
  params.quantization = *options.quantization;
  params.vectors_on_disk = options.vectors_on_disk;
  AUGUR_ASSIGN_OR_RETURN(std::unique_ptr<HnswIndex> created, HnswIndex::Create(params, kernels));
  // A reservation made before the dimension was known is a hint: if its memory is not there,
  // the add goes on and grows the index as it needs (reporting its own out-of-memory).
  if (!created->Reserve(reserved).ok()) reserved = 0;
  index_owner = std::move(created);
  dim.store(d);
  index.store(index_owner.get(), std::memory_order_release);
  return Status::OK();
}

namespace {

// Inserts rows into fresh slots; ids that exist switch to the new slot (upsert).
Status ApplyPut(Impl& impl, const WriteOp& op) {
  AUGUR_RETURN_IF_ERROR(impl.EnsureIndex(op.vectors.dim));
  HnswIndex& idx = *impl.index_owner;
  const size_t n = op.ids.size();
  if (idx.deleted_count() >= std::max<size_t>(1024, idx.live_count() / 8)) {
    std::unique_lock<std::shared_mutex> reclaim(impl.reclaim_mutex);
    idx.Reclaim();
  }
  std::vector<Slot> slots;
  AUGUR_RETURN_IF_ERROR(idx.AllocateSlots(n, &slots));
  const size_t stride = op.vectors.row_stride == 0 ? op.vectors.dim : op.vectors.row_stride;
  try {
    // Rows near each other in space get slots near each other (a large batch only).
    idx.PlaceRows(op.vectors.data, stride, slots, impl.pool.get(), impl.threads());
    std::unique_lock<std::shared_mutex> lock(impl.map_mutex);
    impl.ids.Reserve(op.ids, idx.slot_end());
    impl.ids.ReserveRoom(impl.reserved);  // once the first batch fixed the id kind
    for (size_t i = 0; i < n; ++i) {
      impl.ids.SetSlotId(slots[i], op.ids, i);
      // Fresh slots are unused, so filters skip them until the publish below.
      if (!op.metadata.empty()) impl.columns.Set(slots[i], op.metadata[i]);
      if (!op.documents.empty() && op.documents[i]) {
        impl.documents.Set(slots[i], *op.documents[i]);
      }
    }
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted("out of memory storing ids, metadata and documents");
  }

  idx.Insert(slots, op.vectors.data, stride, impl.pool.get(), impl.threads());
  // Indexed once the vectors are written (a hybrid search reads the vector of every text hit)
  // and before the batch is published: a text search that finds a fresh slot drops it (no id
  // yet), so nothing shows early, and each record is searchable by text when it appears.
  for (size_t i = 0; i < op.tokens.size(); ++i) {
    if (!op.documents[i]) continue;
    // Fresh slots hold no live document (deleted ones left the text index with their record).
    AUGUR_CHECK(impl.text_index->AddTokens(slots[i], op.tokens[i]).ok());
  }
  std::vector<Slot> replaced;
  {
    // Publish the batch and retire replaced slots in one step, so a concurrent search sees
    // each record either old or new, never both and never neither.
    std::unique_lock<std::shared_mutex> lock(impl.map_mutex);
    for (size_t i = 0; i < n; ++i) {
      if (std::optional<Slot> old = impl.ids.Bind(op.ids, i, slots[i])) {
        replaced.push_back(*old);
        impl.columns.Clear(*old);
        impl.ClearDocument(*old);
      }
    }
    idx.Publish(slots);  // first: the entry point may move from a replaced node to a new one
    idx.Tombstone(replaced);
  }
  if (!replaced.empty()) idx.RepairDeleted(impl.pool.get(), impl.threads());
  return Status::OK();
}

size_t ApplyDelete(Impl& impl, const IdsView& ids) {
  std::vector<Slot> slots;
  {
    std::unique_lock<std::shared_mutex> map_lock(impl.map_mutex);
    for (size_t i = 0; i < ids.size(); ++i) {
      std::optional<Slot> slot = impl.ids.Unbind(ids, i);
      if (!slot) continue;
      slots.push_back(*slot);
      impl.columns.Clear(*slot);
      impl.ClearDocument(*slot);
    }
    if (!slots.empty()) impl.index_owner->Tombstone(slots);  // invisible from now on
  }
  if (!slots.empty()) impl.index_owner->RepairDeleted(impl.pool.get(), impl.threads());
  return slots.size();
}

}  // namespace

void Impl::ClearDocument(Slot slot) {
  if (!documents.Has(slot)) return;
  documents.Clear(slot);
  AUGUR_CHECK(text_index->RemoveDocument(slot).ok());  // invariant 4: it is indexed
}

Result<size_t> Impl::Apply(const WriteOp& op) {
  dirty = true;
  if (op.kind != db::WalOp::kDelete) {
    AUGUR_RETURN_IF_ERROR(ApplyPut(*this, op));
    return size_t{0};
  }
  return ApplyDelete(*this, op.ids);
}

Status Impl::Replay(uint8_t type, std::string_view payload) {
  switch (static_cast<db::WalOp>(type)) {
    case db::WalOp::kPut:
    case db::WalOp::kPutDocuments: {
      db::PutOp put;
      AUGUR_RETURN_IF_ERROR(
          db::DecodePut(payload, type == static_cast<uint8_t>(db::WalOp::kPutDocuments), &put));
      WriteOp op;
      op.ids = put.string_ids ? IdsView::Strings(put.str_ids) : IdsView::Ints(put.int_ids);
      op.vectors = MatrixView{put.vectors.data(), op.ids.size(), put.dim, 0};
      op.metadata = put.metadata;
      op.documents = put.documents;
      Status s = CheckBatch(&op, /*replay=*/true);
      if (!s.ok()) return Status::Corruption("logged batch is invalid: " + s.message());
      return Apply(op).status();
    }
    case db::WalOp::kDelete: {
      db::DeleteOp del;
      AUGUR_RETURN_IF_ERROR(db::DecodeDelete(payload, &del));
      WriteOp op;
      op.kind = db::WalOp::kDelete;
      op.ids = del.string_ids ? IdsView::Strings(del.str_ids) : IdsView::Ints(del.int_ids);
      if (ids.kind() != IdKind::kUnset) {  // a delete before any put removes nothing
        Status s = ids.CheckKind(op.ids);
        if (!s.ok()) return Status::Corruption("logged delete is invalid: " + s.message());
        return Apply(op).status();
      }
      return Status::OK();
    }
  }
  return Status::Corruption("unknown WAL record type " + std::to_string(type) +
                            " (written by a newer AugurDB?)");
}

Status Collection::Add(const IdsView& ids, const MatrixView& vectors,
                       std::span<const Metadata> metadata, DocumentsView documents) {
  return LoggedWrite(*impl_, [&](WriteOp* op) -> Result<bool> {
    *op = WriteOp{db::WalOp::kPut, ids, vectors, metadata, documents, {}};
    AUGUR_RETURN_IF_ERROR(impl_->CheckBatch(op));
    for (size_t i = 0; i < ids.size(); ++i) {
      if (impl_->ids.Find(ids, i)) {  // writers are serialised, so reading the map is safe
        return Status::AlreadyExists("id " + IdToString(ids, i) +
                                     " already exists; use upsert to replace it");
      }
    }
    return true;
  }).status();
}

Status Collection::Upsert(const IdsView& ids, const MatrixView& vectors,
                          std::span<const Metadata> metadata, DocumentsView documents) {
  return LoggedWrite(*impl_, [&](WriteOp* op) -> Result<bool> {
    *op = WriteOp{db::WalOp::kPut, ids, vectors, metadata, documents, {}};
    AUGUR_RETURN_IF_ERROR(impl_->CheckBatch(op));
    return true;
  }).status();
}

Result<size_t> Collection::Delete(const IdsView& ids) {
  return LoggedWrite(*impl_, [&](WriteOp* op) -> Result<bool> {
    AUGUR_RETURN_IF_ERROR(impl_->ids.CheckKind(ids));
    bool any = false;
    for (size_t i = 0; i < ids.size() && !any; ++i) any = impl_->ids.Find(ids, i).has_value();
    op->kind = db::WalOp::kDelete;
    op->ids = ids;
    return any;
  });
}

Result<size_t> Collection::DeleteWhere(std::string_view filter) {
  std::vector<int64_t> int_ids;
  std::vector<std::string> str_ids;
  return LoggedWrite(*impl_, [&](WriteOp* op) -> Result<bool> {
    {
      std::shared_lock<std::shared_mutex> map_lock(impl_->map_mutex);
      filter::Bitset matches;
      AUGUR_RETURN_IF_ERROR(impl_->MatchLocked(filter, &matches));
      for (size_t s = 0; s < matches.size(); ++s) {
        if (!matches.Test(static_cast<Slot>(s))) continue;
        if (impl_->ids.kind() == IdKind::kString) {
          str_ids.push_back(impl_->ids.string_id(static_cast<Slot>(s)));
        } else {
          int_ids.push_back(impl_->ids.int_id(static_cast<Slot>(s)));
        }
      }
    }
    // Logged as the ids it resolved to, so replay cannot depend on the filter code.
    op->kind = db::WalOp::kDelete;
    op->ids = impl_->ids.kind() == IdKind::kString ? IdsView::Strings(str_ids)
                                                    : IdsView::Ints(int_ids);
    return !int_ids.empty() || !str_ids.empty();
  });
}

}  // namespace augurdb
