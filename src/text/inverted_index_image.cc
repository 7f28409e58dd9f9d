// The checkpoint image of an InvertedIndex. It stores the live documents' term lists, not the
// postings: FromImage rebuilds the postings, which must be decoded to be validated anyway, and
// a rebuilt index starts compacted (no dead postings) whatever churn preceded the checkpoint.
//
// Layout (all integers little-endian; varint = LEB128, at most 5 bytes for 32 bits):
//   fixed32 magic "AGTX"      fixed32 version (1)     fixed8 tokenizer kind
//   fixed32 slot_end (every slot below it)  varint term_count       varint doc_count
//   term_count times: varint byte length, bytes (UTF-8, non-empty, distinct)
//   doc_count times, slots ascending:
//     varint slot gap (slot - previous slot - 1; the first is the slot itself)
//     varint distinct terms, then per term: varint term id gap (from the previous id + 1,
//     the first from 0), varint tf (>= 1)
//   fixed32 masked CRC32C of every byte before it
#include <algorithm>
#include <limits>
#include <mutex>

#include "text/inverted_index.h"
#include "text/varint.h"
#include "util/coding.h"
#include "util/crc32c.h"
#include "util/utf8.h"

namespace augurdb::text {
namespace {

constexpr uint32_t kImageMagic = 0x58544741;  // "AGTX"
constexpr uint32_t kImageVersion = 1;

// util/coding.h's bounded Decoder plus the image's varints; failures carry the byte offset.
class ImageReader : public Decoder {
 public:
  explicit ImageReader(std::string_view bytes) : Decoder(bytes), begin_(bytes.data()) {}
  size_t offset() const { return static_cast<size_t>(position() - begin_); }

  bool Varint(uint32_t* v) {
    uint64_t value = 0;
    for (int shift = 0; shift <= 28; shift += 7) {
      uint8_t byte = 0;
      if (!GetFixed8(&byte)) return false;
      value |= static_cast<uint64_t>(byte & 0x7F) << shift;
      if (byte < 0x80) {
        if (value > std::numeric_limits<uint32_t>::max()) return false;
        *v = static_cast<uint32_t>(value);
        return true;
      }
    }
    return false;
  }

 private:
  const char* begin_;
};

Status Corrupt(const ImageReader& r, const std::string& what) {
  return Status::Corruption("text index image: " + what + " at byte offset " +
                            std::to_string(r.offset()) +
                            "; restore the checkpoint or rebuild the index from the documents");
}

}  // namespace

std::string InvertedIndex::ExportImage() const {
  const auto lock = ReadLock();
  // Terms with live postings only, renumbered densely in id order.
  std::vector<uint32_t> new_id(terms_.size(), std::numeric_limits<uint32_t>::max());
  uint32_t term_count = 0;
  for (uint32_t id = 0; id < terms_.size(); ++id) {
    if (terms_[id].doc_freq > 0) new_id[id] = term_count++;
  }
  std::string out;
  PutFixed32(&out, kImageMagic);
  PutFixed32(&out, kImageVersion);
  out.push_back(static_cast<char>(tokenizer_.kind()));
  PutFixed32(&out, static_cast<uint32_t>(state_.size()));
  PutVarint32(&out, term_count);
  PutVarint32(&out, static_cast<uint32_t>(stats_.doc_count));
  for (uint32_t id = 0; id < terms_.size(); ++id) {
    if (new_id[id] == std::numeric_limits<uint32_t>::max()) continue;
    PutVarint32(&out, static_cast<uint32_t>(term_text_[id]->size()));
    out.append(*term_text_[id]);
  }
  int64_t previous_slot = -1;
  for (size_t slot = 0; slot < state_.size(); ++slot) {
    if (state_[slot] != SlotState::kLive) continue;
    PutVarint32(&out, static_cast<uint32_t>(static_cast<int64_t>(slot) - previous_slot - 1));
    previous_slot = static_cast<int64_t>(slot);
    // Renumbering keeps the order: ids only lose gaps.
    const std::vector<TermTf>& forward = forward_[slot];
    PutVarint32(&out, static_cast<uint32_t>(forward.size()));
    int64_t previous_term = -1;
    for (const TermTf& entry : forward) {
      const uint32_t id = new_id[entry.term];
      PutVarint32(&out, static_cast<uint32_t>(static_cast<int64_t>(id) - previous_term - 1));
      PutVarint32(&out, entry.tf);
      previous_term = id;
    }
  }
  PutFixed32(&out, crc32c::Mask(crc32c::Value(out.data(), out.size())));
  return out;
}

Result<std::unique_ptr<InvertedIndex>> InvertedIndex::FromImage(std::string_view image) {
  if (image.size() < 4) {
    return Status::Corruption("text index image: " + std::to_string(image.size()) +
                              " bytes, too short for a checksum");
  }
  const std::string_view body = image.substr(0, image.size() - 4);
  const uint32_t stored = crc32c::Unmask(DecodeFixed32(image.data() + body.size()));
  if (stored != crc32c::Value(body.data(), body.size())) {
    return Status::Corruption("text index image: checksum mismatch over " +
                              std::to_string(body.size()) + " bytes");
  }
  ImageReader r(body);
  uint32_t magic = 0, version = 0, slot_end = 0, term_count = 0, doc_count = 0;
  uint8_t kind = 0;
  if (!r.GetFixed32(&magic) || magic != kImageMagic) return Corrupt(r, "bad magic");
  if (!r.GetFixed32(&version) || version != kImageVersion) {
    return Corrupt(r, "unsupported version " + std::to_string(version));
  }
  if (!r.GetFixed8(&kind) || !IsKnownTokenizerKind(kind)) return Corrupt(r, "unknown tokenizer");
  if (!r.GetFixed32(&slot_end) || slot_end >= kNoSlot) return Corrupt(r, "bad slot count");
  if (!r.Varint(&term_count) || term_count > r.remaining()) return Corrupt(r, "bad term count");
  if (!r.Varint(&doc_count) || doc_count > slot_end || doc_count > r.remaining()) {
    return Corrupt(r, "bad document count");
  }
  auto index = std::make_unique<InvertedIndex>(static_cast<TokenizerKind>(kind));
  std::vector<std::string_view> terms(term_count);
  for (uint32_t i = 0; i < term_count; ++i) {
    uint32_t length = 0;
    if (!r.Varint(&length) || length == 0 || !r.GetBytes(length, &terms[i])) {
      return Corrupt(r, "truncated term " + std::to_string(i));
    }
    if (!IsValidUtf8(terms[i])) return Corrupt(r, "term " + std::to_string(i) + " not UTF-8");
    if (index->TermIdLocked(terms[i]) != i) return Corrupt(r, "duplicate term " + std::to_string(i));
  }
  std::vector<std::pair<std::string_view, uint32_t>> counts;
  int64_t previous_slot = -1;
  for (uint32_t d = 0; d < doc_count; ++d) {
    uint32_t gap = 0, distinct = 0;
    if (!r.Varint(&gap)) return Corrupt(r, "truncated document " + std::to_string(d));
    const int64_t slot = previous_slot + 1 + gap;
    if (slot >= slot_end) return Corrupt(r, "slot " + std::to_string(slot) + " out of range");
    previous_slot = slot;
    if (!r.Varint(&distinct) || distinct > term_count) {
      return Corrupt(r, "bad term count for slot " + std::to_string(slot));
    }
    counts.clear();
    int64_t previous_term = -1;
    for (uint32_t t = 0; t < distinct; ++t) {
      uint32_t term_gap = 0, tf = 0;
      if (!r.Varint(&term_gap) || !r.Varint(&tf)) {
        return Corrupt(r, "truncated terms of slot " + std::to_string(slot));
      }
      const int64_t term = previous_term + 1 + term_gap;
      if (term >= term_count || tf == 0) {
        return Corrupt(r, "bad term or frequency in slot " + std::to_string(slot));
      }
      previous_term = term;
      counts.emplace_back(terms[static_cast<size_t>(term)], tf);
    }
    // Terms arrive in id order, which AddCountedLocked does not rely on.
    const Status added = index->AddCountedLocked(static_cast<Slot>(slot), counts);
    if (!added.ok()) return Corrupt(r, added.message());
  }
  if (r.remaining() != 0) return Corrupt(r, "trailing bytes");
  return index;
}

}  // namespace augurdb::text
