"""Graph quality on the data-set matrix: AugurDB (fp32 and SQ8) against hnswlib, side by side.

Run::

    python -m bench.ann.graph_quality                  # the default matrix (see matrix.py)
    python -m bench.ann.graph_quality --quick          # smaller sets, a few minutes
    python -m bench.ann.graph_quality --datasets gauss-clusters-1m --runs 2

Every graph or speed change is judged on the whole matrix (issue 24): recall at equal ef shows
the graph itself (hnswlib's search loop is the yardstick), QPS at recall 0.95 / 0.99 shows
whether a denser or sparser graph pays for itself.

Method: each system builds with M=16, ef_construction=200 on ``--threads`` threads (default 2)
from the same float32 array. For each ef (from k up, so that hnswlib, which raises ef to k, runs
the same beam) every system answers all queries in one call on one thread
(``search_batch(Q, threads=1)`` / ``knn_query(Q, num_threads=1)``: per-query Python overhead
stays out), interleaved per ef and repeated ``--runs`` times; the best time counts. Recall uses
the ann-benchmarks rule on distances recomputed from the vectors
(:func:`bench.ann.common.recall_at_k`). QPS at exactly 0.95 and 0.99 is interpolated on
each system's Pareto frontier. Absolute QPS are anecdotes (a shared 2-core machine); the ratios
against hnswlib, measured in the same run, are the result.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Callable

import numpy as np

import augurdb

from . import common, datasets, matrix
from .common import default_out_dir, git_commit, markdown_table, qps_at_recall_bound

M = 16
EF_CONSTRUCTION = 200
EFS = (10, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512)
QUICK_EFS = (10, 16, 24, 32, 48, 64, 128, 256)
TARGETS = (0.95, 0.99)
SYSTEMS = ("hnswlib", "augurdb", "augurdb-sq8")
SEED = 42


class Built:
    """One built index: how to search it at an ef, its build time and memory."""

    def __init__(self, name: str, search: Callable[[np.ndarray, int, int], np.ndarray],
                 build_seconds: float, memory_bytes: int | None, keep: Any) -> None:
        self.name = name
        self.search = search
        self.build_seconds = build_seconds
        self.memory_bytes = memory_bytes
        self.keep = keep  # the index object, alive while searched


def build(system: str, data: matrix.MatrixDataset, threads: int) -> Built:
    n, dim = data.base.shape
    start = time.perf_counter()
    if system == "hnswlib":
        hnswlib = common.require("hnswlib", "hnswlib")
        space = "cosine" if data.metric == "cosine" else "l2"
        index = hnswlib.Index(space=space, dim=dim)
        index.init_index(max_elements=n, M=M, ef_construction=EF_CONSTRUCTION, random_seed=SEED)
        index.add_items(data.base, np.arange(n), num_threads=threads)
        seconds = time.perf_counter() - start

        def search_hnswlib(q: np.ndarray, k: int, ef: int) -> np.ndarray:
            index.set_ef(ef)
            labels, _ = index.knn_query(q, k=k, num_threads=1)
            return np.asarray(labels, dtype=np.int64)

        return Built(system, search_hnswlib, seconds, None, index)
    quantization = "sq8" if system == "augurdb-sq8" else None
    col = augurdb.open(dim=dim, metric=data.metric, m=M, ef_construction=EF_CONSTRUCTION,
                       threads=threads, seed=SEED, quantization=quantization)
    col.add(np.arange(n, dtype=np.int64), data.base)
    seconds = time.perf_counter() - start

    def search_augurdb(q: np.ndarray, k: int, ef: int) -> np.ndarray:
        return np.asarray(col.search_batch(q, k=k, ef=ef, threads=1).ids)

    return Built(system, search_augurdb, seconds, int(col.stats()["memory_bytes"]), col)


def run_dataset(data: matrix.MatrixDataset, systems: Sequence[str], efs: Sequence[int],
                threads: int, runs: int) -> dict[str, Any]:
    n = data.base.shape[0]
    print(f"== {data.name}: {n:,} x {data.base.shape[1]} {data.metric}, "
          f"{data.queries.shape[0]:,} queries, k={data.k}", file=sys.stderr, flush=True)
    built = []
    for system in systems:
        b = build(system, data, threads)
        print(f"   {system}: built in {b.build_seconds:.1f} s ({n / b.build_seconds:,.0f} vec/s)",
              file=sys.stderr, flush=True)
        built.append(b)
    efs = [ef for ef in efs if ef >= data.k]
    curves: dict[str, list[dict[str, float]]] = {b.name: [] for b in built}
    for ef in efs:
        best = {b.name: float("inf") for b in built}
        found: dict[str, np.ndarray] = {}
        for _ in range(runs):
            for b in built:  # interleaved: load drift hits every system alike
                t0 = time.perf_counter()
                ids = b.search(data.queries, data.k, ef)
                best[b.name] = min(best[b.name], time.perf_counter() - t0)
                found[b.name] = ids
        for b in built:
            recall = common.recall_at_k(found[b.name], data.queries, data.base, data.gt_sqdist,
                                          data.k)
            curves[b.name].append({"ef": ef, "recall": recall,
                                   "qps": data.queries.shape[0] / best[b.name]})
        print(f"   ef {ef:4d}  " + "  ".join(
            f"{b.name} {curves[b.name][-1]['recall']:.4f} @ {curves[b.name][-1]['qps']:,.0f}"
            for b in built), file=sys.stderr, flush=True)
    at = {name: {f"{t:.2f}": qps_at(curve, t) for t in TARGETS} for name, curve in curves.items()}
    return {
        "dataset": data.name, "n": n, "dim": int(data.base.shape[1]), "metric": data.metric,
        "queries": int(data.queries.shape[0]), "k": data.k, "info": data.info,
        "builds": {b.name: {"seconds": b.build_seconds, "vectors_per_second": n / b.build_seconds,
                            "memory_bytes": b.memory_bytes} for b in built},
        "curves": curves, "qps_at_recall": at,
    }


def qps_at(curve: Sequence[dict[str, float]], target: float) -> tuple[float | None, bool]:
    return qps_at_recall_bound([(p["recall"], p["qps"]) for p in curve], target)


def _ratio(a: tuple[float | None, bool], b: tuple[float | None, bool]) -> str:
    if a[0] is None or b[0] is None or b[0] == 0:
        return "n/a"
    # A lower bound on our side and an exact or upper-bound-free figure on theirs: ">=".
    prefix = ">=" if a[1] and not b[1] else ("<=" if b[1] and not a[1] else "")
    return "n/a" if a[1] and b[1] else f"{prefix}{a[0] / b[0]:.2f}x"


def format_report(header: dict[str, Any], results: Sequence[dict[str, Any]]) -> str:
    lines = [f"# Graph quality on the data-set matrix ({header['date']})", "",
             f"CPU {header['cpu']['model']} ({header['cpu']['cores']} cores, "
             f"flags {' '.join(header['cpu']['flags'])}), SIMD level {header['simd']}, "
             f"load {header['cpu']['loadavg']}, commit {header['commit']}, "
             f"hnswlib {header['hnswlib']}. M={M}, ef_construction={EF_CONSTRUCTION}, builds on "
             f"{header['threads']} threads; queries all in one call on one thread, best of "
             f"{header['runs']}. Command: `{header['command']}`", ""]
    summary_rows = []
    for res in results:
        names = list(res["curves"])
        lines += [f"## {res['dataset']}: {res['n']:,} x {res['dim']} {res['metric']}, "
                  f"{res['queries']:,} queries, recall@{res['k']}", ""]
        rows = []
        for i, point in enumerate(res["curves"][names[0]]):
            row = [str(point["ef"])]
            for name in names:
                p = res["curves"][name][i]
                row.append(f"{p['recall']:.4f} / {p['qps']:,.0f}")
            rows.append(row)
        lines += [markdown_table(["ef", *(f"{n} recall / QPS" for n in names)], rows), ""]
        build_cells = [f"{n} {res['builds'][n]['vectors_per_second']:,.0f} vec/s" for n in names]
        lines += ["Build: " + ", ".join(build_cells), ""]
        base = res["qps_at_recall"].get("hnswlib", {})
        for name in names:
            if name == "hnswlib":
                continue
            at = res["qps_at_recall"][name]
            first = res["curves"][name][0]["ef"]
            gaps = [res["curves"][name][i]["recall"] - res["curves"]["hnswlib"][i]["recall"]
                    for i in range(len(res["curves"][name]))] if "hnswlib" in names else []
            none = (None, False)
            summary_rows.append([res["dataset"], name,
                                 f"{min(gaps):+.4f}" if gaps else "n/a",
                                 _ratio(tuple(at["0.95"]), tuple(base.get("0.95", none))),
                                 _ratio(tuple(at["0.99"]), tuple(base.get("0.99", none))),
                                 str(first)])
    lines = lines[:2] + [lines[2], "", "## Summary against hnswlib (same run)", "",
                         markdown_table(["data set", "system", "worst recall gap at equal ef",
                                         "QPS ratio @ .95", "QPS ratio @ .99", "first ef"],
                                        summary_rows), "",
                         "Gap: AugurDB's recall minus hnswlib's at the same ef, the worst over the "
                         "sweep. `>=`: AugurDB's recall at ef = k is already above the target, so "
                         "its QPS there bounds the ratio from below.", ""] + lines[4:]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sets (indicative only)")
    parser.add_argument("--datasets", nargs="+", choices=matrix.MATRIX, default=None,
                        help="default: " + " ".join(matrix.DEFAULT_MATRIX))
    parser.add_argument("--systems", nargs="+", choices=SYSTEMS, default=list(SYSTEMS))
    parser.add_argument("--ef", type=int, nargs="+", default=None)
    parser.add_argument("--threads", type=int, default=2, help="build threads (default 2)")
    parser.add_argument("--runs", type=int, default=None, help="timed runs per ef (3; quick 2)")
    parser.add_argument("--out", type=Path, default=None, help="default bench/results/")
    parser.add_argument("--tag", default="", help="suffix of the output file names")
    parser.add_argument("--render", type=Path, default=None,
                        help="only print the report of a JSON file this benchmark wrote")
    args = parser.parse_args(argv)
    if args.render is not None:
        saved = json.loads(args.render.read_text(encoding="utf-8"))
        measured = [r for r in saved["results"] if "unavailable" not in r]
        for r in measured:  # recomputed: older files lack the lower-bound flag
            r["qps_at_recall"] = {name: {f"{t:.2f}": qps_at(curve, t) for t in TARGETS}
                                  for name, curve in r["curves"].items()}
        print(format_report(saved["header"], measured))
        return 0
    runs = args.runs or (2 if args.quick else 3)
    efs = args.ef or (QUICK_EFS if args.quick else EFS)
    hnswlib = common.require("hnswlib", "hnswlib") if "hnswlib" in args.systems else None
    cpu = common.cpu_info()
    header = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"), "cpu": cpu,
        "simd": augurdb.build_info().get("simd", "unknown"), "commit": git_commit(),
        "hnswlib": getattr(hnswlib, "__version__", "installed" if hnswlib else "absent"),
        "threads": args.threads, "runs": runs, "quick": args.quick,
        "command": "python -m bench.ann.graph_quality " + " ".join(sys.argv[1:] if argv is None
                                                                       else argv),
    }
    print(f"CPU {cpu['model']}, SIMD {header['simd']}, flags {' '.join(cpu['flags'])}",
          file=sys.stderr, flush=True)
    results = []
    for name in args.datasets or matrix.DEFAULT_MATRIX:
        try:
            data = matrix.load(name, quick=args.quick)
        except datasets.DatasetMissingError as error:
            print(f"== {name}: unavailable: {error}", file=sys.stderr, flush=True)
            results.append({"dataset": name, "unavailable": str(error)})
            continue
        results.append(run_dataset(data, args.systems, efs, args.threads, runs))
    measured = [r for r in results if "unavailable" not in r]
    report = format_report(header, measured)
    for r in results:
        if "unavailable" in r:
            report += f"\n{r['dataset']}: not measured ({r['unavailable']})\n"
    out = args.out or default_out_dir()
    out.mkdir(parents=True, exist_ok=True)
    stem = "graph-quality" + ("-quick" if args.quick else "") + (f"-{args.tag}" if args.tag else "")
    (out / f"{stem}.md").write_text(report, encoding="utf-8")
    (out / f"{stem}.json").write_text(json.dumps({"header": header, "results": results},
                                                 indent=1, default=str), encoding="utf-8")
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
