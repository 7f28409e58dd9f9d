#include "text/english_stemmer.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>

namespace augurdb::text {
namespace {

std::string Stem(std::string word) {
  StemEnglish(&word);
  return word;
}

// Every pair snowballstemmer 3.1.1 wrote (tools/gen_stem_fixture.py) must match exactly.
// AUGUR_STEM_FIXTURE points at another fixture, e.g. one written with --all.
TEST(EnglishStemmerTest, MatchesSnowballFixture) {
  const char* override_path = std::getenv("AUGUR_STEM_FIXTURE");
  const std::string path = override_path != nullptr
                               ? std::string(override_path)
                               : std::string(AUGURDB_SOURCE_DIR) +
                                     "/tests/cpp/unit/text/testdata/snowball_english.tsv";
  std::ifstream in(path);
  ASSERT_TRUE(in.is_open()) << path;
  std::string line;
  size_t pairs = 0, mismatches = 0;
  while (std::getline(in, line)) {
    const size_t tab = line.find('\t');
    ASSERT_NE(tab, std::string::npos) << line;
    const std::string word = line.substr(0, tab);
    const std::string expected = line.substr(tab + 1);
    const std::string got = Stem(word);
    if (got != expected && ++mismatches <= 20) {
      ADD_FAILURE() << word << ": got " << got << ", snowball says " << expected;
    }
    ++pairs;
  }
  EXPECT_GT(pairs, 4000u);
  EXPECT_EQ(mismatches, 0u) << "of " << pairs;
}

TEST(EnglishStemmerTest, DocumentedExamples) {
  EXPECT_EQ(Stem("consignment"), "consign");
  EXPECT_EQ(Stem("generously"), "generous");
  EXPECT_EQ(Stem("skies"), "sky");
  EXPECT_EQ(Stem("dying"), "die");
  EXPECT_EQ(Stem("succeeding"), "succeed");
  EXPECT_EQ(Stem("hopping"), "hop");
  EXPECT_EQ(Stem("hoping"), "hope");
  EXPECT_EQ(Stem("at"), "at");  // under three letters: unchanged
}

TEST(EnglishStemmerTest, NonAsciiCountsCodePoints) {
  EXPECT_EQ(Stem("caf\xc3\xa9s"), "caf\xc3\xa9");
  EXPECT_EQ(Stem("\xe6\x97\xa5\xe6\x9c\xac"), "\xe6\x97\xa5\xe6\x9c\xac");
}

}  // namespace
}  // namespace augurdb::text
