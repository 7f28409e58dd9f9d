// How an index image is laid out in checkpoint sections (docs/format/checkpoint.md, "Sections"):
// the section kinds the index owns and the 24-byte index header. The db layer owns the file and
// its other kinds (ids, used, metadata: 7-10); it hands the index's sections to storage/ and
// back, but never decodes them. Kind numbers are part of the format: never reuse one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <augurdb/status.h>

#include "index/hnsw_index.h"

namespace augurdb::index::image_format {

inline constexpr uint32_t kHeader = 1;      // kHeaderBytes: slot_end, entry, insert_counter (u64)
inline constexpr uint32_t kVectors = 2;     // slot_end rows of vector_stride() f32
inline constexpr uint32_t kLinks0 = 3;      // format <= 3 only: slot_end rows of [count, ids],
                                            // LegacyLinks0Stride(m) u32 each
inline constexpr uint32_t kLevels = 4;      // slot_end u8
inline constexpr uint32_t kStates = 5;      // slot_end u8 (SlotState)
inline constexpr uint32_t kUpperLinks = 6;  // format <= 3 only: non-free slots of level > 0:
                                            // level * (1 + m) u32, [count, ids] per level
inline constexpr uint32_t kCodes = 11;      // SQ8/SQ4, fitted only: slot_end rows of code_stride
inline constexpr uint32_t kQuantizer = 12;  // SQ8/SQ4, fitted only: min, scale (padded_dim f32)
inline constexpr uint32_t kLinks0Rows = 15; // slot_end rows of 2m u32: ids, then kNoLink
inline constexpr uint32_t kUpperRows = 16;  // non-free slots of level > 0: level * m u32, ids
                                            // then kNoLink per level

inline constexpr size_t kHeaderBytes = 24;

// One section of an image: its kind and its bytes, possibly in several parts (written in order).
struct Section {
  uint32_t kind;
  std::vector<std::string_view> parts;
};

// The sections `image` is written as, in file order. The views point into `image`'s arrays and
// into `*header_storage` (which receives the encoded header); both must outlive the result.
std::vector<Section> ToSections(const HnswImage& image, std::string* header_storage);

// Fills `image` from the sections `section(kind)` returns (empty span: absent). The arrays are
// not checked here (HnswIndex::FromImage does). kCorruption when the header has the wrong size.
// REQUIRES: the header section is present (a collection whose dim is not fixed has none).
Status FromSections(const std::function<std::span<char>(uint32_t kind)>& section,
                    HnswImage* image);

}  // namespace augurdb::index::image_format
