// The Snowball English ("Porter2") stemmer, ported by hand from english.sbl as Snowball 3.1.1
// generates it (https://snowballstem.org/algorithms/english/stemmer.html; Snowball is
// BSD-licensed, this port copies no generated code). The PyPI package snowballstemmer 3.1.1 is
// the oracle: tests/cpp/unit/text/english_stemmer_test.cc replays a fixture it wrote.
#pragma once

#include <string>

namespace augurdb::text {

// Replaces *word (lower-case UTF-8, as the tokenizer emits it) by its stem. Positions and lengths
// count code points, as Snowball does, so words with non-ASCII letters stem as the oracle does.
void StemEnglish(std::string* word);

}  // namespace augurdb::text
