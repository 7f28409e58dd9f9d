#include "index/image_format.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace augurdb::index {
namespace {

// The kind numbers and the header layout are part of the checkpoint format
// (docs/format/checkpoint.md): a change here breaks every existing database.
TEST(ImageFormat, KindsArePinned) {
  EXPECT_EQ(image_format::kHeader, 1u);
  EXPECT_EQ(image_format::kVectors, 2u);
  EXPECT_EQ(image_format::kLinks0, 3u);
  EXPECT_EQ(image_format::kLevels, 4u);
  EXPECT_EQ(image_format::kStates, 5u);
  EXPECT_EQ(image_format::kUpperLinks, 6u);
  EXPECT_EQ(image_format::kCodes, 11u);
  EXPECT_EQ(image_format::kQuantizer, 12u);
  EXPECT_EQ(image_format::kLinks0Rows, 15u);
  EXPECT_EQ(image_format::kUpperRows, 16u);
  EXPECT_EQ(image_format::kHeaderBytes, 24u);
}

TEST(ImageFormat, SectionsRoundTrip) {
  std::string vectors(64, 'v'), tail(64, 't'), links(64, 'l'), levels(2, 'L'), states(2, 's');
  std::string upper(8, 'u'), codes(128, 'c'), quantizer(16, 'q');
  auto span = [](std::string& s) { return std::span<char>(s.data(), s.size()); };
  HnswImage image;
  image.slot_end = 2;
  image.entry = PackEntry(1, 3);
  image.insert_counter = 0x0102030405060708ull;
  image.vectors = span(vectors);
  image.vectors_tail = span(tail);
  image.links0 = span(links);
  image.levels = span(levels);
  image.states = span(states);
  image.upper = span(upper);
  image.codes = span(codes);
  image.quantizer = span(quantizer);
  std::string header;
  const std::vector<image_format::Section> sections = image_format::ToSections(image, &header);
  ASSERT_EQ(sections.size(), 8u);
  // Little-endian u64s: slot_end, entry, insert_counter.
  ASSERT_EQ(header.size(), 24u);
  EXPECT_EQ(header.substr(0, 8), std::string("\x02\0\0\0\0\0\0\0", 8));
  EXPECT_EQ(static_cast<unsigned char>(header[16]), 0x08);
  // A section split between a mapping and memory is written as its parts in order.
  std::map<uint32_t, std::string> file;
  for (const image_format::Section& s : sections) {
    for (std::string_view part : s.parts) file[s.kind] += part;
  }
  EXPECT_EQ(file[image_format::kVectors], vectors + tail);

  auto section = [&](uint32_t kind) {
    return std::span<char>(file[kind].data(), file[kind].size());
  };
  HnswImage back;
  ASSERT_TRUE(image_format::FromSections(section, &back).ok());
  EXPECT_EQ(back.slot_end, 2u);
  EXPECT_EQ(back.entry, image.entry);
  EXPECT_EQ(back.insert_counter, image.insert_counter);
  EXPECT_EQ(std::string(back.codes.data(), back.codes.size()), codes);
  EXPECT_EQ(std::string(back.upper.data(), back.upper.size()), upper);
  EXPECT_EQ(std::string(back.links0.data(), back.links0.size()), links);
  EXPECT_FALSE(back.legacy_lists);
  for (const image_format::Section& s : sections) {  // the old kinds are no longer written
    EXPECT_NE(s.kind, image_format::kLinks0);
    EXPECT_NE(s.kind, image_format::kUpperLinks);
  }

  // A format-3 file has its lists under the old kinds: read as legacy (converted on import).
  std::map<uint32_t, std::string> old_file = file;
  old_file[image_format::kLinks0] = old_file[image_format::kLinks0Rows];
  old_file[image_format::kUpperLinks] = old_file[image_format::kUpperRows];
  old_file.erase(image_format::kLinks0Rows);
  old_file.erase(image_format::kUpperRows);
  auto old_section = [&](uint32_t kind) {
    return std::span<char>(old_file[kind].data(), old_file[kind].size());
  };
  HnswImage legacy;
  ASSERT_TRUE(image_format::FromSections(old_section, &legacy).ok());
  EXPECT_TRUE(legacy.legacy_lists);
  EXPECT_EQ(std::string(legacy.links0.data(), legacy.links0.size()), links);
  EXPECT_EQ(std::string(legacy.upper.data(), legacy.upper.size()), upper);

  file[image_format::kHeader].pop_back();
  EXPECT_EQ(image_format::FromSections(section, &back).code(), StatusCode::kCorruption);
}

TEST(ImageFormat, UnquantizedImageHasNoCodeSections) {
  HnswImage image;
  std::string header;
  EXPECT_EQ(image_format::ToSections(image, &header).size(), 6u);
}

}  // namespace
}  // namespace augurdb::index
