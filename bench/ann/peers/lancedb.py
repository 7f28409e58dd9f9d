"""Peer adapter: LanceDB IVF_HNSW_FLAT with one partition."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .base import (EF_CONSTRUCTION, K, M, Adapter, FloatArray, IdArray, SystemInfo, jsonable,
    pad_ids, timed_call)

INFO = SystemInfo(
    key="lancedb", label="LanceDB IVF_HNSW_FLAT", package="lancedb", module="lancedb",
    thread_knob="LANCE_CPU_THREADS (environment, per process)",
    persists="a Lance dataset in a directory (always on disk); reopen = connect + "
             "open_table + first query",
    params=(f"create_index('vector', config=HnswFlat(distance_type='l2', num_partitions=1, "
            f"m={M}, ef_construction={EF_CONSTRUCTION})); query .nprobes(1).ef(ef)"),
    notes=("LanceDB's HNSW indexes sit inside IVF partitions; num_partitions=1 gives one "
           "HNSW graph over all vectors (LanceDB's own advice for HNSW). HNSW_FLAT keeps "
           "fp32 vectors (no SQ/PQ), the closest to the other systems. Its default m is 20 "
           "and ef_construction 300; set to 16 / 200 here.",
           "Build = create_table (writes the data) + create_index, timed together and "
           "separately. Results select only id and _distance."),
    slow=True)


class LanceAdapter(Adapter):
    key = "lancedb"
    info = INFO

    def __init__(self, dim: int) -> None:
        super().__init__(dim)
        import lancedb.index  # noqa: F401 - self.lib.index.HnswFlat
        import pyarrow as pa
        self.pa = pa

    def build(self, base: FloatArray, threads: int, workdir: Path) -> dict[str, Any]:
        return self.build_persistent(base, threads, workdir / "lance")

    def build_persistent(self, base: FloatArray, threads: int, path: Path) -> dict[str, Any]:
        pa = self.pa
        start = time.perf_counter()
        db = self.lib.connect(str(path))
        table = pa.table({
            "id": pa.array(np.arange(base.shape[0], dtype=np.int64)),
            "vector": pa.FixedSizeListArray.from_arrays(pa.array(base.reshape(-1)), self.dim)})
        tbl = db.create_table("bench", data=table)
        written = time.perf_counter()
        tbl.create_index("vector", config=self.lib.index.HnswFlat(
            distance_type="l2", num_partitions=1, m=M, ef_construction=EF_CONSTRUCTION))
        indexed = time.perf_counter()
        self.db, self.index, self.build_path = db, tbl, path
        stats = tbl.index_stats(tbl.list_indices()[0].name)
        if stats.num_indexed_rows != base.shape[0] or stats.num_unindexed_rows:
            raise RuntimeError(f"LanceDB indexed {stats.num_indexed_rows} rows, "
                               f"{stats.num_unindexed_rows} unindexed")
        details = {}
        try:
            details = jsonable(tbl.list_indices()[0].index_details)
        except Exception:  # noqa: BLE001 - informational only
            pass
        return {"write_seconds": written - start, "index_seconds": indexed - written,
                "index_details": details}

    def reopen(self, path: Path) -> None:
        self.db = self.lib.connect(str(path))
        self.index = self.db.open_table("bench")

    def _query(self, q: Any, ef: int) -> Any:
        return (self.index.search(q).limit(K).nprobes(1).ef(ef)
                .select(["id", "_distance"]).to_arrow())

    def query_call(self, method: str, ef: int) -> Callable[[Any], Any]:
        return functools.partial(self._query, ef=ef)

    def ids_of(self, raw: Any, n: int) -> IdArray:
        return pad_ids([t.column("id").to_pylist() for t in raw], n)

    def batch(self, queries: FloatArray, ef: int, threads: int) -> tuple[float, IdArray]:
        seconds, table = timed_call(self._query, queries, ef)
        qi = table.column("query_index").to_numpy()
        ids = table.column("id").to_numpy()
        dist = table.column("_distance").to_numpy()
        order = np.lexsort((dist, qi))
        rows: list[list[int]] = [[] for _ in range(queries.shape[0])]
        for j in order:
            rows[int(qi[j])].append(int(ids[j]))
        return seconds, pad_ids(rows, queries.shape[0])
