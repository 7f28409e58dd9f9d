// Documents through the public API: stored, replaced and deleted with their records, durable
// across reopen, searched by BM25 (SearchText) and by hybrid search (Search with options.text),
// filtered by where and where_document; bad input is kInvalidArgument with nothing written.
#include <atomic>
#include <cmath>
#include <map>
#include <thread>

#include "collection_test_support.h"

namespace augurdb::testing {
namespace {

constexpr size_t kDim = 4;

using Docs = std::vector<std::optional<std::string>>;

std::unique_ptr<Collection> OpenAt(const std::string& path, const std::string& tokenizer = "") {
  CollectionOptions o;
  o.path = path;
  o.dim = kDim;
  o.tokenizer = tokenizer;
  Result<std::unique_ptr<Collection>> c = Collection::Open(o);
  EXPECT_OK(c);
  return c.ok() ? std::move(c).value() : nullptr;
}

std::optional<std::string> DocOf(const Collection& c, int64_t id) {
  const std::vector<int64_t> one = {id};
  Result<std::vector<std::optional<Record>>> got = c.Get(IdsView::Ints(one));
  EXPECT_OK(got);
  if (!got.ok() || !(*got)[0]) return std::nullopt;
  return (*got)[0]->document;
}

std::vector<int64_t> IdsOf(const std::vector<Hit>& hits) {
  std::vector<int64_t> out;
  for (const Hit& h : hits) out.push_back(std::get<int64_t>(h.id));
  return out;
}

TEST(DocumentsTest, RoundTripThroughWritesAndReopen) {
  TempDir dir;
  const std::string path = dir.Sub("db");
  const std::vector<float> vecs = RandomVectors(4, kDim, 1);
  const std::vector<int64_t> ids = Iota(0, 4);
  const Docs docs = {"red apple pie", std::nullopt, "green apple", "blue sky"};
  {
    auto c = OpenAt(path);
    ASSERT_OK(c->Add(IdsView::Ints(ids), View(vecs, kDim), {}, docs));
    EXPECT_EQ(DocOf(*c, 0), "red apple pie");
    EXPECT_EQ(DocOf(*c, 1), std::nullopt);
    const std::vector<int64_t> two = {2};
    const Docs replaced = {"yellow banana"};
    ASSERT_OK(c->Upsert(IdsView::Ints(two), MatrixView{vecs.data(), 1, kDim, 0}, {}, replaced));
    const std::vector<int64_t> three = {3};
    ASSERT_OK(c->Delete(IdsView::Ints(three)));
    EXPECT_EQ(c->Stats().documents, 2u);
    EXPECT_EQ(IdsOf(*c->SearchText("apple", {})), std::vector<int64_t>{0});
  }  // closed: checkpointed
  std::string opened = path;
  for (int round = 0; round < 2; ++round) {
    auto c = OpenAt(opened);
    EXPECT_EQ(DocOf(*c, 0), "red apple pie");
    EXPECT_EQ(DocOf(*c, 1), std::nullopt);
    EXPECT_EQ(DocOf(*c, 2), "yellow banana");
    // Round 1 has "apple tart" too, shorter, so first.
    const std::vector<int64_t> apples =
        round == 0 ? std::vector<int64_t>{0} : std::vector<int64_t>{5, 0};
    EXPECT_EQ(IdsOf(*c->SearchText("apple", {})), apples);
    EXPECT_EQ(IdsOf(*c->SearchText("banana", {})), std::vector<int64_t>{2});
    EXPECT_TRUE(c->SearchText("sky", {})->empty());
    Result<VerifyReport> v = c->Verify();
    ASSERT_OK(v);
    EXPECT_EQ(v->documents, round == 0 ? 2u : 3u);
    if (round == 0) {  // a change left only in the WAL for the second round
      const std::vector<int64_t> five = {5};
      const Docs more = {"apple tart"};
      ASSERT_OK(c->Add(IdsView::Ints(five), MatrixView{vecs.data(), 1, kDim, 0}, {}, more));
      ASSERT_OK(c->Flush());
      // A copy taken while it is open: the add is in the WAL only, as after a crash.
      opened = dir.Sub("copy");
      fs::copy(path, opened, fs::copy_options::recursive);
      fs::remove(fs::path(opened) / "LOCK");
    }
  }
}

TEST(DocumentsTest, BadInputIsInvalidArgumentAndWritesNothing) {
  TempDir dir;
  const std::string path = dir.Sub("db");
  const std::vector<float> vecs = RandomVectors(2, kDim, 2);
  const std::vector<int64_t> ids = Iota(0, 2);
  {
    auto c = OpenAt(path);
    const Docs bad_utf8 = {"fine", std::string("bad \xff byte")};
    EXPECT_CODE(c->Add(IdsView::Ints(ids), View(vecs, kDim), {}, bad_utf8), kInvalidArgument);
    const Docs too_few = {"one"};
    EXPECT_CODE(c->Add(IdsView::Ints(ids), View(vecs, kDim), {}, too_few), kInvalidArgument);
    EXPECT_CODE(c->Upsert(IdsView::Ints(ids), View(vecs, kDim), {}, bad_utf8), kInvalidArgument);
    EXPECT_EQ(c->size(), 0u);
    EXPECT_EQ(c->Stats().wal_bytes, 0u);
    SearchOptions s;
    EXPECT_CODE(c->SearchText(std::string("\xc3"), s), kInvalidArgument);
    s.text = "x";
    s.rrf_k = 0;
    EXPECT_CODE(c->Search(Row(vecs, kDim, 0), s), kInvalidArgument);
    s.rrf_k = 60;
    s.alpha = 2;
    EXPECT_CODE(c->Search(Row(vecs, kDim, 0), s), kInvalidArgument);
    s.alpha = 0.5;
    s.where_document = R"({"$like": "x"})";
    EXPECT_CODE(c->Search(Row(vecs, kDim, 0), s), kInvalidFilter);
  }
  CollectionOptions o;
  o.path = dir.Sub("other");
  o.tokenizer = "klingon";
  EXPECT_CODE(Collection::Open(o), kInvalidArgument);
  o.path = path;  // created as "simple"
  o.tokenizer = "english";
  EXPECT_CODE(Collection::Open(o), kInvalidArgument);
}

TEST(DocumentsTest, EnglishTokenizerIsStoredAndStems) {
  TempDir dir;
  const std::string path = dir.Sub("db");
  const std::vector<float> vecs = RandomVectors(2, kDim, 3);
  const Docs docs = {"running dogs", "the cat"};
  {
    auto c = OpenAt(path, "english");
    ASSERT_OK(c->Add(IdsView::Ints(Iota(0, 2)), View(vecs, kDim), {}, docs));
  }
  auto c = OpenAt(path);  // the stored tokenizer
  EXPECT_EQ(c->Stats().tokenizer, "english");
  EXPECT_EQ(IdsOf(*c->SearchText("dog runs", {})), std::vector<int64_t>{0});
  EXPECT_TRUE(c->SearchText("the", {})->empty());  // a stop word: no indexable token
}

TEST(DocumentsTest, TextScoresAreBm25AndFiltersApplyToBothSides) {
  Result<std::unique_ptr<Collection>> opened = Collection::Open({.dim = kDim});
  ASSERT_OK(opened);
  Collection& c = **opened;
  const size_t n = 40;
  const std::vector<float> vecs = RandomVectors(n, kDim, 4);
  Docs docs(n);
  std::vector<Metadata> meta(n);
  for (size_t i = 0; i < n; ++i) {
    docs[i] = i % 5 == 4 ? std::optional<std::string>() : "doc " + std::to_string(i) +
                                                              (i % 2 == 0 ? " even" : " odd") +
                                                              (i % 3 == 0 ? " three three" : "");
    meta[i] = {{"i", Value(static_cast<int64_t>(i))}};
  }
  ASSERT_OK(c.Add(IdsView::Ints(Iota(0, n)), View(vecs, kDim), meta, docs));
  // BM25 of "three" by hand: df, N, lengths.
  double total_len = 0, docs_n = 0, df = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!docs[i]) continue;
    docs_n += 1;
    const double len = 3 + (i % 3 == 0 ? 2 : 0);
    total_len += len;
    df += i % 3 == 0;
  }
  const double idf = std::log(1 + (docs_n - df + 0.5) / (df + 0.5));
  const double avgdl = total_len / docs_n;
  const double want = idf * 2 / (2 + 1.2 * (1 - 0.75 + 0.75 * 5 / avgdl));
  SearchOptions s;
  s.k = 3;
  s.include_documents = true;
  std::vector<Hit> hits = *c.SearchText("three", s);
  ASSERT_EQ(hits.size(), 3u);
  for (const Hit& h : hits) {
    EXPECT_NEAR(h.score, want, 1e-12);
    EXPECT_EQ(h.score, h.text_score);
    EXPECT_TRUE(std::isnan(h.distance));
    EXPECT_TRUE(h.document && h.document->find("three") != std::string::npos);
  }
  EXPECT_EQ(IdsOf(hits), (std::vector<int64_t>{0, 3, 6}));  // ties by insertion slot

  // where applies before ranking: k hits whenever k pass.
  s.k = 5;
  s.filter = R"({"i": {"$gte": 20}})";
  hits = *c.SearchText("three", s);
  EXPECT_EQ(IdsOf(hits), (std::vector<int64_t>{21, 27, 30, 33, 36}));  // 24 has no document
  s.filter.clear();
  s.where_document = R"({"$contains": "odd"})";
  hits = *c.SearchText("three", s);
  EXPECT_EQ(hits.size(), 5u);
  for (const Hit& h : hits) EXPECT_EQ(std::get<int64_t>(h.id) % 2, 1);

  // Hybrid: every hit carries its exact distance and BM25, whichever side listed it.
  SearchOptions hy;
  hy.k = 10;
  hy.text = "three even";
  hy.filter = R"({"i": {"$lt": 30}})";
  const std::span<const float> q = Row(vecs, kDim, 7);
  std::vector<Hit> fused = *c.Search(q, hy);
  ASSERT_EQ(fused.size(), 10u);
  std::map<int64_t, double> text_scores;
  SearchOptions all;
  all.k = 1000;
  all.filter = hy.filter;
  hits = *c.SearchText("three even", all);
  for (const Hit& h : hits) text_scores[std::get<int64_t>(h.id)] = h.score;
  for (size_t i = 0; i < fused.size(); ++i) {
    const int64_t id = std::get<int64_t>(fused[i].id);
    EXPECT_LT(id, 30);
    EXPECT_FLOAT_EQ(fused[i].distance, RefDistance(Metric::kL2, q, Row(vecs, kDim, id)));
    EXPECT_DOUBLE_EQ(fused[i].text_score, text_scores.count(id) ? text_scores[id] : 0.0) << id;
    if (i > 0) EXPECT_GE(fused[i - 1].score, fused[i].score);
  }
  // No indexable token: the vector side alone, in its order.
  hy.text = "!!!";
  std::vector<Hit> vector_only = *c.Search(q, hy);
  SearchOptions plain;
  plain.k = 10;
  plain.filter = hy.filter;
  plain.ef = 50;  // as the hybrid search's vector side (50 candidates)
  EXPECT_EQ(IdsOf(vector_only), IdsOf(*c.Search(q, plain)));
  EXPECT_DOUBLE_EQ(vector_only[0].score, 1.0 / 61);

  // Batch: the same per row.
  std::vector<std::string> texts = {"three even", "odd"};
  hy.text.reset();
  BatchResults batch = *c.SearchBatch(MatrixView{vecs.data() + 7 * kDim, 2, kDim, 0}, hy, texts);
  hy.text = "three even";
  std::vector<Hit> first = *c.Search(q, hy);
  for (size_t j = 0; j < first.size(); ++j) {
    EXPECT_EQ(batch.int_ids[j], std::get<int64_t>(first[j].id));
    EXPECT_DOUBLE_EQ(batch.scores[j], first[j].score);
  }
  BatchResults text_only = *c.SearchBatch(MatrixView{}, plain, texts);
  EXPECT_EQ(text_only.rows, 2u);
  EXPECT_EQ(text_only.int_ids[0], IdsOf(*c.SearchText("three even", plain))[0]);
}

}  // namespace
}  // namespace augurdb::testing

namespace augurdb::testing {
namespace {

// Text and hybrid searches beside a writer that adds, upserts and deletes documents: every
// hit names a record that existed, and the index agrees with the documents afterwards.
// Two shards scoring with their summed TextStatistics give the BM25 of one collection holding
// every document (the DFS phase of a sharded search), in SearchText, hybrid Search and
// SearchBatch alike; statistics that lack a query term are kInvalidArgument.
TEST(DocumentsTest, SummedTextStatisticsScoreShardsLikeOneCollection) {
  const size_t n = 60;
  const std::vector<float> vecs = RandomVectors(n, kDim, 9);
  const char* words[] = {"apple", "banana", "cherry", "apple pie", "plum"};
  Docs docs(n);
  for (size_t i = 0; i < n; ++i) {
    docs[i] = std::string(words[i % 5]) + (i % 7 == 0 ? " apple apple" : "") + " tail" +
              std::to_string(i % 4);
  }
  auto open = [] { return std::move(Collection::Open({.dim = kDim})).value(); };
  auto whole = open();
  std::unique_ptr<Collection> shard[2] = {open(), open()};
  ASSERT_OK(whole->Add(IdsView::Ints(Iota(0, n)), View(vecs, kDim), {}, docs));
  for (size_t part = 0; part < 2; ++part) {  // shard 0: the first 15 rows; shard 1: the rest
    const size_t lo = part == 0 ? 0 : 15, hi = part == 0 ? 15 : n;
    const std::vector<float> rows(vecs.begin() + static_cast<std::ptrdiff_t>(lo * kDim),
                                  vecs.begin() + static_cast<std::ptrdiff_t>(hi * kDim));
    const Docs part_docs(docs.begin() + static_cast<std::ptrdiff_t>(lo),
                         docs.begin() + static_cast<std::ptrdiff_t>(hi));
    ASSERT_OK(shard[part]->Add(IdsView::Ints(Iota(static_cast<int64_t>(lo), hi - lo)),
                               View(rows, kDim), {}, part_docs));
  }
  const std::vector<std::string> texts = {"apple tail1", "cherry plum"};
  auto summed = std::make_shared<TextStats>();
  for (const auto& c : shard) {
    Result<TextStats> st = c->TextStatistics(texts);
    ASSERT_OK(st);
    summed->doc_count += st->doc_count;
    summed->total_length += st->total_length;
    for (const auto& [term, df] : st->doc_freqs) summed->doc_freqs[term] += df;
  }
  Result<TextStats> all = whole->TextStatistics(texts);
  ASSERT_OK(all);
  EXPECT_EQ(all->doc_count, summed->doc_count);
  EXPECT_EQ(all->total_length, summed->total_length);
  EXPECT_EQ(all->doc_freqs, summed->doc_freqs);
  EXPECT_EQ(all->doc_freqs.size(), 4u);  // apple, tail1, cherry, plum

  std::map<int64_t, double> want;  // id -> BM25 in the whole collection
  SearchOptions s;
  s.k = n;
  // (Results are held in variables: a range-for over *temporary would read a destroyed one.)
  const std::vector<Hit> whole_hits = *whole->SearchText(texts[0], s);
  for (const Hit& h : whole_hits) want[std::get<int64_t>(h.id)] = h.score;
  SearchOptions g = s;
  g.text_stats = summed;
  size_t seen = 0;
  for (const auto& c : shard) {
    const std::vector<Hit> text_hits = *c->SearchText(texts[0], g);
    for (const Hit& h : text_hits) {
      EXPECT_NEAR(h.score, want.at(std::get<int64_t>(h.id)), 1e-12);
      ++seen;
    }
    // Hybrid: every hit's text_score is the global BM25 (0 without a query term).
    g.text = texts[0];
    g.k = 10;
    const std::vector<float> q = RandomVectors(1, kDim, 3);
    const std::vector<Hit> hybrid_hits = *c->Search(q, g);
    for (const Hit& h : hybrid_hits) {
      const auto it = want.find(std::get<int64_t>(h.id));
      EXPECT_NEAR(h.text_score, it == want.end() ? 0.0 : it->second, 1e-12);
    }
    const std::vector<std::string> one = {texts[0]};
    Result<BatchResults> batch = c->SearchBatch(MatrixView{}, g, one);
    ASSERT_OK(batch);
    for (size_t j = 0; j < batch->k && batch->int_ids[j] >= 0; ++j) {
      EXPECT_NEAR(batch->scores[j], want.at(batch->int_ids[j]), 1e-12);
    }
    g.text.reset();
    g.k = n;
  }
  EXPECT_EQ(seen, want.size());
  // Local statistics differ (so the test above means something).
  EXPECT_NE(shard[0]->SearchText(texts[0], s)->front().score, want.begin()->second);

  auto partial = std::make_shared<TextStats>(*summed);
  partial->doc_freqs.erase("tail1");
  g.text_stats = partial;
  Result<std::vector<Hit>> bad = shard[0]->SearchText(texts[0], g);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("'tail1'"), std::string::npos);
  partial->doc_freqs["tail1"] = summed->doc_count + 1;
  EXPECT_EQ(shard[0]->SearchText(texts[0], g).status().code(), StatusCode::kInvalidArgument);
}

TEST(DocumentsTest, SearchesRunBesideWrites) {
  Result<std::unique_ptr<Collection>> opened = Collection::Open({.dim = kDim, .threads = 2});
  ASSERT_OK(opened);
  Collection& c = **opened;
  const size_t n = 400;
  const std::vector<float> vecs = RandomVectors(n, kDim, 11);
  std::atomic<bool> done{false};
  std::atomic<size_t> searches{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&, t] {
      SearchOptions s;
      s.k = 5;
      s.text = "shared";
      while (!done.load()) {
        Result<std::vector<Hit>> hits = t == 0 ? c.SearchText("shared word", s)
                                               : c.Search(Row(vecs, kDim, 3), s);
        ASSERT_OK(hits);
        for (const Hit& h : *hits) ASSERT_LT(std::get<int64_t>(h.id), static_cast<int64_t>(n));
        searches.fetch_add(1);
      }
    });
  }
  for (size_t i = 0; i < n; ++i) {
    const std::vector<int64_t> one = {static_cast<int64_t>(i)};
    const Docs doc = {"shared word " + std::to_string(i)};
    const MatrixView row{vecs.data() + i * kDim, 1, kDim, 0};
    ASSERT_OK(c.Add(IdsView::Ints(one), row, {}, doc));
    if (i % 3 == 0) ASSERT_OK(c.Upsert(IdsView::Ints(one), row, {}, Docs{"shared again"}));
    if (i % 5 == 0) ASSERT_OK(c.Delete(IdsView::Ints(one)));
  }
  done.store(true);
  for (std::thread& r : readers) r.join();
  EXPECT_GT(searches.load(), 0u);
  Result<VerifyReport> v = c.Verify();
  ASSERT_OK(v);
  EXPECT_EQ(v->documents, c.size());
}

}  // namespace
}  // namespace augurdb::testing
