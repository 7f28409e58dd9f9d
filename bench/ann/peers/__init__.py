"""Adapters that drive AugurDB and its peers through one interface, and the worker process that
hosts one of them for :mod:`bench.ann.suite`.

Every system runs in its own worker process (``multiprocessing`` "spawn": a fresh interpreter),
fed the identical float32 arrays the parent wrote once to ``.npy`` files. A fresh process per
build is what makes the resident-set growth of a build honest (no memory freed by an earlier
build gets reused, no other library's allocator state) and lets thread pools that are sized once
per process (OpenMP, Rayon, Lance's CPU pool) be sized per build. The parent drives the workers
one at a time, so they never compete for the CPUs.

Per system the adapter knows: how to build an index with a given number of threads, how to run
one query per call and a batch of queries, how to set the search beam (``ef`` or the system's
equivalent), how to persist and reopen, and which parameters differ from the common
M=16 / ef_construction=200 and why (:data:`SYSTEMS`, :func:`describe`). One module per
system holds its adapter and its :class:`~.base.SystemInfo`; :mod:`.base` holds the shared
base class and its timed loop, :mod:`.worker` the worker process.

Peers are imported only inside their worker, so a missing or broken package costs only its own
row in the results (with the exact error).
"""

from __future__ import annotations

from typing import Any

from ..common import package_version
from . import augurdb, chroma, faiss, glass, hnswlib, lancedb, omendb, scann, usearch
from .base import EF_CONSTRUCTION, K, M, Adapter, NotSupported, SystemInfo, timed_loop

__all__ = ["DEFAULT_SYSTEMS", "EF_CONSTRUCTION", "K", "M", "QUICK_SYSTEMS", "SYSTEMS", "Adapter",
           "NotSupported", "SystemInfo", "describe", "make_adapter", "persistence_kind",
           "thread_env", "timed_loop"]

SYSTEMS: dict[str, SystemInfo] = {s.key: s for s in (
    augurdb.INFO, augurdb.INFO_SQ8, hnswlib.INFO, faiss.INFO, usearch.INFO, glass.INFO,
    scann.INFO, chroma.INFO_MEMORY, chroma.INFO_PERSISTENT, lancedb.INFO, omendb.INFO)}

DEFAULT_SYSTEMS = ("augurdb", "augurdb-sq8", "hnswlib", "faiss", "usearch", "glass", "scann",
                   "chromadb-memory", "chromadb-persistent", "lancedb", "omendb")
QUICK_SYSTEMS = tuple(s for s in DEFAULT_SYSTEMS if SYSTEMS[s].quick)


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


def make_adapter(key: str, dim: int) -> Adapter:
    """The adapter for ``key``; imports the system's package (raises when it is missing)."""
    if key.startswith("chromadb-"):
        return chroma.ChromaAdapter(dim, persistent=key == "chromadb-persistent")
    adapters: dict[str, Any] = {
        "augurdb": augurdb.AugurDBAdapter, "augurdb-sq8": augurdb.AugurDBSq8Adapter,
        "hnswlib": hnswlib.HnswlibAdapter,
        "faiss": faiss.FaissAdapter, "usearch": usearch.USearchAdapter,
        "glass": glass.GlassAdapter, "scann": scann.ScannAdapter,
        "lancedb": lancedb.LanceAdapter, "omendb": omendb.OmenDBAdapter}
    return adapters[key](dim)


def persistence_kind(key: str) -> str | None:
    """"save": the in-memory index is saved to a file; "build": a separate build writes the
    store to disk (AugurDB, OmenDB); "built": the measured build already wrote it (Chroma
    persistent, LanceDB); None: in memory only."""
    return {"augurdb": "build", "hnswlib": "save", "faiss": "save", "usearch": "save",
            "chromadb-persistent": "built", "lancedb": "built", "omendb": "build"}.get(key)
