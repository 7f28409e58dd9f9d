"""Peer adapter: AugurDB, through the Python package (in-memory and on-disk collections)."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .base import EF_CONSTRUCTION, K, M, Adapter, FloatArray, IdArray, SystemInfo, timed_call

INFO = SystemInfo(
    key="augurdb", label="AugurDB", package="augurdb", module="augurdb",
    thread_knob="augurdb.open(threads=N)",
    persists="open(dir) build + close() (checkpoint); reopen = open(dir) + first query",
    params=f"HNSW M={M}, ef_construction={EF_CONSTRUCTION}, metric l2, fp32",
    notes=("Queried through search() (one query per call, returns Hit objects); the "
           "search_batch(one row) curve is the same engine without Hit objects.",
           "Persistent build: open(dir) with the default durability='sync' and one add() "
           "of all vectors, then close() (writes the checkpoint). In-memory build for the "
           "build-rate and query figures."),
    quick=True)


class AugurDBAdapter(Adapter):
    key = "augurdb"
    info = INFO
    single_methods = ("search", "search_batch(1 row)")
    quantization = "none"  # augurdb.open's quantization= for every collection this builds

    def build(self, base: FloatArray, threads: int, workdir: Path) -> dict[str, Any]:
        col = self.lib.open(dim=self.dim, metric="l2", m=M, ef_construction=EF_CONSTRUCTION,
                            threads=threads, quantization=self.quantization)
        col.add(np.arange(base.shape[0], dtype=np.int64), base)
        self.index = col
        return {}

    def build_persistent(self, base: FloatArray, threads: int, path: Path) -> dict[str, Any]:
        start = time.perf_counter()
        col = self.lib.open(path, dim=self.dim, metric="l2", m=M,
                            ef_construction=EF_CONSTRUCTION, threads=threads,
                            quantization=self.quantization)
        col.add(np.arange(base.shape[0], dtype=np.int64), base)
        added = time.perf_counter()
        col.close()
        closed = time.perf_counter()
        return {"add_seconds": added - start, "close_seconds": closed - added,
                "durability": "sync"}

    def reopen(self, path: Path) -> None:
        self.index = self.lib.open(path)

    def close(self) -> None:
        if self.index is not None:
            self.index.close()
        self.index = None

    def memory_bytes(self) -> int | None:
        return int(self.index.stats()["memory_bytes"])

    def rows(self, queries: FloatArray) -> list[Any]:
        return [queries[i:i + 1] for i in range(queries.shape[0])]

    def query_call(self, method: str, ef: int) -> Callable[[Any], Any]:
        if method == "search":
            search = self.index.search
            return lambda row: search(row[0], K, ef=ef)
        return functools.partial(self.index.search_batch, k=K, ef=ef, threads=1)

    def ids_of(self, raw: Any, n: int) -> IdArray:
        return super().ids_of([[hit.id for hit in r] if isinstance(r, list) else r.ids
                               for r in raw], n)

    def batch(self, queries: FloatArray, ef: int, threads: int) -> tuple[float, IdArray]:
        seconds, found = timed_call(self.index.search_batch, queries, K, ef=ef, threads=threads)
        return seconds, np.asarray(found.ids, dtype=np.int64)


INFO_SQ8 = SystemInfo(
    key="augurdb-sq8", label="AugurDB SQ8", package="augurdb", module="augurdb",
    thread_knob="augurdb.open(threads=N)",
    persists=None,
    params=f"HNSW M={M}, ef_construction={EF_CONSTRUCTION}, metric l2, quantization='sq8' "
           "(walks SQ8 codes, re-scores 2k candidates in fp32)",
    notes=("The quantized mode, for the comparison with glass (which walks SQ8U codes): an "
           "in-memory collection (fp32 rows kept for the rerank), queried through search().",))


class AugurDBSq8Adapter(AugurDBAdapter):
    key = "augurdb-sq8"
    info = INFO_SQ8
    single_methods = ("single",)
    quantization = "sq8"

    def query_call(self, method: str, ef: int) -> Callable[[Any], Any]:
        return super().query_call("search", ef)
