"""Quantized traversal side by side (issues 9 and 22): AugurDB fp32 / SQ8 / SQ4 against
hnswlib (fp32), faiss ``IndexHNSWSQ`` (8-bit scalar quantizer), usearch (``i8``), glass (SQ8U)
and ScaNN, in one process, interleaved per ef.

For every ef of the sweep and every repetition, each system in turn runs the same queries one per
call from one thread (best of ``--reps`` counts: noise from other processes only ever lowers QPS);
recall@10 follows the ann-benchmarks rule against exact ground truth. QPS is then interpolated
(log-linear) at recall 0.95 and 0.99 and divided by hnswlib's. A memory table reports what each
system exposes, labelled.

Systems and parameters (M=16, ef_construction=200 everywhere; builds use ``--build-threads``,
default 2; queries one thread):

- ``hnswlib``: ``Index('l2')``, ``add_items(num_threads=2)``, ``set_ef(ef)``.
- ``faiss-hnswsq8``: ``IndexHNSWSQ(d, ScalarQuantizer.QT_8bit, 16)``, ``efConstruction=200``,
  ``train`` then ``add`` on the float32 base (per-dimension min/max codes), ``efSearch=ef``;
  ``omp_set_num_threads(1)`` during queries. No rerank: results come from the codes.
- ``usearch-i8``: ``Index(metric='l2sq', dtype='i8', connectivity=16, expansion_add=200)``,
  ``expansion_search=ef``. usearch's own float -> i8 cast assumes values in [-1, 1] (it is meant
  for normalised vectors), so the data are converted to int8 here, before the build and outside
  the timing, and given to usearch as int8 (base and queries alike):

  * Fashion-MNIST (integers 0..255): ``x - 128``. Lossless for L2 (a common translation does not
    change any difference), so usearch's i8 distances are exact.
  * clustered-1m and minilm-384 (floats): one global scale ``s = 127 / max|base|`` for all
    dimensions, ``round(x * s)`` clipped to [-127, 127] (queries with the same ``s``). A single
    scale keeps the Euclidean geometry (per-dimension scales would not); the rounding error is
    what usearch's recall pays for i8 on float data. No rerank.
- ``glass`` and ``scann``: through their suite adapters (:mod:`bench.ann.peers.glass`,
  :mod:`bench.ann.peers.scann`, where their set-up is explained): glass builds and walks SQ8U
  codes with a float32 refine (its build row also gives the graph alone, without ``optimize``);
  ScaNN's tree + anisotropic hashing + exact reorder, ef mapped to (leaves, reorder depth).
- ``augurdb-fp32``: in-memory collection.
- ``augurdb-sq8`` / ``augurdb-sq4``: persistent collections with ``quantization=...``,
  ``vectors_on_disk=True`` and ``durability='none'``, checkpointed after the build so that the
  float32 rows used by the (default) rerank are served from the checkpoint mapping.

Data sets: Fashion-MNIST (the shared ground truth), ``clustered-1m`` (:mod:`bench.ann.synthetic`)
and ``minilm-384``, the real sentence-embedding set of :mod:`bench.ann.minilm` (61,808 Debian
package descriptions embedded by all-MiniLM-L6-v2; its docstring says how to install it). The
MiniLM vectors are unit-norm, so every system searches it with L2 as on the other sets: on unit
vectors L2 order is cosine order, and no system pays for a different metric's kernel.

All systems answer through their Python API (one call per query); AugurDB through
``search_batch`` with one row (the same engine as ``search`` without Hit objects).

    python -m bench.ann.quantized [--dataset fashion-mnist|clustered-1m|minilm-384] [--reps 3]
    python -m bench.ann.quantized --dataset clustered-1m --queries 1000 --ef 10 16 24 40 64
    python -m bench.ann.quantized --quick      # seconds: 5,000 base vectors, 200 queries

"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

import augurdb
from . import datasets, synthetic
from .common import (
    Meter,
    cpu_info,
    exact_ground_truth,
    fmt_int,
    fmt_mib,
    git_commit,
    log,
    package_version,
    qps_at_recall,
    recall_at_k,
    release_free_memory,
    rss_bytes,
    uptime,
)
from .peers import make_adapter, timed_loop

M = 16
EF_CONSTRUCTION = 200
K = 10
TARGETS = (0.95, 0.99)
DATASETS = ("fashion-mnist", "clustered-1m", "minilm-384")
SYSTEM_ORDER = ("hnswlib", "faiss-hnswsq8", "usearch-i8", "glass", "scann", "augurdb-fp32",
                "augurdb-sq8", "augurdb-sq4")
#: Optional rows (``--systems``): the same quantized collection searched with ``rerank=ef``
#: instead of the default (2k for SQ8, 4k for SQ4); shares the collection when its default row runs.
EXTRA_SYSTEMS = ("augurdb-sq8-rerank-ef", "augurdb-sq4-rerank-ef")
LABELS = {
    "hnswlib": "hnswlib (fp32)",
    "faiss-hnswsq8": "faiss IndexHNSWSQ (SQ8)",
    "usearch-i8": "usearch (i8)",
    "glass": "glass (SQ8U walk + fp32 refine)",
    "scann": "ScaNN (tree + AH + fp32 reorder)",
    "augurdb-fp32": "AugurDB fp32",
    "augurdb-sq8": "AugurDB SQ8 (fp32 on disk)",
    "augurdb-sq4": "AugurDB SQ4 (fp32 on disk)",
    "augurdb-sq8-rerank-ef": "AugurDB SQ8, rerank=ef",
    "augurdb-sq4-rerank-ef": "AugurDB SQ4, rerank=ef",
}
PEER_MODULES = {"hnswlib": "hnswlib", "faiss-hnswsq8": "faiss", "usearch-i8": "usearch",
                "glass": "glass", "scann": "scann"}
PEER_PACKAGES = {"hnswlib": "hnswlib", "faiss-hnswsq8": "faiss-cpu", "usearch-i8": "usearch",
                 "glass": "pyglass-portable", "scann": "scann"}
DEFAULT_EFS = {"fashion-mnist": [6, 8, 10, 12, 14, 16, 20, 24, 32, 48],
               "clustered-1m": [10, 16, 24, 40, 64, 100],
               "minilm-384": [10, 16, 24, 32, 48, 64, 96, 128]}
DEFAULT_QUERIES = {"fashion-mnist": 3000, "clustered-1m": 1000, "minilm-384": 1000}
QUICK_BASE = 5000
QUICK_QUERIES = 200
QUICK_EFS = [10, 32]

FloatArray = npt.NDArray[np.float32]


# --------------------------------------------------------------------------------------------
# Small helpers


def qps_one_by_one(search: Callable[[Any], Any], rows: Sequence[Any]) -> tuple[float, list[Any]]:
    """(queries per second, raw results) of one ``search(row)`` call per row."""
    seconds, out = timed_loop(search, rows)
    return len(rows) / seconds, out


def ids_of(raw: Sequence[Any]) -> npt.NDArray[np.int64]:
    out = np.full((len(raw), K), -1, dtype=np.int64)
    for i, row in enumerate(raw):
        ids = np.asarray(row).astype(np.int64, copy=False).ravel()[:K]
        out[i, :ids.shape[0]] = ids
    return out


class Report:
    """Prints markdown lines and keeps them for ``--out``."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, line: str = "") -> None:
        print(line, flush=True)
        self.lines.append(line)


# --------------------------------------------------------------------------------------------
# Data


def load(dataset: str, n_base: int | None, n_queries: int | None,
         quick: bool) -> tuple[FloatArray, FloatArray, npt.NDArray[Any], dict[str, Any]]:
    """(base, queries, ground-truth squared distances (nq, >= K), description)."""
    if quick:
        n_base = n_base or QUICK_BASE
        n_queries = n_queries or QUICK_QUERIES
    n_queries = n_queries or DEFAULT_QUERIES[dataset]
    if dataset == "fashion-mnist":
        data = datasets.load_fashion_mnist(limit_train=n_base, limit_test=n_queries)
        if n_base is None or n_base >= 60_000:
            gt = datasets.load_ground_truth().sqdist[:n_queries]
            source = "shared/data exact ground truth (10,000 x 100)"
        else:
            gt = exact_ground_truth(data.train, data.test, k=K).sqdist
            source = "exact brute force on the subset"
        return data.train, data.test, gt, {
            "name": "Fashion-MNIST-784 (L2, pixel values 0..255)", "ground_truth": source}
    if dataset == "clustered-1m":
        base, queries, truth, info = synthetic.load(
            n=n_base or synthetic.DEFAULT_N, n_queries=n_queries, k=K if quick else 100,
            use_cache=not quick)
        cached = " (cached)" if info.get("ground_truth_cached") else ""
        return base, queries, truth.sqdist, {
            "name": f"clustered-1m (synthetic 128-d, intrinsic 12-d, "
                    f"{info['generator']}, seed {info['seed']})",
            "ground_truth": f"{info['ground_truth']}{cached}"}
    if dataset == "minilm-384":
        from . import minilm  # onnxruntime and the model: needed only to fill the cache

        base, queries, truth = minilm.load(n_base=n_base, n_queries=n_queries)
        return base, queries, truth.sqdist, {
            "name": "minilm-384 (all-MiniLM-L6-v2 embeddings of Debian package descriptions, "
                    "unit-norm; searched with L2, the same order as cosine)",
            "ground_truth": "exact top-100 (bench.ann.minilm, cached)"}
    raise ValueError(f"unknown dataset {dataset!r}")


def int8_codec(dataset: str, base: FloatArray) -> tuple[Callable[[FloatArray], Any], str]:
    """How vectors are given to usearch i8 (see the module docstring)."""
    if dataset == "fashion-mnist":
        def convert(x: FloatArray) -> Any:
            return np.ascontiguousarray(np.asarray(x, dtype=np.int16) - 128, dtype=np.int8)
        return convert, "x - 128 (0..255 -> -128..127; lossless for L2)"
    scale = 127.0 / float(np.max(np.abs(base)))

    def convert_scaled(x: FloatArray) -> Any:
        return np.ascontiguousarray(np.clip(np.rint(x * scale), -127, 127), dtype=np.int8)
    return convert_scaled, (f"round(x * {scale:.4f}) clipped to [-127, 127] (one global scale "
                            f"= 127 / max|base|; not lossless)")


# --------------------------------------------------------------------------------------------
# Systems


class System:
    """One index: ``build`` (timed by the caller), ``set_ef``, ``rows`` (per-query arguments,
    prepared outside the timing), ``search`` (one query), ``memory`` (label -> (bytes, what))."""

    name = ""
    #: What the build reported beyond its time (Peer: glass's graph-only seconds).
    extra: dict[str, Any] = {}

    def build(self, base: FloatArray, threads: int) -> None:
        raise NotImplementedError

    def set_ef(self, ef: int) -> None:
        raise NotImplementedError

    def rows(self, queries: FloatArray) -> list[Any]:
        return [queries[i:i + 1] for i in range(queries.shape[0])]

    def search(self, row: Any) -> Any:
        raise NotImplementedError

    def memory(self) -> list[tuple[str, int | None, str]]:
        return []

    def ids(self, raw: Sequence[Any]) -> npt.NDArray[np.int64]:
        """Raw results of the sweep -> (n, K) ids (outside the timing)."""
        return ids_of(raw)

    def close(self) -> None:
        pass


class Hnswlib(System):
    name = "hnswlib"

    def build(self, base: FloatArray, threads: int) -> None:
        import hnswlib
        self.index = hnswlib.Index("l2", base.shape[1])
        self.index.init_index(base.shape[0], M=M, ef_construction=EF_CONSTRUCTION, random_seed=42)
        self.index.add_items(base, num_threads=threads)
        self.index.set_num_threads(1)

    def set_ef(self, ef: int) -> None:
        self.index.set_ef(ef)

    def search(self, row: Any) -> Any:
        return self.index.knn_query(row, k=K, num_threads=1)[0]

    def memory(self) -> list[tuple[str, int | None, str]]:
        return [("index_file_size()", int(self.index.index_file_size()),
                 "size of save_index's file = its in-memory blocks (fp32 vectors, links, "
                 "labels)")]


class FaissHNSWSQ(System):
    name = "faiss-hnswsq8"

    def build(self, base: FloatArray, threads: int) -> None:
        import faiss
        self.faiss = faiss
        faiss.omp_set_num_threads(threads)
        index = faiss.IndexHNSWSQ(base.shape[1], faiss.ScalarQuantizer.QT_8bit, M)
        index.hnsw.efConstruction = EF_CONSTRUCTION
        index.train(base)
        index.add(base)
        faiss.omp_set_num_threads(1)  # the query phase is single-threaded
        self.index = index

    def set_ef(self, ef: int) -> None:
        self.index.hnsw.efSearch = ef

    def search(self, row: Any) -> Any:
        return self.index.search(row, K)[1]

    def memory(self) -> list[tuple[str, int | None, str]]:
        ntotal = int(self.index.ntotal)
        code_size = int(self.faiss.downcast_index(self.index.storage).code_size)
        links = int(self.index.hnsw.neighbors.size()) * 4
        serialized = len(self.faiss.serialize_index(self.index))
        return [("serialize_index length", serialized,
                 "whole index as written by write_index (codes, SQ ranges, links, levels)"),
                ("ntotal x code_size", ntotal * code_size, f"SQ8 codes ({code_size} B/vector)"),
                ("hnsw.neighbors x 4", links, "link arrays (int32, all levels)")]


class USearchI8(System):
    name = "usearch-i8"

    def __init__(self, convert: Callable[[FloatArray], Any]) -> None:
        self.convert = convert

    def build(self, base: FloatArray, threads: int) -> None:
        from usearch.index import Index
        codes = self.convert(base)
        self.index = Index(ndim=base.shape[1], metric="l2sq", dtype="i8", connectivity=M,
                           expansion_add=EF_CONSTRUCTION, expansion_search=64)
        self.index.add(np.arange(base.shape[0], dtype=np.uint64), codes, threads=threads)

    def set_ef(self, ef: int) -> None:
        self.index.expansion_search = ef

    def rows(self, queries: FloatArray) -> list[Any]:
        codes = self.convert(queries)
        return [codes[i] for i in range(codes.shape[0])]

    def search(self, row: Any) -> Any:
        return self.index.search(row, K, threads=1).keys

    def memory(self) -> list[tuple[str, int | None, str]]:
        return [("memory_usage", int(self.index.memory_usage),
                 f"bytes usearch reports allocated (dtype {self.index.dtype}, SIMD "
                 f"{getattr(self.index, 'hardware_acceleration', '?')}); includes capacity "
                 "reserved ahead, so it can exceed the RSS growth")]


class Peer(System):
    """A peer driven through its suite adapter (:mod:`bench.ann.peers`): glass and ScaNN, whose
    set-up (and why) is written down once, there."""

    def __init__(self, key: str, dim: int, workdir: Path) -> None:
        self.name = key
        self.adapter = make_adapter(key, dim)
        self.workdir = workdir

    def build(self, base: FloatArray, threads: int) -> None:
        self.extra = self.adapter.build(base, threads, self.workdir)

    def set_ef(self, ef: int) -> None:
        self.adapter.set_ef(ef)
        self.call = self.adapter.query_call("single", ef)

    def rows(self, queries: FloatArray) -> list[Any]:
        return self.adapter.rows(queries)

    def search(self, row: Any) -> Any:
        return self.call(row)

    def ids(self, raw: Sequence[Any]) -> npt.NDArray[np.int64]:
        return self.adapter.ids_of(raw, len(raw))

    def memory(self) -> list[tuple[str, int | None, str]]:
        return [("n/a", None, "the library reports no memory figure")]

    def close(self) -> None:
        self.adapter.close()


class AugurDB(System):
    def __init__(self, quantization: str, workdir: Path) -> None:
        self.quantization = quantization
        self.workdir = workdir
        self.name = "augurdb-fp32" if quantization == "none" else f"augurdb-{quantization}"
        self.ef = 10
        self.rerank_ef = False
        self.shared = False

    def build(self, base: FloatArray, threads: int) -> None:
        common = {"dim": base.shape[1], "metric": "l2", "m": M,
                  "ef_construction": EF_CONSTRUCTION, "threads": threads}
        if self.quantization == "none":
            col = augurdb.open(**common)
        else:
            col = augurdb.open(self.workdir / self.quantization, quantization=self.quantization,
                               durability="none", vectors_on_disk=True, **common)
        col.add(np.arange(base.shape[0], dtype=np.int64), base)
        if self.quantization != "none":
            col.checkpoint()  # from here on the float32 rows are served from the file
        self.col = col

    def set_ef(self, ef: int) -> None:
        self.ef = ef

    def search(self, row: Any) -> Any:
        if self.rerank_ef:
            return self.col.search_batch(row, k=K, ef=self.ef, threads=1, rerank=self.ef).ids[0]
        return self.col.search_batch(row, k=K, ef=self.ef, threads=1).ids[0]

    def memory(self) -> list[tuple[str, int | None, str]]:
        st = self.col.stats()
        return [("stats()['memory_bytes']", int(st["memory_bytes"]),
                 "resident: graph, codes, in-memory fp32 vectors, id map"),
                ("stats()['mapped_vector_bytes']", int(st.get("mapped_vector_bytes", 0)),
                 "fp32 rows served from the checkpoint mapping (page cache, not counted above)")]

    def close(self) -> None:
        if not self.shared:
            self.col.close()


def rerank_ef_view(of: AugurDB) -> AugurDB:
    """The collection of ``of`` searched with ``rerank=ef`` (no second build)."""
    view = AugurDB(of.quantization, of.workdir)
    view.name, view.col, view.rerank_ef, view.shared = f"{of.name}-rerank-ef", of.col, True, True
    return view


def available(name: str) -> str | None:
    """None when the system can run, else why not (the missing package)."""
    module = PEER_MODULES.get(name)
    if module is None or importlib.util.find_spec(module) is not None:
        return None
    return f"package {PEER_PACKAGES[name]!r} is not installed (pip install {PEER_PACKAGES[name]})"


# --------------------------------------------------------------------------------------------
# The run


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", choices=DATASETS, default="fashion-mnist")
    parser.add_argument("--limit", type=int, default=None,
                        help="use only the first N base vectors (exact ground truth recomputed)")
    parser.add_argument("--queries", type=int, default=None,
                        help="queries (default 3000 for fashion-mnist, 1000 for clustered-1m)")
    parser.add_argument("--ef", type=int, nargs="+", default=None)
    parser.add_argument("--reps", type=int, default=None,
                        help="interleaved repetitions per ef; the best QPS of each counts "
                             "(default 3, 1 with --quick)")
    parser.add_argument("--build-threads", type=int, default=2)
    parser.add_argument("--systems", nargs="+", choices=SYSTEM_ORDER + EXTRA_SYSTEMS,
                        default=list(SYSTEM_ORDER),
                        help="default: all of SYSTEM_ORDER; EXTRA_SYSTEMS only when named")
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke run: {QUICK_BASE} base vectors, {QUICK_QUERIES} queries, "
                             f"ef {QUICK_EFS}, 1 rep")
    parser.add_argument("--out", type=Path, default=None, help="also write the report here")
    args = parser.parse_args(argv)
    if args.ef is None:
        args.ef = QUICK_EFS if args.quick else DEFAULT_EFS[args.dataset]
    if args.reps is None:
        args.reps = 1 if args.quick else 3
    return args


def header_lines(base: FloatArray, queries: FloatArray, info: dict[str, Any]) -> list[str]:
    """The date, CPU (model, SIMD flags, THP), engine build, peer versions and data lines every
    report of this module and :mod:`bench.ann.incremental` starts with."""
    cpu = cpu_info()
    bi = augurdb.build_info()
    lines = [f"- date: {time.strftime('%Y-%m-%d %H:%M %Z')}",
             f"- CPU: {cpu['model']}, {cpu['cores']} cores ({cpu['cores_usable']} usable), "
             f"flags {' '.join(cpu['flags'])}, THP {cpu['thp']}",
             f"- AugurDB {bi['version']} SIMD {bi['simd']} (detected {bi['simd_detected']}), "
             f"{bi['compiler']}; checkout {git_commit()}"]
    core = next(Path(augurdb.__file__).parent.glob("_core*"), None)
    if core is not None:
        built = time.strftime("%Y-%m-%d %H:%M %Z", time.localtime(core.stat().st_mtime))
        lines.append(f"- installed extension {core.name} written {built} (the checkout above may "
                     "have changed since it was built)")
    versions = ", ".join(f"{p} {package_version(p) or 'missing'}"
                         for p in ("hnswlib", "faiss-cpu", "usearch", "pyglass-portable", "scann",
                                   "numpy"))
    lines.append(f"- peers: {versions}; Python {sys.version.split()[0]}")
    lines.append(f"- data: {info['name']}; {base.shape[0]:,} base vectors x {base.shape[1]}, "
                 f"{queries.shape[0]:,} queries; ground truth: {info['ground_truth']}")
    return lines


def header(report: Report, args: argparse.Namespace, base: FloatArray, queries: FloatArray,
           info: dict[str, Any], codec_note: str) -> None:
    report(f"# Quantized traversal vs hnswlib, faiss HNSWSQ, usearch i8, glass, ScaNN: "
           f"{args.dataset}"
           f"{' (quick)' if args.quick else ''}\n")
    for line in header_lines(base, queries, info):
        report(line)
    if args.limit:
        report(f"- --limit {args.limit}: only the first {args.limit:,} base vectors are indexed "
               "(the ground truth is exact for that prefix)")
    report(f"- usearch i8 input: {codec_note}")
    report(f"- HNSW M={M}, ef_construction={EF_CONSTRUCTION}; builds with {args.build_threads} "
           f"threads; queries one per call, one thread, k={K}; ef sweep {args.ef}; best of "
           f"{args.reps} interleaved repetitions")
    report(f"- load at start: `{uptime()}`")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    report = Report()
    base, queries, gt_sq, info = load(args.dataset, args.limit, args.queries, args.quick)
    convert, codec_note = int8_codec(args.dataset, base)
    header(report, args, base, queries, info, codec_note)

    workdir = tempfile.TemporaryDirectory(prefix="augurdb-quant-bench-")
    makers: dict[str, Callable[[], System]] = {
        "hnswlib": Hnswlib, "faiss-hnswsq8": FaissHNSWSQ,
        "usearch-i8": lambda: USearchI8(convert),
        "glass": lambda: Peer("glass", base.shape[1], Path(workdir.name)),
        "scann": lambda: Peer("scann", base.shape[1], Path(workdir.name)),
        "augurdb-fp32": lambda: AugurDB("none", Path(workdir.name)),
        "augurdb-sq8": lambda: AugurDB("sq8", Path(workdir.name)),
        "augurdb-sq4": lambda: AugurDB("sq4", Path(workdir.name)),
    }
    for extra in EXTRA_SYSTEMS:
        quant = extra.split("-")[1]
        makers[extra] = lambda quant=quant: _rerank_ef(quant)

    def _rerank_ef(quant: str) -> System:
        system = AugurDB(quant, Path(workdir.name) / "rerank-ef")
        system.rerank_ef = True
        system.name = f"augurdb-{quant}-rerank-ef"
        return system

    systems: dict[str, System] = {}
    skipped: dict[str, str] = {}
    builds: dict[str, tuple[Meter, int]] = {}
    for name in [n for n in SYSTEM_ORDER + EXTRA_SYSTEMS if n in args.systems]:
        base_name = name.removesuffix("-rerank-ef")
        if base_name != name and isinstance(systems.get(base_name), AugurDB):
            systems[name] = rerank_ef_view(systems[base_name])  # same collection, no build
            continue
        why = available(name)
        if why:
            skipped[name] = why
            print(f"skipping {name}: {why}", file=sys.stderr, flush=True)
            continue
        system = makers[name]()
        release_free_memory()
        rss0 = rss_bytes()
        log(f"building {name} ({base.shape[0]:,} vectors, {args.build_threads} threads)")
        with Meter() as meter:
            system.build(base, args.build_threads)
        release_free_memory()
        builds[name] = (meter, rss_bytes() - rss0)
        log(f"  {meter.seconds:.1f} s")
        systems[name] = system
    report(f"- load after the builds: `{uptime()}`\n")

    report("## Builds\n")
    report("| system | seconds | vectors/s | own cores | other processes' cores |\n"
           "|---|---:|---:|---:|---:|")
    for name, (meter, _rss) in builds.items():
        report(f"| {LABELS[name]} | {meter.seconds:.1f} | {base.shape[0] / meter.seconds:,.0f} | "
               f"{meter.own_cores:.2f} | {meter.other_cores:.2f} |")
        graph_seconds = systems[name].extra.get("graph_seconds")
        if graph_seconds:
            report(f"| {LABELS[name]}, graph only (no optimize) | {graph_seconds:.1f} | "
                   f"{base.shape[0] / graph_seconds:,.0f} | | |")
    for name in systems:
        if name not in builds:
            report(f"| {LABELS[name]} | shares the {name.removesuffix('-rerank-ef')} build | | | |")
    for name, why in skipped.items():
        report(f"| {LABELS[name]} | skipped: {why} | | | |")

    rows = {name: s.rows(queries) for name, s in systems.items()}
    curves: dict[str, list[tuple[float, float]]] = {name: [] for name in systems}
    report("\n## Sweep (one query per call, single thread)\n")
    report("`other cores`: CPU time other processes used during the best repetition, in "
           "cores (2 = the machine was fully busy besides this benchmark).\n")
    report("| ef | system | recall@10 | QPS | other cores |\n|---:|---|---:|---:|---:|")
    for ef in args.ef:
        best: dict[str, tuple[float, list[Any], float]] = {}
        for s in systems.values():
            s.set_ef(ef)
        for _ in range(args.reps):  # interleaved: every system once per repetition
            for name, s in systems.items():
                with Meter() as meter:
                    qps, raw = qps_one_by_one(s.search, rows[name])
                if name not in best or qps > best[name][0]:
                    best[name] = (qps, raw, meter.other_cores)
        for name, (qps, raw, other) in best.items():
            rec = recall_at_k(systems[name].ids(raw), queries, base, gt_sq, K)
            curves[name].append((rec, qps))
            report(f"| {ef} | {name} | {rec:.4f} | {qps:,.0f} | {other:.2f} |")
        log(f"ef {ef} done")
    report(f"\nload after the sweep: `{uptime()}`")

    report("\n## QPS at fixed recall@10 (interpolated; n/a = the sweep does not reach or "
           "bracket it)\n")
    hnsw = {t: qps_at_recall(curves["hnswlib"], t) if "hnswlib" in curves else None
            for t in TARGETS}
    report("| system | QPS @ 0.95 | QPS @ 0.99 | / hnswlib @ 0.95 | / hnswlib @ 0.99 | "
           "recall range of the sweep |\n|---|---:|---:|---:|---:|---|")
    for name, curve in curves.items():
        vals = {t: qps_at_recall(curve, t) for t in TARGETS}
        ratios = [f"{vals[t] / hnsw[t]:.2f}x" if vals[t] and hnsw[t] else "n/a"
                  for t in TARGETS]
        recs = [r for r, _ in curve]
        report(f"| {LABELS[name]} | {fmt_int(vals[0.95])} | {fmt_int(vals[0.99])} | "
               f"{ratios[0]} | {ratios[1]} | {min(recs):.4f} - {max(recs):.4f} |")
    for name, why in skipped.items():
        report(f"| {LABELS[name]} | skipped: {why} | | | | |")

    report("\n## Memory\n")
    raw_bytes = base.nbytes
    report(f"Raw float32 vectors: {fmt_mib(raw_bytes)}. `RSS growth` is this process's "
           "resident-set "
           "growth over the build (after releasing freed memory); it is rough (allocator reuse, "
           "mapped pages touched) and the same measure for every system. The other figures are "
           "each system's own.\n")
    report("| system | figure | value | / raw fp32 | what it is | RSS growth over build |\n"
           "|---|---|---:|---:|---|---:|")
    for name, s in systems.items():
        if name not in builds:
            continue  # a view of another row's collection: same memory
        figures = s.memory()
        for i, (label, value, what) in enumerate(figures):
            ratio = f"{value / raw_bytes:.2f}x" if value is not None else "n/a"
            rss = fmt_mib(builds[name][1]) if i == 0 and name in builds else ""
            report(f"| {LABELS[name]} | `{label}` | {fmt_mib(value)} | {ratio} | {what} | {rss} |")
    if "augurdb-fp32" in systems:
        fp32 = systems["augurdb-fp32"].memory()[0][1]
        for name in ("augurdb-sq8", "augurdb-sq4"):
            if name in systems and fp32:
                mem = systems[name].memory()[0][1] or 0
                report(f"\n{LABELS[name]}: memory_bytes = {mem / fp32:.2f}x the fp32 "
                       "collection's.")
    report(f"\nload at the end: `{uptime()}`")

    for s in systems.values():
        s.close()
    workdir.cleanup()
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("\n".join(report.lines) + "\n", encoding="utf-8")
        if importlib.util.find_spec("matplotlib") is not None:
            from . import quantized_plots
            for path in quantized_plots.plot(args.out):
                log(f"plot: {path}")
        else:
            log("no plots: matplotlib is not installed (pip install matplotlib)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
