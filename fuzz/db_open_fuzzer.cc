// libFuzzer target: a whole database directory from fuzzer bytes. Input layout:
//   [checkpoint length n : u32 LE][n checkpoint bytes][the rest: WAL bytes]
// (n is clamped to what follows), written as checkpoint-<seq>.adb and wal-<seq>.log with the
// sequence the checkpoint header claims. Checksums of both files are repaired (fuzz_support.h), the
// directory is opened for writing (recovery: load the checkpoint, replay and truncate the WAL),
// used, and closed, which writes a new checkpoint when the WAL changed anything. Property: what
// opened cleanly must reopen cleanly with the same records and pass Verify (a state accepted
// from the log can always be persisted and read back).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <augurdb/collection.h>

#include "fuzz_support.h"

namespace augurdb::fuzz {
namespace {

// Returns whether the full integrity check passed.
bool Exercise(Collection& col) {
  const bool verified = col.Verify().ok();
  if (col.dim() > 0 && col.dim() <= 4096) {
    const std::vector<float> query(col.dim(), 0.5f);
    SearchOptions opts;
    opts.k = 4;
    (void)col.Search(query, opts);
    opts.filter = R"({"$or": [{"tag": "a"}, {"n": {"$lt": 3}}]})";
    (void)col.Search(query, opts);
  }
  (void)col.Count(R"({"tag": {"$in": ["a", "b"]}})");
  return verified;
}

}  // namespace
}  // namespace augurdb::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace augurdb;
  static const fuzz::ScratchDir* dir = new fuzz::ScratchDir();  // outlives every input
  if (size < 4) return 0;
  const size_t n = std::min<size_t>(DecodeFixed32(reinterpret_cast<const char*>(data)), size - 4);
  std::string checkpoint(reinterpret_cast<const char*>(data) + 4, n);
  std::string wal(reinterpret_cast<const char*>(data) + 4 + n, size - 4 - n);
  fuzz::RepairCheckpointChecksums(&checkpoint);
  fuzz::RepairWalChecksums(&wal);
  dir->Clear();
  const uint64_t seq = fuzz::CheckpointSequence(checkpoint);
  dir->Write(fuzz::SeqName("checkpoint-", seq, ".adb"), checkpoint);
  dir->Write(fuzz::SeqName("wal-", seq, ".log"), wal);

  CollectionOptions options;
  options.path = dir->path();
  options.threads = 1;
  options.durability = Durability::kNone;  // fsync on tmpfs buys nothing here
  size_t count = 0;
  std::vector<Id> ids;
  bool verified = false;
  {
    Result<std::unique_ptr<Collection>> col = Collection::Open(options);
    if (!col.ok()) return 0;
    verified = fuzz::Exercise(**col);
    count = (*col)->size();
    ids = (*col)->Ids();
    Status closed = (*col)->Close();
    if (!closed.ok()) fuzz::Fail("close after a clean open failed: " + closed.ToString());
  }
  options.read_only = true;
  Result<std::unique_ptr<Collection>> again = Collection::Open(options);
  if (!again.ok()) fuzz::Fail("reopen after a clean open failed: " + again.status().ToString());
  if ((*again)->size() != count || (*again)->Ids() != ids) fuzz::Fail("reopen lost records");
  // Open runs only a bounds pass over the graph, so a crafted checkpoint may open and still
  // fail the full check; one that passed it must pass again after the round trip.
  Result<VerifyReport> report = (*again)->Verify();
  if (verified && !report.ok()) {
    fuzz::Fail("verify fails after reopen: " + report.status().ToString());
  }
  return 0;
}
