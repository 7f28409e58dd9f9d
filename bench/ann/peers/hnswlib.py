"""Peer adapter: hnswlib (the reference HNSW implementation)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .base import EF_CONSTRUCTION, K, M, Adapter, FloatArray, IdArray, SystemInfo, timed_call

INFO = SystemInfo(
    key="hnswlib", label="hnswlib", package="hnswlib", module="hnswlib",
    thread_knob="add_items(num_threads=N)",
    persists="save_index(file); reopen = load_index + first query",
    params=f"HNSW M={M}, ef_construction={EF_CONSTRUCTION}, space l2, fp32",
    quick=True)


class HnswlibAdapter(Adapter):
    key = "hnswlib"
    info = INFO

    def build(self, base: FloatArray, threads: int, workdir: Path) -> dict[str, Any]:
        index = self.lib.Index(space="l2", dim=self.dim)
        index.init_index(max_elements=base.shape[0], M=M, ef_construction=EF_CONSTRUCTION,
                         random_seed=42)
        index.add_items(base, np.arange(base.shape[0]), num_threads=threads)
        self.index = index
        return {}

    def save(self, path: Path) -> None:
        self.index.save_index(str(path))

    def reopen(self, path: Path) -> None:
        index = self.lib.Index(space="l2", dim=self.dim)
        index.load_index(str(path))
        self.index = index

    def rows(self, queries: FloatArray) -> list[Any]:
        return [queries[i:i + 1] for i in range(queries.shape[0])]

    def set_ef(self, ef: int) -> None:
        self.index.set_ef(ef)

    missing_errors = (RuntimeError,)  # fewer than k found: counted as missing

    def query_call(self, method: str, ef: int) -> Callable[[Any], Any]:
        return functools.partial(self.index.knn_query, k=K, num_threads=1)

    def ids_of(self, raw: Any, n: int) -> IdArray:
        return super().ids_of([None if r is None else r[0] for r in raw], n)

    def batch(self, queries: FloatArray, ef: int, threads: int) -> tuple[float, IdArray]:
        seconds, (labels, _) = timed_call(self.index.knn_query, queries, k=K, num_threads=threads)
        return seconds, labels.astype(np.int64)
