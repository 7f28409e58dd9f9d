"""Every public call of the augurdb package, written as a typed user script.

tests/python/test_typing.py runs ``mypy --strict`` on this file (so the package's annotations
and the engine stub ``augurdb/_core.pyi`` must describe what users call) and then runs it.
Usage: ``python examples/typed_usage.py [DIR]`` (DIR: where the on-disk database goes; a
temporary directory by default).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

import augurdb
import numpy as np
import numpy.typing as npt
from augurdb import errors
from augurdb.cli import main as cli_main

if sys.version_info >= (3, 11):
    from typing import assert_type
else:  # mypy checks with the running version; older ones only need the call to pass through

    def assert_type(value: Any, _type: Any, /) -> Any:
        return value

# Each assert_type is checked by mypy, which rejects Any where a real type is expected: the
# stub, not only the wrapper's annotations, has to describe the engine's types.


def in_memory(rng: np.random.Generator) -> None:
    vectors: npt.NDArray[np.float32] = rng.random((50, 8), dtype=np.float32)
    with augurdb.open(dim=8, metric="cosine", m=8, ef_construction=64, ef_search=32,
                      threads=1, seed=7) as col:
        col.add(list(range(50)), vectors, metadata=[{"n": i % 3} for i in range(50)])
        col.upsert([0], np.ones((1, 8), dtype=np.float32), metadata=[None])
        hits: list[augurdb.Hit] = col.search(vectors[1], k=3, ef=40, where={"n": 1})
        best_id = assert_type(hits[0].id, "int | str")
        distance = assert_type(hits[0].distance, float)
        meta = assert_type(hits[0].metadata, dict[str, Any])
        batch: augurdb.BatchResults = col.search_batch(vectors[:4], k=2, threads=1)
        for row_ids, row_distances in batch:
            assert row_ids.shape == row_distances.shape == (2,)
        records: list[augurdb.Record | None] = col.get([1, 999])
        first = records[0]
        assert first is not None and records[1] is None
        stored = assert_type(first.vector, npt.NDArray[np.float32])
        assert_type(first.id, "int | str")
        assert_type(first.metadata, dict[str, Any])
        matching = col.get(where={"n": 2}, limit=5)
        assert len(matching) == 5
        assert col.count() == 50 and col.count(where={"n": 0}) == 16  # id 0 lost its metadata
        removed: int = col.delete([2, 3]) + col.delete(where={"n": 2})
        col.compact()
        report: dict[str, int] = col.verify()
        ids: list[int | str] = col.ids()
        dim: int | None = col.dim
        stats = col.stats()
        print(f"memory: best {best_id} at {distance:.3f} ({meta}), {len(batch)} batch rows, "
              f"{stored.shape} stored, {removed} removed, {len(ids)} left, dim {dim}, "
              f"{col.metric}, {report['records']} verified, {stats['memory_bytes']} bytes, "
              f"{len(col)} records, 4 in: {4 in col}, {sum(1 for _ in col)} iterated, "
              f"path {col.path}, read-only {col.read_only}")


def on_disk(root: Path, rng: np.random.Generator) -> None:
    path = root / "typed.adb"
    col = augurdb.open(path, dim=4, durability="batch", quantization="sq8", rerank=8,
                       checkpoint_wal_bytes=1 << 20)
    col.add(["a", "b", "c"], rng.random((3, 4)), metadata=[{"tag": "x"}, None, {"tag": "y"}])
    col.flush()
    col.checkpoint()
    col.close()
    assert col.closed
    with augurdb.open(path, mode="r") as reader:
        try:
            reader.add(["d"], np.zeros((1, 4), dtype=np.float32))
        except errors.AugurDBError as exc:
            print(f"read-only add refused: {type(exc).__name__}")
    with augurdb.open(path, mode="r", vectors_on_disk=True) as reader:
        print(f"disk: {reader!r}, ids {sorted(str(i) for i in reader.ids())}")
    code: int = cli_main(["info", str(root / "typed.adb"), "--json"])
    assert code == 0


def main(argv: list[str]) -> int:
    info = assert_type(augurdb.build_info(), dict[str, str])
    print(f"augurdb {augurdb.__version__}, simd {info['simd']}")
    rng = np.random.default_rng(3)
    in_memory(rng)
    if argv:
        on_disk(Path(argv[0]), rng)
        text_and_hybrid(Path(argv[0]), rng)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            on_disk(Path(tmp), rng)
            text_and_hybrid(Path(tmp), rng)
    return 0


def text_and_hybrid(root: Path, rng: np.random.Generator) -> None:
    path = root / "docs.adb"
    with augurdb.open(path, dim=4, tokenizer="english") as col:
        col.add([1, 2, 3], rng.random((3, 4)),
                documents=["Fast vector search", "Keyword search with BM25", None],
                metadata=[{"lang": "en"}, {"lang": "en"}, None])
        col.upsert([3], rng.random((1, 4)), documents=["hybrid retrieval"])
        text_hits: list[augurdb.Hit] = col.search(text="searching", k=2)
        bm25 = assert_type(text_hits[0].score, float)
        document = assert_type(text_hits[0].document, "str | None")
        hybrid = col.search(rng.random(4), k=2, text="keyword", where={"lang": "en"},
                            where_document={"$contains": "search"}, fusion="weighted",
                            alpha=0.7, candidates=10)
        fused = assert_type(hybrid[0].score, float)
        exact = assert_type(hybrid[0].text_score, float)
        rrf = col.search(rng.random(4), text="vector", rrf_k=30)
        batch = col.search_batch(rng.random((2, 4)), k=2, texts=["vector", "bm25"])
        scores = batch.scores
        assert scores is not None and scores.shape == (2, 2)
        record = col.get([3])[0]
        assert record is not None
        stored_doc = assert_type(record.document, "str | None")
        print(f"text: {bm25:.3f} {document!r}, hybrid {fused:.3f}/{exact:.3f}, {len(rrf)} rrf, "
              f"doc {stored_doc!r}, {col.stats()['documents']} documents")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
