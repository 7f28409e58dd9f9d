// The checkpoint image of an index: every store's arrays as byte views (exported without a
// copy, imported in place from a checkpoint mapping), validated on import so that a damaged or
// crafted file cannot make a later walk read out of bounds. The section layout on disk is
// image_format.h's; the index itself never sees a file.
#include <algorithm>
#include <cstring>
#include <functional>
#include <new>
#include <string>
#include <vector>

#include "index/hnsw_index.h"

namespace augurdb::index {
namespace {

Status BadImage(const std::string& why) { return Status::Corruption("index image: " + why); }

}  // namespace

GraphImage HnswGraph::Export(std::string* upper_storage) const {
  const size_t end = slot_end();
  GraphImage image;
  image.slot_end = end;
  image.entry = entry();
  image.insert_counter = insert_counter_;
  auto bytes = [](const void* p, size_t n) {
    return std::span<char>(static_cast<char*>(const_cast<void*>(p)), n);
  };
  image.links0 = bytes(links0_.data(), end * links0_stride_ * sizeof(uint32_t));
  image.levels = bytes(levels_.data(), end);
  image.states = bytes(states_.data(), end);
  upper_storage->clear();
  for (size_t i = 0; i < end; ++i) {
    const int level = levels_[i];
    if (level == 0 || state(static_cast<Slot>(i)) == SlotState::kFree) continue;
    upper_storage->append(reinterpret_cast<const char*>(upper_links_[i].get()),
                          static_cast<size_t>(level) * upper_stride_ * sizeof(uint32_t));
  }
  image.upper = std::span<char>(upper_storage->data(), upper_storage->size());
  return image;
}

Status HnswGraph::Import(const GraphImage& image, std::shared_ptr<void> owner) {
  const size_t end = image.slot_end;
  // Legacy lists ([count, ids...], format 3 and older) are converted row by row into a new
  // array; current ones are used in place.
  const size_t legacy_stride0 = LegacyLinks0Stride(m_);
  auto convert = [](const uint32_t* from, uint32_t* to, size_t max) {
    const uint32_t count = from[0];
    if (count > max) return false;
    std::copy_n(from + 1, count, to);
    std::fill(to + count, to + max, kNoLink);
    return true;
  };
  if (end > 0 && !image.legacy_lists) {
    links0_.Adopt(reinterpret_cast<uint32_t*>(image.links0.data()), end * links0_stride_,
                  std::move(owner));
  } else if (end > 0) {
    links0_.Resize(end * links0_stride_);
  }
  levels_.Resize(end);
  states_.Resize(end);
  if (end > 0) {
    std::memcpy(levels_.data(), image.levels.data(), end);
    std::memcpy(states_.data(), image.states.data(), end);
  }
  upper_links_.resize(end);
  node_locks_ = std::make_unique<std::atomic<uint8_t>[]>(end == 0 ? 1 : end);
  for (size_t i = 0; i < end; ++i) node_locks_[i].store(0, std::memory_order_relaxed);
  capacity_ = end;
  const size_t upper_in = image.legacy_lists ? 1 + m_ : upper_stride_;  // uint32 per level
  std::vector<uint32_t> legacy_row(image.legacy_lists ? upper_in : 0);  // aligned copy of one
  size_t upper_pos = 0, live = 0, deleted = 0;
  for (size_t i = 0; i < end; ++i) {
    const uint8_t st = states_[i];
    if (st != static_cast<uint8_t>(SlotState::kLive) &&
        st != static_cast<uint8_t>(SlotState::kDeleted) &&
        st != static_cast<uint8_t>(SlotState::kFree)) {
      return Status::Corruption("slot " + std::to_string(i) + " has state " + std::to_string(st));
    }
    if (levels_[i] > kMaxLevel) {
      return Status::Corruption("slot " + std::to_string(i) + " level too high");
    }
    if (st == static_cast<uint8_t>(SlotState::kFree)) {
      levels_[i] = 0;
      // The bounds pass (CheckLinkBounds) skips free slots, yet a damaged graph may still link
      // one and a search would then follow its unchecked list (found by fuzz/db_open_fuzzer).
      // An empty list costs one row of stores per free slot instead of a state lookup per link.
      ClearList0(static_cast<Slot>(i));
      free_slots_.push_back(static_cast<Slot>(i));
      continue;
    }
    if (image.legacy_lists &&
        !convert(reinterpret_cast<const uint32_t*>(image.links0.data()) + i * legacy_stride0,
                 links(static_cast<Slot>(i), 0), m0_)) {
      return Status::Corruption("slot " + std::to_string(i) + " has too high a degree");
    }
    live += st == static_cast<uint8_t>(SlotState::kLive);
    deleted += st == static_cast<uint8_t>(SlotState::kDeleted);
    const size_t levels = levels_[i];
    if (levels == 0) continue;
    const size_t in_bytes = levels * upper_in * sizeof(uint32_t);
    if (image.upper.size() - upper_pos < in_bytes) {
      return Status::Corruption("upper lists truncated");
    }
    const size_t n = levels * upper_stride_;
    upper_links_[i] = std::make_unique<uint32_t[]>(n);
    upper_bytes_.fetch_add(n * sizeof(uint32_t), std::memory_order_relaxed);
    const char* from = image.upper.data() + upper_pos;
    if (!image.legacy_lists) {
      std::memcpy(upper_links_[i].get(), from, in_bytes);
    } else {
      for (size_t l = 0; l < levels; ++l) {
        std::memcpy(legacy_row.data(), from + l * upper_in * sizeof(uint32_t),
                    upper_in * sizeof(uint32_t));
        if (!convert(legacy_row.data(), upper_links_[i].get() + l * upper_stride_, m_)) {
          return Status::Corruption("slot " + std::to_string(i) + " has too high a degree");
        }
      }
    }
    upper_pos += in_bytes;
  }
  if (upper_pos != image.upper.size()) return Status::Corruption("upper lists have trailing bytes");
  std::sort(free_slots_.begin(), free_slots_.end(), std::greater<Slot>());
  live_count_.store(live, std::memory_order_relaxed);
  deleted_count_.store(deleted, std::memory_order_relaxed);
  insert_counter_ = image.insert_counter;
  slot_end_.store(end, std::memory_order_release);
  const uint64_t packed = image.entry;
  // The level field is tested unsigned: EntryLevel() of a huge field would overflow an int.
  if (packed != 0 && (EntrySlot(packed) >= end || (packed >> 32) > uint64_t{kMaxLevel} + 1)) {
    return Status::Corruption("entry point out of range");
  }
  entry_.store(packed, std::memory_order_release);
  return Status::OK();
}

HnswImage HnswIndex::ExportImage(std::string* upper_storage,
                                 std::string* quantizer_storage) const {
  const GraphImage graph = graph_.Export(upper_storage);
  HnswImage image;
  image.slot_end = graph.slot_end;
  image.entry = graph.entry;
  image.insert_counter = graph.insert_counter;
  vectors_.Export(graph.slot_end, &image.vectors, &image.vectors_tail);
  image.links0 = graph.links0;
  image.levels = graph.levels;
  image.states = graph.states;
  image.upper = graph.upper;
  quantizer_storage->clear();
  if (codes_ && codes_->fitted()) {
    image.codes = codes_->ExportCodes(graph.slot_end);
    codes_->ExportQuantizer(quantizer_storage);
    image.quantizer = std::span<char>(quantizer_storage->data(), quantizer_storage->size());
  }
  return image;
}

Result<std::unique_ptr<HnswIndex>> HnswIndex::FromImage(const HnswParams& params,
                                                        const simd::KernelTable& kernels,
                                                        const HnswImage& image,
                                                        std::shared_ptr<void> owner) {
  AUGUR_ASSIGN_OR_RETURN(std::unique_ptr<HnswIndex> index, Create(params, kernels));
  HnswIndex& x = *index;
  const size_t end = image.slot_end;
  if (end > kMaxSlots) return BadImage("slot count " + std::to_string(end) + " is impossible");
  if (image.vectors.size() != end * x.vectors_.stride() * sizeof(float) ||
      image.links0.size() != end *
                                 (image.legacy_lists ? LegacyLinks0Stride(params.m)
                                                     : x.graph_.links0_stride()) *
                                 sizeof(uint32_t) ||
      image.levels.size() != end || image.states.size() != end) {
    return BadImage("array sizes do not match " + std::to_string(end) + " slots of dim " +
                    std::to_string(params.dim));
  }
  if (reinterpret_cast<uintptr_t>(image.vectors.data()) % 64 != 0 ||
      reinterpret_cast<uintptr_t>(image.links0.data()) % 64 != 0) {
    return BadImage("arrays are not 64-byte aligned");
  }
  try {
    x.vectors_.Adopt(reinterpret_cast<float*>(image.vectors.data()), end,
                     params.vectors_on_disk, owner);
    if (x.codes_ && !image.quantizer.empty()) {
      if (Status s = x.codes_->Restore(image.quantizer, image.codes, end, owner); !s.ok()) {
        return BadImage(s.message());
      }
    } else if (!image.codes.empty() || !image.quantizer.empty() || (x.codes_ && end > 0)) {
      // Codes in an unquantized index, or a quantized index with nodes but no fitted range.
      return BadImage("quantizer state does not match the parameters");
    }
    GraphImage graph;
    graph.slot_end = image.slot_end;
    graph.entry = image.entry;
    graph.insert_counter = image.insert_counter;
    graph.links0 = image.links0;
    graph.levels = image.levels;
    graph.states = image.states;
    graph.upper = image.upper;
    graph.legacy_lists = image.legacy_lists;
    if (Status s = x.graph_.Import(graph, owner); !s.ok()) return BadImage(s.message());
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted("out of memory loading the index");
  }
  if (Status s = x.graph_.CheckLinkBounds(); !s.ok()) return BadImage(s.message());
  return index;
}

}  // namespace augurdb::index
