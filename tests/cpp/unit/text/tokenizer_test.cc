#include "text/tokenizer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "util/unicode_tables.h"

namespace augurdb::text {
namespace {

std::vector<std::string> Tokens(TokenizerKind kind, std::string_view text) {
  std::vector<std::string> out;
  EXPECT_TRUE(Tokenizer(kind).Tokenize(text, &out).ok()) << text;
  return out;
}
std::vector<std::string> Simple(std::string_view text) {
  return Tokens(TokenizerKind::kSimple, text);
}

using V = std::vector<std::string>;

TEST(TokenizerTest, SimpleSplitsOnEverythingButLettersAndDigits) {
  EXPECT_EQ(Simple("Hello, World! x86_64 v2.0 don't"),
            (V{"hello", "world", "x86", "64", "v2", "0", "don", "t"}));
  EXPECT_EQ(Simple(""), V{});
  EXPECT_EQ(Simple("  ...  "), V{});
  EXPECT_EQ(Simple("the the THE"), (V{"the", "the", "the"}));  // no stop words in "simple"
}

TEST(TokenizerTest, UnicodeLettersDigitsAndCaseFolding) {
  // Greek, Cyrillic and accented Latin fold to lower case; final sigma is not special-cased.
  EXPECT_EQ(Simple("\xCE\x9F\xCE\xA3 \xD0\x9C\xD0\x98\xD0\xA0 \xC3\x89T\xC3\x89"),
            (V{"\xCE\xBF\xCF\x83", "\xD0\xBC\xD0\xB8\xD1\x80", "\xC3\xA9t\xC3\xA9"}));
  // Arabic-Indic digits (Nd) and superscript two (No) are word characters.
  EXPECT_EQ(Simple("\xD9\xA3\xD9\xA4 x\xC2\xB2"), (V{"\xD9\xA3\xD9\xA4", "x\xC2\xB2"}));
  // U+0130 (I with dot above) takes its simple mapping, plain i.
  EXPECT_EQ(Simple("\xC4\xB0stanbul"), V{"istanbul"});
}

TEST(TokenizerTest, CjkRunsStayOneToken) {
  // No word segmentation: a run of ideographs is one token; the ideographic full stop separates.
  EXPECT_EQ(Simple("\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E\xE3\x80\x82\xE4\xB8\xAD"),
            (V{"\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E", "\xE4\xB8\xAD"}));
}

TEST(TokenizerTest, CombiningMarksSeparate) {
  // "cafe" + U+0301 (Mn): the mark is not L*/N*, so it ends the token. Callers wanting accented
  // matches should send NFC text, where the accent is part of the letter.
  EXPECT_EQ(Simple("cafe\xCC\x81 bar"), (V{"cafe", "bar"}));
  EXPECT_EQ(Simple("caf\xC3\xA9"), V{"caf\xC3\xA9"});
}

TEST(TokenizerTest, InvalidUtf8IsRejectedWithOffset) {
  std::vector<std::string> out{"kept"};
  const Status s = Tokenizer(TokenizerKind::kSimple).Tokenize("ok \xC3\x28", &out);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("offset 3"), std::string::npos) << s.message();
  EXPECT_EQ(out, V{"kept"});
  EXPECT_FALSE(Tokenizer(TokenizerKind::kEnglish).Tokenize("\xED\xA0\x80", &out).ok());
}

TEST(TokenizerTest, EnglishDropsLuceneStopWordsThenStems) {
  EXPECT_EQ(Tokens(TokenizerKind::kEnglish, "The running dogs are in the Libraries"),
            (V{"run", "dog", "librari"}));
  EXPECT_TRUE(IsEnglishStopWord("their"));
  EXPECT_FALSE(IsEnglishStopWord("he"));
}

TEST(TokenizerTest, NamesAndKinds) {
  EXPECT_EQ(*ParseTokenizerKind("english"), TokenizerKind::kEnglish);
  EXPECT_EQ(ParseTokenizerKind("porter").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(TokenizerName(TokenizerKind::kSimple), "simple");
  EXPECT_FALSE(IsKnownTokenizerKind(0));
  EXPECT_TRUE(IsKnownTokenizerKind(2));
  EXPECT_STREQ(UnicodeVersion(), "14.0.0");
}

}  // namespace
}  // namespace augurdb::text
