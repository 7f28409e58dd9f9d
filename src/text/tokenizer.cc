#include "text/tokenizer.h"

#include <algorithm>
#include <array>

#include "text/english_stemmer.h"
#include "util/unicode_tables.h"
#include "util/utf8.h"

namespace augurdb::text {
namespace {

// org.apache.lucene.analysis.en.EnglishAnalyzer.ENGLISH_STOP_WORDS_SET, sorted for binary search.
constexpr std::array<std::string_view, 33> kEnglishStopWords = {
    "a",    "an",   "and",   "are",   "as",   "at",   "be",    "but",  "by",
    "for",  "if",   "in",    "into",  "is",   "it",   "no",    "not",  "of",
    "on",   "or",   "such",  "that",  "the",  "their", "then", "there", "these",
    "they", "this", "to",    "was",   "will", "with"};

}  // namespace

Result<TokenizerKind> ParseTokenizerKind(std::string_view name) {
  if (name == "simple") return TokenizerKind::kSimple;
  if (name == "english") return TokenizerKind::kEnglish;
  return Status::InvalidArgument("unknown tokenizer '" + std::string(name) +
                                 "': use \"simple\" or \"english\"");
}

std::string_view TokenizerName(TokenizerKind kind) {
  return kind == TokenizerKind::kEnglish ? "english" : "simple";
}

bool IsKnownTokenizerKind(uint8_t value) {
  return value == static_cast<uint8_t>(TokenizerKind::kSimple) ||
         value == static_cast<uint8_t>(TokenizerKind::kEnglish);
}

bool IsEnglishStopWord(std::string_view token) {
  return std::binary_search(kEnglishStopWords.begin(), kEnglishStopWords.end(), token);
}

Status Tokenizer::Tokenize(std::string_view text, std::vector<std::string>* tokens) const {
  const size_t bad = FindInvalidUtf8(text);
  if (bad != std::string_view::npos) {
    return Status::InvalidArgument("text is not valid UTF-8 at byte offset " +
                                   std::to_string(bad));
  }
  std::string token;
  auto flush = [&] {
    if (token.empty()) return;
    if (kind_ == TokenizerKind::kEnglish) {
      if (IsEnglishStopWord(token)) {
        token.clear();
        return;
      }
      StemEnglish(&token);
    }
    tokens->push_back(std::move(token));
    token.clear();
  };
  for (size_t i = 0; i < text.size();) {
    const char32_t cp = NextCodePoint(text, &i);
    if (IsWordCodePoint(cp)) {
      AppendUtf8(ToLower(cp), &token);
    } else {
      flush();
    }
  }
  flush();
  return Status::OK();
}

}  // namespace augurdb::text
