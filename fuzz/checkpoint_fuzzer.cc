// libFuzzer target: arbitrary bytes as a checkpoint file. The raw bytes go through the
// validating loader (CheckpointFile::Open); a copy with repaired checksums is opened as a whole
// read-only database, which decodes the parameter block, rebuilds the index from the image
// (HnswIndex::FromImage and its bounds checks), loads ids and metadata, and then is used: the
// full integrity check (graph invariants), a search, a filter count and Get. Every failure must
// be a Status; a database that opens must be safe to use.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <augurdb/collection.h>

#include "fuzz_support.h"
#include "storage/checkpoint.h"

namespace augurdb::fuzz {
namespace {

// Uses an opened collection the way an application would; only crashes matter here.
void Exercise(const Collection& col) {
  (void)col.Verify();
  if (col.dim() > 0 && col.dim() <= 4096) {
    const std::vector<float> query(col.dim(), 0.25f);
    SearchOptions opts;
    opts.k = 3;
    (void)col.Search(query, opts);
    opts.filter = R"({"tag": "a"})";
    (void)col.Search(query, opts);
  }
  (void)col.Count(R"({"n": {"$gte": 1}})");
  (void)col.Find("", 4);
  const std::vector<Id> ids = col.Ids();
  if (!ids.empty()) {
    if (col.id_kind() == IdKind::kInt) {
      const std::vector<int64_t> ints{std::get<int64_t>(ids.front())};
      (void)col.Get(IdsView::Ints(ints));
    } else if (col.id_kind() == IdKind::kString) {
      const std::vector<std::string> strs{std::get<std::string>(ids.front())};
      (void)col.Get(IdsView::Strings(strs));
    }
  }
  (void)col.Stats();
}

}  // namespace
}  // namespace augurdb::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace augurdb;
  static const fuzz::ScratchDir* dir = new fuzz::ScratchDir();  // outlives every input
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  dir->Clear();

  const std::string name = fuzz::SeqName("checkpoint-", fuzz::CheckpointSequence(raw), ".adb");
  dir->Write(name, raw);
  (void)storage::CheckpointFile::Open(storage::Env::Default(),
                                      storage::JoinPath(dir->path(), name));

  std::string repaired(raw);
  fuzz::RepairCheckpointChecksums(&repaired);
  dir->Write(name, repaired);
  CollectionOptions options;
  options.path = dir->path();
  options.read_only = true;  // nothing is written: the checkpoint alone is loaded
  options.threads = 1;
  Result<std::unique_ptr<Collection>> col = Collection::Open(options);
  if (col.ok()) fuzz::Exercise(**col);
  return 0;
}
