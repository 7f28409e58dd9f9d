// Byte encodings of what the db layer persists: metadata values, WAL operation payloads and the
// checkpoint's parameter block (docs/format/wal.md, docs/format/checkpoint.md).
// Decoders never read past their input and return kCorruption on malformed bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <augurdb/collection.h>
#include <augurdb/status.h>
#include <augurdb/value.h>

namespace augurdb {
class Decoder;
}

namespace augurdb::db {

void EncodeMetadata(const Metadata& metadata, std::string* out);
Status DecodeMetadata(std::string_view bytes, Metadata* out);

// WAL record types. Numbers are part of the format: never reuse one. kPutDocuments is a kPut
// payload followed by the batch's documents; a put without documents is still logged as kPut,
// so logs that never held a document stay readable by older versions.
enum class WalOp : uint8_t { kPut = 1, kDelete = 2, kPutDocuments = 3 };

// A decoded kPut: rows to insert or replace (Add is logged as kPut after its checks passed).
struct PutOp {
  bool string_ids = false;
  std::vector<int64_t> int_ids;
  std::vector<std::string> str_ids;
  size_t dim = 0;
  std::vector<float> vectors;  // rows * dim
  std::vector<Metadata> metadata;  // empty or one per row
  std::vector<std::optional<std::string>> documents;  // kPutDocuments: one per row
};

struct DeleteOp {
  bool string_ids = false;
  std::vector<int64_t> int_ids;
  std::vector<std::string> str_ids;
};

// With `documents` non-empty (one per row) the payload is a kPutDocuments one.
void EncodePut(const IdsView& ids, const MatrixView& vectors, std::span<const Metadata> metadata,
               DocumentsView documents, std::string* out);
// `with_documents`: the record is a kPutDocuments.
Status DecodePut(std::string_view bytes, bool with_documents, PutOp* out);

// One optional document: a presence byte, then (present) a length-prefixed string. Used by the
// WAL and by the checkpoint's documents section.
void EncodeDocument(const std::string* document, std::string* out);
bool DecodeDocument(Decoder& d, std::optional<std::string>* out);
void EncodeDelete(const IdsView& ids, std::string* out);
Status DecodeDelete(std::string_view bytes, DeleteOp* out);

// Collection parameters stored in every checkpoint header.
struct StoredParams {
  uint32_t dim = 0;
  Metric metric = Metric::kL2;
  uint32_t m = 16;
  uint32_t ef_construction = 200;
  uint32_t ef_search = 64;
  uint64_t seed = 42;
  IdKind id_kind = IdKind::kUnset;
  Quantization quantization = Quantization::kNone;  // block version 2
  uint8_t tokenizer = 1;  // text::TokenizerKind number; block version 3 (older: 1, "simple")
  // JSON identity of the embedding function the Python package rebuilds (empty = none); block
  // version 4 (older: empty). Opaque to the engine beyond being a JSON object.
  std::string embedding_function;
};
std::string EncodeParams(const StoredParams& params);
Status DecodeParams(std::string_view bytes, StoredParams* out);

}  // namespace augurdb::db
