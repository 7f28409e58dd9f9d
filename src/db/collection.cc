// Collection's public API (include/augurdb/collection.h) apart from writes: open, the reads
// (get, search, find, count), verify, compact and stats. Writes are in logged_write.cc; the file
// map, thread safety and invariants are in collection_impl.h.
#include <augurdb/collection.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <limits>
#include <mutex>
#include <new>
#include <shared_mutex>
#include <system_error>

#include <augurdb/version.h>

#include "db/collection_impl.h"
#include "db/collection_options.h"
#include "db/collection_testing.h"
#include "db/vector_checks.h"
#include "index/hnsw_index.h"
#include "simd/distance.h"
#include "util/thread_pool.h"

namespace augurdb {

using index::HnswIndex;
using index::Neighbor;
using index::Slot;
using Impl = Collection::Impl;

namespace {

// An ef passed with the call is the beam width as given, even below k (a narrower walk). The
// collection's default ef_search is raised to k, so that asking for many results without
// choosing an ef keeps the recall it had when the index raised every ef to k.
size_t EffectiveEf(const SearchOptions& options, size_t ef_search) {
  return options.ef != 0 ? options.ef : std::max(ef_search, options.k);
}

}  // namespace

Status Impl::PrepareFilter(const SearchOptions& search, PreparedFilter* out) const {
  if (search.filter.empty() && search.where_document.empty()) return Status::OK();
  std::optional<db::DocumentFilter> doc_filter;
  if (!search.where_document.empty()) {
    AUGUR_ASSIGN_OR_RETURN(doc_filter, db::ParseDocumentFilter(search.where_document));
  }
  {
    std::shared_lock<std::shared_mutex> lock(map_mutex);
    if (search.filter.empty()) {
      out->matches = ids.used_bits();
    } else {
      AUGUR_RETURN_IF_ERROR(MatchLocked(search.filter, &out->matches));
    }
    if (doc_filter) db::ApplyDocumentFilter(*doc_filter, documents, &out->matches);
  }
  out->active = true;
  out->vector_view = {out->matches.words().data(), out->matches.size(), out->matches.Count()};
  return Status::OK();
}

Status Impl::MatchLocked(std::string_view where, filter::Bitset* out) const {
  AUGUR_ASSIGN_OR_RETURN(std::shared_ptr<const filter::FilterPlan> plan, filter::Parse(where));
  columns.Evaluate(*plan, ids.used_bits(), ids.slot_end(), out);
  return Status::OK();
}

Record Impl::MakeRecord(Slot slot, std::vector<float> vector) const {
  Record record{ids.IdOf(slot), std::move(vector), columns.Get(slot), std::nullopt};
  if (const std::string* doc = documents.Get(slot)) record.document = *doc;
  return record;
}

Status Impl::CheckOpen() const {
  if (closed.load()) return Status::InvalidArgument("the collection is closed");
  return Status::OK();
}

Status Impl::CheckWritable() const {
  AUGUR_RETURN_IF_ERROR(CheckOpen());
  if (options.read_only) {
    return Status::NotSupported("the database " + dir + " was opened read-only; open it for "
                                "writing (Python: mode=\"w\") in one process at a time");
  }
  return poisoned;
}

Result<std::unique_ptr<Collection>> Collection::Open(const CollectionOptions& options) {
  return Impl::Open(options, storage::Env::Default());
}

Result<std::unique_ptr<Collection>> TEST_OpenCollection(const CollectionOptions& options,
                                                        storage::Env* env) {
  return Collection::Impl::Open(options, env);
}

Result<std::unique_ptr<Collection>> Impl::Open(const CollectionOptions& options, storage::Env* env) {
  AUGUR_RETURN_IF_ERROR(db::ValidateOptions(options));
  try {
    auto impl = std::make_unique<Impl>();
    impl->env = env;
    impl->options = options;
    impl->pool = std::make_unique<ThreadPool>(options.threads);
    impl->options.threads = impl->pool->size();
    impl->dir = options.path;
    if (impl->persistent()) {
      AUGUR_RETURN_IF_ERROR(impl->OpenStorage());
    } else {
      db::ApplyNewCollectionDefaults(&impl->options);
      if (options.dim != 0) AUGUR_RETURN_IF_ERROR(impl->EnsureIndex(options.dim));
    }
    if (!impl->text_index) {  // a new collection (a checkpoint load creates its own)
      AUGUR_ASSIGN_OR_RETURN(const text::TokenizerKind kind,
                             text::ParseTokenizerKind(impl->options.tokenizer));
      impl->text_index = std::make_unique<text::InvertedIndex>(kind);
    }
    return std::unique_ptr<Collection>(new Collection(std::move(impl)));
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted("out of memory opening the collection");
  } catch (const std::system_error& e) {
    return Status::ResourceExhausted(std::string("cannot start worker threads: ") + e.what());
  }
}

Collection::Collection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Collection::~Collection() {
  std::lock_guard<std::mutex> lock(impl_->write_mutex);
  Status s = impl_->CloseLocked();
  if (!s.ok()) std::fprintf(stderr, "augurdb: closing %s: %s\n", impl_->dir.c_str(), s.ToString().c_str());
}

bool Collection::read_only() const { return impl_->options.read_only; }
const std::string& Collection::path() const { return impl_->dir; }

Result<std::vector<std::optional<Record>>> Collection::Get(const IdsView& ids) const {
  AUGUR_RETURN_IF_ERROR(impl_->CheckOpen());
  std::vector<std::optional<Record>> out(ids.size());
  std::shared_lock<std::shared_mutex> lock(impl_->map_mutex);
  AUGUR_RETURN_IF_ERROR(impl_->ids.CheckKind(ids));
  const HnswIndex* idx = impl_->index.load(std::memory_order_acquire);
  for (size_t i = 0; i < ids.size(); ++i) {
    std::optional<Slot> slot = impl_->ids.Find(ids, i);
    if (!slot) continue;
    std::vector<float> v(idx->dim());
    idx->CopyVector(*slot, v.data());
    out[i] = impl_->MakeRecord(*slot, std::move(v));
  }
  return out;
}

Result<std::vector<Hit>> Collection::Search(std::span<const float> query,
                                            const SearchOptions& options) const {
  AUGUR_RETURN_IF_ERROR(impl_->CheckOpen());
  if (options.k == 0) return Status::InvalidArgument("k must be >= 1");
  const HnswIndex* idx = impl_->index.load(std::memory_order_acquire);
  const size_t d = impl_->dim.load();
  MatrixView view{query.data(), 1, query.size(), 0};
  AUGUR_RETURN_IF_ERROR(db::CheckVectors(view, d, *impl_->options.metric, "query"));
  if (options.text) return impl_->SearchHybrid(query, options);
  std::vector<Hit> hits;
  if (idx == nullptr) return hits;
  PreparedFilter filter;
  AUGUR_RETURN_IF_ERROR(impl_->PrepareFilter(options, &filter));
  index::SearchParams params;
  // Results never outnumber the records: a huge k must not size the search's buffers.
  params.k = std::min(options.k, std::max<size_t>(idx->live_count(), 1));
  params.ef = EffectiveEf(options, impl_->options.ef_search);
  params.rerank = options.rerank != 0 ? options.rerank : impl_->options.rerank;
  try {
    std::shared_lock<std::shared_mutex> no_reuse(impl_->reclaim_mutex);
    std::vector<Neighbor> found(params.k);
    found.resize(idx->Search(query.data(), params, found.data(), nullptr, filter.vector()));
    std::shared_lock<std::shared_mutex> lock(impl_->map_mutex);
    hits.reserve(found.size());
    for (const Neighbor& nb : found) {
      if (!impl_->ids.used(nb.slot)) continue;
      hits.push_back(Hit{impl_->ids.IdOf(nb.slot), nb.distance,
                         options.include_metadata ? impl_->columns.Get(nb.slot) : Metadata{},
                         -static_cast<double>(nb.distance), 0.0, std::nullopt});
      if (options.include_documents) {
        if (const std::string* doc = impl_->documents.Get(nb.slot)) hits.back().document = *doc;
      }
    }
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted("out of memory searching with k=" + std::to_string(options.k));
  }
  return hits;
}

Result<BatchResults> Collection::SearchBatch(const MatrixView& queries,
                                             const SearchOptions& options,
                                             std::span<const std::string> texts) const {
  AUGUR_RETURN_IF_ERROR(impl_->CheckOpen());
  if (options.k == 0) return Status::InvalidArgument("k must be >= 1");
  if (!texts.empty()) return impl_->SearchBatchText(queries, options, texts);
  const HnswIndex* idx = impl_->index.load(std::memory_order_acquire);
  AUGUR_RETURN_IF_ERROR(
      db::CheckVectors(queries, impl_->dim.load(), *impl_->options.metric, "queries"));
  const size_t k = options.k, rows = queries.rows;
  if (rows > 0 && k > std::numeric_limits<size_t>::max() / rows / sizeof(Neighbor)) {
    return Status::InvalidArgument("k * number of queries is too large");
  }
  BatchResults out;
  out.rows = rows;
  out.k = k;
  PreparedFilter filter;
  AUGUR_RETURN_IF_ERROR(impl_->PrepareFilter(options, &filter));
  const index::SlotFilter* filter_ptr = filter.vector();
  try {
    std::shared_lock<std::shared_mutex> no_reuse(impl_->reclaim_mutex);
    out.distances.assign(rows * k, std::numeric_limits<float>::infinity());
    // Per-query buffers hold at most as many results as there are records.
    const size_t k_eff = idx == nullptr ? 1 : std::min(k, std::max<size_t>(idx->live_count(), 1));
    std::vector<Neighbor> found(rows * k_eff, Neighbor{0.0f, index::kInvalidSlot});
    if (idx != nullptr && rows > 0) {
      index::SearchParams params;
      params.k = k_eff;
      params.ef = EffectiveEf(options, impl_->options.ef_search);
      params.rerank = options.rerank != 0 ? options.rerank : impl_->options.rerank;
      const size_t stride = queries.row_stride == 0 ? queries.dim : queries.row_stride;
      const size_t threads = options.threads != 0 ? options.threads : impl_->threads();
      impl_->pool->ParallelFor(rows, threads, [&](size_t, size_t q) {
        Neighbor* row = found.data() + q * k_eff;
        const size_t n = idx->Search(queries.data + q * stride, params, row, nullptr, filter_ptr);
        for (size_t j = n; j < k_eff; ++j) row[j].slot = index::kInvalidSlot;
      });
    }
    std::shared_lock<std::shared_mutex> lock(impl_->map_mutex);
    const db::IdMap& id_map = impl_->ids;
    const bool strings = id_map.kind() == IdKind::kString;
    if (strings) {
      out.string_ids.resize(rows * k);
    } else {
      out.int_ids.assign(rows * k, -1);
    }
    for (size_t q = 0; q < rows; ++q) {
      size_t w = q * k;  // compact skipped (concurrently deleted) slots to the front
      for (size_t j = 0; j < k_eff; ++j) {
        const Neighbor nb = found[q * k_eff + j];
        if (!id_map.used(nb.slot)) continue;  // kInvalidSlot is never used
        out.distances[w] = nb.distance;
        if (strings) {
          out.string_ids[w] = id_map.string_id(nb.slot);
        } else {
          out.int_ids[w] = id_map.int_id(nb.slot);
        }
        ++w;
      }
    }
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted("out of memory for " + std::to_string(rows) + " x " +
                                     std::to_string(k) + " results");
  } catch (const std::length_error&) {
    return Status::ResourceExhausted("cannot hold " + std::to_string(rows) + " x " +
                                     std::to_string(k) + " results");
  }
  return out;
}

Result<size_t> Collection::Count(std::string_view filter) const {
  AUGUR_RETURN_IF_ERROR(impl_->CheckOpen());
  std::shared_lock<std::shared_mutex> lock(impl_->map_mutex);
  if (filter.empty()) return impl_->ids.size();
  filter::Bitset matches;
  AUGUR_RETURN_IF_ERROR(impl_->MatchLocked(filter, &matches));
  return matches.Count();
}

Result<std::vector<Record>> Collection::Find(std::string_view filter, size_t limit) const {
  AUGUR_RETURN_IF_ERROR(impl_->CheckOpen());
  std::vector<Record> out;
  std::shared_lock<std::shared_mutex> lock(impl_->map_mutex);
  filter::Bitset matches;
  if (filter.empty()) {
    matches = impl_->ids.used_bits();
  } else {
    AUGUR_RETURN_IF_ERROR(impl_->MatchLocked(filter, &matches));
  }
  const HnswIndex* idx = impl_->index.load(std::memory_order_acquire);
  for (size_t s = 0; s < matches.size() && (limit == 0 || out.size() < limit); ++s) {
    const auto slot = static_cast<Slot>(s);
    if (!matches.Test(slot) || !impl_->ids.used(slot)) continue;
    std::vector<float> v(idx->dim());
    idx->CopyVector(slot, v.data());
    out.push_back(impl_->MakeRecord(slot, std::move(v)));
  }
  return out;
}

Result<VerifyReport> Collection::Verify() const {
  AUGUR_RETURN_IF_ERROR(impl_->CheckOpen());
  std::lock_guard<std::mutex> writers(impl_->write_mutex);  // a stable state, searches go on
  VerifyReport report;
  const HnswIndex* idx = impl_->index.load(std::memory_order_acquire);
  if (idx != nullptr) {
    Status graph = idx->CheckInvariants(&report.graph_links);
    if (!graph.ok()) return Status::Corruption("graph: " + graph.message());
  }
  {
    std::shared_lock<std::shared_mutex> lock(impl_->map_mutex);
    const db::IdMap& ids = impl_->ids;
    AUGUR_RETURN_IF_ERROR(ids.CheckInvariants());
    for (size_t s = 0; s < ids.slot_end(); ++s) {
      const auto slot = static_cast<Slot>(s);
      const bool live = idx != nullptr && s < idx->slot_end() &&
                        idx->state(slot) == HnswIndex::SlotState::kLive;
      if (ids.used(slot) && !live) {
        return Status::Corruption("slot " + std::to_string(s) + " has an id but is not live");
      }
      if (!ids.used(slot)) {
        if (live) return Status::Corruption("slot " + std::to_string(s) + " is live but has no id");
        if (impl_->columns.Has(slot)) {
          return Status::Corruption("slot " + std::to_string(s) + " has metadata but no record");
        }
        if (impl_->documents.Has(slot)) {
          return Status::Corruption("slot " + std::to_string(s) + " has a document but no record");
        }
      }
      if (impl_->documents.Has(slot) != impl_->text_index->Contains(slot)) {
        return Status::Corruption("slot " + std::to_string(s) + (impl_->documents.Has(slot)
                                      ? " has a document missing from the text index"
                                      : " is in the text index without a document"));
      }
    }
    report.records = ids.size();
    Status text = impl_->text_index->CheckInvariants();
    if (!text.ok()) return Status::Corruption("text index: " + text.message());
    const size_t indexed = impl_->text_index->Stats().doc_count;
    if (indexed != impl_->documents.count()) {
      return Status::Corruption("text index holds " + std::to_string(indexed) + " documents, " +
                                "the collection " + std::to_string(impl_->documents.count()));
    }
    report.documents = indexed;
  }
  AUGUR_RETURN_IF_ERROR(impl_->VerifyStorageLocked(&report));
  return report;
}

Status Collection::Compact() {
  std::lock_guard<std::mutex> lock(impl_->write_mutex);
  AUGUR_RETURN_IF_ERROR(impl_->CheckWritable());
  if (impl_->index_owner) {
    {
      std::unique_lock<std::shared_mutex> reclaim(impl_->reclaim_mutex);
      impl_->index_owner->Reclaim();
    }
    impl_->index_owner->RefitIfDrifted();
    impl_->dirty = true;  // the next checkpoint (or close) stores the compacted image
  }
  return Status::OK();
}

Status Collection::Reserve(size_t capacity) {
  std::lock_guard<std::mutex> lock(impl_->write_mutex);
  AUGUR_RETURN_IF_ERROR(impl_->CheckWritable());
  if (capacity > index::kMaxSlots) {
    return Status::InvalidArgument("cannot reserve " + std::to_string(capacity) +
                                   " records: at most " + std::to_string(index::kMaxSlots) +
                                   " per collection");
  }
  // Without a dimension there is no index yet: EnsureIndex applies the reservation, and the id
  // map gets its room at the first Add, which fixes the id kind.
  if (impl_->index_owner) {
    AUGUR_RETURN_IF_ERROR(impl_->index_owner->Reserve(capacity));
    try {
      std::unique_lock<std::shared_mutex> map_lock(impl_->map_mutex);
      impl_->ids.ReserveRoom(capacity);
    } catch (const std::bad_alloc&) {
      return Status::ResourceExhausted("out of memory reserving ids for " +
                                       std::to_string(capacity) + " records");
    }
  }
  impl_->reserved = std::max(impl_->reserved, capacity);
  return Status::OK();
}

bool Collection::Contains(const Id& id) const {
  std::shared_lock<std::shared_mutex> lock(impl_->map_mutex);
  return impl_->ids.Contains(id);
}

size_t Collection::size() const {
  std::shared_lock<std::shared_mutex> lock(impl_->map_mutex);
  return impl_->ids.size();
}

size_t Collection::dim() const { return impl_->dim.load(); }
Metric Collection::metric() const { return *impl_->options.metric; }

IdKind Collection::id_kind() const {
  std::shared_lock<std::shared_mutex> lock(impl_->map_mutex);
  return impl_->ids.kind();
}

std::vector<Id> Collection::Ids() const {
  std::shared_lock<std::shared_mutex> lock(impl_->map_mutex);
  std::vector<Id> ids;
  ids.reserve(impl_->ids.size());
  for (size_t s = 0; s < impl_->ids.slot_end(); ++s) {
    if (impl_->ids.used(static_cast<Slot>(s))) ids.push_back(impl_->ids.IdOf(static_cast<Slot>(s)));
  }
  return ids;
}

CollectionStats Collection::Stats() const {
  CollectionStats st;
  const HnswIndex* idx = impl_->index.load(std::memory_order_acquire);
  std::shared_lock<std::shared_mutex> lock(impl_->map_mutex);
  st.count = impl_->ids.size();
  st.dim = impl_->dim.load();
  st.metric = *impl_->options.metric;
  st.m = impl_->options.m;
  st.ef_construction = impl_->options.ef_construction;
  st.ef_search = impl_->options.ef_search;
  st.threads = impl_->threads();
  st.simd = std::string(simd::SimdLevelName(impl_->kernels.level));
  st.id_kind = impl_->ids.kind();
  st.quantization = *impl_->options.quantization;
  if (idx != nullptr) {
    st.index_bytes = idx->MemoryBytes();
    st.deleted = idx->deleted_count();
  }
  st.capacity = idx != nullptr ? idx->capacity() : impl_->reserved;
  st.documents = impl_->documents.count();
  st.text_index_bytes = impl_->text_index->MemoryBytes();
  st.tokenizer = std::string(text::TokenizerName(impl_->text_index->tokenizer().kind()));
  st.memory_bytes = st.index_bytes + impl_->ids.MemoryBytes() + impl_->columns.MemoryBytes() +
                    impl_->documents.MemoryBytes() + st.text_index_bytes;
  if (idx != nullptr) st.mapped_vector_bytes = idx->MappedVectorBytes();
  st.checkpoint_bytes = impl_->checkpoint_bytes.load();
  st.checkpoint_sequence = impl_->checkpoint_seq.load();
  std::shared_ptr<storage::WalWriter> log;
  {
    std::lock_guard<std::mutex> wal_lock(impl_->wal_ptr_mutex);
    log = impl_->wal;
  }
  if (log) st.wal_bytes = log->size();
  return st;
}

BuildInfo GetBuildInfo() {
  BuildInfo info;
  info.version = AUGURDB_VERSION_STRING;
#ifdef AUGURDB_COMPILER
  info.compiler = AUGURDB_COMPILER;
#endif
  info.simd = std::string(simd::SimdLevelName(simd::ActiveSimdLevel()));
  info.simd_detected = std::string(simd::SimdLevelName(simd::DetectedSimdLevel()));
  return info;
}

}  // namespace augurdb
