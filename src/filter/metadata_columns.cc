// MetadataColumns: record metadata stored column-wise (one Column per field name,
// metadata_column.h, which describes the layout and its invariants), and plan evaluation into
// bitsets.
//
// Evaluation works on 64-bit words. Each node receives the set of candidate slots and returns a
// subset of it: an AND passes its result so far as the next child's candidates (so a range scan
// after an equality only visits the equality's matches), an OR passes the slots not yet
// matched, and NOT returns candidates minus its child's result. Equality, $in and $contains
// read postings (O(matches)); $exists/$ne/$nin combine them with `present` word by word; ranges
// scan the candidates of the column with a branch-free interval test (all numeric ranges on
// one field inside an AND share a single scan); $substring/$isubstring test each distinct string
// once, then visit the candidates; $empty is one pass over the candidates.
//
// Thread safety: see filter.h (const methods concurrently; Set/Clear exclusively).
#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <string_view>
#include <unordered_map>

#include "filter/filter.h"
#include "filter/filter_plan.h"
#include "filter/metadata_column.h"
#include "util/check.h"
#include "util/hash.h"
#include "util/unicode_tables.h"

namespace augurdb::filter {

size_t Bitset::Count() const noexcept {
  size_t count = 0;
  for (uint64_t w : words_) count += static_cast<size_t>(std::popcount(w));
  return count;
}

namespace {

// ---- word-wise helpers ----

bool AllZero(const Words& w) {
  for (uint64_t x : w) {
    if (x != 0) return false;
  }
  return true;
}

// out = candidates & present (present may be shorter than candidates).
void AndPresent(const Words& candidates, const Words& present, Words* out) {
  out->assign(candidates.size(), 0);
  const size_t n = std::min(candidates.size(), present.size());
  for (size_t i = 0; i < n; ++i) (*out)[i] = candidates[i] & present[i];
}

// out |= candidates restricted to the slots of `posting` (sorted).
void OrPosting(const std::vector<uint32_t>& posting, const Words& candidates, Words* out) {
  const size_t slot_limit = candidates.size() * 64;
  for (uint32_t slot : posting) {
    if (slot >= slot_limit) break;
    (*out)[slot >> 6] |= candidates[slot >> 6] & (uint64_t{1} << (slot & 63));
  }
}

// ---- range comparisons ----
//
// A range predicate becomes, per stored type, an interval test that compiles to a few compares
// without branches: int values against an int64 interval [int_lo, int_hi], doubles against a
// double interval whose ends may be open or closed, strings through a per-dictionary-entry
// table. Each predicate is callable on any (tag, payload) pair and is false for other tags.

// Numbers: `value op operand`, exact across int and double, as two closed intervals.
//
// Doubles are compared as integers through OrderedKey, so the whole test is integer arithmetic
// without branches (float compares combined with & tend to compile to jumps).

// Maps a double's bits to an unsigned key with the same order for all non-NaN values (-0.0
// just below +0.0); NaNs land beyond the infinities, so an interval between finite or infinite
// ends never contains one.
inline uint64_t OrderedKey(uint64_t bits) {
  const auto sign = static_cast<uint64_t>(static_cast<int64_t>(bits) >> 63);
  return bits ^ (sign | 0x8000000000000000ULL);
}
inline uint64_t OrderedKey(double d) { return OrderedKey(std::bit_cast<uint64_t>(d)); }

struct NumericRange {
  Tag int_tag = Tag::kMissing;  // kInt, or kMissing (matches no present slot) when empty
  uint64_t int_base = 0;        // ints match iff uint64(i) - int_base <= int_span
  uint64_t int_span = 0;
  Tag double_tag = Tag::kMissing;  // kDouble, or kMissing when empty
  uint64_t double_base = 0;        // doubles match iff OrderedKey(d) - double_base <= double_span
  uint64_t double_span = 0;

  bool operator()(Tag tag, uint64_t bits) const {
    const bool int_hit = (tag == int_tag) & (bits - int_base <= int_span);
    const bool double_hit = (tag == double_tag) & (OrderedKey(bits) - double_base <= double_span);
    return int_hit | double_hit;
  }
};

// The same bounds while they are being worked out: ends may be open, intervals empty.
struct RangeBounds {
  int64_t int_lo = 1, int_hi = 0;  // empty unless set
  double lo = -HUGE_VAL, hi = HUGE_VAL;
  bool lo_closed = true, hi_closed = true;

  NumericRange Close() const {
    NumericRange r;
    if (int_lo <= int_hi) {
      r.int_tag = Tag::kInt;
      r.int_base = static_cast<uint64_t>(int_lo);
      r.int_span = static_cast<uint64_t>(int_hi) - static_cast<uint64_t>(int_lo);
    }
    // An open end moves to the adjacent double, which is exact: no double lies between.
    double closed_lo = lo_closed ? lo : std::nextafter(lo, HUGE_VAL);
    double closed_hi = hi_closed ? hi : std::nextafter(hi, -HUGE_VAL);
    const bool empty = (!lo_closed && lo == HUGE_VAL) || (!hi_closed && hi == -HUGE_VAL);
    if (!empty && closed_lo <= closed_hi) {
      // 0.0 == -0.0: a zero end must take in both zeros.
      if (closed_lo == 0.0) closed_lo = -0.0;
      if (closed_hi == 0.0) closed_hi = 0.0;
      r.double_tag = Tag::kDouble;
      r.double_base = OrderedKey(closed_lo);
      r.double_span = OrderedKey(closed_hi) - r.double_base;
    }
    return r;
  }
};

constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

NumericRange MakeNumericRange(PlanOp op, const Value& operand) {
  RangeBounds r;
  const bool lower = op == PlanOp::kGt || op == PlanOp::kGte;  // else an upper bound
  const bool closed = op == PlanOp::kGte || op == PlanOp::kLte;
  if (operand.is_int()) {
    const int64_t x = operand.as_int();
    // Int values.
    if (lower) {
      r.int_hi = kInt64Max;
      if (closed) {
        r.int_lo = x;
      } else if (x != kInt64Max) {
        r.int_lo = x + 1;
      } else {
        r.int_lo = 1, r.int_hi = 0;  // nothing is > INT64_MAX
      }
    } else {
      r.int_lo = kInt64Min;
      if (closed) {
        r.int_hi = x;
      } else if (x != kInt64Min) {
        r.int_hi = x - 1;
      } else {
        r.int_lo = 1, r.int_hi = 0;  // nothing is < INT64_MIN
      }
    }
    // Double values: compare with xd, the double nearest x. No double lies strictly between x
    // and xd, so `d op x` is `d op' xd` with the end closed or open depending on the rounding.
    const double xd = static_cast<double>(x);
    const int c = CompareIntDouble(x, xd);  // -1: xd rounded up, 1: rounded down
    if (lower) {
      r.lo = xd;
      r.lo_closed = c == -1 || (closed && c == 0);
    } else {
      r.hi = xd;
      r.hi_closed = c == 1 || (closed && c == 0);
    }
    return r.Close();
  }
  const double x = operand.as_double();  // finite or infinite, never NaN (JSON has no NaN)
  if (lower) {
    r.lo = x;
    r.lo_closed = closed;
  } else {
    r.hi = x;
    r.hi_closed = closed;
  }
  // Int values against a double bound, through floor/ceil.
  if (std::isnan(x)) return r.Close();  // int interval stays empty
  if (lower) {
    r.int_hi = kInt64Max;
    if (x >= kTwo63) {
      r.int_lo = 1, r.int_hi = 0;  // empty
    } else if (x < -kTwo63) {
      r.int_lo = kInt64Min;
    } else {
      // > x: >= floor(x) + 1;  >= x: >= ceil(x). Both stay in range for -2^63 <= x < 2^63.
      r.int_lo =
          closed ? static_cast<int64_t>(std::ceil(x)) : static_cast<int64_t>(std::floor(x)) + 1;
    }
  } else {
    r.int_lo = kInt64Min;
    if (x >= kTwo63) {
      r.int_hi = kInt64Max;
    } else if (x < -kTwo63 || (!closed && x == -kTwo63)) {
      r.int_lo = 1, r.int_hi = 0;  // empty
    } else {
      // < x: <= ceil(x) - 1;  <= x: <= floor(x).
      r.int_hi =
          closed ? static_cast<int64_t>(std::floor(x)) : static_cast<int64_t>(std::ceil(x)) - 1;
    }
  }
  return r.Close();
}

bool AcceptOrder(PlanOp op, int c) {
  switch (op) {
    case PlanOp::kGt:
      return c > 0;
    case PlanOp::kGte:
      return c >= 0;
    case PlanOp::kLt:
      return c < 0;
    case PlanOp::kLte:
      return c <= 0;
    default:
      return false;
  }
}

// Strings through a table with the predicate's result for each dictionary id.
struct StringTable {
  const uint8_t* hits;
  bool operator()(Tag tag, uint64_t bits) const { return tag == Tag::kString && hits[bits] != 0; }
};

// Strings compared one by one (when the dictionary is larger than the candidate set).
struct StringCompare {
  const std::vector<std::string>* strings;
  std::string_view operand;
  PlanOp op;
  bool operator()(Tag tag, uint64_t bits) const {
    if (tag != Tag::kString) return false;
    const int c = std::string_view((*strings)[bits]).compare(operand);
    return AcceptOrder(op, c);
  }
};

// A column whose present slots are all ints (or all doubles) needs no tag test: absent slots
// are masked out by the caller.
struct IntsOnly {
  uint64_t base, span;
  bool operator()(Tag, uint64_t bits) const { return bits - base <= span; }
};
struct DoublesOnly {
  uint64_t base, span;
  bool operator()(Tag, uint64_t bits) const { return OrderedKey(bits) - base <= span; }
};

// Several numeric ranges on one field AND-ed together ({"$gte": a, "$lt": b}), for one scan
// instead of one per range. A scalar tests the intersection; a list needs, for each range, an
// element inside it (not necessarily the same element), as when the ranges run one by one.
struct NumericRanges {
  NumericRange intersection;
  std::vector<NumericRange> parts;
  bool operator()(Tag tag, uint64_t bits) const { return intersection(tag, bits); }
};

NumericRange Intersect(const NumericRange& a, const NumericRange& b) {
  NumericRange r;
  if (a.int_tag == Tag::kInt && b.int_tag == Tag::kInt) {
    const auto lo = std::max(static_cast<int64_t>(a.int_base), static_cast<int64_t>(b.int_base));
    const auto hi = std::min(static_cast<int64_t>(a.int_base + a.int_span),
                             static_cast<int64_t>(b.int_base + b.int_span));
    if (lo <= hi) {
      r.int_tag = Tag::kInt;
      r.int_base = static_cast<uint64_t>(lo);
      r.int_span = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
    }
  }
  if (a.double_tag == Tag::kDouble && b.double_tag == Tag::kDouble) {
    const uint64_t lo = std::max(a.double_base, b.double_base);
    const uint64_t hi = std::min(a.double_base + a.double_span, b.double_base + b.double_span);
    if (lo <= hi) {
      r.double_tag = Tag::kDouble;
      r.double_base = lo;
      r.double_span = hi - lo;
    }
  }
  return r;
}

// Whether a list slot matches: some element satisfies the predicate.
template <typename Pred>
bool MatchList(const Pred& pred, const std::vector<Cell>& cells) {
  for (const Cell& cell : cells) {
    if (pred(cell.tag, cell.payload)) return true;
  }
  return false;
}
bool MatchList(const NumericRanges& ranges, const std::vector<Cell>& cells) {
  for (const NumericRange& part : ranges.parts) {
    if (!MatchList(part, cells)) return false;
  }
  return true;
}

// out[w] = the candidates of word w whose value (or a list element) satisfies `pred`. Dense
// words test all 64 slots without branches; sparse ones visit only their candidates.
template <typename Pred>
void ScanRange(const Column& column, const Pred& pred, const Words& candidates, Words* out) {
  const size_t slots = column.tags.size();
  const size_t scan_words = std::min(candidates.size(), column.present.size());
  const Tag* tags = column.tags.data();
  const uint64_t* payload = column.payload.data();
  for (size_t w = 0; w < scan_words; ++w) {
    const uint64_t todo = candidates[w] & column.present[w];
    if (todo == 0) continue;
    const size_t base = w * 64;
    uint64_t hits = 0, lists = 0;
    if (std::popcount(todo) >= 16) {
      const size_t end = std::min<size_t>(64, slots - base);
      for (size_t b = 0; b < end; ++b) {
        const Tag tag = tags[base + b];
        hits |= static_cast<uint64_t>(pred(tag, payload[base + b])) << b;
        lists |= static_cast<uint64_t>(tag == Tag::kList) << b;
      }
      hits &= todo;
      lists &= todo;
    } else {
      for (uint64_t rest = todo; rest != 0; rest &= rest - 1) {
        const int b = std::countr_zero(rest);
        const Tag tag = tags[base + static_cast<size_t>(b)];
        if (tag == Tag::kList) {
          lists |= uint64_t{1} << b;
        } else {
          hits |= static_cast<uint64_t>(pred(tag, payload[base + static_cast<size_t>(b)])) << b;
        }
      }
    }
    for (; lists != 0; lists &= lists - 1) {
      const int b = std::countr_zero(lists);
      if (MatchList(pred, column.lists[payload[base + static_cast<size_t>(b)]])) {
        hits |= uint64_t{1} << b;
      }
    }
    (*out)[w] = hits;
  }
}

// Runs a numeric range (`ranges` non-null: several on one field, `range` their intersection),
// with the cheaper predicate when the column holds one numeric type only.
void ScanNumeric(const Column& column, const NumericRange& range, const NumericRanges* ranges,
                 const Words& candidates, Words* out) {
  if (column.OnlyTag(Tag::kInt)) {
    if (range.int_tag == Tag::kInt) {
      ScanRange(column, IntsOnly{range.int_base, range.int_span}, candidates, out);
    }
  } else if (column.OnlyTag(Tag::kDouble)) {
    if (range.double_tag == Tag::kDouble) {
      ScanRange(column, DoublesOnly{range.double_base, range.double_span}, candidates, out);
    }
  } else if (ranges != nullptr) {
    ScanRange(column, *ranges, candidates, out);
  } else {
    ScanRange(column, range, candidates, out);
  }
}

}  // namespace

struct MetadataColumns::Impl {
  StringIdMap column_ids;
  std::vector<std::string> column_names;  // by column id
  std::vector<std::unique_ptr<Column>> columns;
  std::vector<std::vector<uint32_t>> slot_columns;  // invariant 4 (metadata_column.h)

  const Column* Find(const std::string& field) const {
    auto it = column_ids.find(std::string_view(field));
    return it == column_ids.end() ? nullptr : columns[it->second].get();
  }

  void Eval(const PlanNode& node, const Words& candidates, Words* out) const;
  void EvalLeaf(const PlanNode& node, const Words& candidates, Words* out) const;
  void EvalRange(const Column& column, const PlanNode& node, const Words& candidates,
                 Words* out) const;
  void EvalSubstring(const Column& column, const PlanNode& node, const Words& candidates,
                     Words* out) const;
  void EvalEmpty(const Column& column, bool empty, const Words& candidates, Words* out) const;
  // REQUIRES: every node IsNumericRange, all on one field.
  void EvalRanges(const std::vector<const PlanNode*>& nodes, const Words& candidates,
                  Words* out) const;

  static bool IsNumericRange(const PlanNode& node) {
    return (node.op == PlanOp::kGt || node.op == PlanOp::kGte || node.op == PlanOp::kLt ||
            node.op == PlanOp::kLte) &&
           !node.operands.front().is_string();
  }
};

MetadataColumns::MetadataColumns() : impl_(std::make_unique<Impl>()) {}
MetadataColumns::~MetadataColumns() = default;

void MetadataColumns::Set(uint32_t slot, const Metadata& metadata) {
  Clear(slot);
  if (metadata.empty()) return;
  if (impl_->slot_columns.size() <= slot) impl_->slot_columns.resize(size_t{slot} + 1);
  std::vector<uint32_t>& ids = impl_->slot_columns[slot];
  ids.reserve(metadata.size());
  for (const auto& [name, value] : metadata) {
    auto it = impl_->column_ids.find(std::string_view(name));
    uint32_t id;
    if (it == impl_->column_ids.end()) {
      id = static_cast<uint32_t>(impl_->columns.size());
      impl_->columns.push_back(std::make_unique<Column>());
      impl_->column_names.push_back(name);
      impl_->column_ids.emplace(name, id);
    } else {
      id = it->second;
    }
    impl_->columns[id]->Put(slot, value);
    ids.push_back(id);
  }
}

void MetadataColumns::Clear(uint32_t slot) {
  if (slot >= impl_->slot_columns.size()) return;
  std::vector<uint32_t>& ids = impl_->slot_columns[slot];
  for (uint32_t id : ids) impl_->columns[id]->Remove(slot);
  ids.clear();
}

Metadata MetadataColumns::Get(uint32_t slot) const {
  Metadata out;
  if (slot >= impl_->slot_columns.size()) return out;
  for (uint32_t id : impl_->slot_columns[slot]) {
    out.emplace(impl_->column_names[id], impl_->columns[id]->Get(slot));
  }
  return out;
}

bool MetadataColumns::Has(uint32_t slot) const {
  return slot < impl_->slot_columns.size() && !impl_->slot_columns[slot].empty();
}

size_t MetadataColumns::MemoryBytes() const {
  size_t bytes = sizeof(*this) + sizeof(Impl);
  bytes += impl_->column_ids.bucket_count() * sizeof(void*);
  for (const auto& [name, id] : impl_->column_ids) {
    // The name is held twice: as the map's key and in column_names.
    bytes += sizeof(std::pair<const std::string, uint32_t>) + 16 + sizeof(std::string) +
             (name.capacity() > 15 ? 2 * (name.capacity() + 1) : 0);
  }
  for (const auto& column : impl_->columns) bytes += column->MemoryBytes();
  bytes += impl_->slot_columns.capacity() * sizeof(std::vector<uint32_t>);
  for (const auto& ids : impl_->slot_columns) bytes += ids.capacity() * sizeof(uint32_t);
  return bytes;
}

void MetadataColumns::Evaluate(const FilterPlan& plan, const Bitset& eligible, size_t slot_end,
                               Bitset* out) const {
  out->Resize(slot_end);
  const size_t words = (slot_end + 63) / 64;
  Words candidates(words, 0);
  const size_t copy = std::min(words, eligible.words().size());
  std::copy_n(eligible.words().begin(), copy, candidates.begin());
  if (words > 0 && (slot_end & 63) != 0) {
    candidates[words - 1] &= (uint64_t{1} << (slot_end & 63)) - 1;
  }
  impl_->Eval(plan.root(), candidates, &out->words());
}

// Leaves `out` (any prior content) as the subset of `candidates` matching `node`.
void MetadataColumns::Impl::Eval(const PlanNode& node, const Words& candidates, Words* out) const {
  switch (node.op) {
    case PlanOp::kMatchAll:
      *out = candidates;
      return;
    case PlanOp::kAnd: {
      // Each child narrows the candidates of the next. Numeric ranges on one field run as one
      // scan (children are sorted cheap-first by the parser, so ranges come last).
      const size_t n = node.children.size();
      std::vector<bool> done(n, false);
      Words next;
      for (size_t i = 0; i < n; ++i) {
        if (done[i]) continue;
        const Words& in = i == 0 ? candidates : *out;
        Words* dest = i == 0 ? out : &next;
        const PlanNode& child = node.children[i];
        std::vector<const PlanNode*> group{&child};
        if (IsNumericRange(child)) {
          for (size_t j = i + 1; j < n; ++j) {
            if (!done[j] && IsNumericRange(node.children[j]) &&
                node.children[j].field == child.field) {
              group.push_back(&node.children[j]);
              done[j] = true;
            }
          }
        }
        if (group.size() > 1) {
          EvalRanges(group, in, dest);
        } else {
          Eval(child, in, dest);
        }
        if (i > 0) out->swap(next);
        if (AllZero(*out)) return;
      }
      return;
    }
    case PlanOp::kOr: {
      Eval(node.children[0], candidates, out);
      Words rest(candidates.size()), part;
      for (size_t w = 0; w < rest.size(); ++w) rest[w] = candidates[w] & ~(*out)[w];
      for (size_t i = 1; i < node.children.size() && !AllZero(rest); ++i) {
        Eval(node.children[i], rest, &part);
        for (size_t w = 0; w < rest.size(); ++w) {
          (*out)[w] |= part[w];
          rest[w] &= ~part[w];
        }
      }
      return;
    }
    case PlanOp::kNot: {
      Words inner;
      Eval(node.children[0], candidates, &inner);
      out->resize(candidates.size());
      for (size_t w = 0; w < candidates.size(); ++w) (*out)[w] = candidates[w] & ~inner[w];
      return;
    }
    default:
      EvalLeaf(node, candidates, out);
      return;
  }
}

void MetadataColumns::Impl::EvalLeaf(const PlanNode& node, const Words& candidates,
                                     Words* out) const {
  const size_t words = candidates.size();
  const Column* column = Find(node.field);
  if (column == nullptr) {  // nobody has the field
    if ((node.op == PlanOp::kExists && !node.flag) || (node.op == PlanOp::kEmpty && node.flag)) {
      *out = candidates;
    } else {
      out->assign(words, 0);
    }
    return;
  }
  switch (node.op) {
    case PlanOp::kEq:
    case PlanOp::kIn: {
      out->assign(words, 0);
      for (const Value& operand : node.operands) {
        if (const std::vector<uint32_t>* posting = column->Posting(operand)) {
          OrPosting(*posting, candidates, out);
        }
      }
      return;
    }
    case PlanOp::kNe:
    case PlanOp::kNin: {
      // present & !(any operand equal)
      Words equal(words, 0);
      for (const Value& operand : node.operands) {
        if (const std::vector<uint32_t>* posting = column->Posting(operand)) {
          OrPosting(*posting, candidates, &equal);
        }
      }
      AndPresent(candidates, column->present, out);
      for (size_t w = 0; w < words; ++w) (*out)[w] &= ~equal[w];
      return;
    }
    case PlanOp::kExists:
      AndPresent(candidates, column->present, out);
      if (!node.flag) {
        for (size_t w = 0; w < words; ++w) (*out)[w] = candidates[w] & ~(*out)[w];
      }
      return;
    case PlanOp::kContains: {
      out->assign(words, 0);
      const std::vector<uint32_t>* posting = column->Posting(node.operands.front());
      if (posting == nullptr) return;
      const size_t slot_limit = words * 64;
      for (uint32_t slot : *posting) {
        if (slot >= slot_limit) break;
        if (column->tags[slot] != Tag::kList) continue;
        (*out)[slot >> 6] |= candidates[slot >> 6] & (uint64_t{1} << (slot & 63));
      }
      return;
    }
    case PlanOp::kGt:
    case PlanOp::kGte:
    case PlanOp::kLt:
    case PlanOp::kLte:
      EvalRange(*column, node, candidates, out);
      return;
    case PlanOp::kSubstring:
    case PlanOp::kSubstringNoCase:
      EvalSubstring(*column, node, candidates, out);
      return;
    case PlanOp::kEmpty:
      EvalEmpty(*column, node.flag, candidates, out);
      return;
    default:
      AUGUR_CHECK(false && "EvalLeaf: not a leaf operator");
  }
}

void MetadataColumns::Impl::EvalRanges(const std::vector<const PlanNode*>& nodes,
                                       const Words& candidates, Words* out) const {
  out->assign(candidates.size(), 0);
  const Column* column = Find(nodes.front()->field);
  if (column == nullptr) return;
  NumericRanges ranges;
  for (const PlanNode* node : nodes) {
    ranges.parts.push_back(MakeNumericRange(node->op, node->operands.front()));
    ranges.intersection = ranges.parts.size() == 1
                              ? ranges.parts.front()
                              : Intersect(ranges.intersection, ranges.parts.back());
  }
  ScanNumeric(*column, ranges.intersection, &ranges, candidates, out);
}

void MetadataColumns::Impl::EvalRange(const Column& column, const PlanNode& node,
                                      const Words& candidates, Words* out) const {
  out->assign(candidates.size(), 0);
  const Value& operand = node.operands.front();
  if (!operand.is_string()) {
    ScanNumeric(column, MakeNumericRange(node.op, operand), nullptr, candidates, out);
    return;
  }
  const std::string_view text = operand.as_string();
  if (column.strings.size() <= candidates.size() * 64) {
    // One comparison per distinct string instead of one per slot.
    std::vector<uint8_t> table(column.strings.size());
    for (size_t id = 0; id < table.size(); ++id) {
      table[id] = AcceptOrder(node.op, std::string_view(column.strings[id]).compare(text));
    }
    ScanRange(column, StringTable{table.data()}, candidates, out);
  } else {
    ScanRange(column, StringCompare{&column.strings, text, node.op}, candidates, out);
  }
}

// $substring/$isubstring: string values only (a list matches through $contains, exactly, so
// the two operators together express "value in field" for strings and lists alike).
void MetadataColumns::Impl::EvalSubstring(const Column& column, const PlanNode& node,
                                          const Words& candidates, Words* out) const {
  out->assign(candidates.size(), 0);
  const std::string_view needle = node.operands.front().as_string();
  const bool fold = node.op == PlanOp::kSubstringNoCase;
  auto contains = [&](const std::string& s) {
    return fold ? ToLowerUtf8(s).find(needle) != std::string::npos
                : s.find(needle) != std::string::npos;
  };
  // One search per distinct string (they are dictionary-encoded) when the dictionary is no
  // larger than the candidate range; otherwise one per candidate slot.
  std::vector<uint8_t> table;
  const bool tabled = column.strings.size() <= candidates.size() * 64;
  if (tabled) {
    table.resize(column.strings.size());
    for (size_t id = 0; id < table.size(); ++id) table[id] = contains(column.strings[id]);
  }
  const size_t words = std::min(candidates.size(), column.present.size());
  for (size_t w = 0; w < words; ++w) {
    uint64_t hits = 0;
    for (uint64_t rest = candidates[w] & column.present[w]; rest != 0; rest &= rest - 1) {
      const size_t slot = w * 64 + static_cast<size_t>(std::countr_zero(rest));
      if (column.tags[slot] != Tag::kString) continue;
      const uint64_t id = column.payload[slot];
      hits |= static_cast<uint64_t>(tabled ? table[id] != 0 : contains(column.strings[id]))
              << (slot & 63);
    }
    (*out)[w] = hits;
  }
}

// $empty: the slot lacks the field or holds null, "" or []. Not posted, so one pass over the
// candidates; `empty` false returns the complement within the candidates.
void MetadataColumns::Impl::EvalEmpty(const Column& column, bool empty, const Words& candidates,
                                      Words* out) const {
  out->assign(candidates.size(), 0);
  for (size_t w = 0; w < candidates.size(); ++w) {
    const uint64_t present = w < column.present.size() ? column.present[w] : 0;
    uint64_t hits = candidates[w] & ~present;
    for (uint64_t rest = candidates[w] & present; rest != 0; rest &= rest - 1) {
      const size_t slot = w * 64 + static_cast<size_t>(std::countr_zero(rest));
      const Tag tag = column.tags[slot];
      const uint64_t bits = column.payload[slot];
      const bool is_empty = tag == Tag::kNull ||
                            (tag == Tag::kString && column.strings[bits].empty()) ||
                            (tag == Tag::kList && column.lists[bits].empty());
      hits |= static_cast<uint64_t>(is_empty) << (slot & 63);
    }
    (*out)[w] = empty ? hits : candidates[w] & ~hits;
  }
}

}  // namespace augurdb::filter
