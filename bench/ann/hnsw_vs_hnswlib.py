"""AugurDB HNSW against hnswlib on Fashion-MNIST-784 (L2), side by side in one process.

Run::

    python -m bench.ann.hnsw_vs_hnswlib            # full: 60,000 base vectors, 10,000 queries
    python -m bench.ann.hnsw_vs_hnswlib --quick    # 5,000 / 200, brute-force ground truth
    python -m bench.ann.hnsw_vs_hnswlib --out DIR  # where hnsw_vs_hnswlib.json goes

Both engines get the same float32 arrays, M=16, ef_construction=200 and the same random seed,
and every setting is measured interleaved (AugurDB, hnswlib, AugurDB, hnswlib, ...) so that
drifting machine load hits both alike. Measured, following the "Measuring honestly" section of
``shared/PERFORMANCE.md``:

- **Build**: wall time, vectors/s and CPU utilisation for each thread count (default 1 and 2),
  hnswlib through ``add_items(num_threads=N)``, AugurDB through ``open(threads=N)`` + one
  ``add()``.
- **Single-thread query QPS vs recall@10** over an ef sweep on the indexes built with the most
  threads: one query per Python call, all queries, best and median of ``--runs`` runs per ef.
  hnswlib: ``knn_query`` on a ``(1, dim)`` array with ``num_threads=1``. AugurDB: both
  ``search_batch(Q[i:i+1], threads=1)`` and ``search(q)`` (the latter also builds Hit objects).
- **Batch QPS**: all queries in one call on all build threads (``search_batch`` vs
  ``knn_query(Q, num_threads=N)``).
- **QPS at recall exactly 0.95 and 0.99**, interpolated on each system's Pareto frontier
  (linear in recall, on log QPS), and the AugurDB / hnswlib ratios.
- **Memory**: AugurDB's ``stats()["memory_bytes"]`` and, for both, the growth of the process's
  resident set (``/proc/self/statm``) across each build.

Recall@10 uses the ann-benchmarks rule (:func:`bench.ann.common.recall_at_k`): distances
are recomputed from the returned ids, never taken from the engine. Numbers are only comparable
within one run on one machine; the header records the machine and its load.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, TypeVar

import numpy as np
import numpy.typing as npt

import augurdb

from . import common, datasets
from .common import (
    Meter as CpuMeter,
    default_out_dir,
    fmt_int as _fmt_int,
    fmt_mib as _fmt_mib,
    fmt_ratio as _fmt_ratio,
    log as _log,
    markdown_table,
    progress as _progress,
    qps_at_recall,
    ratio as _ratio,
    release_free_memory,
    require,
    rss_bytes,
    write_json,
)
from .peers.base import pad_ids, timed_loop

M = 16
EF_CONSTRUCTION = 200
K = 10
DEFAULT_EFS = (6, 8, 10, 16, 24, 32, 48, 64, 96, 128, 192, 256)
DEFAULT_THREADS = (1, 2)
TARGET_RECALLS = (0.95, 0.99)
QUICK_TRAIN, QUICK_TEST = 5_000, 200
WARMUP_QUERIES = 500
RESULT_FILE = "hnsw_vs_hnswlib.json"

AUGURDB = "AugurDB"
HNSWLIB = "hnswlib"

# Query methods, in the order they are run for each ef (interleaved across systems).
HNSWLIB_SINGLE = "hnswlib knn_query (1 query/call)"
AUGURDB_BATCH1 = "AugurDB search_batch (1 query/call)"
AUGURDB_SEARCH = "AugurDB search (1 query/call)"
HNSWLIB_BATCH = "hnswlib knn_query (all queries, N threads)"
AUGURDB_BATCH = "AugurDB search_batch (all queries, N threads)"
SINGLE_METHODS = (HNSWLIB_SINGLE, AUGURDB_BATCH1, AUGURDB_SEARCH)
BATCH_METHODS = (HNSWLIB_BATCH, AUGURDB_BATCH)

T = TypeVar("T")
FloatArray = npt.NDArray[np.float32]
IdArray = npt.NDArray[np.int64]


# --------------------------------------------------------------------------------------------
# Small utilities


def _import_hnswlib() -> Any:
    return require("hnswlib", "hnswlib (or pip install 'augurdb[bench]')")


# --------------------------------------------------------------------------------------------
# Build


@dataclass
class BuildResult:
    """One index build: wall and process-CPU seconds (all threads), RSS growth, engine memory,
    and the CPU time other processes (``other_cores``) and the hypervisor (``steal_cores``)
    took meanwhile, in average cores."""

    system: str
    threads: int
    vectors: int
    seconds: float
    cpu_seconds: float
    rss_delta_bytes: int
    other_cores: float
    steal_cores: float
    memory_bytes: int | None = None

    @property
    def vectors_per_second(self) -> float:
        return self.vectors / self.seconds

    @property
    def cpu_utilisation(self) -> float:
        """Average busy cores during the build (process CPU time / wall time)."""
        return self.cpu_seconds / self.seconds

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "vectors_per_second": self.vectors_per_second,
                "cpu_utilisation": self.cpu_utilisation}


def _timed_build(system: str, threads: int, vectors: int,
                 build: Callable[[], T]) -> tuple[T, BuildResult]:
    release_free_memory()
    rss_before = rss_bytes()
    with CpuMeter() as use:
        index = build()
    result = BuildResult(system=system, threads=threads, vectors=vectors, seconds=use.seconds,
                         cpu_seconds=use.own_cores * use.seconds,
                         rss_delta_bytes=rss_bytes() - rss_before, other_cores=use.other_cores,
                         steal_cores=use.steal_cores)
    return index, result


def build_augurdb(train: FloatArray, ids: IdArray, threads: int,
                  seed: int) -> tuple[augurdb.Collection, BuildResult]:
    """``augurdb.open(threads=N)`` and one ``add()`` of all vectors, timed together."""
    def build() -> augurdb.Collection:
        col = augurdb.open(dim=train.shape[1], metric="l2", m=M, ef_construction=EF_CONSTRUCTION,
                           threads=threads, seed=seed)
        col.add(ids, train)
        return col

    col, result = _timed_build(AUGURDB, threads, train.shape[0], build)
    if len(col) != train.shape[0]:
        raise RuntimeError(f"AugurDB holds {len(col)} vectors after adding {train.shape[0]}")
    result.memory_bytes = int(col.stats()["memory_bytes"])
    return col, result


def build_hnswlib(hnswlib: Any, train: FloatArray, ids: IdArray, threads: int,
                  seed: int) -> tuple[Any, BuildResult]:
    """``hnswlib.Index.init_index`` and one ``add_items(num_threads=N)``, timed together."""
    def build() -> Any:
        index = hnswlib.Index(space="l2", dim=train.shape[1])
        index.init_index(max_elements=train.shape[0], M=M, ef_construction=EF_CONSTRUCTION,
                         random_seed=seed)
        index.add_items(train, ids, num_threads=threads)
        return index

    index, result = _timed_build(HNSWLIB, threads, train.shape[0], build)
    if index.get_current_count() != train.shape[0]:
        raise RuntimeError(f"hnswlib holds {index.get_current_count()} vectors "
                           f"after adding {train.shape[0]}")
    return index, result


# --------------------------------------------------------------------------------------------
# Queries


class QueryRunner:
    """The timed query loops. Each returns (seconds, ids ``(nq, K)`` int64, -1 = no result).

    Per-query row views are made once, outside the timing, so every loop pays only its call.
    """

    def __init__(self, col: augurdb.Collection, index: Any, queries: FloatArray,
                 batch_threads: int) -> None:
        self.col = col
        self.index = index
        self.queries = queries
        self.batch_threads = batch_threads
        self.rows_2d = [queries[i:i + 1] for i in range(queries.shape[0])]
        self.rows_1d = [queries[i] for i in range(queries.shape[0])]

    def run(self, method: str, ef: int, limit: int | None = None) -> tuple[float, IdArray]:
        runners: dict[str, Callable[[int, int | None], tuple[float, IdArray]]] = {
            HNSWLIB_SINGLE: self._hnswlib_single,
            AUGURDB_BATCH1: self._augurdb_batch1,
            AUGURDB_SEARCH: self._augurdb_search,
            HNSWLIB_BATCH: self._hnswlib_batch,
            AUGURDB_BATCH: self._augurdb_batch,
        }
        return runners[method](ef, limit)

    def _hnswlib_single(self, ef: int, limit: int | None) -> tuple[float, IdArray]:
        self.index.set_ef(ef)
        # hnswlib raises RuntimeError when it finds fewer than k: counted as missing results.
        seconds, out = timed_loop(functools.partial(self.index.knn_query, k=K, num_threads=1),
                                  self.rows_2d[:limit], (RuntimeError,))
        return seconds, pad_ids([[] if r is None else r[0][0] for r in out], len(out))

    def _augurdb_batch1(self, ef: int, limit: int | None) -> tuple[float, IdArray]:
        seconds, out = timed_loop(
            functools.partial(self.col.search_batch, k=K, ef=ef, threads=1), self.rows_2d[:limit])
        return seconds, pad_ids([r.ids[0] for r in out], len(out))

    def _augurdb_search(self, ef: int, limit: int | None) -> tuple[float, IdArray]:
        seconds, out = timed_loop(functools.partial(self.col.search, k=K, ef=ef),
                                  self.rows_1d[:limit])
        return seconds, pad_ids([[hit.id for hit in hits] for hits in out], len(out))

    def _hnswlib_batch(self, ef: int, limit: int | None) -> tuple[float, IdArray]:
        self.index.set_ef(ef)
        queries = self.queries[:limit]
        start = time.perf_counter()
        try:
            labels = self.index.knn_query(queries, k=K, num_threads=self.batch_threads)[0]
        except RuntimeError:  # some query found fewer than k: redo one by one, untimed
            return time.perf_counter() - start, self._hnswlib_single(ef, limit)[1]
        return time.perf_counter() - start, labels.astype(np.int64)

    def _augurdb_batch(self, ef: int, limit: int | None) -> tuple[float, IdArray]:
        queries = self.queries[:limit]
        start = time.perf_counter()
        ids = self.col.search_batch(queries, K, ef=ef, threads=self.batch_threads).ids
        return time.perf_counter() - start, np.asarray(ids, dtype=np.int64)


@dataclass
class SweepPoint:
    """One (method, ef) setting: recall@10 and QPS over ``runs`` timed runs of all queries."""

    method: str
    ef: int
    queries: int
    recall: float
    seconds: list[float]
    deterministic: bool

    @property
    def qps_best(self) -> float:
        return self.queries / min(self.seconds)

    @property
    def qps_median(self) -> float:
        return self.queries / statistics.median(self.seconds)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "qps_best": self.qps_best, "qps_median": self.qps_median}


@dataclass
class Sweep:
    points: list[SweepPoint] = field(default_factory=list)
    augurdb_search_matches_batch: dict[int, bool] = field(default_factory=dict)
    cpu: CpuMeter = field(default_factory=CpuMeter)

    def of(self, method: str) -> list[SweepPoint]:
        return [p for p in self.points if p.method == method]

    def at(self, method: str, ef: int) -> SweepPoint:
        return next(p for p in self.points if p.method == method and p.ef == ef)


def run_sweep(runner: QueryRunner, efs: Sequence[int], runs: int, base: FloatArray,
              gt_sqdist: npt.NDArray[Any]) -> Sweep:
    """For each ef: every method ``runs`` times, interleaved (H, A, A', Hb, Ab, H, A, ...)."""
    queries = runner.queries
    recall_cache: dict[str, float] = {}

    def recall_of(ids: IdArray) -> float:
        key = hashlib.sha1(np.ascontiguousarray(ids).tobytes()).hexdigest()
        if key not in recall_cache:
            recall_cache[key] = common.recall_at_k(ids, queries, base, gt_sqdist, K)
        return recall_cache[key]

    methods = (*SINGLE_METHODS, *BATCH_METHODS)
    # Warm-up: touch both indexes and every code path once before anything is timed.
    for method in methods:
        runner.run(method, max(efs), limit=min(WARMUP_QUERIES, queries.shape[0]))

    sweep = Sweep()
    with CpuMeter() as cpu:
        for ef in _progress(list(efs), "ef sweep"):
            seconds: dict[str, list[float]] = {m: [] for m in methods}
            first_ids: dict[str, IdArray] = {}
            deterministic = dict.fromkeys(methods, True)
            for _ in range(runs):
                for method in methods:
                    elapsed, ids = runner.run(method, ef)
                    seconds[method].append(elapsed)
                    if method not in first_ids:
                        first_ids[method] = ids
                    elif not np.array_equal(ids, first_ids[method]):
                        deterministic[method] = False
            for method in methods:
                sweep.points.append(SweepPoint(method=method, ef=ef, queries=queries.shape[0],
                                               recall=recall_of(first_ids[method]),
                                               seconds=seconds[method],
                                               deterministic=deterministic[method]))
            sweep.augurdb_search_matches_batch[ef] = bool(
                np.array_equal(first_ids[AUGURDB_SEARCH], first_ids[AUGURDB_BATCH1]))
    sweep.cpu = cpu
    return sweep


# --------------------------------------------------------------------------------------------
# Interpolation at a target recall


def interpolate(sweep: Sweep) -> dict[str, dict[str, dict[str, float | None]]]:
    """{method: {"0.95": {"best": qps, "median": qps}, ...}} for every method in the sweep."""
    out: dict[str, dict[str, dict[str, float | None]]] = {}
    for method in (*SINGLE_METHODS, *BATCH_METHODS):
        pts = sweep.of(method)
        out[method] = {
            f"{target:.2f}": {
                "best": qps_at_recall([(p.recall, p.qps_best) for p in pts], target),
                "median": qps_at_recall([(p.recall, p.qps_median) for p in pts], target),
            }
            for target in TARGET_RECALLS
        }
    return out


# --------------------------------------------------------------------------------------------
# Checks on AugurDB's answers


def distance_check(col: augurdb.Collection, queries: FloatArray, base: FloatArray,
                   ef: int, threads: int) -> dict[str, Any]:
    """Compares the distances AugurDB returns with exact squared L2 recomputed from the ids, and
    checks that each result list is sorted and free of duplicates."""
    res = col.search_batch(queries, K, ef=ef, threads=threads)
    ids = np.asarray(res.ids, dtype=np.int64)
    exact = common.true_sqdist(ids, queries, base)
    reported = res.distances.astype(np.float64)
    valid = ids >= 0
    abs_err = np.abs(reported - exact)[valid]
    rel_err = abs_err / np.maximum(exact[valid], 1.0)
    ordered = bool(np.all(np.diff(np.where(valid, reported, np.inf), axis=1) >= 0))
    duplicates = int(sum(len(set(r[r >= 0].tolist())) != int((r >= 0).sum()) for r in ids))
    return {
        "ef": ef,
        "max_abs_error": float(abs_err.max()) if abs_err.size else 0.0,
        "max_rel_error": float(rel_err.max()) if rel_err.size else 0.0,
        "sorted": ordered,
        "queries_with_duplicate_ids": duplicates,
        "missing_results": int((~valid).sum()),
    }


def observations(builds: list[BuildResult], sweep: Sweep, efs: Sequence[int],
                 batch_threads: int, dist_check: dict[str, Any],
                 machine: dict[str, Any]) -> list[str]:
    """Plain-language flags for anything that makes the numbers suspect or looks wrong."""
    notes: list[str] = []
    load = machine.get("loadavg")
    if load and load[0] > 0.5:
        notes.append(f"load average was {load[0]} at start: other processes compete for the "
                     f"{machine['cores']} cores, so timings are noisy")
    cores = machine.get("cores_usable") or machine.get("cores") or 1
    for build in builds:
        contention = build.other_cores + build.steal_cores
        if build.threads + contention > cores + 0.25:
            notes.append(f"during the {build.system} {build.threads}-thread build other processes "
                         f"kept {build.other_cores:.2f} cores busy (steal {build.steal_cores:.2f}) "
                         f"of {cores}: its time is inflated")
        if build.threads > 1 and build.cpu_utilisation < 0.75 * build.threads:
            cause = ("the machine had no free core for it" if contention > 0.5 else
                     "a serial section or lock contention in the build")
            notes.append(f"{build.system} {build.threads}-thread build kept only "
                         f"{build.cpu_utilisation:.2f} cores busy (expected ~{build.threads}): "
                         f"{cause}")
    sweep_contention = sweep.cpu.other_cores + sweep.cpu.steal_cores
    if sweep_contention > 0.25:
        affected = ("all QPS numbers" if 1 + sweep_contention > cores + 0.25 else
                    f"the {batch_threads}-thread batch QPS" if batch_threads + sweep_contention
                    > cores + 0.25 else "shared caches and memory bandwidth only")
        notes.append(f"during the query sweep other processes kept {sweep.cpu.other_cores:.2f} "
                     f"of {cores} cores busy on average (steal {sweep.cpu.steal_cores:.2f}); "
                     f"affected: {affected}")
    top = max(efs)
    for method in (*SINGLE_METHODS, *BATCH_METHODS):
        pts = sorted(sweep.of(method), key=lambda p: p.ef)
        if (method in SINGLE_METHODS and len(pts) >= 2 and pts[-1].recall < 0.999
                and pts[-1].recall - pts[-2].recall < 1e-3):
            notes.append(f"{method}: recall plateaus at {pts[-1].recall:.4f} "
                         f"(ef {pts[-2].ef} -> {pts[-1].ef} gains < 0.001)")
        varying = [p.ef for p in pts if not p.deterministic]
        if varying:
            notes.append(f"{method}: repeated runs returned different ids at ef={varying}")
        noisy = [f"{p.ef} ({1 - p.qps_median / p.qps_best:.0%})" for p in pts
                 if p.qps_best > 0 and p.qps_median < 0.9 * p.qps_best]
        if noisy:
            notes.append(f"{method}: median QPS >10% below best (noisy timing) at ef "
                         + ", ".join(noisy))
    gap = sweep.at(HNSWLIB_SINGLE, top).recall - sweep.at(AUGURDB_BATCH1, top).recall
    if gap > 0.002:
        notes.append(f"at ef={top} AugurDB's recall is {gap:.4f} below hnswlib's with the same "
                     "M/ef_construction: the graph or the search is weaker")
    mismatched = [ef for ef, same in sweep.augurdb_search_matches_batch.items() if not same]
    if mismatched:
        notes.append("AugurDB search() and search_batch() returned different ids at "
                     f"ef={mismatched}")
    # Systematic (median over the sweep) rather than single-ef comparisons, to resist noise.
    search_vs_batch1 = statistics.median(
        sweep.at(AUGURDB_SEARCH, ef).qps_best / sweep.at(AUGURDB_BATCH1, ef).qps_best for ef in efs)
    if search_vs_batch1 < 0.9:
        notes.append(f"AugurDB search() runs at {search_vs_batch1:.0%} of the QPS of "
                     "search_batch() on one row (median over ef): per-call overhead in search()")
    slower = [ef for ef in efs
              if sweep.at(AUGURDB_BATCH, ef).qps_best < sweep.at(AUGURDB_BATCH1, ef).qps_best]
    if 2 * len(slower) >= len(efs):
        notes.append(f"AugurDB multi-thread search_batch is slower than one query per call at "
                     f"ef={slower}: the batch path does not scale")
    if dist_check["max_rel_error"] > 1e-5:
        notes.append(f"AugurDB's reported distances differ from exact squared L2 by up to "
                     f"{dist_check['max_rel_error']:.2e} (relative) at ef={dist_check['ef']}")
    if not dist_check["sorted"] or dist_check["queries_with_duplicate_ids"]:
        notes.append(f"AugurDB result lists: sorted={dist_check['sorted']}, "
                     f"queries with duplicate ids={dist_check['queries_with_duplicate_ids']}")
    if dist_check["missing_results"]:
        notes.append(f"AugurDB returned {dist_check['missing_results']} empty (-1) result slots "
                     f"at ef={dist_check['ef']}")
    return notes


# --------------------------------------------------------------------------------------------
# Report


def machine_header(quick: bool, hnswlib_version: str) -> dict[str, Any]:
    return common.machine_header(mode="quick" if quick else "full",
                                 hnswlib_version=hnswlib_version)


def format_header(header: dict[str, Any]) -> str:
    cpu = header["cpu"]
    return "\n".join([
        f"# AugurDB vs hnswlib, Fashion-MNIST-784 L2 ({header['mode']} mode)",
        "",
        f"- date: {header['date']}",
        f"- CPU: {cpu['model']}, {cpu['cores']} cores ({cpu['cores_usable']} usable), "
        f"flags: {' '.join(cpu['flags']) or 'n/a'}",
        f"- AugurDB SIMD: {header['simd']} (detected {header['simd_detected']}"
        + (f", AUGURDB_SIMD={header['augurdb_simd_env']}" if header["augurdb_simd_env"] else "")
        + f"), {header['compiler']}",
        f"- THP: {cpu['thp']}; load average: {cpu['loadavg']}",
        f"- git commit: {header['git_commit']}; augurdb {header['augurdb_version']} from "
        f"{header['augurdb_module']} (engine built {header['augurdb_core_built']}); "
        f"hnswlib {header['hnswlib_version']}; "
        f"numpy {header['numpy_version']}; Python {header['python']}",
    ])


def format_report(config: dict[str, Any], builds: list[BuildResult], sweep: Sweep,
                  interp: dict[str, Any], dist_check: dict[str, Any],
                  notes: list[str]) -> str:
    threads_list = config["threads"]
    by_key = {(b.system, b.threads): b for b in builds}
    out: list[str] = []

    out += ["", f"## Build ({config['train']:,} vectors, M={M}, ef_construction={EF_CONSTRUCTION})",
            ""]
    rows = []
    for t in threads_list:
        a, h = by_key[(AUGURDB, t)], by_key[(HNSWLIB, t)]
        rows.append([str(t), f"{a.seconds:.1f}", _fmt_int(a.vectors_per_second),
                     f"{a.cpu_utilisation:.2f} / {a.other_cores:.2f}", f"{h.seconds:.1f}",
                     _fmt_int(h.vectors_per_second),
                     f"{h.cpu_utilisation:.2f} / {h.other_cores:.2f}",
                     _fmt_ratio(a.vectors_per_second / h.vectors_per_second)])
    out.append(markdown_table(
        ["threads", "AugurDB s", "AugurDB vec/s", "AugurDB cores own / others", "hnswlib s",
         "hnswlib vec/s", "hnswlib cores own / others", "AugurDB/hnswlib"], rows))
    lo, hi = min(threads_list), max(threads_list)
    if lo != hi:
        scaling = {system: by_key[(system, hi)].vectors_per_second
                   / by_key[(system, lo)].vectors_per_second for system in (AUGURDB, HNSWLIB)}
        out += ["", f"Scaling {hi}-thread / {lo}-thread build throughput: "
                    f"AugurDB {scaling[AUGURDB]:.2f}x, hnswlib {scaling[HNSWLIB]:.2f}x"]

    bt = config["batch_threads"]
    out += ["", f"## Query sweep (k={K}, {config['queries']:,} queries, best (median) of "
                f"{config['runs']} runs, index built with {hi} threads)", ""]
    rows = []
    for ef in config["efs"]:
        h, a1, a = (sweep.at(HNSWLIB_SINGLE, ef), sweep.at(AUGURDB_BATCH1, ef),
                    sweep.at(AUGURDB_SEARCH, ef))
        hb, ab = sweep.at(HNSWLIB_BATCH, ef), sweep.at(AUGURDB_BATCH, ef)
        rows.append([str(ef), f"{h.recall:.4f}", f"{a1.recall:.4f}",
                     f"{_fmt_int(h.qps_best)} ({_fmt_int(h.qps_median)})",
                     f"{_fmt_int(a1.qps_best)} ({_fmt_int(a1.qps_median)})",
                     f"{_fmt_int(a.qps_best)} ({_fmt_int(a.qps_median)})",
                     _fmt_ratio(a1.qps_best / h.qps_best),
                     _fmt_int(hb.qps_best), _fmt_int(ab.qps_best)])
    out.append(markdown_table(
        ["ef", "recall hnswlib", "recall AugurDB", "hnswlib QPS 1t", "AugurDB search_batch(1) QPS",
         "AugurDB search QPS", "AugurDB/hnswlib 1t", f"hnswlib batch {bt}t",
         f"AugurDB batch {bt}t"], rows))

    out += ["", "## QPS at fixed recall@10 (interpolated on log QPS; best of runs, median in "
                "parentheses)", ""]
    rows = []
    for target in TARGET_RECALLS:
        key = f"{target:.2f}"

        def cell(method: str, key: str = key) -> str:
            v = interp[method][key]
            return f"{_fmt_int(v['best'])} ({_fmt_int(v['median'])})"

        def ratio(method: str, peer: str, key: str = key) -> str:
            return _fmt_ratio(_ratio(interp[method][key]["best"], interp[peer][key]["best"]))

        rows.append([key, cell(HNSWLIB_SINGLE), cell(AUGURDB_BATCH1), cell(AUGURDB_SEARCH),
                     ratio(AUGURDB_BATCH1, HNSWLIB_SINGLE), ratio(AUGURDB_SEARCH, HNSWLIB_SINGLE),
                     cell(HNSWLIB_BATCH), cell(AUGURDB_BATCH), ratio(AUGURDB_BATCH, HNSWLIB_BATCH)])
    out.append(markdown_table(
        ["recall", "hnswlib 1t", "AugurDB search_batch(1)", "AugurDB search",
         "ratio search_batch(1)", "ratio search", f"hnswlib batch {bt}t",
         f"AugurDB batch {bt}t", f"ratio batch {bt}t"], rows))
    span = {m: (min(p.recall for p in sweep.of(m)), max(p.recall for p in sweep.of(m)))
            for m in (HNSWLIB_SINGLE, AUGURDB_BATCH1)}
    out += ["", f"Recall range of the sweep: hnswlib {span[HNSWLIB_SINGLE][0]:.4f}-"
                f"{span[HNSWLIB_SINGLE][1]:.4f}, AugurDB {span[AUGURDB_BATCH1][0]:.4f}-"
                f"{span[AUGURDB_BATCH1][1]:.4f} (n/a = target outside that range)"]

    out += ["", "## Memory", ""]
    rows = []
    for system in (AUGURDB, HNSWLIB):
        per_build = ", ".join(f"{t}t: {_fmt_mib(by_key[(system, t)].rss_delta_bytes)}"
                              for t in threads_list)
        engine = by_key[(system, threads_list[0])].memory_bytes
        rows.append([system, _fmt_mib(engine) if engine is not None else "n/a", per_build])
    out.append(markdown_table(["system", "stats() memory_bytes", "RSS growth per build"], rows))
    raw = config["train"] * config["dim"] * 4
    out += ["", f"(raw float32 vectors: {_fmt_mib(raw)}; all indexes stay alive, so each RSS "
                "growth is that build's own allocation)"]

    out += ["", "## Checks", "",
            f"- AugurDB distances vs exact at ef={dist_check['ef']}: max abs error "
            f"{dist_check['max_abs_error']:.3g}, max rel error {dist_check['max_rel_error']:.3g}, "
            f"sorted={dist_check['sorted']}, queries with duplicate ids="
            f"{dist_check['queries_with_duplicate_ids']}, missing={dist_check['missing_results']}",
            f"- AugurDB search() ids == search_batch() ids at every ef: "
            f"{all(sweep.augurdb_search_matches_batch.values())}"]
    out += ["", "## Observations", ""]
    out += [f"- {n}" for n in notes] or ["- none"]
    return "\n".join(out)


# --------------------------------------------------------------------------------------------
# Main


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = common.sweep_parser(
        "hnsw_vs_hnswlib",
        "AugurDB vs hnswlib on Fashion-MNIST-784 (L2): build throughput, single-thread QPS vs "
        "recall@10, batch QPS, memory.",
        f"{QUICK_TRAIN:,} base vectors, {QUICK_TEST} queries, brute-force ground truth (under a "
        "minute)")
    parser.add_argument("--out", type=Path, default=None,
                        help=f"directory for {RESULT_FILE} (default: bench/results/ in the "
                             "source checkout)")
    parser.add_argument("--runs", type=int, default=3,
                        help="timed runs per ef and method; best and median are reported "
                             "(default 3)")
    parser.add_argument("--ef", type=int, nargs="+", default=list(DEFAULT_EFS),
                        help="ef values to sweep (default: %(default)s)")
    parser.add_argument("--threads", type=int, nargs="+", default=list(DEFAULT_THREADS),
                        help="build thread counts; the index built with the most threads is "
                             "queried, and batch search uses that many (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=42,
                        help="random seed for both engines' level assignment (default 42)")
    args = parser.parse_args(argv)
    common.check_sweep_args(parser, args)
    return args


def load_data(quick: bool) -> tuple[FloatArray, FloatArray, npt.NDArray[Any]]:
    """(base, queries, ground-truth squared distances) for the chosen mode."""
    if quick:
        data = datasets.load_fashion_mnist(limit_train=QUICK_TRAIN, limit_test=QUICK_TEST)
        truth = common.exact_ground_truth(data.train, data.test, k=K)
    else:
        data = datasets.load_fashion_mnist()
        truth = datasets.load_ground_truth()
    if truth.sqdist.shape[0] != data.test.shape[0] or truth.sqdist.shape[1] < K:
        raise ValueError(f"ground truth {truth.sqdist.shape} does not match "
                         f"{data.test.shape[0]} queries")
    return data.train, data.test, truth.sqdist


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    hnswlib = _import_hnswlib()
    started = time.perf_counter()

    header = machine_header(args.quick, common.package_version("hnswlib") or "unknown")
    print(format_header(header), flush=True)

    base, queries, gt_sqdist = load_data(args.quick)
    ids = np.arange(base.shape[0], dtype=np.int64)
    config = {"train": base.shape[0], "queries": queries.shape[0], "dim": base.shape[1], "k": K,
              "m": M, "ef_construction": EF_CONSTRUCTION, "efs": args.ef, "runs": args.runs,
              "threads": args.threads, "batch_threads": max(args.threads), "seed": args.seed}
    print(f"\nloaded {base.shape[0]:,} base vectors and {queries.shape[0]:,} queries "
          f"(dim {base.shape[1]})", flush=True)

    # Builds, interleaved A1, B1, A2, B2. Every index stays alive until the end, so that each
    # RSS growth measures only that build's own allocations (no reuse of freed memory).
    builds: list[BuildResult] = []
    indexes: dict[tuple[str, int], Any] = {}
    for threads in _progress(args.threads, "builds"):
        col, result = build_augurdb(base, ids, threads, args.seed)
        indexes[(AUGURDB, threads)] = col
        builds.append(result)
        _log(f"  AugurDB build, {threads} thread(s): {result.seconds:7.2f} s, "
             f"{result.vectors_per_second:8,.0f} vec/s")
        index, result = build_hnswlib(hnswlib, base, ids, threads, args.seed)
        indexes[(HNSWLIB, threads)] = index
        builds.append(result)
        _log(f"  hnswlib build, {threads} thread(s): {result.seconds:7.2f} s, "
             f"{result.vectors_per_second:8,.0f} vec/s")

    top = max(args.threads)
    runner = QueryRunner(indexes[(AUGURDB, top)], indexes[(HNSWLIB, top)], queries, top)
    sweep = run_sweep(runner, args.ef, args.runs, base, gt_sqdist)
    interp = interpolate(sweep)
    dist_check = distance_check(indexes[(AUGURDB, top)], queries, base, max(args.ef), top)
    notes = observations(builds, sweep, args.ef, top, dist_check, header["cpu"])

    report = format_report(config, builds, sweep, interp, dist_check, notes)
    elapsed = time.perf_counter() - started
    print(report)
    print(f"\n(total benchmark time {elapsed:.0f} s; load average at end "
          f"{common.cpu_info()['loadavg']})")

    out_dir = args.out if args.out is not None else default_out_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    result = {
        "header": header,
        "config": config,
        "builds": [b.to_json() for b in builds],
        "sweep": [p.to_json() for p in sweep.points],
        "sweep_cpu": sweep.cpu.as_dict(),
        "augurdb_search_matches_batch": {str(k): v for k, v in
                                         sweep.augurdb_search_matches_batch.items()},
        "qps_at_recall": interp,
        "ratios_at_recall": {
            key: {
                "search_batch(1)/hnswlib": _ratio(interp[AUGURDB_BATCH1][key]["best"],
                                                  interp[HNSWLIB_SINGLE][key]["best"]),
                "search/hnswlib": _ratio(interp[AUGURDB_SEARCH][key]["best"],
                                         interp[HNSWLIB_SINGLE][key]["best"]),
                "batch/hnswlib batch": _ratio(interp[AUGURDB_BATCH][key]["best"],
                                              interp[HNSWLIB_BATCH][key]["best"]),
            }
            for key in (f"{t:.2f}" for t in TARGET_RECALLS)
        },
        "distance_check": dist_check,
        "observations": notes,
        "seconds_total": elapsed,
        "loadavg_end": common.cpu_info()["loadavg"],
        "report_markdown": format_header(header) + "\n" + report,
    }
    path = write_json(out_dir / RESULT_FILE, result)
    print(f"results written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
