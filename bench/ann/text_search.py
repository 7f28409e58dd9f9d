"""Full-text search speed: AugurDB's BM25 index against tantivy and bm25s on real text.

Corpus: Debian's English package descriptions (:func:`bench.ann.minilm.corpus_texts`, 61,808
unique texts on bookworm; its docstring says how to fetch them). Queries: the one-line
synopses of ``--queries`` descriptions drawn with a seeded generator (the text before the first
". "), i.e. the short phrases a user types. Every engine answers the same queries, top-10, on
one thread:

- AugurDB: ``Collection.search(text=q, k=10)`` per query (Python objects per hit included) and
  ``search_batch(None, texts=...)`` on one thread; tokenizer "simple";
- tantivy (the engine inside OmenDB and LanceDB's older FTS path): one ``TEXT`` field with its
  default tokenizer (lower-cased alphanumeric runs, as "simple"), ``searcher.search(query, 10)``
  per query on a query the runner builds from our tokens (a disjunction, as BM25 scores it), so
  its query parser's syntax never changes what is searched;
- bm25s (method "lucene", k1 1.2, b 0.75, NumPy backend) fed our tokens, all queries in one
  ``retrieve`` call on one thread (its fast path; a per-query loop is several times slower).

Agreement: the share of queries whose top-10 ids equal bm25s's (ties aside, both score Lucene's
BM25 on the same tokens) and the largest relative score difference.

Indexing: documents/s to build each engine's index on one thread. AugurDB stores every record
with a vector, so its text indexing is measured as the time of ``add`` with documents minus the
time of the same ``add`` without them (2-d vectors, brute-force-cheap HNSW: m 4,
ef_construction 8), plus, for the record, the whole add with the default HNSW settings; tantivy
gets a 1-thread writer with a 256 MB heap, timed to the end of ``commit``.

Hybrid and filtered text search (AugurDB only): a hybrid query's latency against the sum of its
two sides (random 64-d vectors, the same text), and a text query filtered to 10% of the records
against the unfiltered one.

Every timed phase alternates engines for ``--rounds`` rounds and keeps each one's fastest, so
load from other processes hits all alike. Run: ``python -m bench.ann.text_search [--queries
1000] [--rounds 3]``; writes ``bench/results/text-search.json`` and prints Markdown tables.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import augurdb
import numpy as np
from augurdb import _core

from . import minilm
from .common import (
    Meter,
    default_out_dir,
    fmt_ratio,
    machine_banner,
    machine_header,
    markdown_table,
    package_version,
    require,
    write_json,
)
from .datasets import DatasetMissingError

K = 10
DEFAULT_SEED = 20261205


def synopsis(text: str) -> str:
    """The short description a corpus text starts with (minilm builds ``short + ". " + body``)."""
    return text.split(". ", 1)[0]


def sample_queries(texts: Sequence[str], count: int, seed: int) -> list[str]:
    picks = np.random.default_rng(seed).choice(len(texts), size=min(count, len(texts)),
                                               replace=False)
    return [synopsis(texts[i]) for i in picks]


def fastest(label: str, rounds: int, runs: dict[str, Callable[[], Any]]) -> dict[str, Meter]:
    """Each callable's fastest of ``rounds`` timed runs, the callables alternating per round."""
    best: dict[str, Meter] = {}
    for r in range(rounds):
        for name, run in runs.items():
            with Meter() as meter:
                run()
            print(f"  {label} round {r + 1}: {name} {meter.seconds:.3f} s "
                  f"(others used {meter.other_cores:.2f} cores)", file=sys.stderr)
            if name not in best or meter.seconds < best[name].seconds:
                best[name] = meter
    return best


# --------------------------------------------------------------------------------------------
# Engines


def augurdb_collection(texts: Sequence[str], dim: int, with_documents: bool,
                       cheap_graph: bool, vectors: np.ndarray | None = None
                       ) -> augurdb.Collection:
    graph = {"m": 4, "ef_construction": 8} if cheap_graph else {}
    col = augurdb.open(dim=dim, threads=1, tokenizer="simple", **graph)
    if vectors is None:
        vectors = np.random.default_rng(0).random((len(texts), dim), dtype=np.float32)
    col.add(np.arange(len(texts)), vectors,
            documents=list(texts) if with_documents else None,
            metadata=[{"tenth": i % 10 == 0} for i in range(len(texts))])
    return col


class Tantivy:
    def __init__(self, tantivy: Any) -> None:
        self.tantivy = tantivy
        builder = tantivy.SchemaBuilder()
        builder.add_integer_field("id", stored=True, indexed=True, fast=True)
        builder.add_text_field("body", stored=False, tokenizer_name="default")
        self.schema = builder.build()
        self.index: Any = None
        self.searcher: Any = None

    def build(self, texts: Sequence[str], directory: Path) -> None:
        self.index = self.tantivy.Index(self.schema, path=str(directory))
        writer = self.index.writer(heap_size=256_000_000, num_threads=1)
        for i, text in enumerate(texts):
            writer.add_document(self.tantivy.Document(id=i, body=text))
        writer.commit()
        writer.wait_merging_threads()
        self.index.reload()
        self.searcher = self.index.searcher()

    def query(self, tokens: list[str]) -> Any:
        # A disjunction of term queries on our tokens: tantivy's query parser would read
        # words such as AND/OR/NOT and characters such as ':' '+' '-' as syntax.
        t = self.tantivy
        terms = [(t.Occur.Should, t.Query.term_query(self.schema, "body", token))
                 for token in dict.fromkeys(tokens)]
        return t.Query.boolean_query(terms)

    def search(self, query: Any) -> list[int]:
        result = self.searcher.search(query, K)
        return [self.searcher.doc(address)["id"][0] for _, address in result.hits]


def bm25s_retriever(bm25s: Any, doc_tokens: list[list[str]]) -> tuple[Any, dict[str, int]]:
    vocab = {t: i for i, t in enumerate(sorted({t for doc in doc_tokens for t in doc}))}
    retriever = bm25s.BM25(method="lucene", k1=1.2, b=0.75)
    retriever.index(bm25s.tokenization.Tokenized(
        ids=[[vocab[t] for t in doc] for doc in doc_tokens], vocab=vocab), show_progress=False)
    return retriever, vocab


# --------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ann.text_search",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--docs", type=int, default=0, help="first N corpus texts (0: all)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--out", type=Path, default=default_out_dir() / "text-search.json")
    args = parser.parse_args(argv)

    tantivy = require("tantivy", "tantivy")
    bm25s = require("bm25s", "bm25s")
    print(machine_banner())
    versions = {name: package_version(name) for name in ("augurdb", "tantivy", "bm25s")}
    print("versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    try:
        texts = minilm.corpus_texts()
    except DatasetMissingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.docs:
        texts = texts[:args.docs]
    queries = sample_queries(texts, args.queries, args.seed)
    query_tokens = [_core.tokenize(q, "simple") for q in queries]
    doc_tokens = [_core.tokenize(t, "simple") for t in texts]
    print(f"corpus: {len(texts)} descriptions, {sum(map(len, doc_tokens))} tokens; "
          f"queries: {len(queries)} synopses, {np.mean([len(q) for q in query_tokens]):.1f} "
          f"tokens on average")
    results: dict[str, Any] = {"docs": len(texts), "queries": len(queries)}

    # ---- indexing ----
    engine = Tantivy(tantivy)
    scratch = tempfile.TemporaryDirectory(prefix="augurdb-tantivy-")
    counter = iter(range(10**6))

    def tantivy_build() -> None:
        directory = Path(scratch.name) / str(next(counter))
        directory.mkdir()
        engine.build(texts, directory)

    print("indexing ...", file=sys.stderr)
    built = fastest("index", args.rounds, {
        "augurdb add, vectors only": lambda: augurdb_collection(texts, 2, False, True),
        "augurdb add, vectors + documents": lambda: augurdb_collection(texts, 2, True, True),
        "tantivy (1 writer thread)": tantivy_build,
    })
    text_seconds = (built["augurdb add, vectors + documents"].seconds
                    - built["augurdb add, vectors only"].seconds)
    default_hnsw = fastest("index", 1, {"augurdb add, default HNSW": lambda: augurdb_collection(
        texts, 2, True, False)})["augurdb add, default HNSW"]
    rates = {"augurdb text index (add with documents - add without)": len(texts) / text_seconds,
             "augurdb add with documents (m 4, ef_construction 8)":
                 len(texts) / built["augurdb add, vectors + documents"].seconds,
             "augurdb add with documents (default HNSW, 2-d vectors)":
                 len(texts) / default_hnsw.seconds,
             "tantivy (1 writer thread, to commit)":
                 len(texts) / built["tantivy (1 writer thread)"].seconds}
    tantivy_rate = rates["tantivy (1 writer thread, to commit)"]
    print(markdown_table(["indexing", "documents/s", "vs tantivy"],
                         [[name, f"{rate:,.0f}", fmt_ratio(rate / tantivy_rate)]
                          for name, rate in rates.items()]))
    results["indexing_docs_per_s"] = rates

    # ---- text-only queries ----
    col = augurdb_collection(texts, 64, True, True)
    tantivy_queries = [engine.query(q) for q in query_tokens]
    retriever, vocab = bm25s_retriever(bm25s, doc_tokens)
    bm25s_queries = [[t for t in q if t in vocab] for q in query_tokens]
    answers: dict[str, Any] = {}

    def ours_per_call() -> None:
        answers["augurdb"] = [[h.id for h in col.search(text=q, k=K)] for q in queries]

    def ours_batch() -> None:
        col.search_batch(None, K, texts=queries, threads=1)

    def tantivy_run() -> None:
        answers["tantivy"] = [engine.search(q) for q in tantivy_queries]

    def bm25s_run() -> None:
        ids, scores = retriever.retrieve(
            bm25s.tokenization.Tokenized(ids=[[vocab[t] for t in q] for q in bm25s_queries],
                                         vocab=vocab),
            k=K, n_threads=1, show_progress=False, return_as="tuple")
        answers["bm25s"] = (ids, scores)

    print("text queries ...", file=sys.stderr)
    searched = fastest("search", args.rounds, {
        "augurdb search(text=) per call": ours_per_call,
        "augurdb search_batch(texts=), 1 thread": ours_batch,
        "tantivy searcher.search per call": tantivy_run,
        "bm25s retrieve, all queries, 1 thread": bm25s_run,
    })
    qps = {name: len(queries) / m.seconds for name, m in searched.items()}
    ref = qps["tantivy searcher.search per call"]
    print(markdown_table(["top-10 text queries, 1 thread", "QPS", "vs tantivy", "others' cores"],
                         [[name, f"{rate:,.0f}", fmt_ratio(rate / ref),
                           f"{searched[name].other_cores:.2f}"] for name, rate in qps.items()]))
    results["text_qps"] = qps

    # Agreement with bm25s, up to ties: the same top-10 scores (relative 1e-5) and the same ids
    # among those scoring above the 10th (which of several equal scores makes the cut is an
    # arbitrary choice each engine makes its own way).
    bm_ids, bm_scores = answers["bm25s"]
    same, max_rel = 0, 0.0
    for i, q in enumerate(queries):
        hits = col.search(text=q, k=K)
        theirs = [(int(d), float(s)) for d, s in zip(bm_ids[i], bm_scores[i]) if s > 0]
        ours = [(h.id, h.score) for h in hits]
        for (_, a), (_, b) in zip(ours, theirs):
            max_rel = max(max_rel, abs(a - b) / b)
        if len(ours) == len(theirs) and all(abs(a - b) <= 1e-5 * b
                                            for (_, a), (_, b) in zip(ours, theirs)):
            cut = theirs[-1][1] * (1 + 1e-5) if theirs else 0.0
            same += {d for d, s in ours if s > cut} == {d for d, s in theirs if s > cut}
    overlap = np.mean([len(set(a) & set(b)) / max(1, len(b))
                       for a, b in zip(answers["augurdb"], answers["tantivy"])])
    print(f"top-10 equal to bm25s's up to ties: {same}/{len(queries)} queries; largest "
          f"relative score difference at equal ranks {max_rel:.2e}; mean top-10 overlap with "
          f"tantivy "
          f"{overlap:.3f} (tantivy scores BM25 on its own tokens and field norms)")
    results["agreement"] = {"same_top10_as_bm25s": same, "max_rel_score_diff": max_rel,
                            "mean_overlap_with_tantivy": float(overlap)}

    # ---- hybrid and filtered (AugurDB) ----
    vectors = np.random.default_rng(1).random((len(queries), 64), dtype=np.float32)

    def run(fn: Callable[[int], Any]) -> Callable[[], None]:
        return lambda: [fn(i) for i in range(len(queries))]

    variants = {
        "vector k=10": run(lambda i: col.search(vectors[i], K)),
        "text k=10": run(lambda i: col.search(text=queries[i], k=K)),
        "vector k=50": run(lambda i: col.search(vectors[i], 50)),
        "text k=50": run(lambda i: col.search(text=queries[i], k=50)),
        "hybrid rrf k=10 (50 candidates a side)":
            run(lambda i: col.search(vectors[i], K, text=queries[i])),
        "text k=10, where 10% of records": run(lambda i: col.search(
            text=queries[i], k=K, where={"tenth": True})),
    }
    print("hybrid and filtered ...", file=sys.stderr)
    timed = fastest("hybrid", args.rounds, variants)
    ms = {name: 1000 * m.seconds / len(queries) for name, m in timed.items()}
    hybrid = ms["hybrid rrf k=10 (50 candidates a side)"]
    print(markdown_table(["AugurDB query (1 thread)", "ms/query"],
                         [[name, f"{v:.3f}"] for name, v in ms.items()]))
    summary = {"hybrid_vs_sum_k10": hybrid / (ms["vector k=10"] + ms["text k=10"]),
               "hybrid_vs_sum_k50": hybrid / (ms["vector k=50"] + ms["text k=50"]),
               "filtered_vs_unfiltered_text":
                   ms["text k=10, where 10% of records"] / ms["text k=10"]}
    print(f"hybrid / (vector + text), sides at k=10: {summary['hybrid_vs_sum_k10']:.2f}; "
          f"sides at k=50 (what hybrid fetches): {summary['hybrid_vs_sum_k50']:.2f}; "
          f"filtered / unfiltered text: {summary['filtered_vs_unfiltered_text']:.2f}")
    results["ms_per_query"] = ms
    results["summary"] = summary
    results["ratios"] = {
        "text_qps_vs_tantivy": qps["augurdb search(text=) per call"] / ref,
        "text_qps_vs_bm25s": qps["augurdb search(text=) per call"]
        / qps["bm25s retrieve, all queries, 1 thread"],
        "indexing_vs_tantivy": rates["augurdb text index (add with documents - add without)"]
        / tantivy_rate}
    print("ratios: " + ", ".join(f"{k} {fmt_ratio(v)}" for k, v in results["ratios"].items()))
    scratch.cleanup()
    header = machine_header(benchmark="text_search", rounds=args.rounds, seed=args.seed,
                            versions=versions, when=time.strftime("%Y-%m-%d %H:%M:%S"))
    print(f"wrote {write_json(args.out, {'machine': header, **results})}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
