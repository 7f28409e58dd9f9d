"""Peer adapter: USearch (f32)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .base import EF_CONSTRUCTION, K, M, Adapter, FloatArray, IdArray, SystemInfo, timed_call

INFO = SystemInfo(
    key="usearch", label="USearch", package="usearch", module="usearch.index",
    thread_knob="Index.add(threads=N)",
    persists="save(file); reopen = Index.restore(file) (loaded, not viewed) + first query",
    params=(f"Index(metric='l2sq', dtype='f32', connectivity={M}, "
            f"expansion_add={EF_CONSTRUCTION}); ef = expansion_search"),
    notes=("dtype='f32' set explicitly (USearch may default to a narrower type); "
           "connectivity = M (the base layer keeps 2M, as in hnswlib).",))


class USearchAdapter(Adapter):
    key = "usearch"
    info = INFO  # module usearch.index: self.lib.Index

    def build(self, base: FloatArray, threads: int, workdir: Path) -> dict[str, Any]:
        index = self.lib.Index(ndim=self.dim, metric="l2sq", dtype="f32", connectivity=M,
                           expansion_add=EF_CONSTRUCTION, expansion_search=64)
        index.add(np.arange(base.shape[0], dtype=np.uint64), base, threads=threads)
        self.index = index
        return {"dtype": str(index.dtype)}

    def save(self, path: Path) -> None:
        self.index.save(str(path))

    def reopen(self, path: Path) -> None:
        self.index = self.lib.Index.restore(str(path))

    def memory_bytes(self) -> int | None:
        try:
            return int(self.index.memory_usage)
        except (AttributeError, TypeError):
            return None

    def set_ef(self, ef: int) -> None:
        self.index.expansion_search = ef

    def query_call(self, method: str, ef: int) -> Callable[[Any], Any]:
        return functools.partial(self.index.search, count=K, threads=1)

    def ids_of(self, raw: Any, n: int) -> IdArray:
        return super().ids_of([np.asarray(r.keys).astype(np.int64) for r in raw], n)

    def batch(self, queries: FloatArray, ef: int, threads: int) -> tuple[float, IdArray]:
        seconds, found = timed_call(self.index.search, queries, K, threads=threads)
        keys = np.asarray(found.keys)
        ids = keys.astype(np.int64)
        ids[keys == np.iinfo(np.uint64).max] = -1
        return seconds, ids
