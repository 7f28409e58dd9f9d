// The public C++ API: a Collection of vectors with ids and metadata, searchable by similarity.
//
//   auto col = augurdb::Collection::Open({.dim = 768, .metric = augurdb::Metric::kCosine});
//   if (!col.ok()) return col.status();
//   AUGUR_RETURN_IF_ERROR((*col)->Add(augurdb::IdsView::Ints(ids), augurdb::MatrixView{...}));
//   auto hits = (*col)->Search(query, {.k = 10});
//
// Distances are "smaller is closer": squared L2 for kL2, -dot for kInnerProduct and 1 - dot
// (on unit-normalised vectors) for kCosine.
//
// Thread safety: all methods may be called from any thread. Writers (Add, Upsert, Delete,
// Compact) are serialised against each other; readers (Search, SearchBatch, Get, Contains,
// size, stats) run concurrently with each other and with one writer. A reader running beside a
// writer sees each record either entirely before or entirely after that writer's change, and
// never returns a record that was already deleted when the reader started.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <augurdb/export.h>
#include <augurdb/metric.h>
#include <augurdb/status.h>
#include <augurdb/value.h>

namespace augurdb {

// A row-major matrix of float32 the caller owns; read in place, never copied (except once when
// the cosine metric normalises rows into the index's own storage).
struct MatrixView {
  const float* data = nullptr;
  size_t rows = 0;
  size_t dim = 0;         // floats per row that belong to the vector
  size_t row_stride = 0;  // floats between row starts; 0 means dim (contiguous)
};

// The ids of a batch: all integers or all strings (one kind per collection).
class AUGURDB_EXPORT IdsView {
 public:
  static IdsView Ints(std::span<const int64_t> ids) { return IdsView(ids, {}, false); }
  static IdsView Strings(std::span<const std::string> ids) { return IdsView({}, ids, true); }
  bool is_string() const noexcept { return is_string_; }
  size_t size() const noexcept { return is_string_ ? strs_.size() : ints_.size(); }
  std::span<const int64_t> ints() const noexcept { return ints_; }
  std::span<const std::string> strings() const noexcept { return strs_; }

 private:
  IdsView(std::span<const int64_t> ints, std::span<const std::string> strs, bool is_string)
      : ints_(ints), strs_(strs), is_string_(is_string) {}
  std::span<const int64_t> ints_;
  std::span<const std::string> strs_;
  bool is_string_;
};

using Id = std::variant<int64_t, std::string>;

// The documents of a batch: empty (no documents), or one per row where nullopt means that row
// has none. Each document is UTF-8 text, stored with the record and indexed for BM25 search.
using DocumentsView = std::span<const std::optional<std::string>>;

// How a hybrid search (a query vector and a text query) merges its two ranked lists.
enum class Fusion : uint8_t {
  kRrf = 0,       // sum over the lists that hold a hit of 1 / (rrf_k + rank), rank from 1
  kWeighted = 1,  // alpha * min-max(vector similarity) + (1 - alpha) * min-max(BM25)
};

enum class IdKind : uint8_t { kUnset = 0, kInt = 1, kString = 2 };

// What a successful write promises if the machine crashes right after it returns.
enum class Durability : uint8_t {
  kSync = 0,   // fsync before returning: survives process crash, OS crash and power loss
  kBatch = 1,  // fsync at most every 100 ms (at the next write) and at flush/close: survives a
               // process crash; an OS crash or power loss may lose the last ~100 ms of writes
  kNone = 2,   // never fsync except at flush/checkpoint/close: survives a process crash; an OS
               // crash or power loss may lose everything since the last flush
};

struct CollectionOptions {
  std::string path;               // database directory; empty = in memory only
  bool read_only = false;         // open an existing database without the writer lock
  Durability durability = Durability::kSync;
  uint64_t checkpoint_wal_bytes = uint64_t{64} << 20;  // checkpoint when the WAL grows past this
  size_t dim = 0;                 // vector dimension; 0 = taken from the database or first Add
  // Distance metric; unset = kL2 for a new collection, the stored one when reopening (a set
  // value that differs from the stored one is kInvalidArgument).
  std::optional<Metric> metric;
  // Index parameters: 0 = the default for a new collection (16, 200, 64) or the stored value
  // when reopening; a non-zero value that differs from the stored one is kInvalidArgument
  // (ef_search excepted: it is only a per-session default and may change).
  size_t m = 0;                   // graph degree (level 0 allows 2*m); 8..64 is typical
  size_t ef_construction = 0;     // build beam width: higher = better graph, slower build
  size_t ef_search = 0;           // default search beam width; raise for recall
  size_t threads = 0;             // worker threads for batch calls; 0 = all cores
  uint64_t seed = 42;             // seeds level draws; one thread + same seed = same graph
  // Representation walked by search; unset = kNone for a new collection, the stored one when
  // reopening. kSq8 / kSq4 keep 8-bit / 4-bit codes beside the fp32 vectors (rerank uses the
  // fp32 ones).
  std::optional<Quantization> quantization;
  // Quantized, persistent collections: the fp32 vectors (read only to rerank and by Get) are
  // served from the checkpoint's file mapping instead of RAM. Rows written since the last
  // checkpoint stay in memory until the next one. Not stored: chosen at every open.
  bool vectors_on_disk = false;
  size_t rerank = 0;              // default SearchOptions::rerank; 0 = 2k (SQ8), 4k (SQ4)
  // Full-text tokenizer, "simple" or "english" (docs/text-search.md); empty = "simple" for a
  // new collection, the stored one when reopening (a different one is kInvalidArgument:
  // indexed documents cannot be searched with another tokenizer).
  std::string tokenizer;
};

// BM25 statistics for some query terms (docs/text-search.md, "Sharded collections"): what a
// sharded collection gathers from every shard and sums (the DFS phase of a distributed search
// engine), then passes back in SearchOptions::text_stats so that every shard scores on one scale
// and its BM25 equals that of one collection holding all the data.
struct TextStats {
  uint64_t doc_count = 0;     // live documents
  uint64_t total_length = 0;  // their lengths summed, in tokens
  std::map<std::string, uint64_t, std::less<>> doc_freqs;  // term -> live documents holding it
};

struct SearchOptions {
  size_t k = 10;        // results per query, >= 1
  size_t ef = 0;        // beam width (nodes expanded), may be below k; 0 = max(ef_search, k)
  size_t threads = 0;   // SearchBatch only: 0 = the collection's threads
  size_t rerank = 0;    // quantized collections: candidates re-scored exactly; 0 = default
  bool include_metadata = false;  // Search only: fill Hit::metadata
  // Metadata filter as JSON text, e.g. {"genre": "news", "year": {"$gte": 2020}} (operators:
  // docs/filters.md); empty = no filter. Malformed: kInvalidFilter.
  std::string filter;
  // A BM25 text query. Search with it is hybrid search; SearchText uses it alone. A query with
  // no indexable token gives no text hits (hybrid search then ranks by the vector side).
  std::optional<std::string> text;
  // Document filter as JSON, {"$contains": "..."} or {"$not_contains": "..."}: a substring
  // test on the stored document (a record without one never contains anything); empty = none.
  // Combined with `filter` (both must hold). Malformed: kInvalidFilter.
  std::string where_document;
  Fusion fusion = Fusion::kRrf;  // hybrid only
  double rrf_k = 60.0;           // kRrf: > 0
  double alpha = 0.5;            // kWeighted: weight of the vector side, in [0, 1]
  size_t candidates = 0;         // hybrid: hits taken from each side; 0 = max(50, 4k)
  bool include_documents = false;  // Search / SearchText: fill Hit::document
  // Text and hybrid search: score BM25 with these statistics instead of the collection's own.
  // Every term of the text query (as TextStatistics tokenizes it) must have an entry in
  // doc_freqs, else kInvalidArgument. Null = the collection's own statistics.
  std::shared_ptr<const TextStats> text_stats;
};

struct Hit {
  Id id;
  float distance;     // exact vector distance; NaN for a text-only search
  Metadata metadata;  // empty unless SearchOptions::include_metadata
  // Higher is better: -distance (vector search), BM25 (text search) or the fused score.
  double score = 0.0;
  double text_score = 0.0;              // exact BM25 (0 without a text query or term match)
  std::optional<std::string> document;  // only with SearchOptions::include_documents
};

struct Record {
  Id id;
  std::vector<float> vector;  // as stored (unit length under kCosine)
  Metadata metadata;
  std::optional<std::string> document;
};

// Results of SearchBatch: rows x k, closest first; where fewer than k exist, ids are -1 (int
// collections) or nullopt (string collections) and distances +inf.
struct BatchResults {
  size_t rows = 0;
  size_t k = 0;
  std::vector<float> distances;                        // rows * k
  std::vector<int64_t> int_ids;                        // rows * k, int collections
  std::vector<std::optional<std::string>> string_ids;  // rows * k, string collections
  // With texts: rows * k fused (or, text-only, BM25) scores, higher is better; NaN pads.
  std::vector<double> scores;
};

struct CollectionStats {
  size_t count = 0;          // live records
  size_t dim = 0;
  Metric metric = Metric::kL2;
  size_t memory_bytes = 0;   // RAM held by vectors, graph, ids, metadata, documents, text index
  size_t index_bytes = 0;    // vectors + graph part of memory_bytes
  // vectors_on_disk: fp32 rows served from the checkpoint mapping, not in memory_bytes (clean
  // file pages the OS caches and drops as memory demands).
  size_t mapped_vector_bytes = 0;
  size_t deleted = 0;        // tombstoned slots not yet reclaimed
  // Records (live, deleted and reclaimed slots together) the index holds before an add grows
  // it again; Reserve raises it.
  size_t capacity = 0;
  size_t m = 0, ef_construction = 0, ef_search = 0, threads = 0;
  std::string simd;          // kernel family in use: "avx512", "avx2", "neon" or "scalar"
  IdKind id_kind = IdKind::kUnset;
  Quantization quantization = Quantization::kNone;
  uint64_t wal_bytes = 0;         // current WAL size (persistent collections)
  uint64_t checkpoint_bytes = 0;  // size of the last checkpoint file
  uint64_t checkpoint_sequence = 0;
  size_t documents = 0;          // live records with a document
  size_t text_index_bytes = 0;   // inverted index part of memory_bytes
  std::string tokenizer;         // "simple" or "english"
};

// What Verify() checked.
struct VerifyReport {
  size_t records = 0;            // live records, each mapped id <-> slot both ways
  size_t graph_links = 0;        // neighbour ids checked (range, no self loop, degree, level)
  uint64_t checkpoint_bytes = 0; // checkpoint bytes whose checksums were recomputed
  uint64_t wal_records = 0;      // intact WAL records read (persistent collections)
  size_t documents = 0;          // documents checked against the text index
};

class AUGURDB_EXPORT Collection {
 public:
  // Opens (creating if needed, unless read_only) the database at options.path, or an in-memory
  // collection when path is empty. Reopening maps the last checkpoint and replays the WAL.
  // Errors: kInvalidArgument (bad options, or options that contradict the stored ones),
  // kDimensionMismatch, kLocked (another process has it open for writing), kCorruption (a
  // checksum or structure check failed; nothing was modified), kNotSupported (written by a newer
  // format version), kNotFound (read_only and no database there), kIOError.
  static Result<std::unique_ptr<Collection>> Open(const CollectionOptions& options);
  ~Collection();
  Collection(const Collection&) = delete;
  Collection& operator=(const Collection&) = delete;

  // Inserts new records; the whole batch or nothing. `metadata` is empty or one per row.
  // Errors: kInvalidArgument (empty batch, duplicate id in the batch, id kind differs from the
  // collection's, metadata count), kAlreadyExists (id present), kDimensionMismatch,
  // kInvalidVector (NaN/Inf, or a zero vector under kCosine). `documents` is empty or one per
  // row; a document count that differs or a document that is not valid UTF-8 is
  // kInvalidArgument, and nothing is written.
  Status Add(const IdsView& ids, const MatrixView& vectors,
             std::span<const Metadata> metadata = {}, DocumentsView documents = {});
  // Inserts new ids and replaces existing ones (vector, metadata and document: a row without
  // a document leaves the record without one). Same errors as Add except kAlreadyExists.
  Status Upsert(const IdsView& ids, const MatrixView& vectors,
                std::span<const Metadata> metadata = {}, DocumentsView documents = {});
  // Removes the ids present; unknown ids are ignored. Returns how many were removed.
  Result<size_t> Delete(const IdsView& ids);
  // One entry per id, nullopt where absent.
  Result<std::vector<std::optional<Record>>> Get(const IdsView& ids) const;
  // Vector search; hybrid search when options.text is set (docs/text-search.md: each side's
  // top `candidates` under the same filters, fused, every hit carrying its exact distance and
  // BM25). Errors: kInvalidArgument (k == 0, text not UTF-8, rrf_k <= 0, alpha outside [0, 1]),
  // kDimensionMismatch, kInvalidVector, kInvalidFilter.
  Result<std::vector<Hit>> Search(std::span<const float> query, const SearchOptions& options) const;
  // BM25 top-k of `text` (options.text is ignored), best first, ties by slot (see Ids()).
  Result<std::vector<Hit>> SearchText(std::string_view text, const SearchOptions& options) const;
  // The BM25 statistics of this collection for the terms of `texts` (tokenized with its
  // tokenizer): live document count, total length, and each term's document frequency. A
  // snapshot: a concurrent write may move the figures. Errors: kInvalidArgument (not UTF-8).
  Result<TextStats> TextStatistics(std::span<const std::string> texts) const;
  // One search per row, in parallel. With `texts` (one per row) each row is a hybrid search,
  // or a text-only one when queries.data is null (then queries.rows is ignored).
  Result<BatchResults> SearchBatch(const MatrixView& queries, const SearchOptions& options,
                                   std::span<const std::string> texts = {}) const;
  // Records matching a JSON filter (empty = all). Errors: kInvalidFilter.
  Result<size_t> Count(std::string_view filter = {}) const;
  // Removes every record matching a JSON filter; returns how many. Errors: kInvalidFilter.
  Result<size_t> DeleteWhere(std::string_view filter);
  // Up to `limit` records matching a JSON filter, in slot order (limit 0 = all).
  Result<std::vector<Record>> Find(std::string_view filter, size_t limit = 0) const;
  // Full integrity check: graph invariants (ids in range, no self loops, degree bounds, entry
  // point valid, no live node linking a deleted one), ids <-> slots bijective, metadata and
  // documents only on live records, the text index's invariants and that it indexes exactly
  // the documents, and for a persistent collection every checksum of the current checkpoint and
  // WAL. Errors: kCorruption describing the first problem. Runs beside searches; blocks writers.
  Result<VerifyReport> Verify() const;
  // Reclaims the slots of deleted records for reuse.
  Status Compact();
  // Makes room for `capacity` records in all (deleted ones count until Compact reclaims them),
  // so that adds up to it do not grow the index by copying its arrays (hnswlib's max_elements,
  // usearch's reserve). Only memory: not stored, never shrinks, a no-op below the current
  // capacity, and applied at the first Add when the dimension is not known yet. Errors:
  // kInvalidArgument (over the per-collection limit), kResourceExhausted (out of memory;
  // nothing changed), kNotSupported (read-only).
  Status Reserve(size_t capacity);
  // Makes every write so far durable (fsync of the WAL); a no-op in memory.
  Status Flush();
  // Writes a checkpoint (vectors, graph, ids, metadata) and empties the WAL; a no-op when
  // nothing changed since the last one.
  Status Checkpoint();
  // The identity of the embedding function that turns this collection's documents and text
  // queries into vectors: a JSON object written by a client library (the Python package stores
  // {"name": ..., "config": {...}}), empty when none was set. The engine only keeps it.
  std::string embedding_function() const;
  // Replaces that identity (empty clears it); a persistent collection writes a checkpoint
  // before returning, so the identity is durable then. Errors: kInvalidArgument for a value
  // that is not a JSON object or is over 64 KiB or for a closed collection; kNotSupported for a
  // read-only one.
  Status SetEmbeddingFunction(std::string_view json);
  // Checkpoints (if anything changed) and releases the files and the writer lock. Later calls
  // return kInvalidArgument. The destructor closes too, ignoring errors.
  Status Close();
  bool read_only() const;
  const std::string& path() const;

  bool Contains(const Id& id) const;
  size_t size() const;
  size_t dim() const;  // 0 until the first Add when opened without a dim
  Metric metric() const;
  IdKind id_kind() const;
  // In slot order: insertion order, except that freed slots are reused and that a batch of
  // 10,000 rows or more is laid out by similarity (nearby vectors, nearby slots).
  std::vector<Id> Ids() const;
  CollectionStats Stats() const;

  struct Impl;  // opaque; defined in the library's sources

 private:
  explicit Collection(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Build facts for bug reports: version, compiler, SIMD level in use.
struct BuildInfo {
  std::string version;
  std::string compiler;
  std::string simd;           // ActiveSimdLevel (honours AUGURDB_SIMD)
  std::string simd_detected;  // best level of this CPU, ignoring AUGURDB_SIMD
};
AUGURDB_EXPORT BuildInfo GetBuildInfo();

}  // namespace augurdb
