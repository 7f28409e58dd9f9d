// Block encoding: the first slot as a varint, then each following slot as a varint gap from its
// predecessor, then every tf as a varint. Blocks are self-contained (the first slot is absolute)
// so an insert or erase re-encodes one block and splices its bytes, leaving the others intact.
#include "text/posting_list.h"

#include <algorithm>

#include "text/varint.h"
#include "util/check.h"

namespace augurdb::text {
namespace {

// REQUIRES: the bytes were written by PutVarint32 (they never come from outside the process; the
// image format stores documents, not blocks).
uint32_t GetVarint(const char** p) {
  uint32_t v = 0;
  for (int shift = 0;; shift += 7) {
    const auto byte = static_cast<uint8_t>(*(*p)++);
    v |= static_cast<uint32_t>(byte & 0x7F) << shift;
    if (byte < 0x80) return v;
  }
}

// The non-dominated (tf, dl) pairs, merged down to kImpactsPerBound groups of neighbours (each
// group keeps its largest tf and smallest dl, so it still covers what its members covered).
BoundStats Bound(std::span<const Slot> slots, std::span<const uint32_t> tfs,
                 PostingList::DocLengths doc_len) {
  std::array<Impact, kBlockSize> pairs;
  const size_t n = std::min(slots.size(), kBlockSize);
  for (size_t i = 0; i < n; ++i) pairs[i] = {tfs[i], doc_len[slots[i]]};
  std::sort(pairs.begin(), pairs.begin() + static_cast<ptrdiff_t>(n),
            [](const Impact& a, const Impact& b) { return a.tf > b.tf || (a.tf == b.tf && a.dl < b.dl); });
  size_t frontier = 0;  // pairs[0, frontier): tf and dl both strictly decreasing
  for (size_t i = 0; i < n; ++i) {
    if (frontier == 0 || pairs[i].dl < pairs[frontier - 1].dl) pairs[frontier++] = pairs[i];
  }
  BoundStats b;
  const size_t groups = std::min(frontier, kImpactsPerBound);
  for (size_t g = 0; g < groups; ++g) {
    const size_t first = frontier * g / groups;
    const size_t last = frontier * (g + 1) / groups - 1;
    b.impacts[g] = {pairs[first].tf, pairs[last].dl};
  }
  b.count = static_cast<uint32_t>(groups);
  return b;
}

// The tail's bound is one pair, (max tf, min dl), so an insert updates it in O(1).
BoundStats TailBound(std::span<const Slot> slots, std::span<const uint32_t> tfs,
                     PostingList::DocLengths doc_len) {
  BoundStats b;
  for (size_t i = 0; i < slots.size(); ++i) {
    if (b.count == 0) {
      b.impacts[0] = {tfs[i], doc_len[slots[i]]};
      b.count = 1;
    }
    b.impacts[0].tf = std::max(b.impacts[0].tf, tfs[i]);
    b.impacts[0].dl = std::min(b.impacts[0].dl, doc_len[slots[i]]);
  }
  return b;
}

}  // namespace

void PostingList::DecodeBlock(size_t b, Slot* slots, uint32_t* tfs) const {
  const BlockMeta& meta = blocks_[b];
  const char* p = bytes_.data() + meta.offset;
  Slot slot = GetVarint(&p);
  slots[0] = slot;
  for (uint32_t i = 1; i < meta.count; ++i) {
    slot += GetVarint(&p);
    slots[i] = slot;
  }
  for (uint32_t i = 0; i < meta.count; ++i) tfs[i] = GetVarint(&p);
}

void PostingList::DecodeAll(std::vector<Slot>* slots, std::vector<uint32_t>* tfs) const {
  slots->resize(size());
  tfs->resize(size());
  size_t at = 0;
  for (size_t b = 0; b < blocks_.size(); ++b) {
    DecodeBlock(b, slots->data() + at, tfs->data() + at);
    at += blocks_[b].count;
  }
  std::copy(tail_slots_.begin(), tail_slots_.end(), slots->begin() + static_cast<ptrdiff_t>(at));
  std::copy(tail_tfs_.begin(), tail_tfs_.end(), tfs->begin() + static_cast<ptrdiff_t>(at));
}

void PostingList::ReplaceBlocks(size_t first, size_t old_count, std::span<const Slot> slots,
                                std::span<const uint32_t> tfs, DocLengths doc_len) {
  const size_t byte_begin = first < blocks_.size() ? blocks_[first].offset : bytes_.size();
  const size_t byte_end =
      first + old_count < blocks_.size() ? blocks_[first + old_count].offset : bytes_.size();
  size_t removed_postings = 0;
  for (size_t b = first; b < first + old_count; ++b) removed_postings += blocks_[b].count;

  std::string encoded;
  std::vector<BlockMeta> metas;
  // Evenly sized blocks: a split of 129 postings gives 65 + 64 rather than 128 + 1.
  const size_t n = slots.size();
  const size_t block_count = (n + kBlockSize - 1) / kBlockSize;
  for (size_t blk = 0, begin = 0; blk < block_count; ++blk) {
    const size_t end = n * (blk + 1) / block_count;
    const BoundStats bound = Bound(slots.subspan(begin, end - begin),
                                   tfs.subspan(begin, end - begin), doc_len);
    metas.push_back({slots[end - 1], static_cast<uint32_t>(byte_begin + encoded.size()),
                     static_cast<uint32_t>(end - begin), bound});
    PutVarint32(&encoded, slots[begin]);
    for (size_t i = begin + 1; i < end; ++i) PutVarint32(&encoded, slots[i] - slots[i - 1]);
    for (size_t i = begin; i < end; ++i) PutVarint32(&encoded, tfs[i]);
    begin = end;
  }
  const auto shift = static_cast<int64_t>(encoded.size()) -
                     static_cast<int64_t>(byte_end - byte_begin);
  if (byte_begin == bytes_.size()) {
    bytes_.append(encoded);  // sealing the tail: the common case, no copy of earlier blocks
  } else {
    std::string rebuilt;
    rebuilt.reserve(bytes_.size() + encoded.size() - (byte_end - byte_begin));
    rebuilt.append(bytes_, 0, byte_begin);
    rebuilt.append(encoded);
    rebuilt.append(bytes_, byte_end, std::string::npos);
    bytes_.swap(rebuilt);
  }
  for (size_t b = first + old_count; b < blocks_.size(); ++b) {
    blocks_[b].offset = static_cast<uint32_t>(blocks_[b].offset + shift);
  }
  blocks_.erase(blocks_.begin() + static_cast<ptrdiff_t>(first),
                blocks_.begin() + static_cast<ptrdiff_t>(first + old_count));
  blocks_.insert(blocks_.begin() + static_cast<ptrdiff_t>(first), metas.begin(), metas.end());
  sealed_count_ = sealed_count_ - removed_postings + n;
}

void PostingList::RecomputeTailBound(DocLengths doc_len) {
  tail_bound_ = TailBound(tail_slots_, tail_tfs_, doc_len);
}

void PostingList::SealTailIfFull(DocLengths doc_len) {
  if (tail_slots_.size() < kBlockSize) return;
  ReplaceBlocks(blocks_.size(), 0, tail_slots_, tail_tfs_, doc_len);
  tail_slots_.clear();
  tail_tfs_.clear();
  tail_bound_ = BoundStats{};
}

void PostingList::Insert(Slot slot, uint32_t tf, DocLengths doc_len) {
  AUGUR_CHECK(slot < kNoSlot);
  if (blocks_.empty() || slot > blocks_.back().last_slot) {
    const auto it = std::lower_bound(tail_slots_.begin(), tail_slots_.end(), slot);
    const auto at = it - tail_slots_.begin();
    tail_slots_.insert(it, slot);
    tail_tfs_.insert(tail_tfs_.begin() + at, tf);
    const Slot one[] = {slot};
    const uint32_t one_tf[] = {tf};
    if (tail_bound_.count == 0) {
      tail_bound_ = TailBound(one, one_tf, doc_len);
    } else {
      tail_bound_.impacts[0].tf = std::max(tail_bound_.impacts[0].tf, tf);
      tail_bound_.impacts[0].dl = std::min(tail_bound_.impacts[0].dl, doc_len[slot]);
    }
    SealTailIfFull(doc_len);
    return;
  }
  // A slot below the sealed range (a reused slot): insert into the block that covers it,
  // splitting it when full.
  const auto it = std::lower_bound(blocks_.begin(), blocks_.end(), slot,
                                   [](const BlockMeta& m, Slot s) { return m.last_slot < s; });
  const auto b = static_cast<size_t>(it - blocks_.begin());
  Slot slots[kBlockSize + 1];
  uint32_t tfs[kBlockSize + 1];
  DecodeBlock(b, slots, tfs);
  const uint32_t count = blocks_[b].count;
  const auto at = static_cast<size_t>(std::lower_bound(slots, slots + count, slot) - slots);
  AUGUR_DCHECK(at == count || slots[at] != slot);
  std::copy_backward(slots + at, slots + count, slots + count + 1);
  std::copy_backward(tfs + at, tfs + count, tfs + count + 1);
  slots[at] = slot;
  tfs[at] = tf;
  ReplaceBlocks(b, 1, std::span<const Slot>(slots, count + 1),
                std::span<const uint32_t>(tfs, count + 1), doc_len);
}

bool PostingList::Erase(Slot slot, DocLengths doc_len) {
  if (blocks_.empty() || slot > blocks_.back().last_slot) {
    const auto it = std::lower_bound(tail_slots_.begin(), tail_slots_.end(), slot);
    if (it == tail_slots_.end() || *it != slot) return false;
    const auto at = it - tail_slots_.begin();
    tail_slots_.erase(it);
    tail_tfs_.erase(tail_tfs_.begin() + at);
    RecomputeTailBound(doc_len);
    return true;
  }
  const auto it = std::lower_bound(blocks_.begin(), blocks_.end(), slot,
                                   [](const BlockMeta& m, Slot s) { return m.last_slot < s; });
  const auto b = static_cast<size_t>(it - blocks_.begin());
  Slot slots[kBlockSize];
  uint32_t tfs[kBlockSize];
  DecodeBlock(b, slots, tfs);
  const uint32_t count = blocks_[b].count;
  const auto at = static_cast<size_t>(std::lower_bound(slots, slots + count, slot) - slots);
  if (at == count || slots[at] != slot) return false;
  std::copy(slots + at + 1, slots + count, slots + at);
  std::copy(tfs + at + 1, tfs + count, tfs + at);
  ReplaceBlocks(b, 1, std::span<const Slot>(slots, count - 1),
                std::span<const uint32_t>(tfs, count - 1), doc_len);
  return true;
}

void PostingList::Assign(std::span<const Slot> slots, std::span<const uint32_t> tfs,
                         DocLengths doc_len) {
  bytes_.clear();
  blocks_.clear();
  sealed_count_ = 0;
  const size_t sealed = slots.size() / kBlockSize * kBlockSize;
  // Full blocks only: ReplaceBlocks would even out a partial last block instead.
  for (size_t begin = 0; begin < sealed; begin += kBlockSize) {
    ReplaceBlocks(blocks_.size(), 0, slots.subspan(begin, kBlockSize),
                  tfs.subspan(begin, kBlockSize), doc_len);
  }
  tail_slots_.assign(slots.begin() + static_cast<ptrdiff_t>(sealed), slots.end());
  tail_tfs_.assign(tfs.begin() + static_cast<ptrdiff_t>(sealed), tfs.end());
  RecomputeTailBound(doc_len);
  bytes_.shrink_to_fit();
}

std::string PostingList::CheckInvariants(DocLengths doc_len) const {
  Slot previous = 0;
  bool first = true;
  size_t total = 0;
  Slot buf_slots[kBlockSize];
  uint32_t buf_tfs[kBlockSize];
  for (size_t b = 0; b < blocks_.size(); ++b) {
    const BlockMeta& m = blocks_[b];
    if (m.count == 0 || m.count > kBlockSize) return "block " + std::to_string(b) + " count";
    DecodeBlock(b, buf_slots, buf_tfs);
    const BoundStats bound = Bound(std::span<const Slot>(buf_slots, m.count),
                                   std::span<const uint32_t>(buf_tfs, m.count), doc_len);
    if (!(bound == m.bound)) {
      return "block " + std::to_string(b) + " bound metadata is stale";
    }
    if (buf_slots[m.count - 1] != m.last_slot) return "block " + std::to_string(b) + " last slot";
    for (uint32_t i = 0; i < m.count; ++i) {
      if (!first && buf_slots[i] <= previous) return "slots not increasing in block " +
                                                     std::to_string(b);
      if (buf_tfs[i] == 0) return "zero tf in block " + std::to_string(b);
      previous = buf_slots[i];
      first = false;
    }
    total += m.count;
  }
  if (total != sealed_count_) return "sealed posting count";
  if (tail_slots_.size() >= kBlockSize) return "tail not sealed at block size";
  for (size_t i = 0; i < tail_slots_.size(); ++i) {
    if (!first && tail_slots_[i] <= previous) return "tail slots not increasing";
    if (tail_tfs_[i] == 0) return "zero tf in tail";
    previous = tail_slots_[i];
    first = false;
  }
  if (!(TailBound(tail_slots_, tail_tfs_, doc_len) == tail_bound_)) {
    return "tail bound is stale";
  }
  return "";
}

size_t PostingList::MemoryBytes() const {
  return bytes_.capacity() + blocks_.capacity() * sizeof(BlockMeta) +
         tail_slots_.capacity() * sizeof(Slot) + tail_tfs_.capacity() * sizeof(uint32_t);
}

}  // namespace augurdb::text
