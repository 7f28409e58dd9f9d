// Collection internals shared by collection.cc (API, in-memory logic) and collection_persist.cc
// (WAL, checkpoints, recovery).
//
// Thread safety: write_mutex serialises writers (and checkpoints). map_mutex guards the id
// maps, per-slot ids, metadata and slot_used; writers take it exclusively only to publish a
// finished change, readers take it shared only to translate slots into ids, so a long search
// never blocks a writer for long and a long write never blocks searches.
//
// Invariants:
//  1. slot_used[s] == 1 iff exactly one id maps to s; only those slots are returned to users.
//  2. A slot is marked used only after its vector is fully linked in the index and unused before
//     it is tombstoned (Upsert switches old -> new under one exclusive map lock).
//  3. Persistent: every change applied in memory was first appended to the WAL; the WAL holds
//     exactly the changes after checkpoint `checkpoint_seq`.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <augurdb/collection.h>

#include "filter/filter.h"
#include "index/hnsw_index.h"
#include "simd/distance.h"
#include "storage/env.h"
#include "storage/wal.h"
#include "util/thread_pool.h"

namespace augurdb {

// Hidden: nested in an exported class, it would otherwise inherit default visibility.
struct [[gnu::visibility("hidden")]] Collection::Impl {
  CollectionOptions options;
  const simd::KernelTable& kernels = simd::ActiveKernels();
  std::unique_ptr<ThreadPool> pool;

  std::mutex write_mutex;
  std::unique_ptr<index::HnswIndex> index_owner;  // written under write_mutex
  std::atomic<index::HnswIndex*> index{nullptr};  // published once, read by searches
  std::atomic<size_t> dim{0};

  // Held shared by every search from its index walk to its slot -> id translation, and
  // exclusively while deleted slots are reclaimed for reuse: a slot found by a search cannot
  // change owner before the search has named it.
  mutable std::shared_mutex reclaim_mutex;
  mutable std::shared_mutex map_mutex;
  IdKind id_kind = IdKind::kUnset;
  std::unordered_map<int64_t, index::Slot> int_to_slot;
  std::unordered_map<std::string, index::Slot> str_to_slot;
  std::vector<int64_t> slot_int_id;
  std::vector<std::string> slot_str_id;
  std::vector<Metadata> slot_metadata;
  std::vector<uint8_t> slot_used;
  filter::Bitset used_bits;         // slot_used as a bitset: the eligible set of filters
  filter::MetadataColumns columns;  // slot_metadata by field, for filters

  // ---- persistence (empty dir = in memory); guarded by write_mutex ----
  storage::Env* env = storage::Env::Default();
  std::string dir;
  std::unique_ptr<storage::FileLock> file_lock;
  std::shared_ptr<storage::WalWriter> wal;  // swapped at checkpoints; SyncTo from any thread
  mutable std::mutex wal_ptr_mutex;         // guards swaps of `wal` against Stats()
  std::atomic<uint64_t> checkpoint_seq{0};    // written under write_mutex, read by Stats
  std::atomic<uint64_t> checkpoint_bytes{0};
  bool dirty = false;   // changes since the last checkpoint
  std::atomic<bool> closed{false};  // set under write_mutex; read by every call
  Status poisoned;      // set when memory and log may disagree; every later write fails
  std::mutex sync_mutex;  // guards last_sync
  std::chrono::steady_clock::time_point last_sync = std::chrono::steady_clock::now();

  // Collection::Open with every file access going through `env` (which must outlive the
  // collection). A member so that it may call Collection's private constructor.
  static Result<std::unique_ptr<Collection>> Open(const CollectionOptions& options,
                                                  storage::Env* env);

  bool persistent() const { return !dir.empty(); }
  size_t threads() const { return pool->size(); }

  // ---- in-memory logic (collection.cc); "Locked" = caller holds map_mutex ----
  // (exclusively for the setters)
  void SetUsedLocked(index::Slot slot, bool used);
  void SetMetadataLocked(index::Slot slot, Metadata metadata);
  void GrowSlotArraysLocked(size_t end);
  // The slots matching a JSON filter (kInvalidFilter if it is malformed).
  Status MatchLocked(std::string_view where, filter::Bitset* out) const;
  // For a search: the match set of `where` (nothing to do if empty) and a view of it for the
  // index. `slot_filter` points into `matches`.
  Status PrepareFilter(std::string_view where, filter::Bitset* matches,
                       index::SlotFilter* slot_filter) const;
  std::optional<index::Slot> FindLocked(const IdsView& ids, size_t i) const;
  Id IdOfLocked(index::Slot slot) const;
  Status CheckIds(const IdsView& ids) const;
  Status CheckNoDuplicates(const IdsView& ids) const;
  Status CheckBatch(const IdsView& ids, const MatrixView& vectors,
                    std::span<const Metadata> metadata) const;
  Status CheckWritable() const;
  Status EnsureIndex(size_t d);
  // Inserts rows into fresh slots; ids that exist switch to the new slot (upsert).
  // REQUIRES: write_mutex held, the batch validated.
  Status InsertRows(const IdsView& ids, const MatrixView& vectors,
                    std::span<const Metadata> metadata);
  size_t DeleteRows(const IdsView& ids);

  // ---- persistence (collection_persist.cc) ----
  Status OpenStorage();                            // load or create; called once from Open
  Status LogPut(const IdsView& ids, const MatrixView& vectors, std::span<const Metadata> metadata,
                uint64_t* end);
  Status LogDelete(const IdsView& ids, uint64_t* end);
  // After a logged write (write_mutex released): durability wait, then maybe a checkpoint.
  Status AfterWrite(const std::shared_ptr<storage::WalWriter>& log, uint64_t end);
  Status CheckpointLocked();                       // REQUIRES: write_mutex held
  // vectors_on_disk: serves the index's fp32 rows from checkpoint `path` (just written).
  void ServeVectorsFrom(const std::string& path);  // REQUIRES: write_mutex held
  // Recomputes the checksums of the current checkpoint and WAL. REQUIRES: write_mutex held.
  Status VerifyStorageLocked(VerifyReport* report) const;
  Status CloseLocked();                            // REQUIRES: write_mutex held
};

}  // namespace augurdb
