// The WAL side of a write (docs/format/durability.md): appending the op before memory changes,
// then, once write_mutex is released, the durability level's sync and the automatic checkpoint
// when the log has grown past checkpoint_wal_bytes.
//
// Group commit: Log runs under write_mutex and only appends; AfterWrite's SyncTo(end) runs
// outside it, so writers that queued meanwhile are covered by one fsync. A large put starts its
// SyncTo beside its Apply (StartSync), so the fsync's wait and the index insert overlap.
#include <chrono>
#include <cstdio>
#include <future>
#include <mutex>
#include <system_error>

#include "db/collection_impl.h"
#include "db/record_codec.h"

namespace augurdb {

using Impl = Collection::Impl;

namespace {

constexpr auto kBatchSyncInterval = std::chrono::milliseconds(100);

}  // namespace

Status Impl::Log(const WriteOp& op, uint64_t* end) {
  if (!persistent()) return Status::OK();
  std::string payload;
  db::WalOp type = op.kind;
  if (op.kind == db::WalOp::kPut) {
    db::EncodePut(op.ids, op.vectors, op.metadata, op.documents, &payload);
    if (!op.documents.empty()) type = db::WalOp::kPutDocuments;
  } else {
    db::EncodeDelete(op.ids, &payload);
  }
  return wal->Append(static_cast<uint8_t>(type), payload, end);
}

bool Impl::CheckpointsInstead(const WriteOp& op) const {
  if (!persistent() || !wal || op.kind == db::WalOp::kDelete) return false;
  const uint64_t vector_bytes = uint64_t{op.vectors.rows} * op.vectors.dim * sizeof(float);
  return wal->size() + vector_bytes > options.checkpoint_wal_bytes;
}

std::future<Status> Impl::StartSync(const WriteOp& op, uint64_t end) {
  if (!persistent() || options.durability != Durability::kSync || op.kind != db::WalOp::kPut ||
      op.ids.size() < kOverlapSyncMinRows) {
    return {};
  }
  try {
    return std::async(std::launch::async, [log = wal, end] { return log->SyncTo(end); });
  } catch (const std::system_error&) {
    return {};  // no thread to spare: AfterWrite syncs on the caller's thread as before
  }
}

Status Impl::AfterWrite(const std::shared_ptr<storage::WalWriter>& log, uint64_t end,
                        std::future<Status>* started) {
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
    Status s = started != nullptr && started->valid() ? started->get() : log->SyncTo(end);
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

Status Collection::Flush() {
  std::shared_ptr<storage::WalWriter> log;
  {
    std::lock_guard<std::mutex> lock(impl_->write_mutex);
    if (impl_->closed) return Status::InvalidArgument("the collection is closed");
    log = impl_->wal;
  }
  return log ? log->Sync() : Status::OK();
}

}  // namespace augurdb
