"""Adapters that drive AugurDB and its peers through one interface, and the worker process that
hosts one of them for :mod:`augurdb.bench.suite`.

Every system runs in its own worker process (``multiprocessing`` "spawn": a fresh interpreter),
fed the identical float32 arrays the parent wrote once to ``.npy`` files. A fresh process per
build is what makes the resident-set growth of a build honest (no memory freed by an earlier
build gets reused, no other library's allocator state) and lets thread pools that are sized once
per process (OpenMP, Rayon, Lance's CPU pool) be sized per build. The parent drives the workers
one at a time, so they never compete for the CPUs.

Per system the adapter knows: how to build an index with a given number of threads, how to run
one query per call and a batch of queries, how to set the search beam (``ef`` or the system's
equivalent), how to persist and reopen, and which parameters differ from the common
M=16 / ef_construction=200 and why (:data:`SYSTEMS`, :func:`describe`).

Peers are imported only inside their worker, so a missing or broken package costs only its own
row in the results (with the exact error).
"""

from __future__ import annotations

import ctypes
import gc
import importlib.metadata
import os
import shutil
import sys
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

M = 16
EF_CONSTRUCTION = 200
K = 10

FloatArray = npt.NDArray[np.float32]
IdArray = npt.NDArray[np.int64]


# --------------------------------------------------------------------------------------------
# What each system is


@dataclass(frozen=True)
class SystemInfo:
    """Static facts about one system entry of the suite."""

    key: str
    label: str
    package: str  # PyPI name (for the version and the install hint)
    module: str  # what the worker imports
    thread_knob: str | None  # how the build thread count is set, None if there is none
    persists: str | None  # how it persists, None if in memory only
    params: str  # the index parameters used
    notes: tuple[str, ...] = ()  # where the parameters or the method differ, and why
    quick: bool = False  # part of --quick
    slow: bool = False  # per-call overhead in the milliseconds: query subset in the sweep
    rebuild_per_ef: bool = False  # ef is fixed at build: sweep a subset of efs, one build each


SYSTEMS: dict[str, SystemInfo] = {s.key: s for s in (
    SystemInfo(
        key="augurdb", label="AugurDB", package="augurdb", module="augurdb",
        thread_knob="augurdb.open(threads=N)",
        persists="open(dir) build + close() (checkpoint); reopen = open(dir) + first query",
        params=f"HNSW M={M}, ef_construction={EF_CONSTRUCTION}, metric l2, fp32",
        notes=("Queried through search() (one query per call, returns Hit objects); the "
               "search_batch(one row) curve is the same engine without Hit objects.",
               "Persistent build: open(dir) with the default durability='sync' and one add() "
               "of all vectors, then close() (writes the checkpoint). In-memory build for the "
               "build-rate and query figures."),
        quick=True),
    SystemInfo(
        key="hnswlib", label="hnswlib", package="hnswlib", module="hnswlib",
        thread_knob="add_items(num_threads=N)",
        persists="save_index(file); reopen = load_index + first query",
        params=f"HNSW M={M}, ef_construction={EF_CONSTRUCTION}, space l2, fp32",
        quick=True),
    SystemInfo(
        key="faiss", label="faiss HNSWFlat", package="faiss-cpu", module="faiss",
        thread_knob="faiss.omp_set_num_threads(N)",
        persists="write_index(file); reopen = read_index + first query",
        params=f"IndexHNSWFlat(d, M={M}), efConstruction={EF_CONSTRUCTION}, L2, fp32",
        notes=("Single-query loop runs with omp_set_num_threads(1); batch search with all "
               "threads.",),
        quick=True),
    SystemInfo(
        key="usearch", label="USearch", package="usearch", module="usearch.index",
        thread_knob="Index.add(threads=N)",
        persists="save(file); reopen = Index.restore(file) (loaded, not viewed) + first query",
        params=(f"Index(metric='l2sq', dtype='f32', connectivity={M}, "
                f"expansion_add={EF_CONSTRUCTION}); ef = expansion_search"),
        notes=("dtype='f32' set explicitly (USearch may default to a narrower type); "
               "connectivity = M (the base layer keeps 2M, as in hnswlib).",)),
    SystemInfo(
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
        slow=True, rebuild_per_ef=True),
    SystemInfo(
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
        slow=True),
    SystemInfo(
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
        slow=True),
    SystemInfo(
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
               "timing).")),
)}

DEFAULT_SYSTEMS = ("augurdb", "hnswlib", "faiss", "usearch", "chromadb-memory",
                   "chromadb-persistent", "lancedb", "omendb")
QUICK_SYSTEMS = tuple(s for s in DEFAULT_SYSTEMS if SYSTEMS[s].quick)


def package_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def describe(key: str) -> dict[str, Any]:
    info = SYSTEMS[key]
    return {"label": info.label, "package": info.package,
            "version": package_version(info.package), "thread_knob": info.thread_knob,
            "persists": info.persists, "params": info.params, "notes": list(info.notes)}


def thread_env(key: str, threads: int) -> dict[str, str]:
    """Environment variables a worker for ``key`` must start with to build on ``threads``."""
    env = {"OMP_NUM_THREADS": str(threads)}
    if key == "omendb":
        env["RAYON_NUM_THREADS"] = str(threads)
    if key == "lancedb":
        env["LANCE_CPU_THREADS"] = str(threads)
    if key.startswith("chromadb"):
        env["ANONYMIZED_TELEMETRY"] = "False"
    return env


# --------------------------------------------------------------------------------------------
# Process measurements


def rss_bytes() -> int:
    """Resident set size (``/proc/self/statm`` field 2 times the page size)."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * int(os.sysconf("SC_PAGE_SIZE"))


def peak_rss_bytes() -> int | None:
    """Peak resident set size since the last :func:`reset_peak_rss` (VmHWM)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def reset_peak_rss() -> bool:
    """Resets VmHWM to the current RSS (``echo 5 > /proc/self/clear_refs``, Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as clear:
            clear.write("5")
        return True
    except OSError:
        return False


def release_free_memory() -> None:
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _machine_busy_seconds() -> tuple[float, float]:
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            ticks = [int(x) for x in stat.readline().split()[1:9]]
    except (OSError, ValueError):
        return float("nan"), float("nan")
    user, nice, system, _idle, _iowait, irq, softirq, steal = (ticks + [0] * 8)[:8]
    hz = float(os.sysconf("SC_CLK_TCK"))
    return (user + nice + system + irq + softirq) / hz, steal / hz


class Meter:
    """Wall time, this process's CPU time, and the CPU time every other process (and the
    hypervisor, as steal) used meanwhile, in average cores."""

    def __enter__(self) -> Meter:
        self._busy, self._steal = _machine_busy_seconds()
        self._cpu = time.process_time()
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self._start
        cpu = time.process_time() - self._cpu
        busy, steal = _machine_busy_seconds()
        wall = max(self.seconds, 1e-9)
        self.own_cores = cpu / wall
        self.other_cores = max(0.0, (busy - self._busy - cpu) / wall)
        self.steal_cores = max(0.0, (steal - self._steal) / wall)

    def as_dict(self) -> dict[str, float]:
        return {"seconds": self.seconds, "own_cores": self.own_cores,
                "other_cores": self.other_cores, "steal_cores": self.steal_cores}


def _siblings(path: Path) -> list[Path]:
    """Files named ``<path>.<suffix>`` (OmenDB writes ``db.omen``, ``db.vecs``, ... for "db")."""
    parent = path.parent
    if not parent.is_dir():
        return []
    return [p for p in parent.iterdir() if p.name.startswith(path.name + ".")]


def disk_bytes(path: Path) -> int:
    """Apparent size of a file, of every file under a directory, or of the ``<path>.*`` files
    when ``path`` itself does not exist."""
    if not path.exists():
        return sum(disk_bytes(p) for p in _siblings(path))
    if path.is_file():
        return path.stat().st_size
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += (Path(root) / name).stat().st_size
            except OSError:
                pass
    return total


# --------------------------------------------------------------------------------------------
# Adapters


class NotSupported(Exception):
    """The system has no such operation (e.g. no batch search)."""


class Adapter:
    """One system. Subclasses set ``index`` in :meth:`build` and implement the query calls.

    ``single_methods`` names the one-query-per-call loops the adapter offers; the first one is
    the system's headline curve.
    """

    key = ""
    single_methods: tuple[str, ...] = ("single",)

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self.index: Any = None

    # Build / persist -------------------------------------------------------------------------
    def build(self, base: FloatArray, threads: int, workdir: Path) -> dict[str, Any]:
        raise NotImplementedError

    def build_persistent(self, base: FloatArray, threads: int, path: Path) -> dict[str, Any]:
        """Builds straight to disk (systems whose persistence is not a save of the in-memory
        index). Returns extra timings; the caller times the whole call."""
        raise NotSupported

    def save(self, path: Path) -> None:
        """Writes the built index to ``path`` (systems that persist by saving)."""
        raise NotSupported

    def reopen(self, path: Path) -> None:
        raise NotSupported

    def close(self) -> None:
        self.index = None

    def memory_bytes(self) -> int | None:
        return None

    # Queries ---------------------------------------------------------------------------------
    def set_ef(self, ef: int) -> None:
        self.ef = ef

    def single(self, method: str, rows: Sequence[Any], ef: int) -> tuple[float, Any]:
        """Runs one query per call over ``rows``; returns (seconds, raw results)."""
        raise NotImplementedError

    def rows(self, queries: FloatArray) -> list[Any]:
        """Per-query arguments, made once outside the timing (1-d rows by default)."""
        return [queries[i] for i in range(queries.shape[0])]

    def ids_of(self, raw: Any, n: int) -> IdArray:
        """Raw single-loop results -> (n, K) int64 ids, -1 padded (outside the timing)."""
        out = np.full((n, K), -1, dtype=np.int64)
        for i, row in enumerate(raw):
            ids = np.asarray(row, dtype=np.int64).ravel()[:K]
            out[i, :ids.shape[0]] = ids
        return out

    def batch(self, queries: FloatArray, ef: int, threads: int) -> tuple[float, IdArray]:
        raise NotSupported


def _pad_ids(rows: Sequence[Sequence[int]], n: int) -> IdArray:
    out = np.full((n, K), -1, dtype=np.int64)
    for i, row in enumerate(rows):
        values = list(row)[:K]
        out[i, :len(values)] = values
    return out


class AugurDBAdapter(Adapter):
    key = "augurdb"
    single_methods = ("search", "search_batch(1 row)")

    def __init__(self, dim: int) -> None:
        super().__init__(dim)
        import augurdb
        self.augurdb = augurdb

    def build(self, base: FloatArray, threads: int, workdir: Path) -> dict[str, Any]:
        col = self.augurdb.open(dim=self.dim, metric="l2", m=M, ef_construction=EF_CONSTRUCTION,
                                threads=threads)
        col.add(np.arange(base.shape[0], dtype=np.int64), base)
        self.index = col
        return {}

    def build_persistent(self, base: FloatArray, threads: int, path: Path) -> dict[str, Any]:
        start = time.perf_counter()
        col = self.augurdb.open(path, dim=self.dim, metric="l2", m=M,
                                ef_construction=EF_CONSTRUCTION, threads=threads)
        col.add(np.arange(base.shape[0], dtype=np.int64), base)
        added = time.perf_counter()
        col.close()
        closed = time.perf_counter()
        return {"add_seconds": added - start, "close_seconds": closed - added,
                "durability": "sync"}

    def reopen(self, path: Path) -> None:
        self.index = self.augurdb.open(path)

    def close(self) -> None:
        if self.index is not None:
            self.index.close()
        self.index = None

    def memory_bytes(self) -> int | None:
        return int(self.index.stats()["memory_bytes"])

    def rows(self, queries: FloatArray) -> list[Any]:
        return [queries[i:i + 1] for i in range(queries.shape[0])]

    def single(self, method: str, rows: Sequence[Any], ef: int) -> tuple[float, Any]:
        out: list[Any] = [None] * len(rows)
        if method == "search":
            search = self.index.search
            start = time.perf_counter()
            for i, row in enumerate(rows):
                out[i] = search(row[0], K, ef=ef)
            seconds = time.perf_counter() - start
            return seconds, [[hit.id for hit in hits] for hits in out]
        search_batch = self.index.search_batch
        start = time.perf_counter()
        for i, row in enumerate(rows):
            out[i] = search_batch(row, K, ef=ef, threads=1).ids
        seconds = time.perf_counter() - start
        return seconds, out

    def batch(self, queries: FloatArray, ef: int, threads: int) -> tuple[float, IdArray]:
        start = time.perf_counter()
        ids = self.index.search_batch(queries, K, ef=ef, threads=threads).ids
        return time.perf_counter() - start, np.asarray(ids, dtype=np.int64)


class HnswlibAdapter(Adapter):
    key = "hnswlib"

    def __init__(self, dim: int) -> None:
        super().__init__(dim)
        import hnswlib
        self.hnswlib = hnswlib

    def build(self, base: FloatArray, threads: int, workdir: Path) -> dict[str, Any]:
        index = self.hnswlib.Index(space="l2", dim=self.dim)
        index.init_index(max_elements=base.shape[0], M=M, ef_construction=EF_CONSTRUCTION,
                         random_seed=42)
        index.add_items(base, np.arange(base.shape[0]), num_threads=threads)
        self.index = index
        return {}

    def save(self, path: Path) -> None:
        self.index.save_index(str(path))

    def reopen(self, path: Path) -> None:
        index = self.hnswlib.Index(space="l2", dim=self.dim)
        index.load_index(str(path))
        self.index = index

    def rows(self, queries: FloatArray) -> list[Any]:
        return [queries[i:i + 1] for i in range(queries.shape[0])]

    def set_ef(self, ef: int) -> None:
        self.index.set_ef(ef)

    def single(self, method: str, rows: Sequence[Any], ef: int) -> tuple[float, Any]:
        out: list[Any] = [None] * len(rows)
        knn_query = self.index.knn_query
        start = time.perf_counter()
        for i, row in enumerate(rows):
            try:
                out[i] = knn_query(row, k=K, num_threads=1)[0]
            except RuntimeError:  # fewer than k found: counted as missing
                out[i] = np.full((1, K), -1, dtype=np.int64)
        return time.perf_counter() - start, out

    def batch(self, queries: FloatArray, ef: int, threads: int) -> tuple[float, IdArray]:
        start = time.perf_counter()
        labels = self.index.knn_query(queries, k=K, num_threads=threads)[0]
        return time.perf_counter() - start, labels.astype(np.int64)


class FaissAdapter(Adapter):
    key = "faiss"

    def __init__(self, dim: int) -> None:
        super().__init__(dim)
        import faiss
        self.faiss = faiss
        self.threads = faiss.omp_get_max_threads()

    def build(self, base: FloatArray, threads: int, workdir: Path) -> dict[str, Any]:
        self.faiss.omp_set_num_threads(threads)
        self.threads = threads
        index = self.faiss.IndexHNSWFlat(self.dim, M)
        index.hnsw.efConstruction = EF_CONSTRUCTION
        index.add(base)
        self.index = index
        return {}

    def save(self, path: Path) -> None:
        self.faiss.write_index(self.index, str(path))

    def reopen(self, path: Path) -> None:
        self.index = self.faiss.read_index(str(path))

    def rows(self, queries: FloatArray) -> list[Any]:
        return [queries[i:i + 1] for i in range(queries.shape[0])]

    def set_ef(self, ef: int) -> None:
        self.index.hnsw.efSearch = ef

    def single(self, method: str, rows: Sequence[Any], ef: int) -> tuple[float, Any]:
        self.faiss.omp_set_num_threads(1)
        out: list[Any] = [None] * len(rows)
        search = self.index.search
        try:
            start = time.perf_counter()
            for i, row in enumerate(rows):
                out[i] = search(row, K)[1]
            seconds = time.perf_counter() - start
        finally:
            self.faiss.omp_set_num_threads(self.threads)
        return seconds, out

    def batch(self, queries: FloatArray, ef: int, threads: int) -> tuple[float, IdArray]:
        self.faiss.omp_set_num_threads(threads)
        start = time.perf_counter()
        labels = self.index.search(queries, K)[1]
        return time.perf_counter() - start, labels.astype(np.int64)


class USearchAdapter(Adapter):
    key = "usearch"

    def __init__(self, dim: int) -> None:
        super().__init__(dim)
        from usearch.index import Index
        self.Index = Index

    def build(self, base: FloatArray, threads: int, workdir: Path) -> dict[str, Any]:
        index = self.Index(ndim=self.dim, metric="l2sq", dtype="f32", connectivity=M,
                           expansion_add=EF_CONSTRUCTION, expansion_search=64)
        index.add(np.arange(base.shape[0], dtype=np.uint64), base, threads=threads)
        self.index = index
        return {"dtype": str(index.dtype)}

    def save(self, path: Path) -> None:
        self.index.save(str(path))

    def reopen(self, path: Path) -> None:
        self.index = self.Index.restore(str(path))

    def memory_bytes(self) -> int | None:
        try:
            return int(self.index.memory_usage)
        except (AttributeError, TypeError):
            return None

    def set_ef(self, ef: int) -> None:
        self.index.expansion_search = ef

    def single(self, method: str, rows: Sequence[Any], ef: int) -> tuple[float, Any]:
        out: list[Any] = [None] * len(rows)
        search = self.index.search
        start = time.perf_counter()
        for i, row in enumerate(rows):
            out[i] = search(row, K, threads=1).keys
        return time.perf_counter() - start, out

    def ids_of(self, raw: Any, n: int) -> IdArray:
        return super().ids_of([np.asarray(r).astype(np.int64) for r in raw], n)

    def batch(self, queries: FloatArray, ef: int, threads: int) -> tuple[float, IdArray]:
        start = time.perf_counter()
        keys = self.index.search(queries, K, threads=threads).keys
        seconds = time.perf_counter() - start
        keys = np.asarray(keys)
        ids = keys.astype(np.int64)
        ids[keys == np.iinfo(np.uint64).max] = -1
        return seconds, ids


class ChromaAdapter(Adapter):
    key = "chromadb"
    collection_name = "augurdb-bench"

    def __init__(self, dim: int, persistent: bool) -> None:
        super().__init__(dim)
        os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
        import chromadb
        self.chromadb = chromadb
        self.persistent = persistent
        self.client: Any = None

    def _client(self, path: Path | None) -> Any:
        if self.persistent:
            assert path is not None
            return self.chromadb.PersistentClient(path=str(path))
        return self.chromadb.EphemeralClient()

    def build(self, base: FloatArray, threads: int, workdir: Path) -> dict[str, Any]:
        self.build_path = workdir / "chroma"
        self.client = self._client(self.build_path if self.persistent else None)
        self.base, self.threads = base, threads
        self.index = self._create(base, threads, 64)
        self.ef: int | None = 64
        return {"add_batch_rows": int(self.client.get_max_batch_size()),
                "configuration": _jsonable(self.index.configuration)}

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

    def single(self, method: str, rows: Sequence[Any], ef: int) -> tuple[float, Any]:
        out: list[Any] = [None] * len(rows)
        query = self.index.query
        start = time.perf_counter()
        for i, row in enumerate(rows):
            out[i] = query(query_embeddings=row, n_results=K, include=[])
        return time.perf_counter() - start, out

    def ids_of(self, raw: Any, n: int) -> IdArray:
        return _pad_ids([[int(x) for x in r["ids"][0]] for r in raw], n)

    def batch(self, queries: FloatArray, ef: int, threads: int) -> tuple[float, IdArray]:
        step = int(self.client.get_max_batch_size())
        results = []
        start = time.perf_counter()
        for s in range(0, queries.shape[0], step):
            results.append(self.index.query(query_embeddings=queries[s:s + step], n_results=K,
                                            include=[]))
        seconds = time.perf_counter() - start
        rows = [[int(x) for x in ids] for r in results for ids in r["ids"]]
        return seconds, _pad_ids(rows, queries.shape[0])


class LanceAdapter(Adapter):
    key = "lancedb"

    def __init__(self, dim: int) -> None:
        super().__init__(dim)
        import lancedb
        import lancedb.index
        import pyarrow as pa
        self.lancedb = lancedb
        self.pa = pa

    def build(self, base: FloatArray, threads: int, workdir: Path) -> dict[str, Any]:
        return self.build_persistent(base, threads, workdir / "lance")

    def build_persistent(self, base: FloatArray, threads: int, path: Path) -> dict[str, Any]:
        pa = self.pa
        start = time.perf_counter()
        db = self.lancedb.connect(str(path))
        table = pa.table({
            "id": pa.array(np.arange(base.shape[0], dtype=np.int64)),
            "vector": pa.FixedSizeListArray.from_arrays(pa.array(base.reshape(-1)), self.dim)})
        tbl = db.create_table("bench", data=table)
        written = time.perf_counter()
        tbl.create_index("vector", config=self.lancedb.index.HnswFlat(
            distance_type="l2", num_partitions=1, m=M, ef_construction=EF_CONSTRUCTION))
        indexed = time.perf_counter()
        self.db, self.index, self.build_path = db, tbl, path
        stats = tbl.index_stats(tbl.list_indices()[0].name)
        if stats.num_indexed_rows != base.shape[0] or stats.num_unindexed_rows:
            raise RuntimeError(f"LanceDB indexed {stats.num_indexed_rows} rows, "
                               f"{stats.num_unindexed_rows} unindexed")
        details = {}
        try:
            details = _jsonable(tbl.list_indices()[0].index_details)
        except Exception:  # noqa: BLE001 - informational only
            pass
        return {"write_seconds": written - start, "index_seconds": indexed - written,
                "index_details": details}

    def reopen(self, path: Path) -> None:
        self.db = self.lancedb.connect(str(path))
        self.index = self.db.open_table("bench")

    def _query(self, q: Any, ef: int) -> Any:
        return (self.index.search(q).limit(K).nprobes(1).ef(ef)
                .select(["id", "_distance"]).to_arrow())

    def single(self, method: str, rows: Sequence[Any], ef: int) -> tuple[float, Any]:
        out: list[Any] = [None] * len(rows)
        query = self._query
        start = time.perf_counter()
        for i, row in enumerate(rows):
            out[i] = query(row, ef)
        return time.perf_counter() - start, out

    def ids_of(self, raw: Any, n: int) -> IdArray:
        return _pad_ids([t.column("id").to_pylist() for t in raw], n)

    def batch(self, queries: FloatArray, ef: int, threads: int) -> tuple[float, IdArray]:
        start = time.perf_counter()
        table = self._query(queries, ef)
        seconds = time.perf_counter() - start
        qi = table.column("query_index").to_numpy()
        ids = table.column("id").to_numpy()
        dist = table.column("_distance").to_numpy()
        order = np.lexsort((dist, qi))
        rows: list[list[int]] = [[] for _ in range(queries.shape[0])]
        for j in order:
            rows[int(qi[j])].append(int(ids[j]))
        return seconds, _pad_ids(rows, queries.shape[0])


class OmenDBAdapter(Adapter):
    key = "omendb"

    def __init__(self, dim: int) -> None:
        super().__init__(dim)
        import omendb
        self.omendb = omendb

    def build(self, base: FloatArray, threads: int, workdir: Path) -> dict[str, Any]:
        db = self.omendb.open(":memory:", dimensions=self.dim, m=M,
                              ef_construction=EF_CONSTRUCTION)
        db.set(ids=[str(i) for i in range(base.shape[0])], vectors=base)
        self.index = db
        info = db.info()
        if info["vector_count"] != base.shape[0]:
            raise RuntimeError(f"OmenDB holds {info['vector_count']} vectors")
        return {"hnsw_m": info["hnsw_m"], "hnsw_ef_construction": info["hnsw_ef_construction"]}

    def build_persistent(self, base: FloatArray, threads: int, path: Path) -> dict[str, Any]:
        start = time.perf_counter()
        db = self.omendb.create(str(path), {"dense": {"dim": self.dim}})
        db.set(ids=[str(i) for i in range(base.shape[0])], vectors=base)
        added = time.perf_counter()
        info = db.info()
        db.close()
        closed = time.perf_counter()
        return {"add_seconds": added - start, "close_seconds": closed - added,
                "hnsw_m": info["hnsw_m"], "hnsw_ef_construction": info["hnsw_ef_construction"]}

    def reopen(self, path: Path) -> None:
        self.index = self.omendb.open(str(path))

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

    def single(self, method: str, rows: Sequence[Any], ef: int) -> tuple[float, Any]:
        out: list[Any] = [None] * len(rows)
        search = self.index.search
        start = time.perf_counter()
        for i, row in enumerate(rows):
            out[i] = search(row, K, ef=ef)
        return time.perf_counter() - start, out

    def ids_of(self, raw: Any, n: int) -> IdArray:
        return _pad_ids([[int(h["id"]) for h in hits] for hits in raw], n)

    def batch(self, queries: FloatArray, ef: int, threads: int) -> tuple[float, IdArray]:
        start = time.perf_counter()
        results = self.index.search_batch(queries, K, ef=ef)
        seconds = time.perf_counter() - start
        return seconds, _pad_ids([[int(h["id"]) for h in hits] for hits in results],
                                 queries.shape[0])


def make_adapter(key: str, dim: int) -> Adapter:
    if key == "augurdb":
        return AugurDBAdapter(dim)
    if key == "hnswlib":
        return HnswlibAdapter(dim)
    if key == "faiss":
        return FaissAdapter(dim)
    if key == "usearch":
        return USearchAdapter(dim)
    if key == "chromadb-memory":
        return ChromaAdapter(dim, persistent=False)
    if key == "chromadb-persistent":
        return ChromaAdapter(dim, persistent=True)
    if key == "lancedb":
        return LanceAdapter(dim)
    if key == "omendb":
        return OmenDBAdapter(dim)
    raise KeyError(key)


def persistence_kind(key: str) -> str | None:
    """"save": the in-memory index is saved to a file; "build": a separate build writes the
    store to disk (AugurDB, OmenDB); "built": the measured build already wrote it (Chroma
    persistent, LanceDB); None: in memory only."""
    return {"augurdb": "build", "hnswlib": "save", "faiss": "save", "usearch": "save",
            "chromadb-persistent": "built", "lancedb": "built", "omendb": "build"}.get(key)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return repr(value)


# --------------------------------------------------------------------------------------------
# The worker process


@dataclass
class WorkerState:
    key: str
    base: FloatArray
    queries: FloatArray
    workdir: Path
    adapter: Adapter | None = None
    rows: list[Any] = field(default_factory=list)
    baseline_rss: int = 0


def _engine_stamp() -> str | None:
    """mtime of AugurDB's engine library as loaded (detects a reinstall during a run)."""
    mod = sys.modules.get("augurdb._core")
    path = getattr(mod, "__file__", None)
    if not path:
        return None
    try:
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(Path(path).stat().st_mtime))
    except OSError:
        return None


def _handle(state: WorkerState, command: str, args: dict[str, Any]) -> Any:
    adapter = state.adapter
    assert adapter is not None
    if command == "build":
        threads = int(args["threads"])
        base = state.base[: args.get("limit") or state.base.shape[0]]
        release_free_memory()
        rss_before = rss_bytes()
        peak_ok = reset_peak_rss()
        with Meter() as meter:
            extra = adapter.build(base, threads, state.workdir)
        rss_after = rss_bytes()
        peak = peak_rss_bytes()
        state.rows = adapter.rows(state.queries)
        if args.get("drop_base"):
            # The index holds its own copy (or the data is on disk): free the worker's array so
            # that many live workers fit in memory at 1M vectors.
            state.base = None  # type: ignore[assignment]
            release_free_memory()
        return {"threads": threads, "vectors": int(base.shape[0]), **meter.as_dict(),
                "cpu_seconds": meter.own_cores * meter.seconds,
                "rss_delta_bytes": rss_after - rss_before,
                "peak_rss_delta_bytes": (peak - rss_before) if (peak and peak_ok) else None,
                "memory_bytes": adapter.memory_bytes(), "extra": extra,
                "engine_stamp": _engine_stamp()}
    if command == "single":
        n = int(args["n"])
        method = args["method"]
        ef = int(args["ef"])
        adapter.set_ef(ef)
        with Meter() as meter:
            seconds, raw = adapter.single(method, state.rows[:n], ef)
        return {"seconds": seconds, "own_cores": meter.own_cores,
                "other_cores": meter.other_cores, "steal_cores": meter.steal_cores,
                "ids": adapter.ids_of(raw, n)}
    if command == "batch":
        n = int(args["n"])
        ef = int(args["ef"])
        adapter.set_ef(ef)
        with Meter() as meter:
            seconds, ids = adapter.batch(state.queries[:n], ef, int(args["threads"]))
        return {"seconds": seconds, "own_cores": meter.own_cores,
                "other_cores": meter.other_cores, "steal_cores": meter.steal_cores, "ids": ids}
    if command == "save":
        path = Path(args["path"])
        with Meter() as meter:
            adapter.save(path)
        return {"save_seconds": meter.seconds, "disk_bytes": disk_bytes(path)}
    if command == "disk":
        return {"disk_bytes": disk_bytes(Path(args["path"]))}
    if command == "build_persistent":
        path = Path(args["path"])
        release_free_memory()
        rss_before = rss_bytes()
        with Meter() as meter:
            extra = adapter.build_persistent(state.base, int(args["threads"]), path)
        adapter.close()
        return {"build_seconds": meter.seconds, "own_cores": meter.own_cores,
                "other_cores": meter.other_cores, "rss_delta_bytes": rss_bytes() - rss_before,
                "disk_bytes": disk_bytes(path), "extra": _jsonable(extra)}
    if command == "reopen":
        path = Path(args["path"])
        ef = int(args["ef"])
        release_free_memory()
        rss_before = rss_bytes()
        start = time.perf_counter()
        adapter.reopen(path)
        opened = time.perf_counter()
        adapter.set_ef(ef)
        rows = adapter.rows(state.queries[:1])
        _, raw = adapter.single(adapter.single_methods[0], rows, ef)
        first = time.perf_counter()
        rss_first = rss_bytes()
        # A check that the reopened index answers like the built one (recall on a subset).
        n = int(args.get("check_queries", 200))
        state.rows = adapter.rows(state.queries)
        _, raw_check = adapter.single(adapter.single_methods[0], state.rows[:n], ef)
        return {"open_seconds": opened - start, "first_query_seconds": first - opened,
                "open_plus_first_query_seconds": first - start,
                "rss_after_open_and_first_query_bytes": rss_first - rss_before,
                "check_ids": adapter.ids_of(raw_check, n), "check_ef": ef}
    if command == "set_ef":
        adapter.set_ef(int(args["ef"]))
        return {}
    if command == "close":
        adapter.close()
        release_free_memory()
        return {}
    raise ValueError(f"unknown command {command!r}")


def worker_main(conn: Any, key: str, base_path: str, queries_path: str, workdir: str) -> None:
    """Entry point of a worker process: loads the arrays, imports the system, then answers
    ``(command, args)`` messages with ``("ok", result)`` or ``("error", text)`` until "exit"."""
    try:
        base = np.load(base_path)
        queries = np.load(queries_path)
        state = WorkerState(key=key, base=base, queries=queries, workdir=Path(workdir))
        state.workdir.mkdir(parents=True, exist_ok=True)
        try:
            state.adapter = make_adapter(key, base.shape[1])
        except BaseException as exc:  # noqa: BLE001 - reported to the parent verbatim
            conn.send(("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))
            return
        state.baseline_rss = rss_bytes()
        conn.send(("ok", {"pid": os.getpid(), "baseline_rss_bytes": state.baseline_rss,
                          "engine_stamp": _engine_stamp()}))
    except BaseException as exc:  # noqa: BLE001
        conn.send(("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))
        return
    while True:
        try:
            command, args = conn.recv()
        except EOFError:
            return
        if command == "exit":
            try:
                if state.adapter is not None:
                    state.adapter.close()
            finally:
                conn.send(("ok", {}))
            return
        try:
            conn.send(("ok", _handle(state, command, args)))
        except BaseException as exc:  # noqa: BLE001
            conn.send(("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))


def remove_path(path: Path) -> None:
    """Removes a file or directory and any ``<path>.*`` siblings."""
    for p in [path, *_siblings(path)]:
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
