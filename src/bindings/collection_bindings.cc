// Binds augurdb::Collection as augurdb._core.Collection. Converts and forwards only: arrays are
// read in place (float32, C-contiguous, .noconvert(): the Python wrapper converts other input
// once, explicitly), results are handed to NumPy without copies, and the GIL is released for
// all engine work.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/map.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include <augurdb/collection.h>

#include "bindings/convert.h"
#include "db/collection_options.h"
#include "db/fusion.h"

namespace augurdb::bindings {
namespace {

using FloatMatrix = nb::ndarray<const float, nb::ndim<2>, nb::c_contig, nb::device::cpu>;
using FloatVector = nb::ndarray<const float, nb::ndim<1>, nb::c_contig, nb::device::cpu>;
using IntIds = nb::ndarray<const int64_t, nb::ndim<1>, nb::c_contig, nb::device::cpu>;

MatrixView View(const FloatMatrix& m) {
  return MatrixView{m.data(), m.shape(0), m.shape(1), 0};
}

// Moves a vector to the heap and wraps it as a NumPy array that owns it (no copy).
template <typename T>
nb::ndarray<nb::numpy, T> ToNumpy(std::vector<T>&& values, size_t rows, size_t cols) {
  auto* owned = new std::vector<T>(std::move(values));  // owned by the capsule below
  nb::capsule owner(owned, [](void* p) noexcept { delete static_cast<std::vector<T>*>(p); });
  const size_t shape[2] = {rows, cols};
  return nb::ndarray<nb::numpy, T>(owned->data(), 2, shape, owner);
}

std::vector<Metadata> MetadataList(nb::handle metadata, size_t rows) {
  std::vector<Metadata> out;
  if (metadata.is_none()) return out;
  const size_t n = nb::len(metadata);
  if (n != rows) {
    throw StatusError{Status::InvalidArgument(std::to_string(rows) + " ids but " +
                                              std::to_string(n) + " metadata entries")};
  }
  out.reserve(n);
  size_t row = 0;
  for (nb::handle item : metadata) out.push_back(MetadataFromPython(item, row++));
  return out;
}

// list[str | None] -> one optional document per row (the wrapper checked the types; a str
// that is not valid Unicode is refused here too).
std::vector<std::optional<std::string>> DocumentList(nb::handle documents, size_t rows) {
  std::vector<std::optional<std::string>> out;
  if (documents.is_none()) return out;
  const size_t n = nb::len(documents);
  if (n != rows) {
    throw StatusError{Status::InvalidArgument(std::to_string(rows) + " ids but " +
                                              std::to_string(n) + " documents")};
  }
  out.reserve(n);
  size_t row = 0;
  for (nb::handle item : documents) {
    if (item.is_none()) {
      out.emplace_back();
    } else if (PyUnicode_Check(item.ptr())) {
      Py_ssize_t size = 0;
      const char* data = PyUnicode_AsUTF8AndSize(item.ptr(), &size);
      if (data == nullptr) {
        PyErr_Clear();
        throw StatusError{Status::InvalidArgument(
            "documents[" + std::to_string(row) + "] is not valid Unicode (lone surrogate?)")};
      }
      out.emplace_back(std::string(data, static_cast<size_t>(size)));
    } else {
      throw StatusError{Status::InvalidArgument("documents[" + std::to_string(row) +
                                                "] must be str or None, not " +
                                                nb::type_name(item.type()).c_str())};
    }
    ++row;
  }
  return out;
}

nb::object OptionalStr(const std::optional<std::string>& s) {
  return s ? nb::object(nb::str(s->data(), s->size())) : nb::none();
}

struct Hit {
  nb::object id;
  float distance;
  nb::dict metadata;
  double score;
  double text_score;
  nb::object document;
};

struct Record {
  nb::object id;
  nb::object vector;
  nb::dict metadata;
  nb::object document;
};

template <typename IdsT>
void Write(Collection& c, const IdsView& ids, const FloatMatrix& vectors, nb::handle metadata,
           nb::handle documents, bool upsert) {
  std::vector<Metadata> meta = MetadataList(metadata, ids.size());
  std::vector<std::optional<std::string>> docs = DocumentList(documents, ids.size());
  Status status;
  {
    nb::gil_scoped_release release;
    status = upsert ? c.Upsert(ids, View(vectors), meta, docs)
                    : c.Add(ids, View(vectors), meta, docs);
  }
  ThrowIfError(std::move(status));
}

// Text statistics cross the boundary as (doc_count, total_length, {term: doc_freq}).
using TextStatsTuple = std::tuple<uint64_t, uint64_t, std::map<std::string, uint64_t>>;

std::shared_ptr<const TextStats> ToTextStats(std::optional<TextStatsTuple> given) {
  if (!given) return nullptr;
  auto stats = std::make_shared<TextStats>();
  stats->doc_count = std::get<0>(*given);
  stats->total_length = std::get<1>(*given);
  for (auto& [term, df] : std::get<2>(*given)) stats->doc_freqs.emplace(term, df);
  return stats;
}

// The per-call search options the Python wrapper passes, in one place for every search entry.
SearchOptions MakeSearchOptions(size_t k, size_t ef, size_t threads, size_t rerank,
                                std::string where, std::string where_document,
                                const std::string& fusion, double rrf_k, double alpha,
                                size_t candidates,
                                std::optional<TextStatsTuple> text_stats = std::nullopt) {
  SearchOptions o;
  o.k = k;
  o.ef = ef;
  o.threads = threads;
  o.rerank = rerank;
  o.include_metadata = true;
  o.include_documents = true;
  o.filter = std::move(where);
  o.where_document = std::move(where_document);
  ThrowIfError(db::SetFusion(fusion, &o));
  o.rrf_k = rrf_k;
  o.alpha = alpha;
  o.candidates = candidates;
  o.text_stats = ToTextStats(std::move(text_stats));
  return o;
}

nb::list HitList(const std::vector<augurdb::Hit>& hits) {
  nb::list out;
  for (const augurdb::Hit& h : hits) {
    out.append(Hit{IdToPython(h.id), h.distance, MetadataToPython(h.metadata), h.score,
                   h.text_score, OptionalStr(h.document)});
  }
  return out;
}

// BatchResults -> (ids, distances[, scores]): int64 / float32 / float64 arrays (string ids: a
// list), scores only for a search with texts.
nb::tuple BatchTuple(const Collection& c, BatchResults&& r, bool with_scores) {
  nb::object distances = ToNumpy(std::move(r.distances), r.rows, r.k).cast();
  nb::object ids;
  if (c.id_kind() == IdKind::kString) {
    nb::list list;
    for (auto& s : r.string_ids) list.append(OptionalStr(s));
    ids = list;
  } else {
    if (r.int_ids.empty()) r.int_ids.assign(r.rows * r.k, -1);
    ids = ToNumpy(std::move(r.int_ids), r.rows, r.k).cast();
  }
  if (!with_scores) return nb::make_tuple(ids, distances);
  return nb::make_tuple(ids, distances, ToNumpy(std::move(r.scores), r.rows, r.k).cast());
}

nb::list GetRecords(const Collection& c, const IdsView& ids) {
  std::vector<std::optional<augurdb::Record>> records;
  {
    nb::gil_scoped_release release;
    records = ValueOrThrow(c.Get(ids));
  }
  nb::list out;
  for (auto& r : records) {
    if (!r) {
      out.append(nb::none());
      continue;
    }
    const size_t d = r->vector.size();
    auto array = ToNumpy(std::move(r->vector), 1, d);
    out.append(Record{IdToPython(r->id), array.cast().attr("reshape")(d),
                      MetadataToPython(r->metadata), OptionalStr(r->document)});
  }
  return out;
}

nb::dict StatsDict(const CollectionStats& s) {
  nb::dict d;
  d["count"] = s.count;
  d["dim"] = s.dim;
  d["metric"] = std::string(MetricName(s.metric));
  d["memory_bytes"] = s.memory_bytes;
  d["index_bytes"] = s.index_bytes;
  d["mapped_vector_bytes"] = s.mapped_vector_bytes;
  d["deleted"] = s.deleted;
  d["capacity"] = s.capacity;
  d["m"] = s.m;
  d["ef_construction"] = s.ef_construction;
  d["ef_search"] = s.ef_search;
  d["threads"] = s.threads;
  d["simd"] = s.simd;
  d["quantization"] = std::string(QuantizationName(s.quantization));
  d["wal_bytes"] = s.wal_bytes;
  d["checkpoint_bytes"] = s.checkpoint_bytes;
  d["checkpoint_sequence"] = s.checkpoint_sequence;
  d["documents"] = s.documents;
  d["text_index_bytes"] = s.text_index_bytes;
  d["tokenizer"] = s.tokenizer;
  d["id_kind"] = s.id_kind == IdKind::kInt ? nb::object(nb::str("int"))
                 : s.id_kind == IdKind::kString ? nb::object(nb::str("str"))
                                                : nb::none();
  return d;
}

// A size option: present means chosen, so it must be positive (0 is the engine's "default").
size_t PositiveSize(const char* name, nb::handle value) {
  const auto v = nb::cast<int64_t>(value);
  if (v <= 0) {
    throw StatusError{Status::InvalidArgument(std::string(name) +
                                              " must be a positive int or None, got " +
                                              std::to_string(v))};
  }
  return static_cast<size_t>(v);
}

// The size_t fields of CollectionOptions by name; nullptr for any other name.
size_t CollectionOptions::*SizeField(std::string_view name) {
  static constexpr std::pair<std::string_view, size_t CollectionOptions::*> kFields[] = {
      {"dim", &CollectionOptions::dim},
      {"m", &CollectionOptions::m},
      {"ef_construction", &CollectionOptions::ef_construction},
      {"ef_search", &CollectionOptions::ef_search},
      {"threads", &CollectionOptions::threads},
      {"rerank", &CollectionOptions::rerank},
  };
  for (const auto& [field_name, field] : kFields) {
    if (field_name == name) return field;
  }
  return nullptr;
}

// Fills CollectionOptions from keyword arguments named after its fields. Converts only: every
// check and default lives in Collection::Open (db/collection_options.h).
CollectionOptions OptionsFromKwargs(const nb::kwargs& kwargs) {
  CollectionOptions o;
  for (auto [key, value] : kwargs) {
    const std::string name = nb::cast<std::string>(key);
    if (name == "metric" || name == "quantization" || name == "durability" ||
        name == "tokenizer") {
      ThrowIfError(db::SetNamedOption(name, nb::cast<std::string>(value), &o));
    } else if (name == "path") {
      o.path = nb::cast<std::string>(value);
    } else if (name == "read_only") {
      o.read_only = nb::cast<bool>(value);
    } else if (name == "vectors_on_disk") {
      o.vectors_on_disk = nb::cast<bool>(value);
    } else if (name == "seed") {
      o.seed = nb::cast<uint64_t>(value);
    } else if (name == "checkpoint_wal_bytes") {
      o.checkpoint_wal_bytes = PositiveSize("checkpoint_wal_bytes", value);
    } else if (size_t CollectionOptions::*field = SizeField(name)) {
      o.*field = PositiveSize(name.c_str(), value);
    } else {
      throw StatusError{Status::InvalidArgument("unknown option '" + name + "'")};
    }
  }
  return o;
}

}  // namespace

void BindCollection(nb::module_& m) {
  nb::class_<Hit>(m, "Hit",
                  "One search result: id, distance (smaller is closer; NaN in a text-only "
                  "search), score (higher is better: -distance, BM25 or the fused score), "
                  "text_score (BM25, 0.0 without a matching term), metadata and document.")
      .def_ro("id", &Hit::id)
      .def_ro("distance", &Hit::distance)
      .def_ro("metadata", &Hit::metadata)
      .def_ro("score", &Hit::score)
      .def_ro("text_score", &Hit::text_score)
      .def_ro("document", &Hit::document)
      .def("__repr__", [](const Hit& h) {
        return nb::str("Hit(id={!r}, distance={}, score={}, metadata={!r})")
            .format(h.id, h.distance, h.score, h.metadata);
      });

  nb::class_<Record>(m, "Record",
                     "A stored record: id, vector (float32 array), metadata and document.")
      .def_ro("id", &Record::id)
      .def_ro("vector", &Record::vector)
      .def_ro("metadata", &Record::metadata)
      .def_ro("document", &Record::document)
      .def("__repr__", [](const Record& r) {
        return nb::str("Record(id={!r}, metadata={!r})").format(r.id, r.metadata);
      });

  nb::class_<Collection>(m, "Collection")
      .def_static(
          "open",
          [](nb::kwargs kwargs) {
            const CollectionOptions o = OptionsFromKwargs(kwargs);
            std::optional<Result<std::unique_ptr<Collection>>> opened;
            {
              nb::gil_scoped_release release;
              opened.emplace(Collection::Open(o));
            }
            return ValueOrThrow(std::move(*opened)).release();
          },
          "Opens a collection; keyword arguments name CollectionOptions fields (metric, "
          "quantization and durability by name). Absent = the field's default.",
          nb::rv_policy::take_ownership)
      .def("flush", [](Collection& c) {
        nb::gil_scoped_release release;
        ThrowIfError(c.Flush());
      })
      .def("checkpoint", [](Collection& c) {
        nb::gil_scoped_release release;
        ThrowIfError(c.Checkpoint());
      })
      .def("close", [](Collection& c) {
        nb::gil_scoped_release release;
        ThrowIfError(c.Close());
      })
      .def_prop_ro("read_only", &Collection::read_only)
      .def_prop_ro("embedding_function", &Collection::embedding_function,
                   "The stored embedding function identity (JSON text; empty = none).")
      .def("set_embedding_function", [](Collection& c, const std::string& json) {
        nb::gil_scoped_release release;
        ThrowIfError(c.SetEmbeddingFunction(json));
      })
      .def_prop_ro("path", [](const Collection& c) { return c.path(); })
      .def("add_int",
           [](Collection& c, IntIds ids, FloatMatrix vectors, nb::handle metadata,
              nb::handle documents, bool upsert) {
             Write<int64_t>(c, IdsView::Ints({ids.data(), ids.shape(0)}), vectors, metadata,
                            documents, upsert);
           },
           nb::arg("ids").noconvert(), nb::arg("vectors").noconvert(), nb::arg("metadata").none(),
           nb::arg("documents").none(), nb::arg("upsert"))
      .def("add_str",
           [](Collection& c, const std::vector<std::string>& ids, FloatMatrix vectors,
              nb::handle metadata, nb::handle documents, bool upsert) {
             Write<std::string>(c, IdsView::Strings(ids), vectors, metadata, documents, upsert);
           },
           nb::arg("ids"), nb::arg("vectors").noconvert(), nb::arg("metadata").none(),
           nb::arg("documents").none(), nb::arg("upsert"))
      .def("delete_int",
           [](Collection& c, IntIds ids) {
             nb::gil_scoped_release release;
             return ValueOrThrow(c.Delete(IdsView::Ints({ids.data(), ids.shape(0)})));
           },
           nb::arg("ids").noconvert())
      .def("delete_str",
           [](Collection& c, const std::vector<std::string>& ids) {
             nb::gil_scoped_release release;
             return ValueOrThrow(c.Delete(IdsView::Strings(ids)));
           })
      .def("get_int",
           [](const Collection& c, IntIds ids) {
             return GetRecords(c, IdsView::Ints({ids.data(), ids.shape(0)}));
           },
           nb::arg("ids").noconvert())
      .def("get_str", [](const Collection& c, const std::vector<std::string>& ids) {
        return GetRecords(c, IdsView::Strings(ids));
      })
      .def("search",
           [](const Collection& c, FloatVector query, size_t k, size_t ef, size_t rerank,
              std::string where, std::optional<std::string> text, std::string where_document,
              const std::string& fusion, double rrf_k, double alpha, size_t candidates,
              std::optional<TextStatsTuple> text_stats) {
             SearchOptions o = MakeSearchOptions(k, ef, 0, rerank, std::move(where),
                                                 std::move(where_document), fusion, rrf_k, alpha,
                                                 candidates, std::move(text_stats));
             o.text = std::move(text);
             std::vector<augurdb::Hit> hits;
             {
               nb::gil_scoped_release release;
               hits = ValueOrThrow(c.Search({query.data(), query.shape(0)}, o));
             }
             return HitList(hits);
           },
           nb::arg("query").noconvert(), nb::arg("k"), nb::arg("ef"), nb::arg("rerank"),
           nb::arg("where"), nb::arg("text").none(), nb::arg("where_document"),
           nb::arg("fusion"), nb::arg("rrf_k"), nb::arg("alpha"), nb::arg("candidates"),
           nb::arg("text_stats").none())
      .def("search_text",
           [](const Collection& c, const std::string& text, size_t k, std::string where,
              std::string where_document, std::optional<TextStatsTuple> text_stats) {
             const SearchOptions o =
                 MakeSearchOptions(k, 0, 0, 0, std::move(where), std::move(where_document), "rrf",
                                   60.0, 0.5, 0, std::move(text_stats));
             std::vector<augurdb::Hit> hits;
             {
               nb::gil_scoped_release release;
               hits = ValueOrThrow(c.SearchText(text, o));
             }
             return HitList(hits);
           },
           nb::arg("text"), nb::arg("k"), nb::arg("where"), nb::arg("where_document"),
           nb::arg("text_stats").none())
      .def("search_batch",
           [](const Collection& c, FloatMatrix queries, size_t k, size_t ef, size_t threads,
              size_t rerank, std::string where) {
             BatchResults r;
             {
               nb::gil_scoped_release release;
               r = ValueOrThrow(c.SearchBatch(
                   View(queries), SearchOptions{k, ef, threads, rerank, false, std::move(where)}));
             }
             return BatchTuple(c, std::move(r), false);
           },
           nb::arg("queries").noconvert(), nb::arg("k"), nb::arg("ef"), nb::arg("threads"),
           nb::arg("rerank"), nb::arg("where"))
      .def("search_batch_text",
           [](const Collection& c, std::optional<FloatMatrix> queries,
              const std::vector<std::string>& texts, size_t k, size_t ef, size_t threads,
              size_t rerank, std::string where, std::string where_document,
              const std::string& fusion, double rrf_k, double alpha, size_t candidates,
              std::optional<TextStatsTuple> text_stats) {
             const SearchOptions o = MakeSearchOptions(
                 k, ef, threads, rerank, std::move(where), std::move(where_document), fusion,
                 rrf_k, alpha, candidates, std::move(text_stats));
             const MatrixView view = queries ? View(*queries) : MatrixView{};
             BatchResults r;
             {
               nb::gil_scoped_release release;
               r = ValueOrThrow(c.SearchBatch(view, o, texts));
             }
             return BatchTuple(c, std::move(r), true);
           },
           nb::arg("queries").noconvert().none(), nb::arg("texts"), nb::arg("k"), nb::arg("ef"),
           nb::arg("threads"), nb::arg("rerank"), nb::arg("where"), nb::arg("where_document"),
           nb::arg("fusion"), nb::arg("rrf_k"), nb::arg("alpha"), nb::arg("candidates"),
           nb::arg("text_stats").none())
      .def("metadata_int",
           [](const Collection& c, IntIds ids) {
             std::vector<std::optional<augurdb::Record>> records;
             {
               nb::gil_scoped_release release;
               records = ValueOrThrow(c.Get(IdsView::Ints({ids.data(), ids.shape(0)})));
             }
             nb::list out;
             for (auto& r : records) out.append(r ? MetadataToPython(r->metadata) : nb::dict());
             return out;
           },
           nb::arg("ids").noconvert())
      .def("metadata_str",
           [](const Collection& c, const std::vector<std::string>& ids) {
             std::vector<std::optional<augurdb::Record>> records;
             {
               nb::gil_scoped_release release;
               records = ValueOrThrow(c.Get(IdsView::Strings(ids)));
             }
             nb::list out;
             for (auto& r : records) out.append(r ? MetadataToPython(r->metadata) : nb::dict());
             return out;
           })
      .def("count",
           [](const Collection& c, const std::string& where) {
             nb::gil_scoped_release release;
             return ValueOrThrow(c.Count(where));
           })
      .def("delete_where",
           [](Collection& c, const std::string& where) {
             nb::gil_scoped_release release;
             return ValueOrThrow(c.DeleteWhere(where));
           })
      .def("find",
           [](const Collection& c, const std::string& where, size_t limit) {
             std::vector<augurdb::Record> records;
             {
               nb::gil_scoped_release release;
               records = ValueOrThrow(c.Find(where, limit));
             }
             nb::list out;
             for (auto& r : records) {
               const size_t d = r.vector.size();
               auto array = ToNumpy(std::move(r.vector), 1, d);
               out.append(Record{IdToPython(r.id), array.cast().attr("reshape")(d),
                                 MetadataToPython(r.metadata), OptionalStr(r.document)});
             }
             return out;
           })
      .def("verify",
           [](const Collection& c) {
             VerifyReport r;
             {
               nb::gil_scoped_release release;
               r = ValueOrThrow(c.Verify());
             }
             nb::dict d;
             d["records"] = r.records;
             d["graph_links"] = r.graph_links;
             d["checkpoint_bytes"] = r.checkpoint_bytes;
             d["wal_records"] = r.wal_records;
             d["documents"] = r.documents;
             return d;
           })
      .def("contains_int", [](const Collection& c, int64_t id) { return c.Contains(Id(id)); })
      .def("contains_str", [](const Collection& c, const std::string& id) { return c.Contains(Id(id)); })
      .def("compact", [](Collection& c) {
        nb::gil_scoped_release release;
        ThrowIfError(c.Compact());
      })
      .def("reserve", [](Collection& c, size_t capacity) {
        nb::gil_scoped_release release;
        ThrowIfError(c.Reserve(capacity));
      })
      .def("ids", [](const Collection& c) {
        nb::list out;
        for (const Id& id : c.Ids()) out.append(IdToPython(id));
        return out;
      })
      .def("__len__", &Collection::size)
      .def_prop_ro("dim", &Collection::dim)
      .def_prop_ro("metric", [](const Collection& c) { return std::string(MetricName(c.metric())); })
      .def_prop_ro("id_kind", [](const Collection& c) -> nb::object {
        switch (c.id_kind()) {
          case IdKind::kInt: return nb::str("int");
          case IdKind::kString: return nb::str("str");
          default: return nb::none();
        }
      })
      .def("text_stats",
           [](const Collection& c, const std::vector<std::string>& texts) {
             TextStats st;
             {
               nb::gil_scoped_release release;
               st = ValueOrThrow(c.TextStatistics(texts));
             }
             std::map<std::string, uint64_t> freqs(st.doc_freqs.begin(), st.doc_freqs.end());
             return TextStatsTuple(st.doc_count, st.total_length, std::move(freqs));
           },
           nb::arg("texts"))
      .def("stats", [](const Collection& c) { return StatsDict(c.Stats()); });
}

}  // namespace augurdb::bindings
