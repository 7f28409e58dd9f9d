"""Peer adapter: OmenDB."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .base import (EF_CONSTRUCTION, K, M, Adapter, FloatArray, IdArray, SystemInfo, pad_ids,
    timed_call)

INFO = SystemInfo(
    key="omendb", label="OmenDB", package="omendb", module="omendb",
    thread_knob="RAYON_NUM_THREADS (environment, per process)",
    persists="create(dir, schema) + set + close(); reopen = open(dir) + first query",
    params=(f"omendb.open(':memory:', dimensions=d, m={M}, "
            f"ef_construction={EF_CONSTRUCTION}); ef per query (search(..., ef=))"),
    notes=("The measured (in-memory) index is built through omendb.open(':memory:', m=, "
           "ef_construction=): the only call that takes HNSW parameters for a new store. "
           "omendb.create(path, schema) has no HNSW fields and open(path, ...) refuses a "
           "path that does not exist, so the persistent variant (disk size, reopen) is built "
           "with OmenDB's default ef_construction=100.",
           "Ids must be strings: str(i) on insert, int() on the results (outside the "
           "timing)."))


class OmenDBAdapter(Adapter):
    key = "omendb"
    info = INFO

    def build(self, base: FloatArray, threads: int, workdir: Path) -> dict[str, Any]:
        db = self.lib.open(":memory:", dimensions=self.dim, m=M,
                              ef_construction=EF_CONSTRUCTION)
        db.set(ids=[str(i) for i in range(base.shape[0])], vectors=base)
        self.index = db
        info = db.info()
        if info["vector_count"] != base.shape[0]:
            raise RuntimeError(f"OmenDB holds {info['vector_count']} vectors")
        return {"hnsw_m": info["hnsw_m"], "hnsw_ef_construction": info["hnsw_ef_construction"]}

    def build_persistent(self, base: FloatArray, threads: int, path: Path) -> dict[str, Any]:
        start = time.perf_counter()
        db = self.lib.create(str(path), {"dense": {"dim": self.dim}})
        db.set(ids=[str(i) for i in range(base.shape[0])], vectors=base)
        added = time.perf_counter()
        info = db.info()
        db.close()
        closed = time.perf_counter()
        return {"add_seconds": added - start, "close_seconds": closed - added,
                "hnsw_m": info["hnsw_m"], "hnsw_ef_construction": info["hnsw_ef_construction"]}

    def reopen(self, path: Path) -> None:
        self.index = self.lib.open(str(path))

    def close(self) -> None:
        if self.index is not None:
            try:
                self.index.close()
            except Exception:  # noqa: BLE001 - in-memory stores may refuse close()
                pass
        self.index = None

    def memory_bytes(self) -> int | None:
        try:
            return int(self.index.info()["total_memory_bytes"])
        except (KeyError, TypeError, AttributeError):
            return None

    def query_call(self, method: str, ef: int) -> Callable[[Any], Any]:
        search = self.index.search
        return lambda row: search(row, K, ef=ef)

    def ids_of(self, raw: Any, n: int) -> IdArray:
        return pad_ids([[int(h["id"]) for h in hits] for hits in raw], n)

    def batch(self, queries: FloatArray, ef: int, threads: int) -> tuple[float, IdArray]:
        seconds, results = timed_call(self.index.search_batch, queries, K, ef=ef)
        return seconds, pad_ids([[int(h["id"]) for h in hits] for hits in results],
                                 queries.shape[0])
