// The sections of a checkpoint file (docs/format/checkpoint.md) that the db layer owns (ids,
// used flags, metadata), and the glue that hands the index's own sections (index/image_format.h)
// to storage/ and back.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <augurdb/status.h>

#include "index/hnsw_index.h"
#include "index/image_format.h"
#include "storage/checkpoint.h"

namespace augurdb::db {

// Checkpoint section kinds of the db layer. Numbers are part of the format: never reuse one.
// Kinds 1-6, 11 and 12 are the index image's (index/image_format.h).
enum Section : uint32_t {
  kIntIds = 7,     // slot_end int64
  kStringIds = 8,  // slot_end length-prefixed strings
  kUsed = 9,       // slot_end uint8
  kMetadata = 10,  // slot_end length-prefixed metadata blobs (empty = none)
  // Format 2 (written since documents exist; absent in older files = no documents):
  kDocuments = 13,  // slot_end optional documents (record_codec.h EncodeDocument)
  kTextIndex = 14,  // text::InvertedIndex::ExportImage bytes
};

inline std::string_view Bytes(const void* p, size_t n) {
  return {static_cast<const char*>(p), n};
}

// Appends the index's sections for `image`; `header` receives the encoded index header and must
// outlive `sections`, as must the image's storage.
inline void AddIndexSections(const index::HnswImage& image, std::string* header,
                             std::vector<storage::SectionSource>* sections) {
  for (index::image_format::Section& section : index::image_format::ToSections(image, header)) {
    sections->push_back({section.kind, std::move(section.parts)});
  }
}

// Whether `file` holds an index image at all (a database whose dim is not yet known has none).
inline bool HasIndexSections(const storage::CheckpointFile& file) {
  return !file.section(index::image_format::kHeader).empty();
}

// Reads the index image of `file` (views into its mapping). kCorruption (without the path) if
// the header is malformed; the sections' sizes are checked by HnswIndex::FromImage.
inline Status ReadIndexSections(const storage::CheckpointFile& file, index::HnswImage* image) {
  return index::image_format::FromSections([&](uint32_t kind) { return file.section(kind); },
                                           image);
}

}  // namespace augurdb::db
