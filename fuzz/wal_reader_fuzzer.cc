// libFuzzer target: arbitrary bytes as a WAL file. ReadWal must end in a Status (torn tails
// dropped, other damage kCorruption), and every record it hands out, once the checksums are
// repaired, goes through the db layer's record decoders as recovery does. A decoded record must
// re-encode to bytes that decode to the same re-encoding (the codec is stable).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "db/record_codec.h"
#include "fuzz_support.h"
#include "storage/wal.h"

namespace augurdb::fuzz {
namespace {

std::string ReencodePut(const db::PutOp& op) {
  const IdsView ids = op.string_ids ? IdsView::Strings(op.str_ids) : IdsView::Ints(op.int_ids);
  const MatrixView vectors{op.vectors.data(), ids.size(), op.dim, 0};
  std::string out;
  db::EncodePut(ids, vectors, op.metadata, op.documents, &out);
  return out;
}

std::string ReencodeDelete(const db::DeleteOp& op) {
  const IdsView ids = op.string_ids ? IdsView::Strings(op.str_ids) : IdsView::Ints(op.int_ids);
  std::string out;
  db::EncodeDelete(ids, &out);
  return out;
}

// The decoding half of recovery (src/db/logged_write.cc Impl::Replay) without a collection.
Status DecodeRecord(uint8_t type, std::string_view payload) {
  switch (static_cast<db::WalOp>(type)) {
    case db::WalOp::kPut:
    case db::WalOp::kPutDocuments: {
      const bool documents = static_cast<db::WalOp>(type) == db::WalOp::kPutDocuments;
      db::PutOp op;
      AUGUR_RETURN_IF_ERROR(db::DecodePut(payload, documents, &op));
      const std::string once = ReencodePut(op);
      db::PutOp again;
      if (!db::DecodePut(once, documents, &again).ok()) Fail("re-encoded put does not decode");
      if (ReencodePut(again) != once) Fail("put encoding is not stable");
      return Status::OK();
    }
    case db::WalOp::kDelete: {
      db::DeleteOp op;
      AUGUR_RETURN_IF_ERROR(db::DecodeDelete(payload, &op));
      const std::string once = ReencodeDelete(op);
      db::DeleteOp again;
      if (!db::DecodeDelete(once, &again).ok()) Fail("re-encoded delete does not decode");
      if (ReencodeDelete(again) != once) Fail("delete encoding is not stable");
      return Status::OK();
    }
  }
  return Status::Corruption("unknown WAL record type " + std::to_string(type));
}

void CheckRead(const Result<storage::WalReadResult>& read, size_t size) {
  if (!read.ok()) return;
  if (read->valid_bytes + read->dropped_bytes != size) Fail("WAL byte accounting is off");
}

}  // namespace
}  // namespace augurdb::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace augurdb;
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  {
    fuzz::MemFile file(raw);
    auto read = storage::ReadWal(file, "fuzz.wal", [](uint8_t type, std::string_view payload) {
      return fuzz::DecodeRecord(type, payload);
    });
    fuzz::CheckRead(read, size);
  }
  std::string repaired(raw);
  fuzz::RepairWalChecksums(&repaired);
  if (repaired != raw) {
    fuzz::MemFile file(repaired);
    // Decode errors stop the read (as in recovery); checksum-valid records must reach apply.
    auto read = storage::ReadWal(file, "fuzz.wal", [](uint8_t type, std::string_view payload) {
      (void)fuzz::DecodeRecord(type, payload);
      return Status::OK();
    });
    if (!read.ok()) {
      fuzz::Fail("a WAL with repaired checksums is corrupt: " + read.status().ToString());
    }
    fuzz::CheckRead(read, repaired.size());
  }
  return 0;
}
