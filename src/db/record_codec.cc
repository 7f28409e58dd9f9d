#include "db/record_codec.h"

#include <cstring>

#include "text/tokenizer.h"
#include "util/coding.h"

namespace augurdb::db {
namespace {

enum Tag : uint8_t { kNull = 0, kFalse = 1, kTrue = 2, kInt = 3, kDouble = 4, kString = 5, kList = 6 };

Status Malformed(const char* what) {
  return Status::Corruption(std::string("malformed ") + what);
}

void EncodeValue(const Value& v, std::string* out) {
  if (v.is_null()) {
    out->push_back(static_cast<char>(kNull));
  } else if (v.is_bool()) {
    out->push_back(static_cast<char>(v.as_bool() ? kTrue : kFalse));
  } else if (v.is_int()) {
    out->push_back(static_cast<char>(kInt));
    PutFixed64(out, static_cast<uint64_t>(v.as_int()));
  } else if (v.is_double()) {
    out->push_back(static_cast<char>(kDouble));
    uint64_t bits;
    const double d = v.as_double();
    std::memcpy(&bits, &d, 8);
    PutFixed64(out, bits);
  } else if (v.is_string()) {
    out->push_back(static_cast<char>(kString));
    PutLengthPrefixed(out, v.as_string());
  } else {
    out->push_back(static_cast<char>(kList));
    PutFixed32(out, static_cast<uint32_t>(v.as_list().size()));
    for (const Value& item : v.as_list()) EncodeValue(item, out);
  }
}

Status DecodeValue(Decoder& d, int depth, Value* out) {
  uint8_t tag = 0;
  if (!d.GetFixed8(&tag)) return Malformed("metadata value");
  switch (tag) {
    case kNull: *out = Value(); return Status::OK();
    case kFalse: *out = Value(false); return Status::OK();
    case kTrue: *out = Value(true); return Status::OK();
    case kInt: {
      uint64_t v = 0;
      if (!d.GetFixed64(&v)) return Malformed("metadata int");
      *out = Value(static_cast<int64_t>(v));
      return Status::OK();
    }
    case kDouble: {
      uint64_t bits = 0;
      if (!d.GetFixed64(&bits)) return Malformed("metadata float");
      double v;
      std::memcpy(&v, &bits, 8);
      *out = Value(v);
      return Status::OK();
    }
    case kString: {
      std::string_view s;
      if (!d.GetLengthPrefixed(&s)) return Malformed("metadata string");
      *out = Value(std::string(s));
      return Status::OK();
    }
    case kList: {
      uint32_t n = 0;
      if (depth > 0 || !d.GetFixed32(&n) || n > d.remaining()) return Malformed("metadata list");
      Value::List list;
      list.reserve(n);
      for (uint32_t i = 0; i < n; ++i) {
        Value item;
        AUGUR_RETURN_IF_ERROR(DecodeValue(d, depth + 1, &item));
        list.push_back(std::move(item));
      }
      *out = Value(std::move(list));
      return Status::OK();
    }
    default: return Malformed("metadata tag");
  }
}

void EncodeIds(const IdsView& ids, std::string* out) {
  out->push_back(ids.is_string() ? 1 : 0);
  PutFixed32(out, static_cast<uint32_t>(ids.size()));
  if (ids.is_string()) {
    for (const std::string& s : ids.strings()) PutLengthPrefixed(out, s);
  } else {
    for (int64_t id : ids.ints()) PutFixed64(out, static_cast<uint64_t>(id));
  }
}

Status DecodeIds(Decoder& d, bool* string_ids, std::vector<int64_t>* ints,
                 std::vector<std::string>* strs) {
  uint8_t kind = 0;
  uint32_t n = 0;
  if (!d.GetFixed8(&kind) || kind > 1 || !d.GetFixed32(&n) || n > d.remaining()) {
    return Malformed("id list");
  }
  *string_ids = kind == 1;
  for (uint32_t i = 0; i < n; ++i) {
    if (*string_ids) {
      std::string_view s;
      if (!d.GetLengthPrefixed(&s)) return Malformed("string id");
      strs->emplace_back(s);
    } else {
      uint64_t v = 0;
      if (!d.GetFixed64(&v)) return Malformed("int id");
      ints->push_back(static_cast<int64_t>(v));
    }
  }
  return Status::OK();
}

}  // namespace

void EncodeMetadata(const Metadata& metadata, std::string* out) {
  PutFixed32(out, static_cast<uint32_t>(metadata.size()));
  for (const auto& [key, value] : metadata) {
    PutLengthPrefixed(out, key);
    EncodeValue(value, out);
  }
}

Status DecodeMetadata(std::string_view bytes, Metadata* out) {
  Decoder d(bytes);
  uint32_t n = 0;
  if (!d.GetFixed32(&n) || n > d.remaining()) return Malformed("metadata");
  out->clear();
  for (uint32_t i = 0; i < n; ++i) {
    std::string_view key;
    if (!d.GetLengthPrefixed(&key)) return Malformed("metadata key");
    Value v;
    AUGUR_RETURN_IF_ERROR(DecodeValue(d, 0, &v));
    out->emplace(std::string(key), std::move(v));
  }
  if (d.remaining() != 0) return Malformed("metadata (trailing bytes)");
  return Status::OK();
}

void EncodeDocument(const std::string* document, std::string* out) {
  out->push_back(document != nullptr ? 1 : 0);
  if (document != nullptr) PutLengthPrefixed(out, *document);
}

bool DecodeDocument(Decoder& d, std::optional<std::string>* out) {
  uint8_t present = 0;
  if (!d.GetFixed8(&present) || present > 1) return false;
  out->reset();
  if (present == 0) return true;
  std::string_view text;
  if (!d.GetLengthPrefixed(&text)) return false;
  out->emplace(text);
  return true;
}

void EncodePut(const IdsView& ids, const MatrixView& vectors, std::span<const Metadata> metadata,
               DocumentsView documents, std::string* out) {
  EncodeIds(ids, out);
  PutFixed32(out, static_cast<uint32_t>(vectors.dim));
  const size_t stride = vectors.row_stride == 0 ? vectors.dim : vectors.row_stride;
  for (size_t r = 0; r < vectors.rows; ++r) {
    out->append(reinterpret_cast<const char*>(vectors.data + r * stride), vectors.dim * sizeof(float));
  }
  out->push_back(metadata.empty() ? 0 : 1);
  std::string blob;
  for (const Metadata& m : metadata) {
    blob.clear();
    EncodeMetadata(m, &blob);
    PutLengthPrefixed(out, blob);
  }
  for (const std::optional<std::string>& document : documents) {
    EncodeDocument(document ? &*document : nullptr, out);
  }
}

Status DecodePut(std::string_view bytes, bool with_documents, PutOp* out) {
  Decoder d(bytes);
  AUGUR_RETURN_IF_ERROR(DecodeIds(d, &out->string_ids, &out->int_ids, &out->str_ids));
  const size_t rows = out->string_ids ? out->str_ids.size() : out->int_ids.size();
  uint32_t dim = 0;
  if (!d.GetFixed32(&dim) || dim == 0 || dim > 65536) return Malformed("put dimension");
  std::string_view raw;
  if (!d.GetBytes(rows * dim * sizeof(float), &raw)) return Malformed("put vectors");
  out->dim = dim;
  out->vectors.resize(rows * dim);
  if (!raw.empty()) std::memcpy(out->vectors.data(), raw.data(), raw.size());
  uint8_t has_metadata = 0;
  if (!d.GetFixed8(&has_metadata) || has_metadata > 1) return Malformed("put metadata flag");
  if (has_metadata) {
    out->metadata.resize(rows);
    for (size_t r = 0; r < rows; ++r) {
      std::string_view blob;
      if (!d.GetLengthPrefixed(&blob)) return Malformed("put metadata");
      AUGUR_RETURN_IF_ERROR(DecodeMetadata(blob, &out->metadata[r]));
    }
  }
  if (with_documents) {
    out->documents.resize(rows);
    for (size_t r = 0; r < rows; ++r) {
      if (!DecodeDocument(d, &out->documents[r])) return Malformed("put document");
    }
  }
  if (d.remaining() != 0) return Malformed("put (trailing bytes)");
  return Status::OK();
}

void EncodeDelete(const IdsView& ids, std::string* out) { EncodeIds(ids, out); }

Status DecodeDelete(std::string_view bytes, DeleteOp* out) {
  Decoder d(bytes);
  AUGUR_RETURN_IF_ERROR(DecodeIds(d, &out->string_ids, &out->int_ids, &out->str_ids));
  if (d.remaining() != 0) return Malformed("delete (trailing bytes)");
  return Status::OK();
}

std::string EncodeParams(const StoredParams& p) {
  std::string out;
  // Params block version: 1 had no quantization byte, 2 no tokenizer byte, 3 no embedding
  // function.
  PutFixed32(&out, 4);
  PutFixed32(&out, p.dim);
  out.push_back(static_cast<char>(p.metric));
  PutFixed32(&out, p.m);
  PutFixed32(&out, p.ef_construction);
  PutFixed32(&out, p.ef_search);
  PutFixed64(&out, p.seed);
  out.push_back(static_cast<char>(p.id_kind));
  out.push_back(static_cast<char>(p.quantization));
  out.push_back(static_cast<char>(p.tokenizer));
  PutLengthPrefixed(&out, p.embedding_function);
  return out;
}

Status DecodeParams(std::string_view bytes, StoredParams* out) {
  Decoder d(bytes);
  uint32_t version = 0;
  uint8_t metric = 0, id_kind = 0;
  if (!d.GetFixed32(&version) || version < 1 || version > 4 || !d.GetFixed32(&out->dim) ||
      !d.GetFixed8(&metric) || metric > 2 || !d.GetFixed32(&out->m) ||
      !d.GetFixed32(&out->ef_construction) || !d.GetFixed32(&out->ef_search) ||
      !d.GetFixed64(&out->seed) || !d.GetFixed8(&id_kind) || id_kind > 2) {
    return Malformed("collection parameters");
  }
  out->metric = static_cast<Metric>(metric);
  out->id_kind = static_cast<IdKind>(id_kind);
  out->quantization = Quantization::kNone;
  if (version >= 2) {
    uint8_t q = 0;
    if (!d.GetFixed8(&q)) return Malformed("collection parameters (quantization)");
    if (q > static_cast<uint8_t>(Quantization::kSq4)) {
      return Status::NotSupported("collection uses quantization code " + std::to_string(q) +
                                  ", written by a newer AugurDB");
    }
    out->quantization = static_cast<Quantization>(q);
  }
  out->tokenizer = 1;
  if (version >= 3) {
    if (!d.GetFixed8(&out->tokenizer)) return Malformed("collection parameters (tokenizer)");
    if (!text::IsKnownTokenizerKind(out->tokenizer)) {
      return Status::NotSupported("collection uses tokenizer code " +
                                  std::to_string(out->tokenizer) + ", written by a newer AugurDB");
    }
  }
  out->embedding_function.clear();
  if (version >= 4) {
    std::string_view fn;
    if (!d.GetLengthPrefixed(&fn)) return Malformed("collection parameters (embedding function)");
    out->embedding_function.assign(fn);
  }
  if (d.remaining() != 0) return Malformed("collection parameters (trailing bytes)");
  return Status::OK();
}

}  // namespace augurdb::db
