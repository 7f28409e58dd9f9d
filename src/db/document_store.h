// The documents of a collection's records, by slot, and the document filter of a search
// (where_document: {"$contains": "..."} / {"$not_contains": "..."}).
//
// The store is the only copy of each document; the text index (text::InvertedIndex) holds only
// their terms. Get() and where_document read it, checkpoints write it (section kDocuments).
//
// Thread safety: none of its own. Collection::Impl guards it with map_mutex, like the metadata
// columns: writers change it under the exclusive lock, readers read it under the shared one.
//
// Invariants:
//  1. count() = slots with a document; memory counts every stored byte.
//  2. Only slots with an id hold a document (checked by Collection::Verify).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <augurdb/status.h>

#include "filter/filter.h"

namespace augurdb::db {

class DocumentStore {
 public:
  void Set(uint32_t slot, std::string_view document);
  void Clear(uint32_t slot);
  // nullptr when the slot has no document. Valid until the slot's next change.
  const std::string* Get(uint32_t slot) const {
    return slot < has_.size() && has_[slot] != 0 ? &docs_[slot] : nullptr;
  }
  bool Has(uint32_t slot) const { return slot < has_.size() && has_[slot] != 0; }
  size_t count() const { return count_; }
  size_t slot_end() const { return has_.size(); }
  size_t MemoryBytes() const;

 private:
  std::vector<std::string> docs_;  // by slot; empty where has_ is 0
  std::vector<uint8_t> has_;       // by slot
  size_t count_ = 0;
  size_t text_bytes_ = 0;          // heap bytes of the strings
};

// A parsed where_document.
struct DocumentFilter {
  bool negate = false;  // $not_contains
  std::string needle;   // matched as a byte substring of the stored document
};

// Parses {"$contains": "<text>"} or {"$not_contains": "<text>"}. kInvalidFilter otherwise,
// naming the accepted forms.
Result<DocumentFilter> ParseDocumentFilter(std::string_view json);

// Clears from `matches` every slot whose document does not pass `filter` ($contains needs a
// document that holds the needle; $not_contains passes slots without a document too).
void ApplyDocumentFilter(const DocumentFilter& filter, const DocumentStore& documents,
                         filter::Bitset* matches);

}  // namespace augurdb::db
