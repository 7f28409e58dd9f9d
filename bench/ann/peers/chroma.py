"""Peer adapter: Chroma, in memory (EphemeralClient) and on disk (PersistentClient)."""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


from .base import EF_CONSTRUCTION, K, M, Adapter, FloatArray, IdArray, jsonable, pad_ids, SystemInfo

INFO_MEMORY = SystemInfo(
    key="chromadb-memory", label="Chroma (EphemeralClient)", package="chromadb",
    module="chromadb", thread_knob="configuration hnsw.num_threads",
    persists=None,
    params=(f"configuration={{'hnsw': {{'space': 'l2', 'max_neighbors': {M}, "
            f"'ef_construction': {EF_CONSTRUCTION}, 'num_threads': N}}}}; "
            "ef = hnsw.ef_search via collection.modify()"),
    notes=("Chroma's max_neighbors is hnswlib's M (Chroma's index is an hnswlib fork). "
           "Ids must be strings: str(i) on insert, int() on the results (outside the "
           "timing). add() takes at most client.get_max_batch_size() rows per call, so the "
           "build is a loop of such calls.",
           "num_threads is accepted at creation but not echoed back in "
           "collection.configuration by chromadb 1.x; the measured cores show whether it "
           "is honoured.",
           "ef_search set through collection.modify() does not reach an index that is "
           "already loaded: Chroma applies ef_search when it loads the index (chroma PR "
           "#4097; checked here: recall identical for ef 10..200 on one handle). An "
           "EphemeralClient collection cannot be reloaded, so it is rebuilt with "
           "ef_search=ef for each point of its sweep (every third ef of the sweep plus the "
           "largest; the rebuilds are not timed)."),
    slow=True, rebuild_per_ef=True)

INFO_PERSISTENT = SystemInfo(
    key="chromadb-persistent", label="Chroma (PersistentClient)", package="chromadb",
    module="chromadb", thread_knob="configuration hnsw.num_threads",
    persists="PersistentClient(dir) (the build writes it); reopen = new client + "
             "get_collection + first query",
    params="as Chroma (EphemeralClient), on disk",
    notes=("Build time includes Chroma's own persistence (SQLite + index files).",
           "ef sweep: collection.modify(configuration={'hnsw': {'ef_search': ef}}), then "
           "the client is dropped (SharedSystemClient.clear_system_cache()) and the "
           "collection opened again so that the index is reloaded with the new ef_search, "
           "plus one warm-up query, all outside the timing (see the EphemeralClient "
           "notes)."),
    slow=True)


class ChromaAdapter(Adapter):
    key = "chromadb"
    info = INFO_MEMORY  # both entries import the same module
    collection_name = "augurdb-bench"

    def __init__(self, dim: int, persistent: bool) -> None:
        os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")  # read when chromadb is imported
        super().__init__(dim)
        self.persistent = persistent
        self.client: Any = None

    def _client(self, path: Path | None) -> Any:
        if self.persistent:
            assert path is not None
            return self.lib.PersistentClient(path=str(path))
        return self.lib.EphemeralClient()

    def build(self, base: FloatArray, threads: int, workdir: Path) -> dict[str, Any]:
        self.build_path = workdir / "chroma"
        self.client = self._client(self.build_path if self.persistent else None)
        self.base, self.threads = base, threads
        self.index = self._create(base, threads, 64)
        self.ef: int | None = 64
        return {"add_batch_rows": int(self.client.get_max_batch_size()),
                "configuration": jsonable(self.index.configuration)}

    def reopen(self, path: Path) -> None:
        self.build_path = path
        self.client = self._client(path)
        self.index = self.client.get_collection(self.collection_name)
        self.ef = int(self.index.configuration["hnsw"]["ef_search"])

    def close(self) -> None:
        self.index = None
        self.client = None

    def rows(self, queries: FloatArray) -> list[Any]:
        return [queries[i:i + 1] for i in range(queries.shape[0])]

    def _create(self, base: FloatArray, threads: int, ef: int) -> Any:
        col = self.client.create_collection(self.collection_name, configuration={
            "hnsw": {"space": "l2", "max_neighbors": M, "ef_construction": EF_CONSTRUCTION,
                     "ef_search": ef, "num_threads": threads}})
        batch = int(self.client.get_max_batch_size())
        ids = [str(i) for i in range(base.shape[0])]
        for start in range(0, base.shape[0], batch):
            col.add(ids=ids[start:start + batch], embeddings=base[start:start + batch])
        if col.count() != base.shape[0]:
            raise RuntimeError(f"Chroma holds {col.count()} vectors after adding {base.shape[0]}")
        return col

    def set_ef(self, ef: int) -> None:
        """Chroma applies ef_search when it loads an index (see the notes in SYSTEMS)."""
        if self.ef == ef:
            return
        if self.persistent:
            from chromadb.api.client import SharedSystemClient
            self.index.modify(configuration={"hnsw": {"ef_search": ef}})
            self.index = None
            self.client = None
            gc.collect()
            SharedSystemClient.clear_system_cache()
            self.client = self._client(self.build_path)
            self.index = self.client.get_collection(self.collection_name)
        else:
            self.index = None
            self.client.delete_collection(self.collection_name)
            gc.collect()
            self.index = self._create(self.base, self.threads, ef)
        self.ef = ef
        self.index.query(query_embeddings=self.base[:1], n_results=K, include=[])  # warm-up

    def query_call(self, method: str, ef: int) -> Callable[[Any], Any]:
        query = self.index.query
        return lambda row: query(query_embeddings=row, n_results=K, include=[])

    def ids_of(self, raw: Any, n: int) -> IdArray:
        return pad_ids([[int(x) for x in r["ids"][0]] for r in raw], n)

    def batch(self, queries: FloatArray, ef: int, threads: int) -> tuple[float, IdArray]:
        step = int(self.client.get_max_batch_size())
        results = []
        start = time.perf_counter()
        for s in range(0, queries.shape[0], step):
            results.append(self.index.query(query_embeddings=queries[s:s + step], n_results=K,
                                            include=[]))
        seconds = time.perf_counter() - start
        rows = [[int(x) for x in ids] for r in results for ids in r["ids"]]
        return seconds, pad_ids(rows, queries.shape[0])
