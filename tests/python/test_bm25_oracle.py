"""BM25 against an independent implementation: bm25s (method "lucene", k1 1.2, b 0.75), fed the
tokens our own tokenizer produces, on ~3,200 real Debian package descriptions and 1,200
queries. Scores must agree within 1e-4 relative and the top-100 ids must be equal up to ties
(docs/text-search.md, "Scoring")."""

from __future__ import annotations

import numpy as np
import pytest

import augurdb
import bm25s  # the [test] extra: a missing oracle fails the test, it does not skip
from augurdb import _core

from text_corpus import descriptions, queries

TOP = 100
REL = 1e-4


@pytest.mark.parametrize("tokenizer", ["simple", "english"])
def test_bm25_matches_bm25s_lucene(tokenizer):
    docs = descriptions()
    tokens = [_core.tokenize(d, tokenizer) for d in docs]
    col = augurdb.open(dim=2, tokenizer=tokenizer)
    vectors = np.zeros((len(docs), 2), np.float32)
    vectors[:, 0] = 1.0
    col.add(np.arange(len(docs)), vectors, documents=list(docs))

    retriever = bm25s.BM25(method="lucene", k1=1.2, b=0.75)
    vocab = {t: i for i, t in enumerate(sorted({t for doc in tokens for t in doc}))}
    retriever.index(bm25s.tokenization.Tokenized(
        ids=[[vocab[t] for t in doc] for doc in tokens], vocab=vocab), show_progress=False)

    # Queries are words of the documents (simple tokens) put through the collection's
    # tokenizer, as a user's query would be; bm25s gets the resulting tokens. Queries whose
    # tokens repeat are left out (we weight a repeated term by its count, as Lucene does).
    words = [_core.tokenize(d, "simple") for d in docs]
    compared = 0
    for raw in queries(words, 1300):
        text = " ".join(raw)
        q = _core.tokenize(text, tokenizer)
        if len(set(q)) != len(q):
            continue
        hits = col.search(text=text, k=TOP)
        known = [t for t in q if t in vocab]
        expected = np.asarray(retriever.get_scores(known), dtype=np.float64) if known else \
            np.zeros(len(docs))
        # Every hit's score equals bm25s's score of that document.
        for h in hits:
            want = expected[h.id]
            assert h.score == pytest.approx(want, rel=REL), (q, h.id)
            assert h.text_score == h.score
        # Top-100 equal up to ties: every document scoring clearly above our 100th is listed,
        # and nothing we list scores clearly below bm25s's 100th.
        positive = np.flatnonzero(expected > 0)
        assert len(hits) == min(TOP, len(positive)), q
        if hits:
            ranked = np.sort(expected[positive])[::-1]
            cutoff = ranked[min(TOP, len(ranked)) - 1]
            must = set(np.flatnonzero(expected > cutoff * (1 + REL)).tolist())
            got = {h.id for h in hits}
            assert must <= got, (q, sorted(must - got)[:5])
            assert all(expected[i] >= cutoff * (1 - REL) for i in got), q
            compared += 1
    assert compared >= 1000
