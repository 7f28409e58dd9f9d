// Single-thread indexing rate and top-10 BM25 query rate of text::InvertedIndex on Debian's
// English package descriptions (real text, tens of thousands of documents).
//
//   apt-get update -o Acquire::Languages=en
//   lz4cat /var/lib/apt/lists/*_main_i18n_Translation-en.lz4 > /tmp/translation-en
//   build/cpp/bench/micro/text_search_bench /tmp/translation-en [english|simple] [queries]
//
// Queries are 1-3 words drawn (fixed seed) from random documents, so they have hits, as the
// issue 18 benchmark specifies. It prints figures; it gates nothing.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "text/inverted_index.h"

namespace {

using Clock = std::chrono::steady_clock;

// One document per "Description-en:" stanza: the summary line plus its continuation lines.
std::vector<std::string> ReadDescriptions(const char* path) {
  std::ifstream in(path);
  std::vector<std::string> docs;
  std::string line;
  bool in_description = false;
  while (std::getline(in, line)) {
    if (line.rfind("Description-en:", 0) == 0) {
      docs.push_back(line.substr(15));
      in_description = true;
    } else if (in_description && !line.empty() && line[0] == ' ') {
      docs.back() += "\n" + line.substr(1);
    } else {
      in_description = false;
    }
  }
  return docs;
}

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace augurdb::text;
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s TRANSLATION_EN_TEXT [english|simple] [queries]\n", argv[0]);
    return 2;
  }
  const auto kind = ParseTokenizerKind(argc > 2 ? argv[2] : "english");
  if (!kind.ok()) return 2;
  const size_t query_count = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 2000;
  const std::vector<std::string> docs = ReadDescriptions(argv[1]);
  if (docs.empty()) {
    std::fprintf(stderr, "no Description-en stanzas in %s\n", argv[1]);
    return 1;
  }
  size_t bytes = 0;
  for (const auto& d : docs) bytes += d.size();

  InvertedIndex index(*kind);
  auto start = Clock::now();
  for (size_t i = 0; i < docs.size(); ++i) {
    if (!index.AddDocument(static_cast<Slot>(i), docs[i]).ok()) return 1;
  }
  const double index_s = Seconds(start);

  std::mt19937_64 rng(42);
  std::vector<TextQuery> queries;
  Tokenizer simple(TokenizerKind::kSimple);
  while (queries.size() < query_count) {
    std::vector<std::string> words;
    if (!simple.Tokenize(docs[rng() % docs.size()], &words).ok() || words.empty()) continue;
    std::string text;
    const size_t n = 1 + rng() % 3;
    for (size_t w = 0; w < n; ++w) text += words[rng() % words.size()] + " ";
    auto q = index.ParseQuery(text);
    if (q.ok() && !q->empty()) queries.push_back(std::move(*q));
  }
  std::vector<TextHit> hits;
  size_t total_hits = 0;
  start = Clock::now();
  for (const TextQuery& q : queries) {
    index.Search(q, {10, nullptr, nullptr}, &hits);
    total_hits += hits.size();
  }
  const double search_s = Seconds(start);

  const CorpusStats stats = index.Stats();
  std::printf("tokenizer=%s documents=%zu text=%.1f MB tokens=%llu avgdl=%.1f\n",
              std::string(TokenizerName(*kind)).c_str(), docs.size(), bytes / 1e6,
              static_cast<unsigned long long>(stats.total_length),
              static_cast<double>(stats.total_length) / static_cast<double>(stats.doc_count));
  std::printf("indexing: %.2f s, %.0f documents/s, %.1f MB/s, memory %.1f MB\n", index_s,
              docs.size() / index_s, bytes / 1e6 / index_s, index.MemoryBytes() / 1e6);
  std::printf("top-10 search, 1 thread: %zu queries in %.3f s = %.0f QPS (%.1f hits/query)\n",
              queries.size(), search_s, queries.size() / search_s,
              static_cast<double>(total_hits) / static_cast<double>(queries.size()));
  return 0;
}
