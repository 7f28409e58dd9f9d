"""Documents, text search and hybrid search through the Python API (issue 18): round trips
through add/upsert/delete/get/reopen, bad input (nothing written), where / where_document on
both sides, and hybrid results equal to a reference fusion of the two separate result lists."""

from __future__ import annotations

import math

import numpy as np
import pytest

import augurdb
from augurdb import _core, errors

from text_corpus import descriptions

DIM = 8


def vecs(n, seed=0):
    return np.random.default_rng(seed).standard_normal((n, DIM)).astype(np.float32)


# ---------------------------------------------------------------- round trips

def test_documents_round_trip_through_every_write_and_reopen(tmp_path):
    path = tmp_path / "db"
    data = vecs(4)
    with augurdb.open(path, dim=DIM) as col:
        col.add([1, 2, 3, 4], data, documents=["red apple", None, "green apple", "blue sky"],
                metadata=[{"n": 1}, None, None, None])
        assert [r.document for r in col.get([1, 2, 3, 4])] == ["red apple", None, "green apple",
                                                                "blue sky"]
        col.upsert([3], data[:1], documents=["yellow banana"])
        col.upsert([4], data[:1])  # no document: the record loses its old one
        assert col.delete([1]) == 1
        assert col.get([3])[0].document == "yellow banana"
        assert col.get([4])[0].document is None
        assert col.search(text="apple") == []
        assert col.stats()["documents"] == 1
        col.add([5], data[:1], documents=["apple pie"])
        col.flush()
    for _ in range(2):
        with augurdb.open(path) as col:
            assert [r.document if r else None for r in col.get([1, 2, 3, 4, 5])] == [
                None, None, "yellow banana", None, "apple pie"]
            hits = col.search(text="apple")
            assert [h.id for h in hits] == [5] and hits[0].document == "apple pie"
            assert col.verify()["documents"] == 2
            assert col.get(where={"n": 1}) == []


def test_documents_survive_a_crash_left_in_the_wal(tmp_path):
    # A copy of an open database holds the writes in its WAL only, as after a crash.
    import shutil
    path, copy = tmp_path / "db", tmp_path / "copy"
    col = augurdb.open(path, dim=DIM, tokenizer="english")
    col.add(["a", "b"], vecs(2), documents=["running dogs", "the sleeping cat"])
    col.flush()
    shutil.copytree(path, copy)
    (copy / "LOCK").unlink(missing_ok=True)
    col.close()
    with augurdb.open(copy) as again:
        assert again.stats()["tokenizer"] == "english"
        assert [h.id for h in again.search(text="dog runs")] == ["a"]
        assert again.get(["b"])[0].document == "the sleeping cat"


# ---------------------------------------------------------------- bad input

@pytest.mark.parametrize("documents, match", [
    (["ok", 5], "must be str or None"),
    (["ok", b"bytes"], "must be str or None"),
    (["only one"], "2 ids but 1 documents"),
    ("a string", "sequence of str"),
    (["ok", "lone \udc80 surrogate"], "not valid Unicode"),
])
def test_bad_documents_are_invalid_argument_and_write_nothing(tmp_path, documents, match):
    with augurdb.open(tmp_path / "db", dim=DIM) as col:
        with pytest.raises(errors.InvalidArgument, match=match):
            col.add([1, 2], vecs(2), documents=documents)
        with pytest.raises(errors.InvalidArgument, match=match):
            col.upsert([1, 2], vecs(2), documents=documents)
        assert len(col) == 0 and col.stats()["wal_bytes"] == 0


def test_bad_search_and_open_arguments(tmp_path):
    col = augurdb.open(dim=DIM)
    col.add([1], vecs(1), documents=["hello world"])
    q = vecs(1)[0]
    with pytest.raises(errors.EmbeddingFunctionError, match="no embedding function"):
        col.add([2], documents=["no vector"])
    with pytest.raises(errors.InvalidArgument, match="unknown fusion"):
        col.search(q, text="hello", fusion="borda")
    with pytest.raises(errors.InvalidArgument, match="alpha"):
        col.search(q, text="hello", fusion="weighted", alpha=1.5)
    with pytest.raises(errors.InvalidArgument, match="rrf_k"):
        col.search(q, text="hello", rrf_k=0)
    with pytest.raises(errors.InvalidArgument, match="rrf_k"):
        col.search(q, text="hello", rrf_k="60")
    with pytest.raises(errors.InvalidArgument, match="needs a query"):
        col.search()
    with pytest.raises(errors.InvalidArgument, match="text must be a str"):
        col.search(text=b"hello")
    with pytest.raises(errors.InvalidFilter):
        col.search(text="hello", where_document={"$regex": "h"})
    with pytest.raises(errors.InvalidArgument, match="unknown tokenizer"):
        augurdb.open(tokenizer="klingon")
    augurdb.open(tmp_path / "db", tokenizer="english").close()
    with pytest.raises(errors.InvalidArgument, match="tokenizer 'english'"):
        augurdb.open(tmp_path / "db", tokenizer="simple")
    # No indexable token: no text hits, not an error; hybrid falls back to the vector side.
    assert col.search(text="!!! ...") == []
    assert [h.id for h in col.search(q, text="!!!")] == [1]


# ---------------------------------------------------------------- filters

def test_where_and_where_document_apply_to_both_sides():
    n = 60
    col = augurdb.open(dim=DIM)
    docs = [f"item{i} {'even' if i % 2 == 0 else 'odd'} common" for i in range(n)]
    col.add(np.arange(n), vecs(n, 1), documents=docs, metadata=[{"i": i} for i in range(n)])
    hits = col.search(text="common", k=10, where={"i": {"$gte": 50}})
    assert sorted(h.id for h in hits) == list(range(50, 60))  # k hits whenever k pass
    hits = col.search(text="common", k=100, where_document={"$contains": "odd"})
    assert len(hits) == 30 and all(h.id % 2 == 1 for h in hits)
    hits = col.search(vecs(1, 2)[0], k=100, where_document={"$not_contains": "odd"})
    assert len(hits) == 30 and all(h.id % 2 == 0 for h in hits)
    hits = col.search(vecs(1, 2)[0], k=20, text="even", where={"i": {"$lt": 10}})
    assert len(hits) == 10 and all(h.id < 10 for h in hits)


# ---------------------------------------------------------------- hybrid = reference fusion

def reference_fusion(vector_hits, text_hits, k, fusion, rrf_k, alpha):
    """Fusion as the issue defines it, from the two separate result lists."""
    scores: dict[object, float] = {}
    if fusion == "rrf":
        for rank, h in enumerate(vector_hits, 1):
            scores[h.id] = scores.get(h.id, 0.0) + 1.0 / (rrf_k + rank)
        for rank, h in enumerate(text_hits, 1):
            scores[h.id] = scores.get(h.id, 0.0) + 1.0 / (rrf_k + rank)
    else:
        def norm(values, higher_is_better):
            lo, hi = min(values), max(values)
            if hi == lo:
                return [1.0] * len(values)
            return [((v - lo) if higher_is_better else (hi - v)) / (hi - lo) for v in values]
        for h, v in zip(vector_hits, norm([h.distance for h in vector_hits], False) if vector_hits else []):
            scores[h.id] = scores.get(h.id, 0.0) + alpha * v
        for h, t in zip(text_hits, norm([h.score for h in text_hits], True) if text_hits else []):
            scores[h.id] = scores.get(h.id, 0.0) + (1 - alpha) * t
    # Ties keep the listing order: the vector side's hits by rank, then the text side's.
    order = {i: n for n, i in enumerate(dict.fromkeys([h.id for h in vector_hits] +
                                                       [h.id for h in text_hits]))}
    return sorted(scores.items(), key=lambda kv: (-kv[1], order[kv[0]]))[:k]


@pytest.mark.parametrize("fusion, rrf_k, alpha", [("rrf", 60, 0.5), ("rrf", 1, 0.5),
                                                  ("weighted", 60, 0.3), ("weighted", 60, 1.0)])
def test_hybrid_equals_reference_fusion(fusion, rrf_k, alpha):
    docs = descriptions()[:1500]
    col = augurdb.open(dim=DIM, metric="cosine", tokenizer="english")
    data = vecs(len(docs), 3)
    col.add(np.arange(len(docs)), data, documents=list(docs),
            metadata=[{"g": i % 3} for i in range(len(docs))])
    rng = np.random.default_rng(5)
    words = [w for d in docs[:200] for w in _core.tokenize(d, "simple")]
    for trial in range(40):
        q = rng.standard_normal(DIM).astype(np.float32)
        text = " ".join(rng.choice(words, size=int(rng.integers(1, 4))))
        k = int(rng.integers(1, 20))
        where = {"g": {"$ne": 0}} if trial % 2 else None
        cand = max(50, 4 * k)
        vector_hits = col.search(q, k=cand, where=where)
        text_hits = col.search(text=text, k=cand, where=where)
        hybrid = col.search(q, k=k, text=text, fusion=fusion, rrf_k=rrf_k, alpha=alpha,
                            where=where)
        want = reference_fusion(vector_hits, text_hits, k, fusion, rrf_k, alpha)
        assert [h.id for h in hybrid] == [i for i, _ in want], (trial, text)
        exact = {x.id: x.score for x in col.search(text=text, k=len(docs))}
        for h, (_, score) in zip(hybrid, want):
            assert h.score == pytest.approx(score, rel=1e-12, abs=1e-15)
            # Exact distance and BM25 for every hit, whichever side listed it.
            v = data[h.id] / np.linalg.norm(data[h.id])
            assert h.distance == pytest.approx(1 - float(v @ (q / np.linalg.norm(q))), abs=1e-5)
            assert h.text_score == exact.get(h.id, 0.0)
            assert h.document == docs[h.id]


def test_search_batch_with_texts_matches_single_searches():
    docs = descriptions()[:800]
    col = augurdb.open(dim=DIM, threads=2)
    data = vecs(len(docs), 4)
    col.add(np.arange(len(docs)), data, documents=list(docs))
    texts = ["python library", "game", "kernel module firmware", "!!!"]
    queries = vecs(len(texts), 9)
    res = col.search_batch(queries, 7, texts=texts)
    assert res.ids.shape == (4, 7) and res.scores is not None
    for row, (q, t) in enumerate(zip(queries, texts)):
        single = col.search(q, k=7, text=t)
        assert res.ids[row, :len(single)].tolist() == [h.id for h in single]
        assert res.scores[row, :len(single)].tolist() == [h.score for h in single]
    text_only = col.search_batch(None, 5, texts=texts)
    for row, t in enumerate(texts):
        single = col.search(text=t, k=5)
        assert text_only.ids[row, :len(single)].tolist() == [h.id for h in single]
        assert all(math.isnan(d) for d in text_only.distances[row, :len(single)])
    assert (text_only.ids[3] == -1).all()


def test_summed_text_stats_score_like_one_collection():
    docs = ["red apple pie", "green apple", "apple apple tart", "blue sky", "red sky at night"]
    whole, parts = augurdb.open(dim=DIM), [augurdb.open(dim=DIM), augurdb.open(dim=DIM)]
    data = vecs(len(docs))
    whole.add(range(5), data, documents=docs)
    parts[0].add(range(2), data[:2], documents=docs[:2])
    parts[1].add(range(2, 5), data[2:], documents=docs[2:])
    stats = parts[0].text_stats("red apple") + parts[1].text_stats(["red apple"])
    assert stats == whole.text_stats("red apple")
    assert stats.doc_freqs == {"red": 2, "apple": 3} and stats.doc_count == 5
    want = {h.id: h.score for h in whole.search(text="red apple", k=5)}
    got = {h.id: h.score for p in parts for h in p.search(text="red apple", k=5, text_stats=stats)}
    assert got == pytest.approx(want, rel=1e-12)
    assert parts[0].search(text="red apple", k=1)[0].score != pytest.approx(want[0])  # local
    with pytest.raises(errors.InvalidArgument, match="no document frequency for the query term"):
        parts[0].search(text="red sky", k=1, text_stats=stats)
    for bad, match in [({"doc_count": 1}, "must be an augurdb.TextStats"),
                       (augurdb.TextStats(-1, 3, {}), r"doc_count must be an int >= 0"),
                       (augurdb.TextStats(5, 9, {"red": 7, "apple": 1}), "exceeds doc_count")]:
        with pytest.raises(errors.InvalidArgument, match=match):
            parts[0].search(text="red apple", k=1, text_stats=bad)
    with pytest.raises(errors.InvalidArgument, match="need texts="):
        parts[0].search_batch(data[:1], 1, text_stats=stats)
