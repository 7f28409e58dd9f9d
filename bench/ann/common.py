"""Helpers every benchmark runner in bench/ann shares, so that each figure is measured, scored
and written the same way.

- the machine: :func:`machine_header` (CPU model, cores, SIMD level in use, versions, commit),
  :func:`cpu_info` and :func:`machine_banner` (from :mod:`augurdb.smoke_bench`);
- timing: :class:`Meter` (wall time plus the cores this process and everyone else used, so that
  contention is visible), RSS and peak-RSS readings, :func:`release_free_memory`;
- scoring: :func:`recall_at_k` (the ann-benchmarks rule) and exact ground truth, cached on disk by
  :func:`cached_ground_truth`; QPS at a target recall by :func:`qps_at_recall`;
- output: Markdown tables and number formats, :func:`write_json` (atomic), the default output
  directory, progress lines that do not break a tqdm bar.
"""

from __future__ import annotations

import argparse
import ctypes
import datetime
import gc
import hashlib
import importlib.metadata
import math
import os
import platform
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
from augurdb.smoke_bench import (
    GroundTruth,
    cpu_info,
    exact_ground_truth,
    machine_banner,
    recall_at_k,
    true_sqdist,
)

__all__ = ["GroundTruth", "Meter", "cached_ground_truth", "cpu_info", "exact_ground_truth",
           "machine_banner", "machine_header", "qps_at_recall", "recall_at_k", "true_sqdist"]

T = TypeVar("T")
FloatArray = npt.NDArray[np.float32]
IdArray = npt.NDArray[np.int64]


# --------------------------------------------------------------------------------------------
# The checkout and the machine


def repo_root() -> Path | None:
    """The AugurDB source checkout (holding ``pyproject.toml`` and ``bench/ann``) above this
    file or the working directory; None outside one."""
    for start in (Path(__file__).resolve().parent, Path.cwd().resolve()):
        for directory in (start, *start.parents):
            if (directory / "pyproject.toml").is_file() and (directory / "bench" / "ann").is_dir():
                return directory
    return None


def default_out_dir() -> Path:
    """``bench/results/`` in the source checkout, or under the working directory outside one."""
    return (repo_root() or Path.cwd()) / "bench" / "results"


def git_commit() -> str:
    """Short commit of the checkout this runs in (``+dirty`` with uncommitted tracked changes),
    or "unknown" outside a git checkout. The installed package may still differ from it."""
    cwd = repo_root() or Path.cwd()
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=cwd, check=True,
                                capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd,
                               check=True, capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{commit}+dirty" if dirty.strip() else (commit or "unknown")


def package_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def engine_built() -> str | None:
    """Modification time of the loaded engine library: tells which build of a dirty tree ran
    (and, compared across workers, whether a reinstall happened during a run)."""
    core = sys.modules.get("augurdb._core")
    path = getattr(core, "__file__", None)
    if not path:
        return None
    try:
        stamp = datetime.datetime.fromtimestamp(Path(path).stat().st_mtime).astimezone()
    except OSError:
        return None
    return stamp.isoformat(timespec="seconds")


def machine_header(**extra: Any) -> dict[str, Any]:
    """What every result file records first: date, CPU, SIMD level in use and detected, compiler,
    versions, commit, plus the runner's own ``extra`` fields."""
    import augurdb

    build = augurdb.build_info()
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu": cpu_info(),
        "simd": build.get("simd"),
        "simd_detected": build.get("simd_detected"),
        "augurdb_simd_env": os.environ.get("AUGURDB_SIMD"),
        "compiler": build.get("compiler"),
        "augurdb_version": augurdb.__version__,
        "augurdb_module": str(Path(augurdb.__file__).parent),
        "augurdb_core_built": engine_built(),
        "numpy_version": np.__version__,
        "python": platform.python_version(),
        "git_commit": git_commit(),
        **extra,
    }


def uptime() -> str:
    """``uptime``'s line (load averages over 1, 5 and 15 minutes)."""
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True,
                              timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        load = os.getloadavg()
        return f"load average: {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f}"


# --------------------------------------------------------------------------------------------
# Timing and memory


def rss_bytes() -> int:
    """Resident set size of this process (``/proc/self/statm``, field 2, times the page size)."""
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
    """Returns freed heap memory to the OS (glibc ``malloc_trim``), so that a following RSS delta
    counts new allocations instead of reused free pages. A no-op where unavailable."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _machine_cpu_seconds() -> tuple[float, float]:
    """(busy, steal) CPU seconds of the whole machine since boot, from the first line of
    /proc/stat: busy = user + nice + system + irq + softirq; steal = time the hypervisor gave
    our virtual CPUs to someone else. NaN where /proc/stat is unreadable."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            ticks = [int(x) for x in stat.readline().split()[1:9]]
    except (OSError, ValueError):
        return math.nan, math.nan
    user, nice, system, _idle, _iowait, irq, softirq, steal = (ticks + [0] * 8)[:8]
    hz = float(os.sysconf("SC_CLK_TCK"))
    return (user + nice + system + irq + softirq) / hz, steal / hz


class Meter:
    """``with Meter() as m: ...`` measures wall ``seconds`` and, in average cores, what this
    process (``own_cores``), every other process (``other_cores``) and the hypervisor
    (``steal_cores``) used meanwhile: contention shows up as other or steal well above zero."""

    seconds = own_cores = other_cores = steal_cores = 0.0

    def __enter__(self) -> Meter:
        self._busy, self._steal = _machine_cpu_seconds()
        self._cpu = time.process_time()
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self._start
        cpu = time.process_time() - self._cpu
        busy, steal = _machine_cpu_seconds()
        wall = max(self.seconds, 1e-9)
        self.own_cores = cpu / wall
        self.other_cores = max(0.0, (busy - self._busy - cpu) / wall)
        self.steal_cores = max(0.0, (steal - self._steal) / wall)

    def as_dict(self) -> dict[str, float]:
        return {"seconds": self.seconds, "own_cores": self.own_cores,
                "other_cores": self.other_cores, "steal_cores": self.steal_cores}


def best_of(fn: Any, runs: int) -> tuple[Any, float]:
    """(the last result of ``fn()``, the fastest of ``runs`` timed calls in seconds)."""
    best, out = math.inf, None
    for _ in range(runs):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return out, best


# --------------------------------------------------------------------------------------------
# Scoring


def cache_dir() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "augurdb" / "bench"


def cached_ground_truth(key: str, base: FloatArray, queries: FloatArray, k: int,
                        use_cache: bool = True) -> tuple[GroundTruth, bool, Path]:
    """(exact ground truth, whether it came from the cache, the cache file). Cached under
    :func:`cache_dir` by ``key`` and ``k``; a digest of the data guards against a stale file when
    a generator changes without a new key."""
    digest = hashlib.sha1(base[: min(len(base), 4096)].tobytes()
                          + queries.tobytes()).hexdigest()[:16]
    path = cache_dir() / f"{key}-k{k}.npz"
    if use_cache and path.is_file():
        with np.load(path) as cached:
            if "ids" in cached.files and str(cached["digest"]) == digest:
                return GroundTruth(ids=cached["ids"], sqdist=cached["sqdist"]), True, path
    truth = exact_ground_truth(base, queries, k=k)
    if use_cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, ids=truth.ids, sqdist=truth.sqdist, digest=np.array(digest))
        tmp.replace(path)
    return truth, False, path


class RecallCache:
    """recall@k of id arrays against one query set, memoised by the ids' bytes: a sweep often
    returns identical ids at neighbouring settings and the exact rescoring is the slow part."""

    def __init__(self, queries: FloatArray, base: FloatArray, gt_sqdist: npt.NDArray[Any],
                 k: int) -> None:
        self.queries, self.base, self.gt_sqdist, self.k = queries, base, gt_sqdist, k
        self._seen: dict[str, float] = {}

    def __call__(self, ids: npt.NDArray[Any]) -> float:
        key = hashlib.sha1(np.ascontiguousarray(ids).tobytes()).hexdigest()
        if key not in self._seen:
            n = ids.shape[0]
            self._seen[key] = recall_at_k(ids, self.queries[:n], self.base, self.gt_sqdist[:n],
                                          self.k)
        return self._seen[key]


def pareto_frontier(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """The (recall, qps) points no other point beats on both, sorted by increasing recall."""
    frontier: list[tuple[float, float]] = []
    best_qps = -math.inf
    for recall, qps in sorted(points, key=lambda p: (-p[0], -p[1])):
        if qps > best_qps:
            frontier.append((recall, qps))
            best_qps = qps
    return sorted(frontier)


def qps_at_recall(points: Sequence[tuple[float, float]], target: float) -> float | None:
    """QPS at exactly ``target`` recall: linear in recall, on log QPS, between the two bracketing
    points of the Pareto frontier. None when the sweep does not reach ``target`` or starts above
    it (no extrapolation).

    When the sweep brackets ``target`` but the frontier starts above it (a higher-recall point
    was also faster than every point below ``target``, which timing noise can cause), that
    point's QPS is returned: it is achievable at a recall of at least ``target``.
    """
    frontier = pareto_frontier(points)
    if not frontier:
        return None
    for recall, qps in frontier:
        if recall == target:
            return qps
    if frontier[0][0] > target and any(recall < target for recall, _ in points):
        return frontier[0][1]
    for (r0, q0), (r1, q1) in zip(frontier, frontier[1:]):
        if r0 < target < r1:
            t = (target - r0) / (r1 - r0)
            return math.exp(math.log(q0) + t * (math.log(q1) - math.log(q0)))
    return None


def qps_at_recall_bound(points: Sequence[tuple[float, float]],
                        target: float) -> tuple[float | None, bool]:
    """(QPS at recall ``target``, whether it is only a lower bound). When the whole sweep is
    above ``target`` (the smallest setting is already more accurate), its fastest point is a
    lower bound of the QPS at ``target``."""
    qps = qps_at_recall(points, target)
    if qps is None and points and min(r for r, _ in points) > target:
        return max(q for _, q in points), True
    return qps, False


# --------------------------------------------------------------------------------------------
# Output


def progress(items: Sequence[T], desc: str) -> Iterator[T]:
    """Iterates ``items`` with a tqdm bar when tqdm is installed, else with one line per item."""
    try:
        from tqdm import tqdm
    except ImportError:
        for index, item in enumerate(items):
            print(f"  {desc}: {index + 1}/{len(items)} ({item})", file=sys.stderr, flush=True)
            yield item
        return
    yield from tqdm(items, desc=desc, leave=False, file=sys.stderr, dynamic_ncols=True)


def sweep_parser(runner: str, description: str, quick_help: str) -> argparse.ArgumentParser:
    """The argument parser of ``python -m bench.ann.<runner>``, with its ``--quick`` flag; the
    runner adds its own options, then calls :func:`check_sweep_args`."""
    parser = argparse.ArgumentParser(prog=f"python -m bench.ann.{runner}",
                                     description=description)
    parser.add_argument("--quick", action="store_true", help=quick_help)
    return parser


def check_sweep_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Rejects ``--runs``, a ``--threads`` or an ``--ef`` below 1 (ef below k is valid: AugurDB
    narrows its walk, hnswlib raises ef to k), then sorts ``--ef`` and ``--threads`` and drops
    repeats."""
    if args.runs < 1 or any(ef < 1 for ef in args.ef) or any(t < 1 for t in args.threads):
        parser.error("--runs, --threads and every --ef must be >= 1")
    args.ef = sorted(set(args.ef))
    args.threads = sorted(set(args.threads))


def log(message: str) -> None:
    """A timestamped progress line on stderr that does not break a running tqdm bar."""
    line = f"[{time.strftime('%H:%M:%S')}] {message}"
    try:
        from tqdm import tqdm
    except ImportError:
        print(line, file=sys.stderr, flush=True)
    else:
        tqdm.write(line, file=sys.stderr)


def fmt_int(value: float | None) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) \
        else f"{value:,.0f}"


def fmt_ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def fmt_mib(value: float | None, unit: bool = True) -> str:
    return "n/a" if value is None else f"{value / 2**20:,.1f}" + (" MiB" if unit else "")


def fmt_s(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.3f}" if value < 10 else f"{value:,.1f}"


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub-flavoured Markdown table, columns padded for reading in a terminal."""
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *rows)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"

    return "\n".join([line(headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|",
                      *(line(row) for row in rows)])


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    return repr(value)


def write_json(path: Path, payload: Any) -> Path:
    """Writes ``payload`` as indented JSON through a temporary file and a rename, so that an
    interrupted run never leaves half a result behind."""
    import json

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2, default=_json_default) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def require(module: str, pip_name: str) -> Any:
    """Imports ``module`` for a runner that cannot do without it, or exits naming the package."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        sys.exit(f"error: this benchmark needs {module}: pip install {pip_name}")
