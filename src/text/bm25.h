// BM25 as Lucene's BM25Similarity (Lucene 8 and later) defines it, with exact document lengths.
//
//   score(q, d) = sum over query terms t (once per occurrence in q) of
//                 idf(t) * tf / (tf + k1 * (1 - b + b * dl / avgdl))
//   idf(t)      = ln(1 + (N - df + 0.5) / (df + 0.5))
//
// k1 = 1.2, b = 0.75 (Lucene's defaults). N, df and avgdl count live documents only. Lucene stores
// dl lossily in one byte (SmallFloat.intToByte4); we keep exact lengths, as bm25s's "lucene"
// method (the oracle) does, so scores differ from Lucene's by that quantisation only. The
// textbook (k1 + 1) factor is left out, as Lucene dropped it in 8.0 (LUCENE-8563) and bm25s's
// "lucene" method omits it: it scales every score alike, so rankings are the same either way.
// A repeated query term is one SHOULD clause per occurrence in Lucene's BooleanQuery; here it
// becomes one term whose weight is multiplied by its count.
#pragma once

#include <cmath>
#include <cstdint>

namespace augurdb::text {

inline constexpr double kBm25K1 = 1.2;
inline constexpr double kBm25B = 0.75;

inline double Bm25Idf(uint64_t doc_count, uint64_t doc_freq) {
  const double n = static_cast<double>(doc_count);
  const double df = static_cast<double>(doc_freq);
  return std::log(1.0 + (n - df + 0.5) / (df + 0.5));
}

// The length normalisation terms that depend only on avgdl, computed once per query.
struct Bm25Norm {
  double constant = kBm25K1 * (1.0 - kBm25B);  // k1 * (1 - b)
  double per_length = 0.0;                     // k1 * b / avgdl

  static Bm25Norm ForAverageLength(double avgdl) {
    Bm25Norm norm;
    norm.per_length = avgdl > 0.0 ? kBm25K1 * kBm25B / avgdl : 0.0;
    return norm;
  }
};

// One term's contribution; `weight` is idf times the term's count in the query. Rises with tf
// and falls with dl, which is what lets a block's (tf, dl) impacts bound every document in it.
inline double Bm25TermScore(double weight, uint32_t tf, uint32_t dl, const Bm25Norm& norm) {
  const double t = static_cast<double>(tf);
  return weight * t / (t + norm.constant + norm.per_length * static_cast<double>(dl));
}

}  // namespace augurdb::text
