"""Retrieval quality on real text, known-item search: vector (all-MiniLM-L6-v2), BM25 and hybrid.

Documents: Debian's English package descriptions (the apt lists :mod:`bench.ann.minilm` reads),
each package's long description **without** its one-line synopsis; packages without a long
description are left out, and identical bodies are kept once. Queries: the synopses of
``--queries`` documents drawn with a seeded generator among those whose synopsis is unique in
the corpus, so exactly one document is relevant to each (the package it describes). A seeded
sample of ``--docs`` documents (queries' documents included) keeps the run to minutes.

Every method answers through the public API of one collection holding the documents and their
MiniLM vectors (cosine): vector-only ``search_batch(Q)``, BM25 ``search_batch(None,
texts=...)`` (tokenizer "simple" and "english"), and hybrid ``search_batch(Q, texts=...)`` with
``fusion="rrf"`` (rrf_k 60) and ``fusion="weighted"`` at several alphas (alpha weighs the vector
side). Scores: Recall@10 (the relevant document in the top 10) and MRR@10 (1/rank, 0 past 10).

The embeddings are cached under the bench cache directory (keyed by the corpus digest and the
model), so a rerun costs only the searches. Run: ``python -m bench.ann.text_quality [--docs
20000] [--queries 1000]``; writes ``bench/results/text-quality.json`` and a Markdown table.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import augurdb
import numpy as np
from augurdb.embeddings import OnnxEmbedding

from . import minilm
from .common import (
    Meter,
    cache_dir,
    default_out_dir,
    machine_banner,
    machine_header,
    markdown_table,
    package_version,
    write_json,
)
from .datasets import DatasetMissingError

K = 10
DEFAULT_SEED = 20261205
ALPHAS = (0.3, 0.5, 0.7)


def known_items() -> list[tuple[str, str]]:
    """(synopsis, body) per unique body, in a deterministic order (sorted by body)."""
    bodies: dict[str, str] = {}
    for path in minilm.translation_files():
        for _, _, text in minilm.parse_translation(minilm.read_list(path)):
            synopsis, sep, body = text.partition(". ")
            if sep and body and body not in bodies:
                bodies[body] = synopsis
    return sorted(((s, b) for b, s in bodies.items()), key=lambda pair: pair[1])


def sample(pairs: list[tuple[str, str]], docs: int, queries: int, seed: int
           ) -> tuple[list[tuple[str, str]], list[int]]:
    """``docs`` pairs (seeded) and the positions in it of ``queries`` with unique synopses."""
    rng = np.random.default_rng(seed)
    picked = sorted(rng.choice(len(pairs), size=min(docs, len(pairs)), replace=False))
    corpus = [pairs[i] for i in picked]
    counts: dict[str, int] = {}
    for synopsis, _ in corpus:
        key = synopsis.lower().strip()
        counts[key] = counts.get(key, 0) + 1
    unique = [i for i, (s, _) in enumerate(corpus) if counts[s.lower().strip()] == 1]
    chosen = sorted(rng.choice(unique, size=min(queries, len(unique)), replace=False))
    return corpus, [int(i) for i in chosen]


def cached_embeddings(fn: OnnxEmbedding, texts: list[str], what: str) -> np.ndarray:
    digest = hashlib.sha256("\0".join(texts).encode()).hexdigest()[:16]
    path = cache_dir() / f"text-quality-{minilm.MODEL_NAME}-{what}-{digest}.npy"
    if path.is_file():
        return np.load(path)
    with Meter() as meter:
        vectors = fn(texts)
    print(f"embedded {len(texts)} {what} in {meter.seconds:.0f} s "
          f"({len(texts) / meter.seconds:.0f} texts/s)", file=sys.stderr)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def scores(ids: np.ndarray, relevant: Sequence[int]) -> tuple[float, float]:
    """(Recall@10, MRR@10) of result rows against one relevant id per row."""
    recall, rr = 0.0, 0.0
    for row, want in zip(ids.tolist(), relevant):
        if want in row[:K]:
            recall += 1
            rr += 1.0 / (row.index(want) + 1)
    return recall / len(relevant), rr / len(relevant)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ann.text_quality",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--threads", type=int, default=2, help="onnxruntime threads")
    parser.add_argument("--out", type=Path, default=default_out_dir() / "text-quality.json")
    args = parser.parse_args(argv)

    print(machine_banner())
    versions = {name: package_version(name) for name in
                ("augurdb", "onnxruntime", "tokenizers", minilm.MODEL_PACKAGE)}
    try:
        pairs = known_items()
        model, tokenizer = minilm.model_files()
    except DatasetMissingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    corpus, query_rows = sample(pairs, args.docs, args.queries, args.seed)
    bodies = [b for _, b in corpus]
    queries = [corpus[i][0] for i in query_rows]
    print(f"{len(pairs)} descriptions with a body; sample {len(corpus)} documents, "
          f"{len(queries)} synopsis queries (unique in the sample), seed {args.seed}")
    fn = OnnxEmbedding(model, tokenizer, max_length=minilm.MAX_TOKENS, threads=args.threads)
    doc_vectors = cached_embeddings(fn, bodies, "docs")
    query_vectors = cached_embeddings(fn, queries, "queries")

    rows, results = [], []

    def record(method: str, ids: np.ndarray) -> None:
        recall, mrr = scores(ids, query_rows)
        rows.append([method, f"{recall:.3f}", f"{mrr:.3f}"])
        results.append({"method": method, "recall_at_10": recall, "mrr_at_10": mrr})
        print(f"  {method}: Recall@10 {recall:.3f}, MRR@10 {mrr:.3f}", file=sys.stderr)

    for tokenizer_name in ("simple", "english"):
        col = augurdb.open(metric="cosine", tokenizer=tokenizer_name)
        col.add(np.arange(len(bodies)), doc_vectors, documents=bodies)
        if tokenizer_name == "simple":
            record("vector only (MiniLM, HNSW ef 64, the default)",
                   col.search_batch(query_vectors, K).ids)
            col_ef = col.search_batch(query_vectors, K, ef=400).ids
            record("vector only (MiniLM, HNSW ef 400)", col_ef)
        record(f"BM25 ({tokenizer_name})", col.search_batch(None, K, texts=queries).ids)
        record(f"hybrid RRF k=60 ({tokenizer_name})",
               col.search_batch(query_vectors, K, texts=queries, fusion="rrf").ids)
        for alpha in ALPHAS:
            record(f"hybrid weighted alpha={alpha} ({tokenizer_name})",
                   col.search_batch(query_vectors, K, texts=queries, fusion="weighted",
                                    alpha=alpha).ids)
        col.close()

    print(markdown_table(["method", "Recall@10", "MRR@10"], rows))
    header = machine_header(benchmark="text_quality", docs=len(corpus), queries=len(queries),
                            seed=args.seed, versions=versions)
    payload: dict[str, Any] = {"machine": header, "results": results}
    print(f"wrote {write_json(args.out, payload)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
