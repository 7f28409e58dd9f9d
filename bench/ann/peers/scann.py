"""Peer adapter: ScaNN (Google), the partition + anisotropic-quantization + reorder design, the
strongest non-graph method on ann-benchmarks.

Set-up as ScaNN's README recommends for L2 data of this size: a k-means tree of about sqrt(n)
leaves, asymmetric hashing with 2 dimensions per 16-centre block and the anisotropic threshold
0.2, then an exact float32 reorder of the best candidates. ScaNN has no ``ef``: the suite's ef
sweep is mapped to (leaves searched, candidates reordered), both growing with ef, so one curve
covers about the recall range of the graphs (:func:`search_knobs`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .base import K, Adapter, FloatArray, IdArray, SystemInfo, timed_call

INFO = SystemInfo(
    key="scann", label="ScaNN", package="scann", module="scann",
    thread_knob="builder.set_n_training_threads(N); search_batched_parallel",
    persists=None,
    params="tree(leaves=sqrt(n)) + score_ah(2, anisotropic 0.2) + reorder(exact fp32)",
    notes=("ef is mapped to leaves_to_search = ceil(ef * leaves / 1000) and pre_reorder = "
           "max(2*ef, 50): ScaNN has no beam width.",
           "In memory only here (ScaNN can serialize to a directory; not timed)."))


def search_knobs(ef: int, leaves: int) -> tuple[int, int]:
    """(leaves_to_search, pre_reorder_num_neighbors) for the suite's ``ef``: about ef/1000 of
    the leaves (so the share of the data scanned grows with ef whatever the data size), and
    2 ef candidates (at least 50) re-scored exactly."""
    return max(1, math.ceil(ef * leaves / 1000)), max(2 * ef, 50)


class ScannAdapter(Adapter):
    key = "scann"
    info = INFO

    def __init__(self, dim: int) -> None:
        super().__init__(dim)
        from scann.scann_ops.py import scann_ops_pybind
        self.ops = scann_ops_pybind

    def build(self, base: FloatArray, threads: int, workdir: Path) -> dict[str, Any]:
        n = base.shape[0]
        leaves = max(2, int(round(math.sqrt(n))))
        data = np.ascontiguousarray(base, dtype=np.float32)
        builder = (self.ops.builder(data, K, "squared_l2")
                   .tree(num_leaves=leaves, num_leaves_to_search=16,
                         training_sample_size=min(n, 250_000))
                   .score_ah(2, anisotropic_quantization_threshold=0.2)
                   .reorder(100)
                   .set_n_training_threads(threads))
        self.index = builder.build()
        self.leaves = leaves
        return {"leaves": leaves}

    def set_ef(self, ef: int) -> None:
        self.ef = ef

    def query_call(self, method: str, ef: int) -> Callable[[Any], Any]:
        leaves, reorder = search_knobs(ef, self.leaves)
        search = self.index.search

        def call(row: Any) -> Any:
            return search(row, final_num_neighbors=K, pre_reorder_num_neighbors=reorder,
                          leaves_to_search=leaves)[0]
        return call

    def batch(self, queries: FloatArray, ef: int, threads: int) -> tuple[float, IdArray]:
        leaves, reorder = search_knobs(ef, self.leaves)
        seconds, (ids, _) = timed_call(self.index.search_batched_parallel, queries,
                                       final_num_neighbors=K, pre_reorder_num_neighbors=reorder,
                                       leaves_to_search=leaves)
        return seconds, np.asarray(ids, dtype=np.int64)
