#include "text/inverted_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "test_data.h"
#include "text/bm25.h"
#include "util/coding.h"
#include "util/crc32c.h"

namespace augurdb::text {
namespace {

// The fixed default seed, or AUGUR_TEST_SEED to replay another.
uint64_t Seed() {
  const uint64_t seed = testing::TestSeed();
  std::printf("AUGUR_TEST_SEED=%llu\n", static_cast<unsigned long long>(seed));
  return seed;
}

// Exhaustive BM25 over an in-memory model of the live documents (slot -> tokens), summing in
// query order as the index does.
class BruteForce {
 public:
  void Add(Slot slot, std::vector<std::string> tokens) { docs_[slot] = std::move(tokens); }
  void Remove(Slot slot) { docs_.erase(slot); }
  bool Has(Slot slot) const { return docs_.count(slot) != 0; }
  const std::map<Slot, std::vector<std::string>>& docs() const { return docs_; }

  double Score(const TextQuery& q, Slot slot) const {
    const auto it = docs_.find(slot);
    if (it == docs_.end()) return 0.0;
    const Stats stats = Gather(q);
    return ScoreWith(q, stats, it->second);
  }

  std::vector<TextHit> TopK(const TextQuery& q, size_t k, const SlotFilter* filter) const {
    const Stats stats = Gather(q);
    std::vector<TextHit> all;
    for (const auto& [slot, tokens] : docs_) {
      if (filter != nullptr && !filter->Contains(slot)) continue;
      const double s = ScoreWith(q, stats, tokens);
      if (s > 0.0) all.push_back({slot, s});
    }
    std::sort(all.begin(), all.end(), [](const TextHit& a, const TextHit& b) {
      return a.score > b.score || (a.score == b.score && a.slot < b.slot);
    });
    if (all.size() > k) all.resize(k);
    return all;
  }

 private:
  struct Stats {
    std::vector<uint64_t> df;  // per query term
    Bm25Norm norm;
  };
  Stats Gather(const TextQuery& q) const {
    Stats stats;
    uint64_t total = 0;
    for (const auto& [s, tokens] : docs_) total += tokens.size();
    stats.norm = Bm25Norm::ForAverageLength(static_cast<double>(total) /
                                            static_cast<double>(docs_.size()));
    for (const auto& [term, count] : q.terms) {
      uint64_t df = 0;
      for (const auto& [s, tokens] : docs_) {
        df += std::find(tokens.begin(), tokens.end(), term) != tokens.end() ? 1 : 0;
      }
      stats.df.push_back(df);
    }
    return stats;
  }
  double ScoreWith(const TextQuery& q, const Stats& stats,
                   const std::vector<std::string>& tokens) const {
    double score = 0.0;
    for (size_t i = 0; i < q.terms.size(); ++i) {
      const auto tf = static_cast<uint32_t>(std::count(tokens.begin(), tokens.end(), q.terms[i].first));
      if (tf == 0) continue;
      const double weight = Bm25Idf(docs_.size(), stats.df[i]) * q.terms[i].second;
      score += Bm25TermScore(weight, tf, static_cast<uint32_t>(tokens.size()), stats.norm);
    }
    return score;
  }

  std::map<Slot, std::vector<std::string>> docs_;
};

void ExpectSameHits(const std::vector<TextHit>& got, const std::vector<TextHit>& want,
                    const std::string& context) {
  ASSERT_EQ(got.size(), want.size()) << context;
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].slot, want[i].slot) << context << " rank " << i;
    ASSERT_EQ(got[i].score, want[i].score) << context << " rank " << i;
  }
}

std::string Join(const std::vector<std::string>& tokens) {
  std::string out;
  for (const auto& t : tokens) out += t + (out.size() % 3 == 0 ? ", " : " ");
  return out;
}

// Zipf-like vocabulary: a few terms land in most documents (many blocks, reused slots inserted
// into sealed blocks), most are rare.
std::vector<std::string> RandomDoc(std::mt19937_64& rng, size_t vocab) {
  std::vector<std::string> tokens(rng() % 24);
  for (auto& t : tokens) {
    const double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
    t = "w" + std::to_string(static_cast<size_t>(std::pow(u, 2.5) * static_cast<double>(vocab)));
  }
  return tokens;
}

TEST(InvertedIndexTest, MatchesBruteForceUnderAddsDeletesAndReAdds) {
  std::mt19937_64 rng(Seed());
  for (int corpus = 0; corpus < 4; ++corpus) {
    const size_t vocab = 6 + rng() % 40;
    const Slot slots = static_cast<Slot>(200 + rng() % 1800);
    InvertedIndex index(TokenizerKind::kSimple);
    BruteForce model;
    for (int round = 0; round < 12; ++round) {
      for (int op = 0; op < 300; ++op) {
        const Slot slot = static_cast<Slot>(rng() % slots);
        if (model.Has(slot)) {
          ASSERT_TRUE(index.RemoveDocument(slot).ok());
          model.Remove(slot);
          if (rng() % 2 == 0) continue;  // else re-add at once, as an upsert does
        }
        auto tokens = RandomDoc(rng, vocab);
        ASSERT_TRUE(index.AddDocument(slot, Join(tokens)).ok());
        model.Add(slot, std::move(tokens));
      }
      ASSERT_TRUE(index.CheckInvariants().ok()) << index.CheckInvariants().message();
      ASSERT_EQ(index.Stats().doc_count, model.docs().size());
      std::vector<uint64_t> words((slots + 63) / 64);
      for (Slot s = 0; s < slots; ++s) {
        if (rng() % 3 != 0) words[s / 64] |= uint64_t{1} << (s % 64);
      }
      const SlotFilter filter{words, slots};
      for (int q = 0; q < 25; ++q) {
        auto tokens = RandomDoc(rng, vocab + 3);  // some terms the index has never seen
        tokens.resize(1 + rng() % 5);
        const std::string text = Join(tokens);
        const TextQuery query = *index.ParseQuery(text);
        const size_t k = std::vector<size_t>{1, 3, 10, 50, 1000}[rng() % 5];
        const SlotFilter* f = rng() % 3 == 0 ? &filter : nullptr;
        std::vector<TextHit> got;
        index.Search(query, {k, f, nullptr}, &got);
        ExpectSameHits(got, model.TopK(query, k, f),
                       "query '" + text + "' k=" + std::to_string(k) + (f ? " filtered" : ""));
        const Slot probe = static_cast<Slot>(rng() % slots);
        ASSERT_EQ(index.Score(query, probe), model.Score(query, probe)) << text;
      }
    }
  }
}

TEST(InvertedIndexTest, Bm25MatchesTextbookFormula) {
  InvertedIndex index(TokenizerKind::kSimple);
  ASSERT_TRUE(index.AddDocument(0, "apple banana apple").ok());
  ASSERT_TRUE(index.AddDocument(1, "banana cherry").ok());
  ASSERT_TRUE(index.AddDocument(7, "cherry cherry cherry date").ok());
  // Query "apple apple cherry": apple counts twice (two SHOULD clauses in Lucene).
  const TextQuery q = *index.ParseQuery("Apple apple CHERRY");
  ASSERT_EQ(q.terms.size(), 2u);
  const double n = 3, avgdl = 9.0 / 3, k1 = 1.2, b = 0.75;
  auto term = [&](double df, double tf, double dl) {
    const double idf = std::log(1 + (n - df + 0.5) / (df + 0.5));
    return idf * tf / (tf + k1 * (1 - b + b * dl / avgdl));
  };
  EXPECT_NEAR(index.Score(q, 0), 2 * term(1, 2, 3), 1e-12);
  EXPECT_NEAR(index.Score(q, 7), term(2, 3, 4), 1e-12);
  std::vector<TextHit> hits;
  ASSERT_TRUE(index.Search("apple apple cherry", 10, nullptr, &hits).ok());
  ASSERT_EQ(hits.size(), 3u);
  EXPECT_EQ(hits[0].slot, 0u);
  EXPECT_NEAR(hits[0].score, 2 * term(1, 2, 3), 1e-12);
  // DFS: statistics from elsewhere replace the local ones.
  GlobalTextStats global{{100, 400}, {5, 50}};
  const double idf_apple = std::log(1 + (100 - 5 + 0.5) / 5.5);
  EXPECT_NEAR(index.Score(q, 0, &global),
              2 * idf_apple * 2 / (2 + 1.2 * (0.25 + 0.75 * 3 / 4.0)), 1e-12);
  EXPECT_EQ(index.DocFreqs(q), (std::vector<uint64_t>{1, 2}));
  // Search under the same global statistics ranks and scores as Score does.
  index.Search(q, {10, nullptr, &global}, &hits);
  ASSERT_EQ(hits.size(), 3u);
  for (const TextHit& h : hits) EXPECT_EQ(h.score, index.Score(q, h.slot, &global));
}

TEST(InvertedIndexTest, EdgeCasesAndErrors) {
  InvertedIndex index(TokenizerKind::kEnglish);
  ASSERT_TRUE(index.AddDocument(3, "The quick brown foxes").ok());
  EXPECT_EQ(index.AddDocument(3, "again").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(index.AddDocument(4, "bad \xFF").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(index.AddDocument(kNoSlot, "x").code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(index.Contains(4));
  EXPECT_EQ(index.RemoveDocument(4).code(), StatusCode::kNotFound);
  std::vector<TextHit> hits;
  ASSERT_TRUE(index.Search("the and of", 10, nullptr, &hits).ok());  // only stop words
  EXPECT_TRUE(hits.empty());
  ASSERT_TRUE(index.Search("fox", 0, nullptr, &hits).ok());
  EXPECT_TRUE(hits.empty());
  ASSERT_TRUE(index.Search("fox", SIZE_MAX, nullptr, &hits).ok());  // k far above N
  EXPECT_EQ(hits.size(), 1u);
  const uint64_t short_words[1] = {~uint64_t{0}};
  const SlotFilter too_long{short_words, 1000};  // claims more bits than its words hold
  ASSERT_TRUE(index.Search("fox", 10, &too_long, &hits).ok());
  EXPECT_EQ(hits.size(), 1u);
  EXPECT_EQ(index.Search("\xC0", 10, nullptr, &hits).code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(index.Search("FOX", 10, nullptr, &hits).ok());  // stemmed on both sides
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].slot, 3u);
  ASSERT_TRUE(index.AddDocument(9, "").ok());  // counts in N with length 0
  EXPECT_EQ(index.Stats().doc_count, 2u);
  ASSERT_TRUE(index.RemoveDocument(3).ok());
  ASSERT_TRUE(index.Search("fox", 10, nullptr, &hits).ok());
  EXPECT_TRUE(hits.empty());
  EXPECT_GT(index.MemoryBytes(), 0u);
  EXPECT_TRUE(index.CheckInvariants().ok());
}

TEST(InvertedIndexTest, FilteredSearchReturnsKWhenKExist) {
  InvertedIndex index(TokenizerKind::kSimple);
  for (Slot s = 0; s < 2000; ++s) {
    // Low slots score best; the filter admits only every 97th slot.
    ASSERT_TRUE(index.AddDocument(s, s < 1000 ? "needle needle hay" : "needle hay hay hay").ok());
  }
  std::vector<uint64_t> words(2000 / 64 + 1);
  for (Slot s = 0; s < 2000; s += 97) words[s / 64] |= uint64_t{1} << (s % 64);
  const SlotFilter filter{words, 2000};
  std::vector<TextHit> hits;
  ASSERT_TRUE(index.Search("needle", 15, &filter, &hits).ok());
  ASSERT_EQ(hits.size(), 15u);
  for (size_t i = 0; i < hits.size(); ++i) {
    EXPECT_EQ(hits[i].slot, 97 * i);
  }
}

TEST(InvertedIndexTest, ImageRoundTrip) {
  std::mt19937_64 rng(Seed());
  InvertedIndex index(TokenizerKind::kEnglish);
  for (Slot s = 0; s < 600; ++s) {
    ASSERT_TRUE(index.AddDocument(s, Join(RandomDoc(rng, 30)) + " running").ok());
  }
  for (Slot s = 0; s < 600; s += 3) ASSERT_TRUE(index.RemoveDocument(s).ok());
  const std::string image = index.ExportImage();
  auto loaded = InvertedIndex::FromImage(image);
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  const InvertedIndex& copy = **loaded;
  EXPECT_EQ(copy.tokenizer().kind(), TokenizerKind::kEnglish);
  EXPECT_TRUE(copy.CheckInvariants().ok());
  EXPECT_EQ(copy.Stats().doc_count, index.Stats().doc_count);
  EXPECT_EQ(copy.Stats().total_length, index.Stats().total_length);
  EXPECT_EQ(copy.ExportImage(), image);
  for (const char* q : {"w1", "w2 w7 w7", "run", "w29 w0"}) {
    std::vector<TextHit> a, b;
    ASSERT_TRUE(index.Search(q, 20, nullptr, &a).ok());
    ASSERT_TRUE(copy.Search(q, 20, nullptr, &b).ok());
    ExpectSameHits(b, a, q);
  }
  auto empty = InvertedIndex::FromImage(InvertedIndex(TokenizerKind::kSimple).ExportImage());
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ((*empty)->Stats().doc_count, 0u);
}

// Re-seals the checksum so the content checks, not the CRC, must catch the damage.
std::string Reseal(std::string body) {
  PutFixed32(&body, crc32c::Mask(crc32c::Value(body.data(), body.size())));
  return body;
}

TEST(InvertedIndexTest, CorruptImagesAreRejected) {
  InvertedIndex index(TokenizerKind::kSimple);
  ASSERT_TRUE(index.AddDocument(1, "alpha beta beta").ok());
  ASSERT_TRUE(index.AddDocument(5, "gamma alpha").ok());
  const std::string image = index.ExportImage();
  for (size_t len = 0; len < image.size(); ++len) {
    EXPECT_EQ(InvertedIndex::FromImage(image.substr(0, len)).status().code(),
              StatusCode::kCorruption) << "truncated to " << len;
  }
  for (size_t i = 0; i < image.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = image;
      bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
      EXPECT_EQ(InvertedIndex::FromImage(bad).status().code(), StatusCode::kCorruption);
    }
  }
  // Valid checksum, invalid content: every single-byte change of the body, resealed, is either
  // rejected as corruption or loads into an index that passes its invariant check.
  const std::string body = image.substr(0, image.size() - 4);
  size_t rejected = 0;
  for (size_t i = 0; i < body.size(); ++i) {
    for (int value : {0x00, 0x01, 0x7F, 0x80, 0xFF}) {
      std::string bad = body;
      bad[i] = static_cast<char>(value);
      auto loaded = InvertedIndex::FromImage(Reseal(bad));
      if (!loaded.ok()) {
        EXPECT_EQ(loaded.status().code(), StatusCode::kCorruption);
        EXPECT_NE(loaded.status().message().find("offset"), std::string::npos);
        ++rejected;
      } else {
        EXPECT_TRUE((*loaded)->CheckInvariants().ok());
      }
    }
  }
  EXPECT_GT(rejected, body.size());
  EXPECT_EQ(InvertedIndex::FromImage(Reseal(body + "x")).status().code(), StatusCode::kCorruption);
}

TEST(InvertedIndexTest, OneWriterManyReaders) {
  InvertedIndex index(TokenizerKind::kSimple);
  std::atomic<bool> stop{false};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&] {
      std::vector<TextHit> hits;
      while (!stop.load(std::memory_order_relaxed)) {
        ASSERT_TRUE(index.Search("w1 w2", 10, nullptr, &hits).ok());
        for (size_t i = 1; i < hits.size(); ++i) ASSERT_GE(hits[i - 1].score, hits[i].score);
        (void)index.Stats();
      }
    });
  }
  std::mt19937_64 rng(7);
  for (int i = 0; i < 3000; ++i) {
    const Slot slot = static_cast<Slot>(rng() % 500);
    if (index.Contains(slot)) {
      ASSERT_TRUE(index.RemoveDocument(slot).ok());
    } else {
      ASSERT_TRUE(index.AddDocument(slot, Join(RandomDoc(rng, 10))).ok());
    }
  }
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_TRUE(index.CheckInvariants().ok());
}

}  // namespace
}  // namespace augurdb::text
