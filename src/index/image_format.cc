#include "index/image_format.h"

#include "util/coding.h"

namespace augurdb::index::image_format {
namespace {

std::string_view View(std::span<const char> bytes) {
  return std::string_view(bytes.data(), bytes.size());
}

}  // namespace

std::vector<Section> ToSections(const HnswImage& image, std::string* header_storage) {
  header_storage->clear();
  PutFixed64(header_storage, image.slot_end);
  PutFixed64(header_storage, image.entry);
  PutFixed64(header_storage, image.insert_counter);
  std::vector<Section> sections;
  sections.push_back({kHeader, {*header_storage}});
  sections.push_back({kVectors, {View(image.vectors), View(image.vectors_tail)}});
  sections.push_back({kLinks0Rows, {View(image.links0)}});
  sections.push_back({kLevels, {View(image.levels)}});
  sections.push_back({kStates, {View(image.states)}});
  sections.push_back({kUpperRows, {View(image.upper)}});
  if (!image.quantizer.empty()) {
    sections.push_back({kCodes, {View(image.codes)}});
    sections.push_back({kQuantizer, {View(image.quantizer)}});
  }
  return sections;
}

Status FromSections(const std::function<std::span<char>(uint32_t kind)>& section,
                    HnswImage* image) {
  const std::span<char> header = section(kHeader);
  if (header.size() != kHeaderBytes) return Status::Corruption("index header has the wrong size");
  image->slot_end = DecodeFixed64(header.data());
  image->entry = DecodeFixed64(header.data() + 8);
  image->insert_counter = DecodeFixed64(header.data() + 16);
  image->vectors = section(kVectors);
  image->levels = section(kLevels);
  image->states = section(kStates);
  // Format 3 and older wrote count-prefixed lists under kinds 3 and 6 (converted on import).
  image->legacy_lists = !section(kLinks0).empty() || !section(kUpperLinks).empty();
  image->links0 = section(image->legacy_lists ? kLinks0 : kLinks0Rows);
  image->upper = section(image->legacy_lists ? kUpperLinks : kUpperRows);
  image->codes = section(kCodes);
  image->quantizer = section(kQuantizer);
  return Status::OK();
}

}  // namespace augurdb::index::image_format
