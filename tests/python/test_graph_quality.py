"""Graph quality against hnswlib at equal ef (issue 24).

A neighbour heuristic tuned on one data set (Vamana's alpha, single pass) lost recall against
hnswlib on clustered and high-intrinsic-dimension data. These tests build both indexes on one
thread (deterministic for a fixed seed) from the same arrays and require AugurDB's recall at a
fixed ef to be at least hnswlib's minus 0.005. Speed is not judged here (benchmarks do that).
"""

from __future__ import annotations

import augurdb
import hnswlib  # a test dependency (pyproject [test]): the yardstick must be present
import numpy as np
import pytest
from augurdb.smoke_bench import exact_ground_truth, gaussian_clusters

M, EF_CONSTRUCTION, SEED = 16, 200, 42
TOLERANCE = 0.005


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(t)) / truth.shape[1] for f, t in zip(found, truth)]))


def both_recalls(base: np.ndarray, queries: np.ndarray, k: int, efs: list[int]) -> list[tuple]:
    truth = exact_ground_truth(base, queries, k=k).ids
    ref = hnswlib.Index(space="l2", dim=base.shape[1])
    ref.init_index(max_elements=len(base), M=M, ef_construction=EF_CONSTRUCTION, random_seed=SEED)
    ref.add_items(base, np.arange(len(base)), num_threads=1)
    col = augurdb.open(dim=base.shape[1], m=M, ef_construction=EF_CONSTRUCTION, threads=1,
                       seed=SEED)
    col.add(np.arange(len(base)), base)
    out = []
    for ef in efs:
        ref.set_ef(ef)
        theirs = recall(ref.knn_query(queries, k=k, num_threads=1)[0], truth)
        ours = recall(col.search_batch(queries, k=k, ef=ef, threads=1).ids, truth)
        out.append((ef, ours, theirs))
    col.close()
    return out


@pytest.mark.parametrize("ef", [16, 32])
def test_clustered_recall_at_least_hnswlib(ef: int) -> None:
    # 500 well-separated clusters of ~60 points: the graph needs long edges between them. (The
    # single-pass alpha rule gave 0.9863 / 0.9933 here against hnswlib's 0.9927 / 1.0; 20K x 64
    # with 200 clusters was too easy to show it.)
    base, queries = gaussian_clusters(30_000, 300, clusters=500, dim=128)
    for ef_, ours, theirs in both_recalls(base, queries, 10, [ef]):
        assert ours >= theirs - TOLERANCE, f"ef={ef_}: AugurDB {ours:.4f} vs hnswlib {theirs:.4f}"


def test_sq8_bulk_build_keeps_every_cluster_reachable() -> None:
    # A quantized bulk call links its rows in locality order (grouped by nearest centre). Linked
    # one whole group after another, tight clusters lost their bridges: some queries found none
    # of their 10 neighbours at any ef up to 64 (2, 1 and 0 of 300 for these seeds; recall stuck
    # at .993-.997 while hnswlib reached 1.0). The groups now take turns. Two build threads, as
    # users run it; three seeds because a lost cluster depends on the interleaving.
    base, queries = gaussian_clusters(20_000, 300, clusters=200, dim=128)
    truth = exact_ground_truth(base, queries, k=10).ids
    for seed in (1, 2, 3):
        col = augurdb.open(dim=128, m=M, ef_construction=EF_CONSTRUCTION, threads=2, seed=seed,
                           quantization="sq8")
        col.add(np.arange(len(base)), base)
        found = col.search_batch(queries, k=10, ef=64, threads=1).ids
        lost = [q for q, (f, t) in enumerate(zip(found, truth)) if not set(f) & set(t)]
        assert not lost, f"seed {seed}: queries {lost} found none of their neighbours at ef 64"
        col.close()


def test_high_dimensional_self_queries_at_least_hnswlib() -> None:
    # N(0, I) in 64-d: distances concentrate; every base point queried with itself, k = 1.
    rng = np.random.default_rng(7)
    base = rng.normal(size=(20_000, 64)).astype(np.float32)
    queries = np.ascontiguousarray(base[rng.choice(len(base), 600, replace=False)])
    for ef, ours, theirs in both_recalls(base, queries, 1, [16, 32]):
        assert ours >= theirs - TOLERANCE, f"ef={ef}: AugurDB {ours:.4f} vs hnswlib {theirs:.4f}"
