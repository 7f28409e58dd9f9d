// Collection: ids <-> internal slots, metadata, validation and threading around the HNSW index
// (the public API of include/augurdb/collection.h). Persistence lives in collection_persist.cc;
// thread safety and invariants are described in collection_impl.h.
#include <augurdb/collection.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <limits>
#include <mutex>
#include <new>
#include <shared_mutex>
#include <unordered_map>
#include <unordered_set>

#include <augurdb/version.h>

#include "db/collection_impl.h"
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

std::string IdToString(const IdsView& ids, size_t i) {
  return ids.is_string() ? "'" + ids.strings()[i] + "'" : std::to_string(ids.ints()[i]);
}

// An ef passed with the call is the beam width as given, even below k (a narrower walk). The
// collection's default ef_search is raised to k, so that asking for many results without
// choosing an ef keeps the recall it had when the index raised every ef to k.
size_t EffectiveEf(const SearchOptions& options, size_t ef_search) {
  return options.ef != 0 ? options.ef : std::max(ef_search, options.k);
}

}  // namespace

std::optional<Slot> Impl::FindLocked(const IdsView& ids, size_t i) const {
  if (ids.is_string()) {
    auto it = str_to_slot.find(ids.strings()[i]);
    if (it == str_to_slot.end()) return std::nullopt;
    return it->second;
  }
  auto it = int_to_slot.find(ids.ints()[i]);
  if (it == int_to_slot.end()) return std::nullopt;
  return it->second;
}

Id Impl::IdOfLocked(Slot slot) const {
  if (id_kind == IdKind::kString) return slot_str_id[slot];
  return slot_int_id[slot];
}

Status Impl::CheckIds(const IdsView& ids) const {
  const IdKind kind = ids.is_string() ? IdKind::kString : IdKind::kInt;
  if (id_kind != IdKind::kUnset && kind != id_kind) {
    return Status::InvalidArgument(std::string("this collection uses ") +
                                   (id_kind == IdKind::kInt ? "integer" : "string") +
                                   " ids; got " + (kind == IdKind::kInt ? "integer" : "string") +
                                   " ids");
  }
  return Status::OK();
}

Status Impl::CheckNoDuplicates(const IdsView& ids) const {
  if (ids.is_string()) {
    std::unordered_set<std::string_view> seen;
    seen.reserve(ids.size());
    for (size_t i = 0; i < ids.size(); ++i) {
      if (!seen.insert(ids.strings()[i]).second) {
        return Status::InvalidArgument("duplicate id " + IdToString(ids, i) + " in the batch");
      }
    }
  } else {
    std::unordered_set<int64_t> seen;
    seen.reserve(ids.size());
    for (size_t i = 0; i < ids.size(); ++i) {
      if (!seen.insert(ids.ints()[i]).second) {
        return Status::InvalidArgument("duplicate id " + IdToString(ids, i) + " in the batch");
      }
    }
  }
  return Status::OK();
}

Status Impl::CheckBatch(const IdsView& ids, const MatrixView& vectors,
                    std::span<const Metadata> metadata) const {
  if (ids.size() == 0) return Status::InvalidArgument("empty batch: pass at least one id");
  if (vectors.rows != ids.size()) {
    return Status::InvalidArgument(std::to_string(ids.size()) + " ids but " +
                                   std::to_string(vectors.rows) + " vectors");
  }
  if (!metadata.empty() && metadata.size() != ids.size()) {
    return Status::InvalidArgument(std::to_string(ids.size()) + " ids but " +
                                   std::to_string(metadata.size()) + " metadata entries");
  }
  AUGUR_RETURN_IF_ERROR(CheckIds(ids));
  AUGUR_RETURN_IF_ERROR(CheckNoDuplicates(ids));
  return db::CheckVectors(vectors, dim.load(), *options.metric, "vectors");
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
  AUGUR_ASSIGN_OR_RETURN(index_owner, HnswIndex::Create(params, kernels));
  dim.store(d);
  index.store(index_owner.get(), std::memory_order_release);
  return Status::OK();
}

Status Impl::InsertRows(const IdsView& ids, const MatrixView& vectors,
                    std::span<const Metadata> metadata) {
  AUGUR_RETURN_IF_ERROR(EnsureIndex(vectors.dim));
  HnswIndex& idx = *index_owner;
  const size_t n = ids.size();
  if (idx.deleted_count() >= std::max<size_t>(1024, idx.live_count() / 8)) {
    std::unique_lock<std::shared_mutex> reclaim(reclaim_mutex);
    idx.Reclaim();
  }
  std::vector<Slot> slots;
  AUGUR_RETURN_IF_ERROR(idx.AllocateSlots(n, &slots));
  std::vector<Slot> replaced;
  try {
    std::unique_lock<std::shared_mutex> lock(map_mutex);
    id_kind = ids.is_string() ? IdKind::kString : IdKind::kInt;
    GrowSlotArraysLocked(idx.slot_end());
    for (size_t i = 0; i < n; ++i) {
      const Slot s = slots[i];
      if (ids.is_string()) slot_str_id[s] = ids.strings()[i];
      else slot_int_id[s] = ids.ints()[i];
      SetMetadataLocked(s, metadata.empty() ? Metadata{} : metadata[i]);
    }
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted("out of memory storing ids and metadata");
  }
  const size_t stride = vectors.row_stride == 0 ? vectors.dim : vectors.row_stride;
  idx.Insert(slots, vectors.data, stride, pool.get(), threads());
  {
    // Publish the batch and retire replaced slots in one step, so a concurrent search sees
    // each record either old or new, never both and never neither.
    std::unique_lock<std::shared_mutex> lock(map_mutex);
    for (size_t i = 0; i < n; ++i) {
      const Slot s = slots[i];
      if (std::optional<Slot> old = FindLocked(ids, i)) {
        replaced.push_back(*old);
        SetUsedLocked(*old, false);
        SetMetadataLocked(*old, Metadata{});
      }
      if (ids.is_string()) str_to_slot[ids.strings()[i]] = s;
      else int_to_slot[ids.ints()[i]] = s;
      SetUsedLocked(s, true);
    }
    idx.Publish(slots);  // first: the entry point may move from a replaced node to a new one
    idx.Tombstone(replaced);
  }
  if (!replaced.empty()) idx.RepairDeleted(pool.get(), threads());
  return Status::OK();
}

void Impl::SetUsedLocked(Slot slot, bool used) {
  slot_used[slot] = used ? 1 : 0;
  if (used) {
    used_bits.Set(slot);
  } else {
    used_bits.Reset(slot);
  }
}

void Impl::SetMetadataLocked(Slot slot, Metadata metadata) {
  if (metadata.empty()) {
    if (!slot_metadata[slot].empty()) columns.Clear(slot);
  } else {
    columns.Set(slot, metadata);
  }
  slot_metadata[slot] = std::move(metadata);
}

void Impl::GrowSlotArraysLocked(size_t end) {
  if (slot_used.size() >= end) return;
  const size_t grow = std::max(end, slot_used.size() * 3 / 2);
  slot_used.resize(grow, 0);
  slot_metadata.resize(grow);
  if (id_kind == IdKind::kString) {
    slot_str_id.resize(grow);
  } else {
    slot_int_id.resize(grow);
  }
  used_bits.Resize(grow);  // clears: rebuilt from slot_used
  for (size_t s = 0; s < end; ++s) {
    if (slot_used[s]) used_bits.Set(static_cast<Slot>(s));
  }
}

Status Impl::PrepareFilter(std::string_view where, filter::Bitset* matches,
                           index::SlotFilter* slot_filter) const {
  if (where.empty()) return Status::OK();
  {
    std::shared_lock<std::shared_mutex> lock(map_mutex);
    AUGUR_RETURN_IF_ERROR(MatchLocked(where, matches));
  }
  *slot_filter = {matches->words().data(), matches->size(), matches->Count()};
  return Status::OK();
}

Status Impl::MatchLocked(std::string_view where, filter::Bitset* out) const {
  AUGUR_ASSIGN_OR_RETURN(std::shared_ptr<const filter::FilterPlan> plan, filter::Parse(where));
  columns.Evaluate(*plan, used_bits, slot_used.size(), out);
  return Status::OK();
}

Status Impl::CheckWritable() const {
  if (closed) return Status::InvalidArgument("the collection is closed");
  if (options.read_only) {
    return Status::NotSupported("the database " + dir + " was opened read-only; open it for "
                                "writing (Python: mode=\"w\") in one process at a time");
  }
  return poisoned;
}

size_t Impl::DeleteRows(const IdsView& ids) {
  std::vector<Slot> slots;
  {
    std::unique_lock<std::shared_mutex> map_lock(map_mutex);
    for (size_t i = 0; i < ids.size(); ++i) {
      std::optional<Slot> slot = FindLocked(ids, i);
      if (!slot) continue;
      slots.push_back(*slot);
      SetUsedLocked(*slot, false);
      SetMetadataLocked(*slot, Metadata{});
      if (ids.is_string()) str_to_slot.erase(ids.strings()[i]);
      else int_to_slot.erase(ids.ints()[i]);
    }
    if (!slots.empty()) index_owner->Tombstone(slots);  // invisible from now on
  }
  if (!slots.empty()) index_owner->RepairDeleted(pool.get(), threads());
  return slots.size();
}

namespace {

Status CheckRange(const char* name, size_t value, size_t lo, size_t hi) {
  if (value != 0 && (value < lo || value > hi)) {
    return Status::InvalidArgument(std::string(name) + " must be in " + std::to_string(lo) + ".." +
                                   std::to_string(hi) + ", got " + std::to_string(value));
  }
  return Status::OK();
}

}  // namespace

Result<std::unique_ptr<Collection>> Collection::Open(const CollectionOptions& options) {
  return Impl::Open(options, storage::Env::Default());
}

Result<std::unique_ptr<Collection>> TEST_OpenCollection(const CollectionOptions& options,
                                                        storage::Env* env) {
  return Collection::Impl::Open(options, env);
}

Result<std::unique_ptr<Collection>> Impl::Open(const CollectionOptions& options, storage::Env* env) {
  AUGUR_RETURN_IF_ERROR(CheckRange("dim", options.dim, 1, 65536));
  AUGUR_RETURN_IF_ERROR(CheckRange("m", options.m, 2, 512));
  AUGUR_RETURN_IF_ERROR(CheckRange("ef_construction", options.ef_construction, 1, 100000));
  AUGUR_RETURN_IF_ERROR(CheckRange("ef_search", options.ef_search, 1, 100000));
  AUGUR_RETURN_IF_ERROR(CheckRange("threads", options.threads, 1, 1024));
  if (options.durability > Durability::kNone) {
    return Status::InvalidArgument("unknown durability level");
  }
  if (options.read_only && options.path.empty()) {
    return Status::InvalidArgument("read_only needs a path: an in-memory collection is new");
  }
  if (options.vectors_on_disk && options.path.empty()) {
    return Status::InvalidArgument("vectors_on_disk needs a path: vectors are served from its checkpoints");
  }
  if (options.vectors_on_disk && options.quantization == Quantization::kNone) {
    return Status::InvalidArgument("vectors_on_disk needs quantization 'sq8' or 'sq4'");
  }
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
      if (!impl->options.metric) impl->options.metric = Metric::kL2;
      if (!impl->options.quantization) impl->options.quantization = Quantization::kNone;
      if (impl->options.m == 0) impl->options.m = 16;
      if (impl->options.ef_construction == 0) impl->options.ef_construction = 200;
      if (impl->options.ef_search == 0) impl->options.ef_search = 64;
      if (options.dim != 0) AUGUR_RETURN_IF_ERROR(impl->EnsureIndex(options.dim));
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

Status Collection::Add(const IdsView& ids, const MatrixView& vectors,
                       std::span<const Metadata> metadata) {
  std::shared_ptr<storage::WalWriter> log;
  uint64_t end = 0;
  {
    std::lock_guard<std::mutex> lock(impl_->write_mutex);
    AUGUR_RETURN_IF_ERROR(impl_->CheckWritable());
    AUGUR_RETURN_IF_ERROR(impl_->CheckBatch(ids, vectors, metadata));
    for (size_t i = 0; i < ids.size(); ++i) {
      if (impl_->FindLocked(ids, i)) {  // writers are serialised, so reading the maps is safe
        return Status::AlreadyExists("id " + IdToString(ids, i) +
                                     " already exists; use upsert to replace it");
      }
    }
    AUGUR_RETURN_IF_ERROR(impl_->LogPut(ids, vectors, metadata, &end));
    AUGUR_RETURN_IF_ERROR(impl_->InsertRows(ids, vectors, metadata));
    log = impl_->wal;
  }
  return impl_->AfterWrite(log, end);
}

Status Collection::Upsert(const IdsView& ids, const MatrixView& vectors,
                          std::span<const Metadata> metadata) {
  std::shared_ptr<storage::WalWriter> log;
  uint64_t end = 0;
  {
    std::lock_guard<std::mutex> lock(impl_->write_mutex);
    AUGUR_RETURN_IF_ERROR(impl_->CheckWritable());
    AUGUR_RETURN_IF_ERROR(impl_->CheckBatch(ids, vectors, metadata));
    AUGUR_RETURN_IF_ERROR(impl_->LogPut(ids, vectors, metadata, &end));
    AUGUR_RETURN_IF_ERROR(impl_->InsertRows(ids, vectors, metadata));
    log = impl_->wal;
  }
  return impl_->AfterWrite(log, end);
}

Result<size_t> Collection::Delete(const IdsView& ids) {
  std::shared_ptr<storage::WalWriter> log;
  uint64_t end = 0;
  size_t removed = 0;
  {
    std::lock_guard<std::mutex> lock(impl_->write_mutex);
    AUGUR_RETURN_IF_ERROR(impl_->CheckWritable());
    AUGUR_RETURN_IF_ERROR(impl_->CheckIds(ids));
    bool any = false;
    {
      std::shared_lock<std::shared_mutex> map_lock(impl_->map_mutex);
      for (size_t i = 0; i < ids.size() && !any; ++i) any = impl_->FindLocked(ids, i).has_value();
    }
    if (!any) return size_t{0};
    AUGUR_RETURN_IF_ERROR(impl_->LogDelete(ids, &end));
    removed = impl_->DeleteRows(ids);
    log = impl_->wal;
  }
  AUGUR_RETURN_IF_ERROR(impl_->AfterWrite(log, end));
  return removed;
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

Status Collection::Checkpoint() {
  std::lock_guard<std::mutex> lock(impl_->write_mutex);
  AUGUR_RETURN_IF_ERROR(impl_->CheckWritable());
  return impl_->persistent() ? impl_->CheckpointLocked() : Status::OK();
}

Status Collection::Close() {
  std::lock_guard<std::mutex> lock(impl_->write_mutex);
  if (impl_->closed) return Status::OK();
  return impl_->CloseLocked();
}

bool Collection::read_only() const { return impl_->options.read_only; }
const std::string& Collection::path() const { return impl_->dir; }

Result<std::vector<std::optional<Record>>> Collection::Get(const IdsView& ids) const {
  if (impl_->closed.load()) return Status::InvalidArgument("the collection is closed");
  std::vector<std::optional<Record>> out(ids.size());
  std::shared_lock<std::shared_mutex> lock(impl_->map_mutex);
  if (impl_->id_kind != IdKind::kUnset) AUGUR_RETURN_IF_ERROR(impl_->CheckIds(ids));
  const HnswIndex* idx = impl_->index.load(std::memory_order_acquire);
  for (size_t i = 0; i < ids.size(); ++i) {
    std::optional<Slot> slot = impl_->FindLocked(ids, i);
    if (!slot) continue;
    std::vector<float> v(idx->dim());
    idx->CopyVector(*slot, v.data());
    out[i] = Record{impl_->IdOfLocked(*slot), std::move(v), impl_->slot_metadata[*slot]};
  }
  return out;
}

Result<std::vector<Hit>> Collection::Search(std::span<const float> query,
                                            const SearchOptions& options) const {
  if (impl_->closed.load()) return Status::InvalidArgument("the collection is closed");
  if (options.k == 0) return Status::InvalidArgument("k must be >= 1");
  const HnswIndex* idx = impl_->index.load(std::memory_order_acquire);
  const size_t d = impl_->dim.load();
  MatrixView view{query.data(), 1, query.size(), 0};
  AUGUR_RETURN_IF_ERROR(db::CheckVectors(view, d, *impl_->options.metric, "query"));
  std::vector<Hit> hits;
  if (idx == nullptr) return hits;
  filter::Bitset matches;
  index::SlotFilter slot_filter;
  AUGUR_RETURN_IF_ERROR(impl_->PrepareFilter(options.filter, &matches, &slot_filter));
  index::SearchParams params;
  // Results never outnumber the records: a huge k must not size the search's buffers.
  params.k = std::min(options.k, std::max<size_t>(idx->live_count(), 1));
  params.ef = EffectiveEf(options, impl_->options.ef_search);
  params.rerank = options.rerank != 0 ? options.rerank : impl_->options.rerank;
  try {
    std::shared_lock<std::shared_mutex> no_reuse(impl_->reclaim_mutex);
    std::vector<Neighbor> found(params.k);
    found.resize(idx->Search(query.data(), params, found.data(), nullptr,
                             options.filter.empty() ? nullptr : &slot_filter));
    std::shared_lock<std::shared_mutex> lock(impl_->map_mutex);
    hits.reserve(found.size());
    for (const Neighbor& nb : found) {
      if (nb.slot < impl_->slot_used.size() && impl_->slot_used[nb.slot]) {
        hits.push_back(Hit{impl_->IdOfLocked(nb.slot), nb.distance,
                           options.include_metadata ? impl_->slot_metadata[nb.slot] : Metadata{}});
      }
    }
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted("out of memory searching with k=" + std::to_string(options.k));
  }
  return hits;
}

Result<BatchResults> Collection::SearchBatch(const MatrixView& queries,
                                             const SearchOptions& options) const {
  if (impl_->closed.load()) return Status::InvalidArgument("the collection is closed");
  if (options.k == 0) return Status::InvalidArgument("k must be >= 1");
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
  filter::Bitset matches;
  index::SlotFilter slot_filter;
  AUGUR_RETURN_IF_ERROR(impl_->PrepareFilter(options.filter, &matches, &slot_filter));
  const index::SlotFilter* filter_ptr = options.filter.empty() ? nullptr : &slot_filter;
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
    const bool strings = impl_->id_kind == IdKind::kString;
    if (strings) {
      out.string_ids.resize(rows * k);
    } else {
      out.int_ids.assign(rows * k, -1);
    }
    for (size_t q = 0; q < rows; ++q) {
      size_t w = q * k;  // compact skipped (concurrently deleted) slots to the front
      for (size_t j = 0; j < k_eff; ++j) {
        const Neighbor nb = found[q * k_eff + j];
        if (nb.slot == index::kInvalidSlot || nb.slot >= impl_->slot_used.size() ||
            !impl_->slot_used[nb.slot]) {
          continue;
        }
        out.distances[w] = nb.distance;
        if (strings) out.string_ids[w] = impl_->slot_str_id[nb.slot];
        else out.int_ids[w] = impl_->slot_int_id[nb.slot];
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
  if (impl_->closed.load()) return Status::InvalidArgument("the collection is closed");
  std::shared_lock<std::shared_mutex> lock(impl_->map_mutex);
  if (filter.empty()) return impl_->int_to_slot.size() + impl_->str_to_slot.size();
  filter::Bitset matches;
  AUGUR_RETURN_IF_ERROR(impl_->MatchLocked(filter, &matches));
  return matches.Count();
}

Result<std::vector<Record>> Collection::Find(std::string_view filter, size_t limit) const {
  if (impl_->closed.load()) return Status::InvalidArgument("the collection is closed");
  std::vector<Record> out;
  std::shared_lock<std::shared_mutex> lock(impl_->map_mutex);
  filter::Bitset matches;
  if (filter.empty()) {
    matches = impl_->used_bits;
  } else {
    AUGUR_RETURN_IF_ERROR(impl_->MatchLocked(filter, &matches));
  }
  const HnswIndex* idx = impl_->index.load(std::memory_order_acquire);
  for (size_t s = 0; s < matches.size() && (limit == 0 || out.size() < limit); ++s) {
    if (!matches.Test(static_cast<Slot>(s)) || !impl_->slot_used[s]) continue;
    std::vector<float> v(idx->dim());
    idx->CopyVector(static_cast<Slot>(s), v.data());
    out.push_back(Record{impl_->IdOfLocked(static_cast<Slot>(s)), std::move(v),
                         impl_->slot_metadata[s]});
  }
  return out;
}

Result<size_t> Collection::DeleteWhere(std::string_view filter) {
  std::shared_ptr<storage::WalWriter> log;
  uint64_t end = 0;
  size_t removed = 0;
  {
    std::lock_guard<std::mutex> lock(impl_->write_mutex);
    AUGUR_RETURN_IF_ERROR(impl_->CheckWritable());
    std::vector<int64_t> int_ids;
    std::vector<std::string> str_ids;
    {
      std::shared_lock<std::shared_mutex> map_lock(impl_->map_mutex);
      filter::Bitset matches;
      AUGUR_RETURN_IF_ERROR(impl_->MatchLocked(filter, &matches));
      for (size_t s = 0; s < matches.size(); ++s) {
        if (!matches.Test(static_cast<Slot>(s))) continue;
        if (impl_->id_kind == IdKind::kString) str_ids.push_back(impl_->slot_str_id[s]);
        else int_ids.push_back(impl_->slot_int_id[s]);
      }
    }
    if (int_ids.empty() && str_ids.empty()) return size_t{0};
    // Logged as the ids it resolved to, so replay cannot depend on the filter code.
    const IdsView ids = impl_->id_kind == IdKind::kString ? IdsView::Strings(str_ids)
                                                           : IdsView::Ints(int_ids);
    AUGUR_RETURN_IF_ERROR(impl_->LogDelete(ids, &end));
    removed = impl_->DeleteRows(ids);
    log = impl_->wal;
  }
  AUGUR_RETURN_IF_ERROR(impl_->AfterWrite(log, end));
  return removed;
}

Result<VerifyReport> Collection::Verify() const {
  if (impl_->closed.load()) return Status::InvalidArgument("the collection is closed");
  std::lock_guard<std::mutex> writers(impl_->write_mutex);  // a stable state, searches go on
  VerifyReport report;
  const HnswIndex* idx = impl_->index.load(std::memory_order_acquire);
  if (idx != nullptr) {
    Status graph = idx->CheckInvariants(&report.graph_links);
    if (!graph.ok()) return Status::Corruption("graph: " + graph.message());
  }
  {
    std::shared_lock<std::shared_mutex> lock(impl_->map_mutex);
    const size_t map_size = impl_->int_to_slot.size() + impl_->str_to_slot.size();
    size_t used = 0;
    for (size_t s = 0; s < impl_->slot_used.size(); ++s) {
      const Slot slot = static_cast<Slot>(s);
      const bool live = idx != nullptr && s < idx->slot_end() &&
                        idx->state(slot) == HnswIndex::SlotState::kLive;
      if (!impl_->slot_used[s]) {
        if (live) return Status::Corruption("slot " + std::to_string(s) + " is live but has no id");
        if (!impl_->slot_metadata[s].empty()) {
          return Status::Corruption("slot " + std::to_string(s) + " has metadata but no record");
        }
        if (impl_->used_bits.Test(slot)) {
          return Status::Corruption("slot " + std::to_string(s) + " is eligible for filters but unused");
        }
        continue;
      }
      ++used;
      if (!live) return Status::Corruption("slot " + std::to_string(s) + " has an id but is not live");
      if (!impl_->used_bits.Test(slot)) {
        return Status::Corruption("slot " + std::to_string(s) + " is missing from the filter set");
      }
      const bool maps_back =
          impl_->id_kind == IdKind::kString
              ? impl_->str_to_slot.count(impl_->slot_str_id[s]) &&
                    impl_->str_to_slot.at(impl_->slot_str_id[s]) == slot
              : impl_->int_to_slot.count(impl_->slot_int_id[s]) &&
                    impl_->int_to_slot.at(impl_->slot_int_id[s]) == slot;
      if (!maps_back) {
        return Status::Corruption("slot " + std::to_string(s) + "'s id does not map back to it");
      }
    }
    if (used != map_size) {
      return Status::Corruption(std::to_string(map_size) + " ids but " + std::to_string(used) +
                                " used slots");
    }
    report.records = used;
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
  }
  return Status::OK();
}

bool Collection::Contains(const Id& id) const {
  std::shared_lock<std::shared_mutex> lock(impl_->map_mutex);
  if (const int64_t* i = std::get_if<int64_t>(&id)) return impl_->int_to_slot.count(*i) != 0;
  return impl_->str_to_slot.count(std::get<std::string>(id)) != 0;
}

size_t Collection::size() const {
  std::shared_lock<std::shared_mutex> lock(impl_->map_mutex);
  return impl_->int_to_slot.size() + impl_->str_to_slot.size();
}

size_t Collection::dim() const { return impl_->dim.load(); }
Metric Collection::metric() const { return *impl_->options.metric; }

IdKind Collection::id_kind() const {
  std::shared_lock<std::shared_mutex> lock(impl_->map_mutex);
  return impl_->id_kind;
}

std::vector<Id> Collection::Ids() const {
  std::shared_lock<std::shared_mutex> lock(impl_->map_mutex);
  std::vector<Id> ids;
  ids.reserve(impl_->int_to_slot.size() + impl_->str_to_slot.size());
  for (size_t s = 0; s < impl_->slot_used.size(); ++s) {
    if (impl_->slot_used[s]) ids.push_back(impl_->IdOfLocked(static_cast<Slot>(s)));
  }
  return ids;
}

CollectionStats Collection::Stats() const {
  CollectionStats st;
  const HnswIndex* idx = impl_->index.load(std::memory_order_acquire);
  std::shared_lock<std::shared_mutex> lock(impl_->map_mutex);
  st.count = impl_->int_to_slot.size() + impl_->str_to_slot.size();
  st.dim = impl_->dim.load();
  st.metric = *impl_->options.metric;
  st.m = impl_->options.m;
  st.ef_construction = impl_->options.ef_construction;
  st.ef_search = impl_->options.ef_search;
  st.threads = impl_->threads();
  st.simd = std::string(simd::SimdLevelName(impl_->kernels.level));
  st.id_kind = impl_->id_kind;
  st.quantization = *impl_->options.quantization;
  if (idx != nullptr) {
    st.index_bytes = idx->MemoryBytes();
    st.deleted = idx->deleted_count();
  }
  // Hash-map nodes: key + slot + next pointer + cached hash, plus one bucket pointer each.
  size_t ids_bytes = impl_->int_to_slot.size() * (sizeof(int64_t) + 3 * sizeof(void*)) +
                     impl_->int_to_slot.bucket_count() * sizeof(void*) +
                     impl_->slot_int_id.capacity() * sizeof(int64_t);
  ids_bytes += impl_->str_to_slot.size() * (sizeof(std::string) + 3 * sizeof(void*)) +
               impl_->str_to_slot.bucket_count() * sizeof(void*);
  for (const std::string& s : impl_->slot_str_id) {
    ids_bytes += sizeof(std::string) + (s.capacity() > 15 ? 2 * (s.capacity() + 1) : 0);
  }
  size_t meta_bytes = impl_->slot_metadata.capacity() * sizeof(Metadata) +
                      impl_->slot_used.capacity();
  for (const Metadata& m : impl_->slot_metadata) {
    for (const auto& [key, value] : m) meta_bytes += 48 + key.capacity() + value.MemoryBytes();
  }
  st.memory_bytes = st.index_bytes + ids_bytes + meta_bytes;
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
