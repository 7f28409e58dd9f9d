"""AugurDB against the embedded vector databases and ANN libraries on PyPI, on the same data.

Run::

    python -m bench.ann.suite                          # Fashion-MNIST-784, every system
    python -m bench.ann.suite --quick                  # CI smoke run: tiny, AugurDB/hnswlib/faiss
    python -m bench.ann.suite --dataset clustered-1m   # 1M x 128 synthetic (see synthetic.py)
    python -m bench.ann.suite --dataset clustered-1m --limit 200000 --systems augurdb faiss

Systems (``--systems``; details, parameters and deviations in :mod:`bench.ann.peers`):
augurdb, augurdb-sq8 (the quantized mode), hnswlib, faiss (IndexHNSWFlat), usearch, glass (SQ8U +
fp32 refine), ScaNN (tree + AH + reorder), chromadb-memory (EphemeralClient), chromadb-persistent
(PersistentClient), lancedb (IVF_HNSW_FLAT, one partition), omendb. A peer
that is not installed, fails to import or fails to build is recorded with its exact error and
the run goes on. Install them with
``pip install hnswlib faiss-cpu usearch pyglass-portable scann chromadb lancedb omendb matplotlib
tqdm``.

Method (see "Measuring honestly" in ``shared/PERFORMANCE.md``):

- One process tree. The parent loads or generates the data once and writes the float32 arrays to
  ``.npy`` files; every system runs in its own spawned worker process that loads those identical
  arrays. Only one worker works at a time, so they never compete for the CPUs.
- **Build**: k=10, M=16, ef_construction=200 wherever the system has them. Each build runs in a
  fresh worker, once per thread count (``--threads``, default 1 and all cores): wall time,
  vectors/s, cores used by the build and by other processes, RSS growth (``/proc/self/statm``)
  and peak RSS growth (VmHWM after ``clear_refs``), engine-reported memory where there is one.
- **Queries**: on the index built with the most threads. Single-thread QPS vs recall@10: one query
  per Python call, over an ef sweep (or the system's equivalent knob), best and median of
  ``--runs`` runs, interleaved per setting (A, B, C, A, B, C, ...). Batch QPS: all queries in one
  call (or the system's own batch API) with all threads. QPS is interpolated at recall exactly
  0.90, 0.95 and 0.99 on each system's Pareto frontier. Systems whose per-call overhead is in the
  milliseconds get a smaller query subset and fewer runs so that the sweep fits a time budget
  (``--sweep-budget``); the output says how many queries each system ran.
- **Recall@10**: the ann-benchmarks rule (:func:`bench.ann.common.recall_at_k`): distances
  recomputed from the returned ids in float64, threshold = true 10th distance + 1e-3.
- **Persistence** (systems that persist): save time or persistent-build time, on-disk size, and
  reopen time (open + first query) in a fresh process, with a recall check of the reopened index.
- **Big sets**: with more than 200,000 vectors each system first builds a 50,000-vector pilot
  on one thread; its time is extrapolated (n log n, times 2 for cache effects, calibrated on
  AugurDB and hnswlib at 1M x 128). A system whose extrapolated build exceeds
  ``--max-build-minutes`` (20) is skipped, saying so; when only the 1-thread build would be too
  long, the multi-thread build alone is kept (estimated as 1-thread / threads).

Output (``--out``, default ``bench/results/``): ``suite-<dataset>[-quick].json``, ``.md`` (the
Markdown tables with machine, CPU, SIMD level, date and commit at the top) and PNG plots.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from . import common, datasets, matrix, peers, synthetic
from .common import (
    default_out_dir,
    log as _log,
    progress as _progress,
    qps_at_recall,
    write_json,
)
from .peers import K
from .peers import worker as peer_worker
from .peers.worker import Worker, WorkerError, WorkerTimeout
from .suite_report import (
    REOPEN_EF,
    TARGET_RECALLS,
    _fmt_mib,
    format_report,
    machine_header,
    make_plots,
    observations,
)

DEFAULT_EFS = (6, 8, 10, 16, 24, 32, 48, 64, 96, 128, 192, 256)
QUICK_EFS = (10, 20, 40, 80)
QUICK_TRAIN, QUICK_QUERIES = 2_000, 100
PILOT_THRESHOLD, PILOT_SIZE = 200_000, 50_000
PILOT_MEMORY_FACTOR = 2.0
# Fashion-MNIST, clustered-1m (synthetic.py) and the rest of the graph-quality matrix
# (matrix.py); "matrix" runs the suite once per set of matrix.DEFAULT_MATRIX.
DATASETS = ("fashion-mnist", "clustered-1m",
            *(name for name in matrix.MATRIX if name != "fashion-mnist"), "matrix")
SLOW_MIN_QUERIES = 1_000

T = TypeVar("T")
FloatArray = npt.NDArray[np.float32]


# --------------------------------------------------------------------------------------------
# Small utilities


def _one_line(text: str, limit: int = 400) -> str:
    """The last meaningful line of an error (the exception itself), shortened."""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    head = lines[0] if lines else text
    return head if len(head) <= limit else head[: limit - 3] + "..."


# --------------------------------------------------------------------------------------------
# Data


def load_dataset(name: str, limit: int | None, n_queries: int | None,
                 quick: bool) -> tuple[FloatArray, FloatArray, npt.NDArray[Any], dict[str, Any]]:
    """(base, queries, ground-truth squared distances (nq, >=K), description)."""
    if quick:
        limit = limit or QUICK_TRAIN
        n_queries = n_queries or QUICK_QUERIES
    if name == "fashion-mnist":
        data = datasets.load_fashion_mnist(limit_train=limit, limit_test=n_queries)
        if limit is None or limit >= 60_000:
            truth = datasets.load_ground_truth()
            gt = truth.sqdist[: data.test.shape[0]]
            source = "shared/data exact ground truth (10,000 x 100)"
        else:
            gt = common.exact_ground_truth(data.train, data.test, k=K).sqdist
            source = "exact brute force on the subset"
        info = {"name": "Fashion-MNIST-784 (L2)", "source": "Debian dataset-fashion-mnist",
                "ground_truth": source}
        return data.train, data.test, gt, info
    if name == "clustered-1m":
        base, queries, truth, info = synthetic.load(
            n=limit or synthetic.DEFAULT_N, n_queries=n_queries or synthetic.DEFAULT_QUERIES,
            k=100 if not quick else K, use_cache=not quick)
        info = {"name": "clustered-1m (synthetic, 128-d, intrinsic 12-d)", **info}
        return base, queries, truth.sqdist, info
    if name in matrix.MATRIX:
        # Every peer measures squared L2; the cosine set (MiniLM) is unit-norm, where L2 order is
        # cosine order. Recall@K for all, gauss-64-self included (its own matrix score is k=1).
        data = matrix.load(name, quick=quick)
        base = data.base[:limit] if limit else data.base
        queries = data.queries[:n_queries] if n_queries else data.queries
        if base.shape[0] == data.base.shape[0] and data.gt_sqdist.shape[1] >= K:
            gt = data.gt_sqdist[: queries.shape[0]]
            source = "exact (matrix.py)"
        else:
            gt = common.exact_ground_truth(base, queries, k=K).sqdist
            source = "exact brute force on the subset"
        info = {"name": f"{name} ({data.base.shape[1]}-d, {data.metric} data, measured as L2)",
                **data.info, "ground_truth": source}
        return np.ascontiguousarray(base), np.ascontiguousarray(queries), gt, info
    raise ValueError(f"unknown dataset {name!r}")


# --------------------------------------------------------------------------------------------
# The run


class Suite:
    def __init__(self, args: argparse.Namespace, base: FloatArray, queries: FloatArray,
                 gt: npt.NDArray[Any], tmp: Path) -> None:
        self.args = args
        self.base = base
        self.queries = queries
        self.gt = gt
        self.tmp = tmp
        self.arrays = {"base": str(tmp / "base.npy"), "queries": str(tmp / "queries.npy")}
        np.save(self.arrays["base"], base)
        np.save(self.arrays["queries"], queries)
        self.results: dict[str, dict[str, Any]] = {}
        self.main: dict[str, Worker] = {}
        self.build_threads: dict[str, list[int]] = {}
        self.recall_cache: dict[str, float] = {}
        self.worker_count = 0

    # helpers ---------------------------------------------------------------------------------
    def recall(self, ids: npt.NDArray[Any]) -> float:
        digest = hashlib.sha1(np.ascontiguousarray(ids).tobytes()).hexdigest()
        if digest not in self.recall_cache:
            n = ids.shape[0]
            self.recall_cache[digest] = common.recall_at_k(ids, self.queries[:n], self.base,
                                                             self.gt[:n], K)
        return self.recall_cache[digest]

    def spawn(self, key: str, threads: int) -> Worker:
        self.worker_count += 1
        workdir = self.tmp / f"w{self.worker_count:03d}-{key}-{threads}t"
        return Worker(key, threads, self.arrays, workdir)

    def fail(self, key: str, stage: str, error: str, status: str = "error") -> None:
        result = self.results[key]
        result["status"] = status
        result["error_stage"] = stage
        result["error"] = _one_line(error)
        result["error_detail"] = error.strip()[-4000:]
        _log(f"  {key}: {status} during {stage}: {_one_line(error)}")
        worker = self.main.pop(key, None)
        if worker is not None:
            worker.kill()

    def alive(self) -> list[str]:
        return [k for k in self.args.systems if self.results[k]["status"] == "ran"]

    # phases ----------------------------------------------------------------------------------
    def run(self) -> None:
        for key in self.args.systems:
            self.results[key] = {"key": key, **peers.describe(key), "status": "ran",
                                 "builds": [], "sweep": [], "batch": [], "persistence": None}
        threads = self.args.threads
        if self.base.shape[0] > PILOT_THRESHOLD:
            self.pilot()
        for key in self.alive():
            self.build_threads.setdefault(key, list(threads))
        try:
            self.build_phase()
            self.sweep_phase()
        finally:
            self.persistence_phase()
            for worker in self.main.values():
                worker.exit()
            self.main.clear()

    def pilot(self) -> None:
        """Extrapolates each system's build time from a 50K-vector 1-thread build and skips
        what would exceed the limit."""
        limit_s = self.args.max_build_minutes * 60
        n = self.base.shape[0]
        top = max(self.args.threads)
        for key in _progress(self.alive(), "pilot builds"):
            try:
                worker = self.spawn(key, 1)
                try:
                    b = worker.call("build", timeout=limit_s, threads=1, limit=PILOT_SIZE)
                finally:
                    worker.exit()
            except (WorkerError, WorkerTimeout) as exc:
                self.fail(key, "pilot build", str(exc))
                continue
            # HNSW-like build cost grows faster than n: log n hops per insert, and more cache
            # and TLB misses once the graph outgrows the caches. Measured here at 1M x 128:
            # AugurDB and hnswlib took 2.1-2.2x the n log n extrapolation from 50K, hence the
            # factor PILOT_MEMORY_FACTOR.
            factor = (n / PILOT_SIZE) * math.log(n) / math.log(PILOT_SIZE) * PILOT_MEMORY_FACTOR
            est_1t = b["seconds"] * factor
            est_top = est_1t / top if top > 1 else est_1t
            self.results[key]["pilot"] = {"vectors": PILOT_SIZE, "seconds": b["seconds"],
                                          "estimated_1t_seconds": est_1t,
                                          "estimated_top_seconds": est_top}
            _log(f"  {key}: pilot {PILOT_SIZE:,} in {b['seconds']:.1f} s -> estimated "
                 f"{est_1t / 60:.1f} min for {n:,} on 1 thread")
            if est_1t <= limit_s:
                self.build_threads[key] = list(self.args.threads)
            elif est_top <= limit_s and top > 1:
                self.build_threads[key] = [top]
                self.results[key].setdefault("skipped_parts", []).append(
                    f"1-thread build skipped: estimated {est_1t / 60:.0f} min from a "
                    f"{PILOT_SIZE:,}-vector pilot (> {self.args.max_build_minutes:g} min)")
            else:
                self.fail(key, "pilot build", f"skipped: estimated build time "
                          f"{est_top / 60:.0f} min with {top} threads ({est_1t / 60:.0f} min on "
                          f"1) from a {PILOT_SIZE:,}-vector pilot, over the "
                          f"{self.args.max_build_minutes:g}-minute limit", status="skipped")

    def build_phase(self) -> None:
        limit_s = self.args.max_build_minutes * 60 * 1.5
        thread_counts = sorted({t for k in self.alive() for t in self.build_threads[k]})
        top = max(self.args.threads)
        plan = [(t, k) for t in thread_counts for k in self.alive()
                if t in self.build_threads[k]]
        for threads, key in _progress(plan, "builds"):
            if self.results[key]["status"] != "ran":
                continue
            try:
                worker = self.spawn(key, threads)
            except (WorkerError, WorkerTimeout) as exc:
                self.fail(key, "import", str(exc))
                continue
            try:
                build = worker.call("build", timeout=limit_s, threads=threads,
                                    drop_base=not peers.SYSTEMS[key].rebuild_per_ef)
            except WorkerTimeout as exc:
                self.fail(key, f"{threads}-thread build", f"skipped: {exc} (limit "
                          f"{limit_s / 60:.0f} min)", status="skipped")
                continue
            except WorkerError as exc:
                worker.kill()
                self.fail(key, f"{threads}-thread build", str(exc))
                continue
            build["vectors_per_second"] = build["vectors"] / build["seconds"]
            build["baseline_rss_bytes"] = worker.hello.get("baseline_rss_bytes")
            self.results[key]["builds"].append(build)
            _log(f"  {key:20s} {threads} thread(s): {build['seconds']:8.2f} s "
                 f"{build['vectors_per_second']:10,.0f} vec/s  cores {build['own_cores']:.2f} "
                 f"(others {build['other_cores']:.2f})  RSS +{_fmt_mib(build['rss_delta_bytes'])}"
                 f" MiB")
            if threads == max(self.build_threads[key]):
                self.main[key] = worker
                self.results[key]["query_index_threads"] = threads
                if threads != top:
                    self.results[key].setdefault("skipped_parts", []).append(
                        f"queried index built with {threads} threads")
            else:
                worker.exit()

    def efs_of(self, key: str) -> list[int]:
        """The ef values swept for ``key``: all of them, or every third plus the largest for a
        system that must be rebuilt to change ef."""
        # Below k only AugurDB's ef means something (a narrower walk); the peers raise ef to k
        # (hnswlib, faiss) or reject it, so they sweep from k.
        efs = [ef for ef in self.args.ef if ef >= K or key == "augurdb"]
        if peers.SYSTEMS[key].rebuild_per_ef:
            efs = sorted({*efs[::3], max(efs)})
        return efs

    def plan_queries(self, key: str, worker: Worker, methods: Sequence[str]) -> dict[str, Any]:
        """Warm up, then choose how many queries and runs fit the time budget."""
        nq = self.queries.shape[0]
        efs = self.efs_of(key)
        top_ef = max(efs)
        slow = peers.SYSTEMS[key].slow
        warm_n = min(nq, 200 if slow else 500)
        qps: list[float] = []
        for method in methods:
            r = worker.call("single", method=method, ef=top_ef, n=warm_n)
            qps.append(warm_n / max(r["seconds"], 1e-9))
        batch_ok = True
        batch_qps = None
        try:
            r = worker.call("batch", ef=top_ef, n=min(nq, 1000),
                            threads=max(self.args.threads))
            batch_qps = min(nq, 1000) / max(r["seconds"], 1e-9)
        except WorkerError as exc:
            if "NotSupported" not in str(exc):
                raise
            batch_ok = False
        runs = self.args.runs
        per_query = sum(1.0 / q for q in qps) * len(efs)  # one pass over every ef
        budget = self.args.sweep_budget
        n = nq
        if runs * n * per_query > budget:
            runs = 1 if slow else max(1, min(runs, int(budget / (n * per_query))))
        if runs * n * per_query > budget:
            n = max(min(nq, SLOW_MIN_QUERIES), int(budget / (runs * per_query)))
            n = min(n, nq)
        batch_n = nq
        if batch_qps is not None and batch_n * len(efs) * runs / batch_qps > budget / 2:
            batch_n = max(min(nq, SLOW_MIN_QUERIES),
                          min(nq, int(budget / 2 * batch_qps / (len(efs) * runs))))
        return {"queries": n, "runs": runs, "batch_queries": batch_n, "batch": batch_ok,
                "warmup_qps_at_max_ef": dict(zip(methods, qps)), "warmup_batch_qps": batch_qps}

    def sweep_phase(self) -> None:
        efs = self.args.ef
        plans: dict[str, dict[str, Any]] = {}
        methods: dict[str, tuple[str, ...]] = {}
        for key in _progress(list(self.main), "warm-up"):
            adapter_cls = {"augurdb": peers.augurdb.AugurDBAdapter}.get(key, peers.Adapter)
            methods[key] = adapter_cls.single_methods
            try:
                plans[key] = self.plan_queries(key, self.main[key], methods[key])
            except (WorkerError, WorkerTimeout) as exc:
                self.fail(key, "query warm-up", str(exc))
                continue
            self.results[key]["query_plan"] = plans[key]
            p = plans[key]
            _log(f"  {key}: {p['queries']:,} queries x {p['runs']} run(s) per ef; batch "
                 f"{p['batch_queries']:,} queries" if p["batch"] else
                 f"  {key}: {p['queries']:,} queries x {p['runs']} run(s) per ef; no batch API")
        max_runs = max((p["runs"] for p in plans.values()), default=0)
        timings: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
        batch_timings: dict[tuple[str, int], list[dict[str, Any]]] = {}
        first_ids: dict[tuple[str, str, int], Any] = {}
        varying: set[tuple[str, str, int]] = set()
        for ef in _progress(list(efs), "ef sweep"):
            for run in range(max_runs):
                for key in list(self.main):
                    plan = plans.get(key)
                    if plan is None or run >= plan["runs"] or ef not in self.efs_of(key):
                        continue
                    try:
                        for method in methods[key]:
                            r = self.main[key].call("single", method=method, ef=ef,
                                                    n=plan["queries"])
                            ids = r.pop("ids")
                            timings.setdefault((key, method, ef), []).append(r)
                            if (key, method, ef) not in first_ids:
                                first_ids[(key, method, ef)] = ids
                            elif not np.array_equal(first_ids[(key, method, ef)], ids):
                                varying.add((key, method, ef))
                        if plan["batch"]:
                            r = self.main[key].call("batch", ef=ef, n=plan["batch_queries"],
                                                    threads=max(self.args.threads))
                            ids = r.pop("ids")
                            batch_timings.setdefault((key, ef), []).append(r)
                            if (key, "batch", ef) not in first_ids:
                                first_ids[(key, "batch", ef)] = ids
                    except (WorkerError, WorkerTimeout) as exc:
                        self.fail(key, f"query sweep (ef={ef})", str(exc))
        # Recall and QPS per point.
        for (key, method, ef), runs in timings.items():
            n = plans[key]["queries"]
            seconds = [r["seconds"] for r in runs]
            self.results[key]["sweep"].append({
                "method": method, "ef": ef, "queries": n,
                "recall": self.recall(first_ids[(key, method, ef)]),
                "seconds": seconds, "qps_best": n / min(seconds),
                "qps_median": n / statistics.median(seconds),
                "own_cores": statistics.median(r["own_cores"] for r in runs),
                "other_cores": statistics.median(r["other_cores"] for r in runs),
                "deterministic": (key, method, ef) not in varying})
        for (key, ef), runs in batch_timings.items():
            n = plans[key]["batch_queries"]
            seconds = [r["seconds"] for r in runs]
            self.results[key]["batch"].append({
                "ef": ef, "queries": n, "threads": max(self.args.threads),
                "recall": self.recall(first_ids[(key, "batch", ef)]),
                "seconds": seconds, "qps_best": n / min(seconds),
                "qps_median": n / statistics.median(seconds),
                "own_cores": statistics.median(r["own_cores"] for r in runs),
                "other_cores": statistics.median(r["other_cores"] for r in runs)})
        for key in self.args.systems:
            result = self.results[key]
            result["qps_at_recall"] = {}
            curves = {m: [p for p in result["sweep"] if p["method"] == m]
                      for m in methods.get(key, ())}
            curves["batch"] = result["batch"]
            for name, pts in curves.items():
                if not pts:
                    continue
                result["qps_at_recall"][name] = {
                    f"{t:.2f}": {
                        "best": qps_at_recall([(p["recall"], p["qps_best"]) for p in pts], t),
                        "median": qps_at_recall([(p["recall"], p["qps_median"]) for p in pts],
                                                t)}
                    for t in TARGET_RECALLS}

    def persistence_phase(self) -> None:
        top = max(self.args.threads)
        for key in _progress(list(self.args.systems), "persistence"):
            kind = peers.persistence_kind(key)
            worker = self.main.pop(key, None)
            if kind is None or self.results[key]["status"] != "ran" or self.args.no_persist:
                if worker is not None:
                    worker.exit()
                continue
            out: dict[str, Any] = {"kind": kind}
            path: Path | None = None
            try:
                if kind == "save":
                    if worker is None:
                        continue
                    path = self.tmp / f"{key}.index"
                    out.update(worker.call("save", timeout=3600, path=str(path)))
                    worker.exit()
                elif kind == "built":
                    if worker is None:
                        continue
                    # Leave the stored ef_search (Chroma keeps it) at the value reopen uses.
                    worker.call("set_ef", timeout=1800, ef=REOPEN_EF)
                    worker.call("close", timeout=600)
                    worker.exit()
                    path = self._built_path(key)
                    out["disk_bytes"] = peer_worker.disk_bytes(path)
                    build = next((b for b in self.results[key]["builds"]
                                  if b["threads"] == self.results[key].get(
                                      "query_index_threads")), None)
                    if build is not None:
                        out["build_seconds"] = build["seconds"]
                else:  # a separate persistent build
                    if worker is not None:
                        worker.exit()
                    path = self.tmp / f"{key}-store"
                    threads = max(self.build_threads.get(key, [top]))
                    pw = self.spawn(key, threads)
                    try:
                        out.update(pw.call("build_persistent",
                                           timeout=self.args.max_build_minutes * 90,
                                           threads=threads, path=str(path)))
                        out["threads"] = threads
                        out["vectors_per_second"] = self.base.shape[0] / out["build_seconds"]
                    finally:
                        pw.exit()
                rw = self.spawn(key, top)
                try:
                    reopen = rw.call("reopen", timeout=1800, path=str(path), ef=REOPEN_EF,
                                     check_queries=min(200, self.queries.shape[0]))
                finally:
                    rw.exit()
                ids = reopen.pop("check_ids")
                reopen["check_recall"] = self.recall(ids)
                reopen["check_queries"] = int(ids.shape[0])
                out["reopen"] = reopen
            except (WorkerError, WorkerTimeout) as exc:
                out["error"] = _one_line(str(exc))
                out["error_detail"] = str(exc).strip()[-4000:]
                _log(f"  {key}: persistence failed: {_one_line(str(exc))}")
            finally:
                if path is not None and kind != "built":
                    peer_worker.remove_path(path)
            self.results[key]["persistence"] = out

    def _built_path(self, key: str) -> Path:
        threads = self.results[key].get("query_index_threads")
        sub = "chroma" if key.startswith("chromadb") else "lance"
        candidates = sorted(self.tmp.glob(f"w*-{key}-{threads}t"))
        return candidates[-1] / sub


# --------------------------------------------------------------------------------------------
# Main


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = common.sweep_parser(
        "suite",
        "AugurDB vs hnswlib, faiss, usearch, glass, ScaNN, Chroma, LanceDB and OmenDB: build "
        "rate, QPS vs recall@10, batch QPS, memory, disk and reopen time.",
        f"CI smoke run: {QUICK_TRAIN:,} vectors, {QUICK_QUERIES} queries, ef {list(QUICK_EFS)}, "
        f"one run, systems {', '.join(peers.QUICK_SYSTEMS)} (under 2 minutes)")
    parser.add_argument("--dataset", choices=DATASETS, default="fashion-mnist")
    parser.add_argument("--systems", nargs="+", choices=list(peers.SYSTEMS), default=None,
                        help="systems to run (default: all; --quick: "
                             f"{' '.join(peers.QUICK_SYSTEMS)})")
    parser.add_argument("--limit", type=int, default=None,
                        help="use only the first N base vectors (exact ground truth is "
                             "recomputed)")
    parser.add_argument("--queries", type=int, default=None,
                        help="use only the first N queries")
    parser.add_argument("--ef", type=int, nargs="+", default=None,
                        help=f"ef values to sweep (default {list(DEFAULT_EFS)})")
    parser.add_argument("--runs", type=int, default=None,
                        help="timed runs per setting, best and median reported (default 3; "
                             "--quick 1)")
    parser.add_argument("--threads", type=int, nargs="+", default=None,
                        help="build thread counts (default: 1 and all cores); the index built "
                             "with the most is queried and batch search uses that many")
    parser.add_argument("--sweep-budget", type=float, default=180.0,
                        help="seconds per system for its single-query sweep; slower systems get "
                             "fewer runs and queries (default 180)")
    parser.add_argument("--max-build-minutes", type=float, default=20.0,
                        help="skip a system whose (estimated) build takes longer (default 20)")
    parser.add_argument("--no-persist", action="store_true",
                        help="skip the on-disk size and reopen measurements")
    parser.add_argument("--out", type=Path, default=None,
                        help="output directory (default bench/results/ in the checkout)")
    parser.add_argument("--tag", default=None,
                        help="suffix for the output file names (default: -quick in quick "
                             "mode, -<N> with --limit)")
    parser.add_argument("--tmpdir", type=Path, default=None,
                        help="where the arrays and on-disk indexes go (default: system temp)")
    args = parser.parse_args(argv)
    if args.systems is None:
        args.systems = list(peers.QUICK_SYSTEMS if args.quick else peers.DEFAULT_SYSTEMS)
    args.systems = list(dict.fromkeys(args.systems))
    if args.ef is None:
        args.ef = list(QUICK_EFS if args.quick else DEFAULT_EFS)
    if args.runs is None:
        args.runs = 1 if args.quick else 3
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else \
        (os.cpu_count() or 1)
    if args.threads is None:
        args.threads = sorted({1, cores})
    common.check_sweep_args(parser, args)
    return args


def output_stem(args: argparse.Namespace) -> str:
    if args.tag is not None:
        suffix = args.tag
    elif args.quick:
        suffix = "-quick"
    elif args.limit:
        suffix = f"-{args.limit}"
    else:
        suffix = ""
    return f"suite-{args.dataset}{suffix}"


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.dataset == "matrix":
        given = list(sys.argv[1:] if argv is None else argv)
        rest = [a for i, a in enumerate(given) if not a.startswith("--dataset")
                and not (i > 0 and given[i - 1] == "--dataset")]
        return max(main([*rest, "--dataset", name]) for name in matrix.DEFAULT_MATRIX)
    started = time.perf_counter()
    base, queries, gt, dataset_info = load_dataset(args.dataset, args.limit, args.queries,
                                                   args.quick)
    header = machine_header(args, dataset_info)
    config = {"dataset": args.dataset, "train": int(base.shape[0]), "dim": int(base.shape[1]),
              "queries": int(queries.shape[0]), "k": K, "m": peers.M,
              "ef_construction": peers.EF_CONSTRUCTION, "efs": args.ef, "runs": args.runs,
              "threads": args.threads, "systems": args.systems,
              "sweep_budget_seconds": args.sweep_budget,
              "max_build_minutes": args.max_build_minutes,
              "target_recalls": list(TARGET_RECALLS),
              "base_sha1": hashlib.sha1(base.tobytes()).hexdigest(),
              "queries_sha1": hashlib.sha1(queries.tobytes()).hexdigest()}
    _log(f"{header['dataset']['name']}: {base.shape[0]:,} x {base.shape[1]} base, "
         f"{queries.shape[0]:,} queries; systems {', '.join(args.systems)}; CPU "
         f"{header['cpu']['model']} x{header['cpu']['cores']}, load {header['cpu']['loadavg']}")
    out_dir = args.out if args.out is not None else default_out_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = output_stem(args)
    tmp_root = str(args.tmpdir) if args.tmpdir else None
    if args.tmpdir:
        args.tmpdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="augurdb-suite-", dir=tmp_root) as tmp:
        suite = Suite(args, base, queries, gt, Path(tmp))
        try:
            suite.run()
        except KeyboardInterrupt:
            _log("interrupted: writing what was measured")
        results = suite.results
    cores = header["cpu"]["cores_usable"] or header["cpu"]["cores"] or 1
    notes = observations(results, args.threads, cores)
    stamps = {b.get("engine_stamp") for b in results.get("augurdb", {}).get("builds", [])
              if b.get("engine_stamp")}
    if len(stamps) > 1:
        notes.append(f"AugurDB's engine library changed during the run (mtimes {sorted(stamps)}): "
                     "another build was installed meanwhile")
    plots: dict[str, str] = {}
    plot_error = None
    try:
        plots = make_plots(results, config, out_dir, stem,
                           f"{header['dataset']['name']}, {base.shape[0]:,} vectors")
    except ImportError as exc:
        plot_error = f"no plots: {exc} (pip install matplotlib)"
        notes.append(plot_error)
    rel_plots = {}
    for name, path in plots.items():
        try:
            rel_plots[name] = str(Path(path).resolve().relative_to(
                (common.repo_root() or Path.cwd()).resolve()))
        except ValueError:
            rel_plots[name] = str(path)
    elapsed = time.perf_counter() - started
    report = format_report(header, config, results, notes, rel_plots)
    report += f"\n(total suite time {elapsed / 60:.1f} min; load average at end " \
              f"{common.cpu_info()['loadavg']})\n"
    payload = {"header": header, "config": config, "systems": results,
               "observations": notes, "plots": plots, "plot_error": plot_error,
               "seconds_total": elapsed, "loadavg_end": common.cpu_info()["loadavg"],
               "report_markdown": report}
    json_path = write_json(out_dir / f"{stem}.json", payload)
    md_path = out_dir / f"{stem}.md"
    md_path.write_text(report, encoding="utf-8")
    print(report)
    print(f"results written to {json_path} and {md_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
