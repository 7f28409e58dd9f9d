// Collection internals, shared by the files that each hold one operation:
//   collection.cc          the public API: open, reads (get, search, find, count), stats, verify
//   collection_options.cc  options parsed, checked and defaulted once
//   id_map.cc              ids <-> slots
//   logged_write.cc        Add/Upsert/Delete/DeleteWhere and WAL replay, through one path:
//                          validate -> log -> apply -> durability
//   durability.cc          WAL appends, the sync policy and the automatic checkpoint
//   checkpoint_writer.cc   writing a checkpoint, serving vectors from it, close
//   recovery.cc            open the directory, load the newest checkpoint, replay its WAL
//   document_store.cc      documents by slot, where_document
//   hybrid_search.cc       text and hybrid search (BM25 side, fusion.cc, both sides' scores)
//
// Thread safety: write_mutex serialises writers (and checkpoints). map_mutex guards `ids` and
// `columns`; writers take it exclusively only to publish a finished change, readers take it
// shared only to translate slots into ids, so a long search never blocks a writer for long and
// a long write never blocks searches. `documents` is guarded by map_mutex too; `text_index` has
// its own lock (taken after map_mutex by writers; readers never hold both).
//
// Invariants:
//  1. ids.used(s) iff exactly one id maps to s (IdMap); only those slots are returned to users,
//     and only they have metadata in `columns`.
//  2. A slot is marked used only after its vector is fully linked in the index and unused before
//     it is tombstoned (Upsert switches old -> new under one exclusive map lock).
//  3. Persistent: every change applied in memory was first appended to the WAL; the WAL holds
//     exactly the changes after checkpoint `checkpoint_seq`.
//  4. A slot has a document in `documents` iff it has one in `text_index`, and only used slots
//     (or fresh ones not yet published) have one.
#pragma once

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <augurdb/collection.h>

#include "db/document_store.h"
#include "db/id_map.h"
#include "db/record_codec.h"
#include "filter/filter.h"
#include "index/hnsw_index.h"
#include "simd/distance.h"
#include "storage/env.h"
#include "storage/wal.h"
#include "text/inverted_index.h"
#include "util/thread_pool.h"

namespace augurdb {

// One change as the WAL records it: a put (add or upsert: rows into fresh slots, existing ids
// switch to them) or a delete of ids. Views: the caller owns the data.
struct WriteOp {
  db::WalOp kind = db::WalOp::kPut;
  IdsView ids = IdsView::Ints({});
  MatrixView vectors;                 // kPut only
  std::span<const Metadata> metadata; // kPut only: empty or one per row
  DocumentsView documents;            // kPut only: empty or one per row
  // kPut with documents: the tokens of each row's document (empty for a row without one),
  // produced while validating, before the op is logged.
  std::vector<std::vector<std::string>> tokens;
};

// One ranked search result before its slot is translated into an id.
struct RankedHit {
  index::Slot slot;
  double score;       // higher is better
  float distance;     // NaN without a query vector
  double text_score;  // 0 without a text query
};

// The filters of one search call, evaluated once (PrepareFilter).
struct PreparedFilter {
  bool active = false;       // false: no filter was given, every live slot passes
  filter::Bitset matches;
  index::SlotFilter vector_view;
  const index::SlotFilter* vector() const { return active ? &vector_view : nullptr; }
  text::SlotFilter text_view() const { return {matches.words(), matches.size()}; }
};

// Hidden: nested in an exported class, it would otherwise inherit default visibility.
struct [[gnu::visibility("hidden")]] Collection::Impl {
  CollectionOptions options;  // resolved: every parameter set (collection_options.h)
  const simd::KernelTable& kernels = simd::ActiveKernels();
  std::unique_ptr<ThreadPool> pool;

  std::mutex write_mutex;
  std::unique_ptr<index::HnswIndex> index_owner;  // written under write_mutex
  size_t reserved = 0;  // Collection::Reserve's largest capacity; under write_mutex
  std::atomic<index::HnswIndex*> index{nullptr};  // published once, read by searches
  std::atomic<size_t> dim{0};

  // Held shared by every search from its index walk to its slot -> id translation, and
  // exclusively while deleted slots are reclaimed for reuse: a slot found by a search cannot
  // change owner before the search has named it.
  mutable std::shared_mutex reclaim_mutex;
  mutable std::shared_mutex map_mutex;
  db::IdMap ids;
  filter::MetadataColumns columns;  // the only copy of each record's metadata
  db::DocumentStore documents;      // the only copy of each record's document
  // Created at open with the collection's tokenizer; its own lock (inverted_index.h).
  std::unique_ptr<text::InvertedIndex> text_index;

  // ---- persistence (empty dir = in memory); guarded by write_mutex ----
  storage::Env* env = storage::Env::Default();
  std::string dir;
  // The embedding function's identity (JSON; empty = none): kept in the checkpoint's params.
  std::string embedding_function;
  std::unique_ptr<storage::FileLock> file_lock;
  std::shared_ptr<storage::WalWriter> wal;  // swapped at checkpoints; SyncTo from any thread
  mutable std::mutex wal_ptr_mutex;         // guards swaps of `wal` against Stats()
  std::atomic<uint64_t> checkpoint_seq{0};    // written under write_mutex, read by Stats
  std::atomic<uint64_t> checkpoint_bytes{0};
  bool dirty = false;   // changes since the last checkpoint
  // The newest checkpoint was written by this process (so in the current format, with the
  // current parameters, its vectors served from it when vectors_on_disk): with !dirty,
  // Checkpoint() has nothing to add. False after an open, which may have found an older format.
  bool checkpoint_current = false;
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

  // ---- reads (collection.cc) ----
  // The slots matching a JSON filter (kInvalidFilter if it is malformed). REQUIRES: map_mutex.
  Status MatchLocked(std::string_view where, filter::Bitset* out) const;
  // For a search: the slots passing options.filter and options.where_document (both empty:
  // inactive, nothing evaluated).
  Status PrepareFilter(const SearchOptions& options, PreparedFilter* out) const;
  Status CheckOpen() const;
  // A record's id, metadata and document with `vector`. REQUIRES: map_mutex, slot used.
  Record MakeRecord(index::Slot slot, std::vector<float> vector) const;
  // Search with options.text set (query already checked).
  Result<std::vector<Hit>> SearchHybrid(std::span<const float> query,
                                        const SearchOptions& options) const;
  Status CheckWritable() const;

  // ---- writes (logged_write.cc) ----
  // Validates a put batch (sizes, id kind, duplicates, vectors, metadata shape, documents) and
  // tokenizes its documents into op->tokens; `replay` (a logged batch) skips the id-value rules
  // added after version 0.1.0 so that databases written before them still open.
  Status CheckBatch(WriteOp* op, bool replay = false) const;
  // Fills op->tokens from op->documents; kInvalidArgument naming the row for invalid UTF-8.
  Status TokenizeDocuments(WriteOp* op) const;
  // Drops a slot's document from the store and the text index (if it has one).
  // REQUIRES: write_mutex and map_mutex held exclusively.
  void ClearDocument(index::Slot slot);
  // Applies a validated op to memory (REQUIRES: write_mutex held, or recovery); the number of
  // records deleted.
  Result<size_t> Apply(const WriteOp& op);
  // Applies one logged WAL record (recovery): a record that fails validation is kCorruption.
  Status Replay(uint8_t type, std::string_view payload);
  Status EnsureIndex(size_t d);

  // ---- text and hybrid search (hybrid_search.cc); REQUIRES: reclaim_mutex held shared ----
  // BM25 top-n of `query` among the slots `filter` passes; `global` (may be null) replaces the
  // collection's statistics.
  void RankText(const text::TextQuery& query, size_t n, const PreparedFilter& filter,
                const text::GlobalTextStats* global, std::vector<RankedHit>* out) const;
  // Hybrid ranking of one query vector (checked) and one text query, options.k hits.
  void RankHybrid(const float* query, const text::TextQuery& text, const SearchOptions& options,
                  const PreparedFilter& filter, const text::GlobalTextStats* global,
                  std::vector<RankedHit>* out) const;
  // Slots -> hits; drops slots deleted meanwhile. Takes map_mutex shared.
  std::vector<Hit> ToHits(std::span<const RankedHit> ranked, const SearchOptions& options) const;
  Result<BatchResults> SearchBatchText(const MatrixView& queries, const SearchOptions& options,
                                       std::span<const std::string> texts) const;

  // ---- WAL and durability (durability.cc) ----
  // Appends `op` to the WAL (nothing in memory); `*end` is the log offset to sync to.
  Status Log(const WriteOp& op, uint64_t* end);
  // A large put's fsync, started on its own thread as soon as it is logged so that it overlaps
  // Apply (which never touches the WAL); invalid (nothing started) for other writes, other
  // durability levels or in memory. REQUIRES: write_mutex held, `end` from the Log just done.
  std::future<Status> StartSync(const WriteOp& op, uint64_t end);
  static constexpr size_t kOverlapSyncMinRows = 64;
  // True for a put whose WAL record would take the log past checkpoint_wal_bytes: such a write
  // is applied and then checkpointed instead of logged (LoggedWrite), since the automatic
  // checkpoint it would trigger writes every row again. Judged on the log's size plus the
  // vectors' bytes, a lower bound of the record's size, so no write checkpoints that would not
  // have triggered one.
  // REQUIRES: write_mutex held.
  bool CheckpointsInstead(const WriteOp& op) const;
  // After a logged write (write_mutex released): durability wait (on `started` when StartSync
  // started it), then maybe a checkpoint.
  Status AfterWrite(const std::shared_ptr<storage::WalWriter>& log, uint64_t end,
                    std::future<Status>* started = nullptr);

  // ---- checkpoints (checkpoint_writer.cc) ----
  Status CheckpointLocked();                       // REQUIRES: write_mutex held
  // vectors_on_disk: serves the index's fp32 rows from checkpoint `path` (just written); false
  // (reported on stderr) when they stay in memory.
  bool ServeVectorsFrom(const std::string& path);  // REQUIRES: write_mutex held
  // Recomputes the checksums of the current checkpoint and WAL. REQUIRES: write_mutex held.
  Status VerifyStorageLocked(VerifyReport* report) const;
  Status CloseLocked();                            // REQUIRES: write_mutex held

  // ---- recovery (recovery.cc) ----
  Status OpenStorage();  // load or create; called once from Open
};

}  // namespace augurdb
