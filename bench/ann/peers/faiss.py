"""Peer adapter: faiss IndexHNSWFlat."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .base import EF_CONSTRUCTION, K, M, Adapter, FloatArray, IdArray, SystemInfo, timed_call

INFO = SystemInfo(
    key="faiss", label="faiss HNSWFlat", package="faiss-cpu", module="faiss",
    thread_knob="faiss.omp_set_num_threads(N)",
    persists="write_index(file); reopen = read_index + first query",
    params=f"IndexHNSWFlat(d, M={M}), efConstruction={EF_CONSTRUCTION}, L2, fp32",
    notes=("Single-query loop runs with omp_set_num_threads(1); batch search with all "
           "threads.",),
    quick=True)


class FaissAdapter(Adapter):
    key = "faiss"
    info = INFO

    def __init__(self, dim: int) -> None:
        super().__init__(dim)
        self.threads = self.lib.omp_get_max_threads()

    def build(self, base: FloatArray, threads: int, workdir: Path) -> dict[str, Any]:
        self.lib.omp_set_num_threads(threads)
        self.threads = threads
        index = self.lib.IndexHNSWFlat(self.dim, M)
        index.hnsw.efConstruction = EF_CONSTRUCTION
        index.add(base)
        self.index = index
        return {}

    def save(self, path: Path) -> None:
        self.lib.write_index(self.index, str(path))

    def reopen(self, path: Path) -> None:
        self.index = self.lib.read_index(str(path))

    def rows(self, queries: FloatArray) -> list[Any]:
        return [queries[i:i + 1] for i in range(queries.shape[0])]

    def set_ef(self, ef: int) -> None:
        self.index.hnsw.efSearch = ef

    @contextlib.contextmanager
    def single_thread(self) -> Iterator[None]:
        self.lib.omp_set_num_threads(1)
        try:
            yield
        finally:
            self.lib.omp_set_num_threads(self.threads)

    def query_call(self, method: str, ef: int) -> Callable[[Any], Any]:
        return functools.partial(self.index.search, k=K)

    def ids_of(self, raw: Any, n: int) -> IdArray:
        return super().ids_of([r[1] for r in raw], n)

    def batch(self, queries: FloatArray, ef: int, threads: int) -> tuple[float, IdArray]:
        self.lib.omp_set_num_threads(threads)
        seconds, (_, labels) = timed_call(self.index.search, queries, K)
        return seconds, labels.astype(np.int64)
