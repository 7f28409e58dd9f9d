"""Sharded collections on a local Ray cluster (one per module): the same answers as one
collection holding the same data (ids, distances, BM25 and fused scores), persistence and
reopening, the Ray Data datasink, shard faults, and configuration errors. Multi-node placement
is in test_distributed_cluster.py."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

# Read when Ray is imported: keeps the local cluster on loopback (ray.nodes() shows 127.0.0.1).
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
ray = pytest.importorskip("ray", reason="the [ray] extra is not installed")

import augurdb  # noqa: E402
import augurdb.distributed as dist  # noqa: E402
from augurdb import errors  # noqa: E402
from augurdb.distributed._layout import route  # noqa: E402
from augurdb.distributed._sharded import NAMESPACE, actor_name  # noqa: E402

N, DIM = 600, 16


@pytest.fixture(scope="module", autouse=True)
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1",
             log_to_driver=False)
    assert [n["NodeManagerAddress"] for n in ray.nodes()] == ["127.0.0.1"]
    yield
    ray.shutdown()


def corpus(seed: int = 0) -> tuple[np.ndarray, list[str], list[dict[str, Any]]]:
    """Vectors, documents of distinct lengths (so no two BM25 scores tie and rankings are
    unique), metadata."""
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((N, DIM)).astype(np.float32)
    vocab = [f"w{i}" for i in range(120)]
    docs = [" ".join(rng.choice(vocab, size=5 + i)) for i in rng.permutation(N)]
    meta = [{"group": int(i % 4), "tag": ["a", "b", "c"][i % 3]} for i in range(N)]
    return vectors, docs, meta


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Any, np.ndarray]]:
    vectors, docs, meta = corpus()
    root = tmp_path_factory.mktemp("sharded") / "kb"
    sharded = dist.open(root, shards=3, dim=DIM)
    one = augurdb.open(dim=DIM)
    for lo in range(0, N, 200):  # several batches, as users load
        rows = slice(lo, lo + 200)
        sharded.add(np.arange(lo, lo + 200), vectors[rows], metadata=meta[lo:lo + 200],
                    documents=docs[lo:lo + 200])
        one.add(np.arange(lo, lo + 200), vectors[rows], metadata=meta[lo:lo + 200],
                documents=docs[lo:lo + 200])
    yield sharded, one, vectors
    sharded.close()
    one.close()


def queries(vectors: np.ndarray, n: int = 8) -> np.ndarray:
    rng = np.random.default_rng(5)
    return (vectors[rng.integers(N, size=n)] + 0.3 * rng.standard_normal((n, DIM))).astype(
        np.float32)


TEXTS = ["w3 w5", "w10 w20 w30", "w7", "w11 w11 w99", "w0 w1 w2 w3 w4"]


def same_hits(a: list[Any], b: list[Any]) -> None:
    assert [h.id for h in a] == [h.id for h in b]
    for x, y in zip(a, b):
        assert x.score == pytest.approx(y.score, rel=1e-9, abs=1e-12)
        assert x.text_score == pytest.approx(y.text_score, rel=1e-9, abs=1e-12)
        assert x.metadata == y.metadata and x.document == y.document
        if not np.isnan(y.distance):
            assert x.distance == pytest.approx(y.distance, rel=1e-5, abs=1e-6)


def test_single_machine_open_imports_no_ray() -> None:
    import subprocess
    import sys
    code = ("import sys, augurdb; c = augurdb.open(dim=2); c.close(); "
            "assert 'ray' not in sys.modules, 'augurdb imported ray'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_routing_is_stable_and_spreads() -> None:
    ids = np.arange(10_000)
    shard_of = route(ids, 4)
    assert np.array_equal(shard_of, route(ids.tolist(), 4))  # array or list: same hash
    assert np.array_equal(shard_of[:5], [int(s) for s in route([0, 1, 2, 3, 4], 4)])
    counts = np.bincount(shard_of, minlength=4)
    assert counts.min() > 2300  # roughly even
    strs = route([f"doc-{i}" for i in range(1000)], 3)
    assert set(strs.tolist()) == {0, 1, 2}
    assert route(["doc-7"], 3)[0] == strs[7]


def test_vector_search_equals_one_collection(pair: Any) -> None:
    sharded, one, vectors = pair
    for q in queries(vectors):
        same_hits(sharded.search(q, 10, ef=N), one.search(q, 10, ef=N))
        same_hits(sharded.search(q, 7, ef=N, where={"group": 2}),
                  one.search(q, 7, ef=N, where={"group": 2}))
    batch, want = sharded.search_batch(queries(vectors), 10, ef=N), one.search_batch(
        queries(vectors), 10, ef=N)
    assert np.array_equal(batch.ids, want.ids)
    np.testing.assert_allclose(batch.distances, want.distances, rtol=1e-5, atol=1e-6)


def test_text_search_uses_global_statistics(pair: Any) -> None:
    sharded, one, _ = pair
    for text in TEXTS:
        same_hits(sharded.search(text=text, k=10), one.search(text=text, k=10))
        same_hits(sharded.search(text=text, k=5, where={"tag": "b"},
                                 where_document={"$contains": "w4"}),
                  one.search(text=text, k=5, where={"tag": "b"},
                             where_document={"$contains": "w4"}))
    assert sharded.text_stats(TEXTS) == one.text_stats(TEXTS)
    batch, want = (c.search_batch(None, 10, texts=TEXTS) for c in (sharded, one))
    assert np.array_equal(batch.ids, want.ids)
    np.testing.assert_allclose(batch.scores, want.scores, rtol=1e-12)


@pytest.mark.parametrize("fusion", ["rrf", "weighted"])
def test_hybrid_search_equals_one_collection(pair: Any, fusion: str) -> None:
    sharded, one, vectors = pair
    for q, text in zip(queries(vectors), TEXTS * 2):
        for kwargs in ({}, {"candidates": 20, "alpha": 0.3}, {"where": {"group": 1}}):
            same_hits(sharded.search(q, 10, text=text, ef=N, fusion=fusion, **kwargs),
                      one.search(q, 10, text=text, ef=N, fusion=fusion, **kwargs))
    qs = queries(vectors, len(TEXTS))
    batch = sharded.search_batch(qs, 10, texts=TEXTS, ef=N, fusion=fusion)
    want = one.search_batch(qs, 10, texts=TEXTS, ef=N, fusion=fusion)
    assert np.array_equal(batch.ids, want.ids)
    np.testing.assert_allclose(batch.scores, want.scores, rtol=1e-9)


def test_reads_counts_and_deletes(pair: Any, tmp_path: Path) -> None:
    sharded, one, vectors = pair
    assert len(sharded) == N and sharded.count({"group": 3}) == one.count({"group": 3})
    got = sharded.get([5, 10_000, 17])
    assert got[1] is None and got[0].id == 5 and np.array_equal(got[0].vector, vectors[5])
    assert got[2].metadata == one.get([17])[0].metadata
    assert got[2].document == one.get([17])[0].document
    assert {r.id for r in sharded.get(where={"tag": "c"})} == {
        r.id for r in one.get(where={"tag": "c"})}
    assert len(sharded.get(where={}, limit=7)) == 7
    assert sorted(sharded.ids()) == list(range(N)) and 5 in sharded and 10_000 not in sharded
    stats = sharded.stats()
    assert stats["count"] == N and len(stats["per_shard"]) == 3
    assert sum(s["count"] for s in stats["per_shard"]) == N
    assert sharded.verify()


def test_writes_persist_and_reopen(tmp_path: Path) -> None:
    vectors, docs, meta = corpus(1)
    root = tmp_path / "kb"
    with dist.open(root, shards=2, metric="cosine", tokenizer="english") as col:
        col.add([f"id{i}" for i in range(100)], vectors[:100], documents=docs[:100])
        col.upsert(["id3", "new"], vectors[100:102], metadata=[{"v": 2}, {"v": 3}])
        assert col.delete(["id4", "nope"]) == 1
        assert col.delete(where={"v": 3}) == 1
        with pytest.raises(errors.DuplicateId, match="'id5' already exists"):
            col.add(["fresh", "id5"], vectors[:2])
        assert "fresh" not in col  # the batch was refused before any shard wrote
        before = col.search(vectors[7], 5, ef=200)
    assert json.loads((root / "augurdb-shards.json").read_text())["shards"] == 2
    with dist.open(root) as col:
        assert len(col) == 99 and col.metric == "cosine" and col.dim == DIM
        assert [h.id for h in col.search(vectors[7], 5, ef=200)] == [h.id for h in before]
        assert col.get(["id3"])[0].metadata == {"v": 2} and col.get(["id3"])[0].document is None
        assert col.search(text="w5", k=3)  # the english tokenizer is each shard's own


def test_bad_input_changes_nothing(pair: Any) -> None:
    sharded, _, vectors = pair
    cases = [
        (lambda: sharded.add([N + 1, N + 1], vectors[:2]), errors.DuplicateId, "duplicate id"),
        (lambda: sharded.add([N + 1], vectors[:1, :3]), errors.DimensionMismatch, "3-d"),
        (lambda: sharded.add([N + 1], np.full((1, DIM), np.nan, np.float32)),
         errors.InvalidVector, "NaN"),
        (lambda: sharded.add([N + 1, N + 2], vectors[:1]), errors.InvalidArgument,
         "1 vectors for 2 ids"),
        (lambda: sharded.add([N + 1], None, documents=["x"]), errors.InvalidArgument,
         "needs vectors"),
        (lambda: sharded.search(vectors[0], 0), errors.InvalidArgument, "k"),
        (lambda: sharded.search(vectors[0], 3, where={"$bad": 1}), errors.InvalidFilter, "bad"),
    ]
    for call, error, match in cases:
        with pytest.raises(error, match=match):
            call()
    assert len(sharded) == N


def assert_shards_gone(root: Path, shards: int) -> None:
    """ray.kill only asks; a stopped shard's name must be free before open/close returns, or a
    reopen's get_if_exists would pick up the dying actor."""
    for shard in range(shards):
        with pytest.raises(ValueError):
            ray.get_actor(actor_name(root, shard), namespace=NAMESPACE)


def test_configuration_errors(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    with pytest.raises(errors.InvalidArgument, match="pass shards= to create one"):
        dist.open(root)
    with pytest.raises(errors.InvalidArgument, match="positive int"):
        dist.open(root, shards=0)
    with pytest.raises(errors.InvalidArgument, match="unknown durability 'bogus'"):
        dist.open(root, shards=2, dim=DIM, durability="bogus")  # the shard's own error
    assert_shards_gone(root, 2)
    col = dist.open(root, shards=2, dim=DIM)  # the failed shards were stopped
    col.close()
    assert_shards_gone(root, 2)
    with pytest.raises(errors.InvalidArgument, match="is closed"):
        col.search(np.zeros(DIM, np.float32))
    col.close()  # idempotent
    with pytest.raises(errors.InvalidArgument, match="has 2 shards, not 3"):
        dist.open(root, shards=3)
    with pytest.raises(errors.InvalidArgument, match="metric 'l2', not 'ip'"):
        dist.open(root, metric="ip")
    (root / "augurdb-shards.json").write_text("{not json")
    with pytest.raises(errors.CorruptDatabase, match="not a sharded-collection layout"):
        dist.open(root)
    (root / "augurdb-shards.json").write_text(json.dumps(
        {"format": 99, "hash": "x", "shards": 2, "metric": "l2"}))
    with pytest.raises(errors.NotSupported, match="newer"):
        dist.open(root)
    (root / "augurdb-shards.json").unlink()
    with pytest.raises(errors.InvalidArgument, match="no layout file"):
        dist.open(root)
    (tmp_path / "file").write_text("x")
    with pytest.raises(errors.InvalidArgument, match="not a directory"):
        dist.open(tmp_path / "file", shards=2)


def wait_alive(actor: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            ray.get(actor.ping.remote(), timeout=5)
            return
        except (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError,
                ray.exceptions.GetTimeoutError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_killed_shard_restarts_and_loses_no_acknowledged_write(tmp_path: Path) -> None:
    vectors, docs, _ = corpus(2)
    col = dist.open(tmp_path / "kb", shards=2, dim=DIM)  # durability "sync"
    acknowledged: list[int] = []
    failed = 0
    victim = col.actors()[0]
    for b in range(12):
        ids = list(range(b * 40, b * 40 + 40))
        if b == 4:
            os.kill(ray.get(victim.ping.remote()), 9)  # SIGKILL: no checkpoint, no goodbye
        try:
            col.upsert(ids, vectors[ids], documents=[docs[i] for i in ids])
            acknowledged += ids
        except errors.ShardUnavailable as error:
            assert error.shards == (0,)
            failed += 1
            wait_alive(victim)
            col.upsert(ids, vectors[ids], documents=[docs[i] for i in ids])  # retry: idempotent
            acknowledged += ids
    wait_alive(victim)
    got = col.get(acknowledged)
    assert all(r is not None for r in got), "an acknowledged write was lost"
    assert len(col) == len(acknowledged) == 480 and col.verify()
    one = augurdb.open(dim=DIM)
    one.add(acknowledged, vectors[acknowledged], documents=[docs[i] for i in acknowledged])
    same_hits(col.search(text="w9 w2", k=10), one.search(text="w9 w2", k=10))
    col.close()


def test_a_dead_shard_is_unavailable_unless_partial(tmp_path: Path) -> None:
    vectors, _, _ = corpus(3)
    col = dist.open(tmp_path / "kb", shards=3, dim=DIM)
    col.add(np.arange(300), vectors[:300])
    ray.kill(col.actors()[1], no_restart=True)
    with pytest.raises(errors.ShardUnavailable, match=r"shard\(s\) \[1\]") as info:
        col.search(vectors[0], 5)
    assert info.value.shards == (1,) and isinstance(info.value, errors.AugurDBError)
    hits = col.search(vectors[0], 5, ef=300, allow_partial=True)
    assert hits.missing_shards == (1,) and len(hits) == 5
    assert all(route([h.id], 3)[0] != 1 for h in hits)
    assert col.count(allow_partial=True) == int(np.sum(route(np.arange(300), 3) != 1))
    with pytest.raises(errors.ShardUnavailable):
        col.add([1000], vectors[:1]) if route([1000], 3)[0] == 1 else col.count()
    col.close()  # tolerates the dead shard


def test_datasink_bulk_load(tmp_path: Path) -> None:
    vectors, docs, meta = corpus(4)
    rows = [{"id": i, "vector": vectors[i], "document": docs[i],
             "metadata": json.dumps(meta[i])} for i in range(N)]
    ds = ray.data.from_items(rows).repartition(4)
    ds.write_datasink(dist.AugurDBDatasink(tmp_path / "kb", shards=3, dim=DIM, metric="l2"))
    one = augurdb.open(dim=DIM)
    one.add(np.arange(N), vectors, documents=docs, metadata=meta)
    with dist.open(tmp_path / "kb") as col:
        assert len(col) == N and col.verify()
        assert col.get([11])[0].metadata == meta[11]
        q = queries(vectors, 1)[0]
        same_hits(col.search(q, 10, ef=N), one.search(q, 10, ef=N))
        same_hits(col.search(q, 10, text="w1 w2", ef=N), one.search(q, 10, text="w1 w2", ef=N))
