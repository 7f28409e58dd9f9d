"""Hypothesis: random add/upsert/delete sequences match a dict model, a large ef finds the exact
neighbours on small sets, and a beam one short of the set does so by walking the graph.

Without a filter, HnswIndex::Search scans every record exactly when the set holds at most
max(ef, k) of them (src/index/hnsw_index.h), so the small-set test exercises the scan and cannot
catch a graph bug; its sibling keeps n above the beam. The Python API does not expose search
statistics: the C++ property test (tests/cpp/property/hnsw_walk_property_test.cc) asserts from
SearchStats that the same setting walks the graph."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import augurdb
from augurdb import errors

DIM = 4
ids_st = st.integers(min_value=0, max_value=30)
vec_st = st.lists(st.floats(-100, 100, allow_nan=False, width=32), min_size=DIM, max_size=DIM)
op_st = st.tuples(st.sampled_from(["add", "upsert", "delete"]),
                  st.lists(st.tuples(ids_st, vec_st), min_size=1, max_size=6))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(op_st, min_size=1, max_size=12))
def test_matches_dict_model(ops):
    col = augurdb.open(dim=DIM, m=4, ef_construction=32)
    model: dict[int, np.ndarray] = {}
    for op, rows in ops:
        ids = [i for i, _ in rows]
        vecs = np.array([v for _, v in rows], np.float32)
        if op == "delete":
            assert col.delete(ids) == len(set(ids) & model.keys())
            for i in set(ids):
                model.pop(i, None)
            continue
        duplicate = len(set(ids)) != len(ids)
        exists = op == "add" and any(i in model for i in ids)
        try:
            getattr(col, op)(ids, vecs)
        except errors.InvalidArgument:
            assert duplicate or exists
            continue
        assert not duplicate and not exists
        for i, v in zip(ids, vecs):
            model[i] = v
    assert len(col) == len(model)
    assert sorted(col.ids()) == sorted(model)
    for i, rec in zip(model, col.get(list(model))):
        np.testing.assert_array_equal(rec.vector, model[i])
    if model:
        q = np.zeros(DIM, np.float32)
        hits = col.search(q, k=len(model), ef=200)
        want = sorted(float(((v.astype(np.float64) - q) ** 2).sum()) for v in model.values())
        np.testing.assert_allclose([h.distance for h in hits], want, rtol=1e-5, atol=1e-3)


@settings(max_examples=25, deadline=None)
@given(st.integers(5, 200), st.integers(1, 20), st.integers(0, 2**31 - 1),
       st.sampled_from(["l2", "ip", "cosine"]))
def test_large_ef_is_exact_on_small_sets(n, k, seed, metric):
    """ef >= n: the engine scans every record (the walk is tested below)."""
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(n, 8)).astype(np.float32)
    q = rng.normal(size=8).astype(np.float32)
    col = augurdb.open(dim=8, metric=metric, m=8)
    col.add(np.arange(n), base)
    hits = col.search(q, k=k, ef=max(n, k))
    from conftest import exact_knn
    want = exact_knn(base, q[None], min(k, n), metric)[0]
    np.testing.assert_allclose([h.distance for h in hits], want, rtol=1e-4, atol=1e-4)


@settings(max_examples=15, deadline=None)
@given(st.integers(300, 1200), st.integers(1, 20), st.integers(0, 2**31 - 1),
       st.sampled_from(["l2", "cosine"]))
def test_beam_one_short_of_the_set_is_exact(n, k, seed, metric):
    """ef = n - 1 < n: the search walks the graph, and a beam that wide can only stop after
    visiting every record but one, so it is exact exactly when every record is reachable (what a
    graph bug breaks). L2 and cosine only: under inner product, rows whose norms differ can be
    unreachable by design (README)."""
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(n, 8)).astype(np.float32)
    q = rng.normal(size=(5, 8)).astype(np.float32)
    col = augurdb.open(dim=8, metric=metric, m=8)
    col.add(np.arange(n), base)
    ef = n - 1
    assert n > max(ef, k), "the search must walk the graph, not scan"
    res = col.search_batch(q, k=k, ef=ef)
    from conftest import exact_knn
    want = exact_knn(base, q, k, metric)
    np.testing.assert_allclose(res.distances, want, rtol=1e-4, atol=1e-4)
