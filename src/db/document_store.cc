// DocumentStore and the where_document filter (document_store.h).
#include "db/document_store.h"

#include "filter/json.h"

namespace augurdb::db {

void DocumentStore::Set(uint32_t slot, std::string_view document) {
  if (slot >= has_.size()) {
    has_.resize(slot + 1, 0);
    docs_.resize(slot + 1);
  }
  Clear(slot);
  docs_[slot].assign(document);
  has_[slot] = 1;
  ++count_;
  text_bytes_ += docs_[slot].capacity();
}

void DocumentStore::Clear(uint32_t slot) {
  if (!Has(slot)) return;
  text_bytes_ -= docs_[slot].capacity();
  std::string().swap(docs_[slot]);  // give the bytes back, not just the length
  has_[slot] = 0;
  --count_;
}

size_t DocumentStore::MemoryBytes() const {
  return docs_.capacity() * sizeof(std::string) + has_.capacity() + text_bytes_;
}

Result<DocumentFilter> ParseDocumentFilter(std::string_view json) {
  AUGUR_ASSIGN_OR_RETURN(filter::JsonValue root, filter::ParseJson(json));
  const bool one_key = root.is_object() && root.keys.size() == 1;
  if (one_key && (root.keys[0] == "$contains" || root.keys[0] == "$not_contains") &&
      root.items[0].is_string()) {
    return DocumentFilter{root.keys[0] == "$not_contains", root.items[0].string_value};
  }
  return Status::InvalidFilter(
      "where_document must be {\"$contains\": \"text\"} or {\"$not_contains\": \"text\"}");
}

void ApplyDocumentFilter(const DocumentFilter& filter, const DocumentStore& documents,
                         filter::Bitset* matches) {
  for (size_t s = 0; s < matches->size(); ++s) {
    const auto slot = static_cast<uint32_t>(s);
    if (!matches->Test(slot)) continue;
    const std::string* doc = documents.Get(slot);
    const bool contains = doc != nullptr && doc->find(filter.needle) != std::string::npos;
    if (contains == filter.negate) matches->Reset(slot);
  }
}

}  // namespace augurdb::db
