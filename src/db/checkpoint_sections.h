// The sections of a checkpoint file (docs/format/checkpoint.md): their kind numbers, and how the
// index image maps onto them. The enum and the 24-byte index header below are the index's
// on-disk layout, kept together so that they can move to index/ as one piece.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <augurdb/status.h>

#include "index/hnsw_index.h"
#include "storage/checkpoint.h"
#include "util/coding.h"

namespace augurdb::db {

// Checkpoint section kinds. Numbers are part of the format: never reuse one.
enum Section : uint32_t {
  kIndexHeader = 1,  // slot_end u64, entry u64, insert_counter u64
  kVectors = 2,
  kLinks0 = 3,
  kLevels = 4,
  kStates = 5,
  kUpperLinks = 6,
  kIntIds = 7,     // slot_end int64
  kStringIds = 8,  // slot_end length-prefixed strings
  kUsed = 9,       // slot_end uint8
  kMetadata = 10,  // slot_end length-prefixed metadata blobs (empty = none)
  kCodes = 11,     // SQ8: slot_end rows of code_stride bytes
  kQuantizer = 12, // SQ8: min then scale, padded_dim floats each
};

inline std::string_view Bytes(const void* p, size_t n) {
  return {static_cast<const char*>(p), n};
}

// Appends the index's sections (kinds 1-6, 11, 12) for `image`; `header` receives the encoded
// index header and must outlive `sections`, as must the image's storage.
inline void AddIndexSections(const index::HnswImage& image, std::string* header,
                             std::vector<storage::SectionSource>* sections) {
  PutFixed64(header, image.slot_end);
  PutFixed64(header, image.entry);
  PutFixed64(header, image.insert_counter);
  sections->push_back({kIndexHeader, {*header}});
  sections->push_back({kVectors,
                       {Bytes(image.vectors.data(), image.vectors.size()),
                        Bytes(image.vectors_tail.data(), image.vectors_tail.size())}});
  sections->push_back({kLinks0, {Bytes(image.links0.data(), image.links0.size())}});
  sections->push_back({kLevels, {Bytes(image.levels.data(), image.levels.size())}});
  sections->push_back({kStates, {Bytes(image.states.data(), image.states.size())}});
  sections->push_back({kUpperLinks, {Bytes(image.upper.data(), image.upper.size())}});
  if (!image.quantizer.empty()) {
    sections->push_back({kCodes, {Bytes(image.codes.data(), image.codes.size())}});
    sections->push_back({kQuantizer, {Bytes(image.quantizer.data(), image.quantizer.size())}});
  }
}

// Whether `file` holds an index image at all (a database whose dim is not yet known has none).
inline bool HasIndexSections(const storage::CheckpointFile& file) {
  return !file.section(kIndexHeader).empty();
}

// Reads the index image of `file` (views into its mapping). kCorruption (without the path) if
// the header is malformed; the sections' sizes are checked by HnswIndex::FromImage.
inline Status ReadIndexSections(const storage::CheckpointFile& file, index::HnswImage* image) {
  const std::span<char> header = file.section(kIndexHeader);
  if (header.size() != 24) return Status::Corruption("index header has the wrong size");
  image->slot_end = DecodeFixed64(header.data());
  image->entry = DecodeFixed64(header.data() + 8);
  image->insert_counter = DecodeFixed64(header.data() + 16);
  image->vectors = file.section(kVectors);
  image->links0 = file.section(kLinks0);
  image->levels = file.section(kLevels);
  image->states = file.section(kStates);
  image->upper = file.section(kUpperLinks);
  image->codes = file.section(kCodes);
  image->quantizer = file.section(kQuantizer);
  return Status::OK();
}

}  // namespace augurdb::db
