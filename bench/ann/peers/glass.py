"""Peer adapter: glass (PyPI ``pyglass-portable``, import ``glass``), the graph library that leads
ann-benchmarks on one core: an HNSW graph built on SQ8U codes, searched on SQ8U codes with a
float32 refine of the candidates (glass's recommended set-up).

glass has no ids (rows are numbered in order, like ours here), no metadata and no persistence of
the searcher (``Graph.save`` keeps only the links; the data are passed again), so it is an
in-memory row of the suite, like hnswlib without ``save_index``.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .base import (
    EF_CONSTRUCTION,
    K,
    M,
    Adapter,
    FloatArray,
    IdArray,
    SystemInfo,
    stdout_to_stderr,
    timed_call,
)

#: glass's R is the level-0 degree bound (2M in HNSW terms) and L the build beam.
R = 2 * M
BUILD_QUANT = "SQ8U"
SEARCH_QUANT = "SQ8U"
REFINE_QUANT = "FP32"

INFO = SystemInfo(
    key="glass", label="glass", package="pyglass-portable", module="glass",
    thread_knob="glass.set_num_threads(N)",
    persists=None,
    params=(f"Index('HNSW', 'L2', quant={BUILD_QUANT!r}, R={R}, L={EF_CONSTRUCTION}); "
            f"Searcher(quantizer={SEARCH_QUANT!r}, refine_quant={REFINE_QUANT!r}) + optimize()"),
    notes=(f"R={R} is the level-0 degree of HNSW M={M}; L is ef_construction.",
           "Builds on SQ8U codes and walks SQ8U codes, refining candidates in float32: "
           "glass's fastest documented set-up (its own quantized mode, not fp32).",
           "Searcher.optimize() tunes prefetch depth on sample queries after the build; it is "
           "timed with the build (extra.graph_seconds is the graph alone).",
           "No persistence of a searcher: in memory only."))


class GlassAdapter(Adapter):
    key = "glass"
    info = INFO

    def build(self, base: FloatArray, threads: int, workdir: Path) -> dict[str, Any]:
        self.lib.set_num_threads(threads)
        data = np.ascontiguousarray(base, dtype=np.float32)
        with stdout_to_stderr():  # glass prints its progress on stdout
            start = time.perf_counter()
            graph = self.lib.Index("HNSW", "L2", quant=BUILD_QUANT, R=R,
                                   L=EF_CONSTRUCTION).build(data)
            searcher = self.lib.Searcher(graph, data, "L2", SEARCH_QUANT, REFINE_QUANT)
            built = time.perf_counter()
            searcher.optimize(threads)
        self.lib.set_num_threads(1)
        self.index = searcher
        return {"graph_seconds": built - start, "optimize_seconds": time.perf_counter() - built}

    def set_ef(self, ef: int) -> None:
        self.index.set_ef(ef)

    def query_call(self, method: str, ef: int) -> Callable[[Any], Any]:
        return functools.partial(self.index.search, k=K)

    def ids_of(self, raw: Any, n: int) -> IdArray:
        # search() returns (2, k) float64: ids, then distances.
        return super().ids_of([None if r is None else r[0] for r in raw], n)

    def batch(self, queries: FloatArray, ef: int, threads: int) -> tuple[float, IdArray]:
        seconds, found = timed_call(self.index.batch_search, queries, K, threads)
        return seconds, np.asarray(found[0], dtype=np.int64)
