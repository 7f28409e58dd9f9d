// Tokenizers for the full-text index. The kind is chosen when a database is created and stored
// with it (its number is persisted), because documents indexed under one tokenizer cannot be
// searched with another.
//
// "simple": lower-case (simple Unicode mapping), tokens are maximal runs of code points in
//   general categories L* and N*; everything else (spaces, punctuation, symbols, combining marks)
//   separates. No stop words, no stemming.
// "english": simple, then Lucene's English stop-word set (EnglishAnalyzer.ENGLISH_STOP_WORDS_SET,
//   33 words) removed, then the Snowball English (Porter2) stemmer. Stop words are removed before
//   stemming, as Lucene's EnglishAnalyzer does.
//
// Thread safety: a Tokenizer is immutable; any number of threads may use one.
#pragma once

#include <augurdb/status.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace augurdb::text {

// Persisted: numbers are never reused.
enum class TokenizerKind : uint8_t {
  kSimple = 1,
  kEnglish = 2,
};

// "simple" or "english"; anything else is kInvalidArgument naming the accepted names.
Result<TokenizerKind> ParseTokenizerKind(std::string_view name);
std::string_view TokenizerName(TokenizerKind kind);
// True for a number that names a TokenizerKind (image and WAL validation).
bool IsKnownTokenizerKind(uint8_t value);

// True when `token` (lower-case) is in Lucene's English stop-word set.
bool IsEnglishStopWord(std::string_view token);

class Tokenizer {
 public:
  explicit Tokenizer(TokenizerKind kind) : kind_(kind) {}

  TokenizerKind kind() const { return kind_; }

  // Appends the tokens of `text` to *tokens, in text order (repeats kept).
  // Returns kInvalidArgument, naming the byte offset, when `text` is not valid UTF-8; *tokens is
  // then unchanged.
  Status Tokenize(std::string_view text, std::vector<std::string>* tokens) const;

 private:
  TokenizerKind kind_;
};

}  // namespace augurdb::text
