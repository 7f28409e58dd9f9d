// Byte encodings of what the db layer persists: metadata values, WAL operation payloads and the
// checkpoint's parameter block (docs/format/wal.md, docs/format/checkpoint.md).
// Decoders never read past their input and return kCorruption on malformed bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <augurdb/collection.h>
#include <augurdb/status.h>
#include <augurdb/value.h>

namespace augurdb::db {

void EncodeMetadata(const Metadata& metadata, std::string* out);
Status DecodeMetadata(std::string_view bytes, Metadata* out);

// WAL record types. Numbers are part of the format: never reuse one.
enum class WalOp : uint8_t { kPut = 1, kDelete = 2 };

// A decoded kPut: rows to insert or replace (Add is logged as kPut after its checks passed).
struct PutOp {
  bool string_ids = false;
  std::vector<int64_t> int_ids;
  std::vector<std::string> str_ids;
  size_t dim = 0;
  std::vector<float> vectors;  // rows * dim
  std::vector<Metadata> metadata;  // empty or one per row
};

struct DeleteOp {
  bool string_ids = false;
  std::vector<int64_t> int_ids;
  std::vector<std::string> str_ids;
};

void EncodePut(const IdsView& ids, const MatrixView& vectors, std::span<const Metadata> metadata,
               std::string* out);
Status DecodePut(std::string_view bytes, PutOp* out);
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
};
std::string EncodeParams(const StoredParams& params);
Status DecodeParams(std::string_view bytes, StoredParams* out);

}  // namespace augurdb::db
