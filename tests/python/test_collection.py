"""The Python contract of issue 5: every method, every error, nothing changed on failure."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import augurdb
from augurdb import errors

from conftest import clustered, exact_knn


def make(data, **kw):
    col = augurdb.open(dim=data.shape[1], **kw)
    col.add(np.arange(len(data)), data)
    return col


# ---------------------------------------------------------------- open / params

def test_open_defaults_and_properties():
    with augurdb.open(dim=8) as col:
        assert col.dim == 8 and col.metric == "l2" and len(col) == 0 and col.path is None
        st = col.stats()
        assert st["m"] == 16 and st["ef_construction"] == 200 and st["ef_search"] == 64
        assert st["count"] == 0 and st["dim"] == 8
    assert col.closed
    with pytest.raises(errors.AugurDBError, match="closed"):
        len(col)


def test_dim_taken_from_first_add():
    col = augurdb.open()
    assert col.dim is None
    col.add([1], np.ones((1, 5), np.float32))
    assert col.dim == 5


@pytest.mark.parametrize("kwargs, match", [
    ({"metric": "hamming"}, "unknown metric"),
    ({"m": -1}, "m must"),
    ({"m": 1}, "m must be in 2..512"),
    ({"mode": "x"}, "unknown mode"),
    ({"durability": "maybe"}, "unknown durability"),
    ({"mode": "r"}, "needs a path"),
    ({"ef_search": 0}, "ef_search"),
    ({"dim": 0}, "dim must"),
    ({"threads": -2}, "threads"),
    ({"bogus": 1}, "unknown parameter"),
])
def test_open_rejects_bad_parameters(kwargs, match):
    with pytest.raises(errors.InvalidArgument, match=match):
        augurdb.open(**kwargs)


# ---------------------------------------------------------------- add / get / search

@pytest.mark.parametrize("metric", ["l2", "ip", "cosine"])
def test_search_matches_exact_on_small_set(data, queries, metric):
    if metric == "ip":
        # Inner product is not a metric: on vectors whose norms differ by 10x, graph search
        # (ours and hnswlib's) misses some neighbours. Embeddings are near unit length.
        rng = np.random.default_rng(3)
        data = data / np.linalg.norm(data, axis=1, keepdims=True)
        data = (data * rng.uniform(0.9, 1.1, (len(data), 1))).astype(np.float32)
    col = make(data, metric=metric)
    k = 10
    truth = exact_knn(data, queries, k, metric)
    res = col.search_batch(queries, k=k, ef=400)
    assert res.ids.dtype == np.int64 and res.ids.shape == (len(queries), k)
    assert res.distances.dtype == np.float32
    np.testing.assert_allclose(res.distances, truth, rtol=1e-4, atol=1e-3)
    # search and search_batch agree, and distances follow the documented convention
    for qi in range(5):
        hits = col.search(queries[qi], k=k, ef=400)
        assert [h.id for h in hits] == res.ids[qi].tolist()
        v = data[hits[0].id].astype(np.float64)
        q = queries[qi].astype(np.float64)
        expect = {"l2": ((q - v) ** 2).sum(), "ip": -(q @ v),
                  "cosine": 1 - q @ v / np.linalg.norm(q) / np.linalg.norm(v)}[metric]
        assert hits[0].distance == pytest.approx(expect, rel=1e-4, abs=1e-4)


def test_ef_below_k_still_returns_k_and_default_ef_is_raised_to_k():
    data = clustered(3000, 16, seed=5)
    col = make(data, ef_search=16)
    q = data[7]
    wide = col.search_batch(q[None, :], k=100, ef=100)
    default = col.search_batch(q[None, :], k=100)  # ef_search 16 raised to k
    np.testing.assert_array_equal(default.ids, wide.ids)
    narrow = col.search(q, k=100, ef=2)
    assert len(narrow) == 100 and len({h.id for h in narrow}) == 100
    assert [h.distance for h in narrow] == sorted(h.distance for h in narrow)


def test_add_get_roundtrip_with_metadata():
    col = augurdb.open(dim=3)
    md = [{"s": "x", "i": 3, "f": 1.5, "b": True, "n": None, "l": [1, "a", None]}, None]
    col.add(["a", "b"], np.array([[1, 2, 3], [4, 5, 6]], np.float32), metadata=md)
    a, b, missing = col.get(["a", "b", "zzz"])
    assert missing is None
    assert a.id == "a" and a.metadata == md[0]
    np.testing.assert_array_equal(a.vector, [1, 2, 3])
    assert a.vector.dtype == np.float32
    assert b.metadata == {}
    hits = col.search([1, 2, 3], k=1)
    assert hits[0].id == "a" and hits[0].metadata == md[0]


def test_contains_len_ids_iter():
    col = augurdb.open(dim=2)
    col.add([5, 7], np.ones((2, 2), np.float32))
    assert 5 in col and 7 in col and 6 not in col and "5" not in col and 2**70 not in col
    assert len(col) == 2 and sorted(col.ids()) == [5, 7] and sorted(col) == [5, 7]


def test_k_larger_than_collection_and_empty_collection():
    col = augurdb.open(dim=4)
    assert col.search(np.zeros(4, np.float32), k=3) == []
    res = col.search_batch(np.zeros((2, 4), np.float32), k=3)
    assert (res.ids == -1).all() and np.isinf(res.distances).all()
    col.add([1, 2], np.eye(2, 4, dtype=np.float32))
    assert len(col.search(np.zeros(4, np.float32), k=10)) == 2
    res = col.search_batch(np.zeros((1, 4), np.float32), k=4)
    assert res.ids[0, 2:].tolist() == [-1, -1] and np.isinf(res.distances[0, 2:]).all()


def test_string_ids_batch_results_are_object_arrays():
    col = augurdb.open(dim=2)
    col.add(["x", "y"], np.array([[0, 0], [1, 1]], np.float32))
    res = col.search_batch(np.array([[0, 0]], np.float32), k=3)
    assert res.ids.dtype == object and res.ids.tolist() == [["x", "y", None]]


def test_input_conversion_float64_lists_and_noncontiguous(data):
    col = augurdb.open(dim=16)
    col.add(list(range(3)), data[:3].astype(np.float64))          # float64 converted once
    col.add([3], data[3].tolist())                                 # a single vector as a list
    col.add(range(4, 8), np.asfortranarray(data[4:8]))             # non-contiguous converted
    col.add(np.arange(8, 10, dtype=np.int32), data[8:10])          # int32 ids
    assert len(col) == 10
    assert col.search(data[3], k=1)[0].id == 3


def test_zero_copy_input_is_not_mutated(data):
    col = augurdb.open(dim=16, metric="cosine")
    before = data.copy()
    col.add(np.arange(len(data)), data)
    np.testing.assert_array_equal(data, before)  # normalisation happens in engine storage


# ---------------------------------------------------------------- upsert / delete

def test_upsert_replaces_vector_and_metadata():
    col = augurdb.open(dim=2)
    col.add([1, 2], np.array([[0, 0], [5, 5]], np.float32), metadata=[{"v": 1}, {"v": 2}])
    col.upsert([1, 3], np.array([[9, 9], [1, 1]], np.float32), metadata=[{"v": 10}, None])
    assert len(col) == 3
    r = col.get([1])[0]
    np.testing.assert_array_equal(r.vector, [9, 9])
    assert r.metadata == {"v": 10}
    assert [h.id for h in col.search([9, 9], k=3)] == [1, 2, 3]


def test_delete_counts_and_excludes(data):
    col = make(data)
    assert col.delete([0, 1, 2, 10**9]) == 3
    assert col.delete([0]) == 0
    assert len(col) == len(data) - 3 and 0 not in col
    res = col.search_batch(data[:3], k=5)
    assert not np.isin(res.ids, [0, 1, 2]).any()
    assert col.get([0]) == [None]
    col.compact()
    col.add([0], data[:1])
    assert col.search(data[0], k=1)[0].id == 0


def test_reserve_makes_room_up_front(tmp_path, data):
    col = augurdb.open(tmp_path / "r", dim=data.shape[1])
    col.add(np.arange(10), data[:10])
    assert col.stats()["capacity"] < 5_000
    col.reserve(5_000)
    room = col.stats()["index_bytes"]
    assert col.stats()["capacity"] == 5_000
    col.reserve(0)  # already has room: nothing changes
    col.add(np.arange(10, len(data)), data[10:])
    assert col.stats()["capacity"] == 5_000  # the adds fit in the reservation
    assert [h.id for h in col.search(data[7], k=1)] == [7]
    for bad in (-1, 2.5, True, "10"):
        with pytest.raises(errors.InvalidArgument, match="capacity"):
            col.reserve(bad)
    with pytest.raises(errors.InvalidArgument, match="at most"):
        col.reserve(1 << 40)
    assert len(col) == len(data) and col.stats()["capacity"] == 5_000
    col.close()
    with augurdb.open(tmp_path / "r", mode="r") as reader:
        with pytest.raises(errors.NotSupported, match="read-only"):
            reader.reserve(10)


def test_delete_then_readd_everything(data):
    col = make(data[:50])
    assert col.delete(np.arange(50)) == 50
    assert len(col) == 0 and col.search(data[0], k=3) == []
    col.add(np.arange(50), data[:50])
    assert col.search(data[7], k=1)[0].id == 7


# ---------------------------------------------------------------- errors change nothing

def _state(col):
    return len(col), sorted(col.ids(), key=str)


@pytest.mark.parametrize("ids, vectors, metadata, exc, match", [
    ([1], np.ones((1, 3), np.float32), None, errors.DimensionMismatch, "dimension 3"),
    ([1], np.array([[0, np.nan, 0, 0]], np.float32), None, errors.InvalidVector, "NaN"),
    ([1], np.array([[0, np.inf, 0, 0]], np.float32), None, errors.InvalidVector, "Inf"),
    ([], np.ones((0, 4), np.float32), None, errors.InvalidArgument, "empty batch"),
    ([1, 1], np.ones((2, 4), np.float32), None, errors.InvalidArgument, "duplicate id 1"),
    ([1, "a"], np.ones((2, 4), np.float32), None, errors.InvalidArgument, "mixed id kinds"),
    (["a"], np.ones((1, 4), np.float32), None, errors.InvalidArgument, "integer ids"),
    ([1.5], np.ones((1, 4), np.float32), None, errors.InvalidArgument, "int or str"),
    ([100], np.ones((1, 4), np.float32), None, errors.DuplicateId, "already exists"),
    ([1, 2], np.ones((3, 4), np.float32), None, errors.InvalidArgument, "2 ids but 3"),
    ([1], np.ones((1, 4), np.float32), [{}, {}], errors.InvalidArgument, "metadata"),
    ([1], np.ones((1, 4), np.float32), [{"x": {"y": 1}}], errors.InvalidArgument, "nested"),
    ([1], np.ones((1, 4), np.float32), [{"x": object()}], errors.InvalidArgument, "'x'"),
    ([1], np.ones((1, 4), np.float32), [{"x": 2**64}], errors.InvalidArgument, "64 bits"),
    ([1], np.array([["a", "b", "c", "d"]]), None, errors.InvalidArgument, "numeric"),
    ([1], np.ones((1, 2, 2), np.float32), None, errors.InvalidArgument, "2-D"),
])
def test_bad_add_raises_and_changes_nothing(ids, vectors, metadata, exc, match):
    col = augurdb.open(dim=4)
    col.add([100, 101], np.ones((2, 4), np.float32))
    before = _state(col)
    with pytest.raises(exc, match=match):
        col.add(ids, vectors, metadata=metadata)
    assert _state(col) == before
    assert col.get([1]) == [None]


def test_bad_upsert_in_the_middle_changes_nothing():
    col = augurdb.open(dim=2)
    col.add([1, 2], np.array([[0, 0], [1, 1]], np.float32))
    bad = np.array([[5, 5], [np.nan, 0]], np.float32)
    with pytest.raises(errors.InvalidVector, match="row 1"):
        col.upsert([1, 3], bad)
    np.testing.assert_array_equal(col.get([1])[0].vector, [0, 0])
    assert 3 not in col


def test_cosine_rejects_zero_vectors():
    col = augurdb.open(dim=3, metric="cosine")
    with pytest.raises(errors.InvalidVector, match="zeros"):
        col.add([1], np.zeros((1, 3), np.float32))


@pytest.mark.parametrize("k", [0, -1, 1.5, True, "3"])
def test_bad_k(k):
    col = augurdb.open(dim=2)
    with pytest.raises(errors.InvalidArgument, match="k must"):
        col.search(np.zeros(2, np.float32), k=k)
    with pytest.raises(errors.InvalidArgument, match="k must"):
        col.search_batch(np.zeros((1, 2), np.float32), k=k)


def test_bad_queries():
    col = augurdb.open(dim=2)
    col.add([1], np.ones((1, 2), np.float32))
    with pytest.raises(errors.DimensionMismatch):
        col.search(np.zeros(3, np.float32))
    with pytest.raises(errors.InvalidVector):
        col.search(np.array([np.nan, 0], np.float32))
    with pytest.raises(errors.InvalidVector):
        col.search_batch(np.array([[0, 0], [np.inf, 0]], np.float32))
    with pytest.raises(errors.InvalidArgument, match="ef"):
        col.search(np.zeros(2, np.float32), ef=0)


def test_error_hierarchy():
    assert issubclass(errors.DimensionMismatch, ValueError)
    assert issubclass(errors.NotFound, KeyError)
    assert issubclass(errors.DatabaseLocked, OSError)
    assert issubclass(errors.CorruptDatabase, errors.AugurDBError)


# ---------------------------------------------------------------- concurrency

def test_concurrent_search_while_adding():
    base = clustered(3000, 16, seed=5)
    col = augurdb.open(dim=16, threads=2)
    col.add(np.arange(500), base[:500])
    stop = threading.Event()
    failures: list[BaseException] = []

    def reader():
        try:
            while not stop.is_set():
                res = col.search_batch(base[:20], k=5, threads=1)
                assert (res.ids[:, 0] >= 0).all()
        except BaseException as exc:  # noqa: BLE001 - surfaced below
            failures.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    for start in range(500, 3000, 500):
        col.add(np.arange(start, start + 500), base[start:start + 500])
        col.delete(np.arange(start - 500, start - 450))
    stop.set()
    for t in threads:
        t.join()
    assert not failures, failures
    assert len(col) == 3000 - 5 * 50


def test_stats_memory_grows_with_data(data):
    small = make(data[:100]).stats()["memory_bytes"]
    big = make(data).stats()["memory_bytes"]
    assert big > small > 100 * 16 * 4


# ---------------------------------------------------------------- quantization

@pytest.mark.parametrize("quantization", ["sq8", "sq4"])
# (Inner product is left out: on vectors of unequal norms the HNSW graph itself misses true
# neighbours, quantized or not; the C++ QuantizedIndexTest compares ip recall with fp32's.)
@pytest.mark.parametrize("metric", ["l2", "cosine"])
def test_quantized_search_returns_exact_distances(data, queries, metric, quantization):
    col = augurdb.open(dim=16, metric=metric, quantization=quantization)
    col.add(np.arange(len(data)), data)
    assert col.stats()["quantization"] == quantization
    truth = exact_knn(data, queries, 10, metric)
    res = col.search_batch(queries, k=10, ef=400, rerank=60)
    # Candidates come from codes, distances from the exact rerank: the best ones match exactly.
    np.testing.assert_allclose(res.distances[:, :5], truth[:, :5], rtol=1e-4, atol=1e-3)
    hits = col.search(queries[0], k=3, rerank=30)
    assert [h.id for h in hits] == res.ids[0, :3].tolist()


@pytest.mark.parametrize("quantization", ["sq8", "sq4"])
def test_quantization_persists(tmp_path, data, quantization):
    with augurdb.open(tmp_path / "q", dim=16, quantization=quantization) as col:
        col.add(np.arange(len(data)), data)
        before = col.search_batch(data[:20], k=5)
    with augurdb.open(tmp_path / "q") as col:
        assert col.stats()["quantization"] == quantization
        after = col.search_batch(data[:20], k=5)
        np.testing.assert_array_equal(before.ids, after.ids)
    with pytest.raises(errors.InvalidArgument, match="quantization"):
        augurdb.open(tmp_path / "q", quantization="none")


@pytest.mark.parametrize("quantization", ["sq8", "sq4"])
def test_vectors_on_disk(tmp_path, data, queries, quantization):
    """The float32 vectors move to the checkpoint mapping: memory_bytes drops, results do not
    change, and reopening keeps them there."""
    with augurdb.open(tmp_path / "mem", dim=16, quantization=quantization) as mem, \
            augurdb.open(tmp_path / "disk", dim=16, quantization=quantization,
                         vectors_on_disk=True) as disk:
        for col in (mem, disk):
            col.add(np.arange(len(data)), data)
        before = disk.stats()
        disk.checkpoint()
        after = disk.stats()
        assert after["mapped_vector_bytes"] >= len(data) * 16 * 4
        assert after["memory_bytes"] <= before["memory_bytes"] - len(data) * 16 * 4
        expected = mem.search_batch(queries, k=5)
        got = disk.search_batch(queries, k=5)
        np.testing.assert_array_equal(expected.ids, got.ids)
        np.testing.assert_array_equal(disk.get([3])[0].vector, data[3])
    with augurdb.open(tmp_path / "disk", vectors_on_disk=True) as disk:
        assert disk.stats()["mapped_vector_bytes"] >= len(data) * 16 * 4
        np.testing.assert_array_equal(disk.search_batch(queries, k=5).ids, expected.ids)


def test_vectors_on_disk_errors(tmp_path):
    with pytest.raises(errors.InvalidArgument, match="vectors_on_disk"):
        augurdb.open(dim=4, quantization="sq8", vectors_on_disk=True)  # no path
    with pytest.raises(errors.InvalidArgument, match="sq8"):
        augurdb.open(tmp_path / "a", dim=4, quantization="none", vectors_on_disk=True)
    with pytest.raises(errors.InvalidArgument, match="True or False"):
        augurdb.open(tmp_path / "b", dim=4, quantization="sq8", vectors_on_disk="yes")


def test_bad_quantization():
    with pytest.raises(errors.InvalidArgument, match="quantization"):
        augurdb.open(dim=4, quantization="pq")


def test_verify_after_churn(tmp_path, data):
    for path in (None, tmp_path / "v"):
        col = augurdb.open(path, dim=16, checkpoint_wal_bytes=50_000)
        col.add(np.arange(len(data)), data, metadata=[{"i": i} for i in range(len(data))])
        col.delete(np.arange(0, len(data), 3))
        col.upsert(np.arange(1, 100, 3), data[:33])
        col.compact()
        col.add(np.arange(10_000, 10_050), data[:50])
        report = col.verify()
        assert report["records"] == len(col) and report["graph_links"] > 0
        if path is not None:
            assert report["checkpoint_bytes"] > 0
        col.close()


@pytest.mark.parametrize("upsert", [False, True])
def test_negative_and_empty_ids_are_rejected_and_nothing_is_written(upsert):
    col = augurdb.open(dim=2)
    write = col.upsert if upsert else col.add
    with pytest.raises(errors.InvalidArgument, match=r"negative id -1 \(ids\[1\]\)"):
        write([3, -1], np.ones((2, 2), np.float32))
    with pytest.raises(errors.InvalidArgument, match="negative id"):
        write(np.array([-(2**63)], np.int64), np.ones((1, 2), np.float32))
    assert len(col) == 0 and 3 not in col
    write([0, 2**63 - 1], np.ones((2, 2), np.float32))
    assert sorted(col.ids()) == [0, 2**63 - 1]
    strings = augurdb.open(dim=2)
    write = strings.upsert if upsert else strings.add
    with pytest.raises(errors.InvalidArgument, match=r"ids\[0\] is an empty string"):
        write(["", "b"], np.ones((2, 2), np.float32))
    assert len(strings) == 0


def test_string_id_edge_cases():
    col = augurdb.open(dim=2)
    with pytest.raises(errors.InvalidArgument, match="not valid Unicode"):
        col.add(["ok", "bad\udc80"], np.ones((2, 2), np.float32))
    assert len(col) == 0
    long_id = "x" * 100_000
    col.add([long_id, "ünïcödé ✓"], np.ones((2, 2), np.float32))
    assert long_id in col and "ünïcödé ✓" in col
    assert col.search(np.ones(2, np.float32), k=2)[0].id in (long_id, "ünïcödé ✓")
