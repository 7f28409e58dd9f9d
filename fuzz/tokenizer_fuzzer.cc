// libFuzzer target: arbitrary bytes as documents and a text query. Input layout: byte 0 picks
// the tokenizer (bit 0) and k (bits 1-7); the rest splits at '\n' into documents, the last piece
// being the query. Properties:
//   - Tokenize succeeds exactly on valid UTF-8 (else kInvalidArgument), and its tokens are
//     non-empty valid UTF-8; "simple" is idempotent (re-tokenizing the tokens joined by spaces
//     gives them back);
//   - the index accepts every valid document, and after adds, a remove and a re-add it passes
//     CheckInvariants; search hits are sorted best first (ties by slot), live, with finite
//     positive scores equal to Score() of the same slot; the image round-trips.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.h"
#include "text/inverted_index.h"
#include "text/tokenizer.h"
#include "util/utf8.h"

namespace augurdb::fuzz {
namespace {

using text::InvertedIndex;
using text::TextHit;
using text::Tokenizer;
using text::TokenizerKind;

void CheckTokenizer(const Tokenizer& tokenizer, std::string_view piece) {
  std::vector<std::string> tokens;
  const Status s = tokenizer.Tokenize(piece, &tokens);
  if (s.ok() != IsValidUtf8(piece)) Fail("Tokenize status disagrees with the UTF-8 validator");
  if (!s.ok()) {
    if (s.code() != StatusCode::kInvalidArgument || !tokens.empty()) Fail("bad error result");
    return;
  }
  std::string joined;
  for (const std::string& t : tokens) {
    if (t.empty() || !IsValidUtf8(t)) Fail("empty or invalid token");
    joined += t + " ";
  }
  if (tokenizer.kind() == TokenizerKind::kSimple) {
    std::vector<std::string> again;
    if (!tokenizer.Tokenize(joined, &again).ok() || again != tokens) {
      Fail("simple tokenizer is not idempotent");
    }
  }
}

void Run(const uint8_t* data, size_t size) {
  if (size == 0) return;
  const TokenizerKind kind = (data[0] & 1) ? TokenizerKind::kEnglish : TokenizerKind::kSimple;
  const size_t k = 1 + (data[0] >> 1);
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::vector<std::string_view> pieces;
  for (size_t begin = 0;;) {
    const size_t end = rest.find('\n', begin);
    pieces.push_back(rest.substr(begin, end == std::string_view::npos ? end : end - begin));
    if (end == std::string_view::npos) break;
    begin = end + 1;
  }
  const std::string_view query = pieces.back();
  pieces.pop_back();

  const Tokenizer tokenizer(kind);
  InvertedIndex index(kind);
  for (size_t i = 0; i < pieces.size(); ++i) {
    CheckTokenizer(tokenizer, pieces[i]);
    // Slots in a scrambled order so reused and out-of-order slots occur.
    const auto slot = static_cast<text::Slot>((i * 37) % 101);
    if (index.Contains(slot) && !index.RemoveDocument(slot).ok()) Fail("remove failed");
    const Status added = index.AddDocument(slot, pieces[i]);
    if (added.ok() != IsValidUtf8(pieces[i])) Fail("AddDocument status");
  }
  if (!pieces.empty()) {
    const auto first = static_cast<text::Slot>(0);
    if (index.Contains(first)) {
      if (!index.RemoveDocument(first).ok()) Fail("remove failed");
      // pieces[0] may be invalid UTF-8 (slot 0 then holds a later piece): rejected, slot empty.
      if (index.AddDocument(first, pieces[0]).ok() != IsValidUtf8(pieces[0])) Fail("re-add status");
    }
  }
  if (!index.CheckInvariants().ok()) Fail(index.CheckInvariants().message());

  CheckTokenizer(tokenizer, query);
  auto parsed = index.ParseQuery(query);
  if (!parsed.ok()) return;
  std::vector<TextHit> hits;
  index.Search(*parsed, {k, nullptr, nullptr}, &hits);
  if (hits.size() > k) Fail("more than k hits");
  for (size_t i = 0; i < hits.size(); ++i) {
    const TextHit& h = hits[i];
    if (!index.Contains(h.slot) || !std::isfinite(h.score) || h.score <= 0.0) Fail("bad hit");
    if (index.Score(*parsed, h.slot) != h.score) Fail("Score() disagrees with Search()");
    if (i > 0 && (hits[i - 1].score < h.score ||
                  (hits[i - 1].score == h.score && hits[i - 1].slot > h.slot))) {
      Fail("hits out of order");
    }
  }
  auto loaded = InvertedIndex::FromImage(index.ExportImage());
  if (!loaded.ok() || !(*loaded)->CheckInvariants().ok()) Fail("image round trip");
  std::vector<TextHit> again;
  (*loaded)->Search(*parsed, {k, nullptr, nullptr}, &again);
  if (again.size() != hits.size()) Fail("loaded image answers differently");
}

}  // namespace
}  // namespace augurdb::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  augurdb::fuzz::Run(data, size);
  return 0;
}
