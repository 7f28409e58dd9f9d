// The graph's invariants (hnsw_graph.h): the full check `verify` and the tests run, and the
// sequential bounds pass every load runs before any link is followed.
#include <algorithm>
#include <string>

#include "index/hnsw_index.h"

namespace augurdb::index {
namespace {

// Sets *count to the ids before the list's first kNoLink; false when an id follows that
// kNoLink: no walk reads it, but the next append would expose it unchecked.
bool ListEndsClean(const uint32_t* list, size_t max, size_t* count) {
  *count = ListSize(list, max);
  for (size_t j = *count; j < max; ++j) {
    if (LoadAcquire(list + j) != kNoLink) return false;
  }
  return true;
}

}  // namespace

Status HnswGraph::CheckInvariants(size_t* link_count) const {
  const size_t end = slot_end();
  size_t checked = 0;
  int max_level = -1;
  size_t live = 0;
  for (size_t i = 0; i < end; ++i) {
    const Slot slot = static_cast<Slot>(i);
    const SlotState s = state(slot);
    if (s == SlotState::kFree) continue;
    if (s == SlotState::kLive) {
      ++live;
      max_level = std::max(max_level, level(slot));
    }
    for (int at = 0; at <= level(slot); ++at) {
      const uint32_t* list = links(slot, at);
      size_t count = 0;
      if (!ListEndsClean(list, max_degree(at), &count)) {
        return Status::Corruption("slot " + std::to_string(slot) + " level " +
                                  std::to_string(at) + " has ids after its list's end");
      }
      checked += count;
      for (size_t j = 0; j < count; ++j) {
        const Slot other = LoadAcquire(list + j);
        const char* problem = nullptr;
        if (other >= end) {
          problem = " links out of range";
        } else if (other == slot) {
          problem = " links to itself";
        } else if (state(other) == SlotState::kFree) {
          problem = " links a free slot";
        } else if (level(other) < at) {
          problem = " links a lower-level node";
        } else if (s == SlotState::kLive && state(other) == SlotState::kDeleted) {
          problem = " links a deleted slot";
        }
        if (problem != nullptr) {
          return Status::Corruption("slot " + std::to_string(slot) + " level " +
                                    std::to_string(at) + problem + " (" +
                                    std::to_string(other) + ")");
        }
      }
    }
  }
  if (live != live_count()) {
    return Status::Corruption("live count " + std::to_string(live_count()) + " but " +
                              std::to_string(live) + " live slots");
  }
  if (link_count != nullptr) *link_count = checked;
  const uint64_t packed = entry();
  if (live == 0) {
    if (packed != 0) return Status::Corruption("entry point set in an empty index");
    return Status::OK();
  }
  if (packed == 0) return Status::Corruption("no entry point in a non-empty index");
  if (state(EntrySlot(packed)) != SlotState::kLive) {
    return Status::Corruption("entry point is not live");
  }
  if (EntryLevel(packed) != max_level || level(EntrySlot(packed)) != max_level) {
    return Status::Corruption("entry point level " + std::to_string(EntryLevel(packed)) +
                              " but max level " + std::to_string(max_level));
  }
  return Status::OK();
}

Status HnswGraph::CheckLinkBounds() const {
  const size_t end = slot_end();
  const uint64_t packed = entry();
  // Checksums guard against damage; this guards memory safety against a well-formed file whose
  // content is still wrong (a bug, or a crafted file): every id must be in range before any is
  // followed. A sequential pass (the full CheckInvariants walk is `verify`'s job: it costs random
  // reads per link, too slow for every open).
  for (size_t i = 0; i < end; ++i) {
    const Slot slot = static_cast<Slot>(i);
    if (state(slot) == SlotState::kFree) continue;
    for (int at = 0; at <= level(slot); ++at) {
      const uint32_t* list = links(slot, at);
      size_t count = 0;
      if (!ListEndsClean(list, max_degree(at), &count)) {
        return Status::Corruption("slot " + std::to_string(i) + " has ids after its list's end");
      }
      for (size_t j = 0; j < count; ++j) {
        if (list[j] >= end || list[j] == slot) {
          return Status::Corruption("slot " + std::to_string(i) + " links slot " +
                                    std::to_string(list[j]));
        }
        // A search at level `at` reads the neighbour's list at that level: a lower node has none
        // (found by fuzz/db_open_fuzzer). Upper lists are few, so this costs little.
        if (at > 0 && level(list[j]) < at) {
          return Status::Corruption("slot " + std::to_string(i) + " level " +
                                    std::to_string(at) + " links slot " +
                                    std::to_string(list[j]) + " of a lower level");
        }
      }
    }
  }
  if (packed != 0 && state(EntrySlot(packed)) == SlotState::kFree) {
    return Status::Corruption("entry point is a free slot");
  }
  // Searches descend from the entry point's recorded level through its own lists.
  if (packed != 0 && EntryLevel(packed) != level(EntrySlot(packed))) {
    return Status::Corruption("entry point level " + std::to_string(EntryLevel(packed)) +
                              " but slot " + std::to_string(EntrySlot(packed)) + " has level " +
                              std::to_string(level(EntrySlot(packed))));
  }
  return Status::OK();
}

Status HnswIndex::CheckInvariants(size_t* links) const {
  std::shared_lock<std::shared_mutex> lock(resize_mutex_);
  return graph_.CheckInvariants(links);
}

}  // namespace augurdb::index
