"""Incremental inserts into a large index (issue 23): batches of 1,000, durability "sync".

A database is loaded once and then grows by small batches, each of which must be durable when
``add`` returns. This benchmark bulk-loads all but the last ``batches x batch`` vectors of a set
(default: the 1,000,000 x 128 clustered set, so the index holds ~1M vectors), then inserts the
rest one batch at a time, interleaved across systems (batch i into every system, then batch
i + 1), and reports vectors/s over those batches, the median and 90th-percentile batch time, and
recall@10 of the grown index at a fixed ef against the exact ground truth of the full set.

Systems, same M/ef_construction and threads:
- hnswlib (fp32): ``add_items``; it has no durability at all (nothing reaches a disk), so its
  rate is an upper bound for what a durable store on top of it could do.
- AugurDB fp32 and SQ8: persistent collections opened with ``durability="sync"`` (every ``add``
  fsyncs its log record before it returns); the bulk load is one ``add`` followed by a
  checkpoint, not timed with the batches.
Both are told the final size up front (hnswlib's ``max_elements``, AugurDB's ``reserve``), so no
batch pays for growing the arrays.

    python -m bench.ann.incremental [--n 1000000] [--batches 20] [--batch 1000] [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import augurdb
import numpy as np
import numpy.typing as npt

from .common import Meter, log, recall_at_k, uptime
from .quantized import EF_CONSTRUCTION, K, M, Report, available, header_lines, load

FloatArray = npt.NDArray[np.float32]
SYSTEMS = ("hnswlib", "augurdb-fp32", "augurdb-sq8")
LABELS = {"hnswlib": "hnswlib (fp32, no durability)",
          "augurdb-fp32": "AugurDB fp32 (sync)",
          "augurdb-sq8": "AugurDB SQ8 (sync)"}
RECALL_EF = 64


class Grower:
    """One system: ``load`` the initial set, then ``insert`` batches; ``search`` for recall."""

    def load(self, base: FloatArray, threads: int) -> None:
        raise NotImplementedError

    def insert(self, ids: npt.NDArray[np.int64], rows: FloatArray) -> None:
        raise NotImplementedError

    def search(self, queries: FloatArray) -> npt.NDArray[np.int64]:
        raise NotImplementedError

    def close(self) -> None:
        pass


class Hnswlib(Grower):
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity

    def load(self, base: FloatArray, threads: int) -> None:
        import hnswlib  # type: ignore[import-untyped]
        self.index = hnswlib.Index(space="l2", dim=base.shape[1])
        self.index.init_index(max_elements=self.capacity, M=M, ef_construction=EF_CONSTRUCTION)
        self.threads = threads
        self.index.add_items(base, np.arange(base.shape[0]), num_threads=threads)

    def insert(self, ids: npt.NDArray[np.int64], rows: FloatArray) -> None:
        self.index.add_items(rows, ids, num_threads=self.threads)

    def search(self, queries: FloatArray) -> npt.NDArray[np.int64]:
        self.index.set_ef(RECALL_EF)
        labels, _ = self.index.knn_query(queries, k=K, num_threads=1)
        return np.asarray(labels, dtype=np.int64)


class AugurDB(Grower):
    def __init__(self, quantization: str, path: Path, capacity: int) -> None:
        self.quantization = quantization
        self.path = path
        self.capacity = capacity

    def load(self, base: FloatArray, threads: int) -> None:
        self.col = augurdb.open(self.path, dim=base.shape[1], metric="l2", m=M,
                                ef_construction=EF_CONSTRUCTION, threads=threads,
                                quantization=self.quantization, durability="sync")
        self.col.reserve(self.capacity)
        self.col.add(np.arange(base.shape[0], dtype=np.int64), base)
        self.col.checkpoint()

    def insert(self, ids: npt.NDArray[np.int64], rows: FloatArray) -> None:
        self.col.add(ids, rows)

    def search(self, queries: FloatArray) -> npt.NDArray[np.int64]:
        return self.col.search_batch(queries, k=K, ef=RECALL_EF, threads=1).ids.astype(np.int64)

    def close(self) -> None:
        self.col.close()


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", choices=("clustered-1m", "fashion-mnist"),
                        default="clustered-1m")
    parser.add_argument("--n", type=int, default=None,
                        help="vectors in the grown index (default: the whole set)")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--systems", nargs="+", choices=SYSTEMS, default=list(SYSTEMS))
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 20,000 vectors, 5 batches, 100 queries")
    parser.add_argument("--out", type=Path, default=None, help="also write the report here")
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.batches, args.queries = args.n or 20_000, 5, 100
    if args.batches <= 0 or args.batch <= 0 or args.threads <= 0:
        parser.error("--batches, --batch and --threads must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    report = Report()
    base, queries, gt_sq, info = load(args.dataset, args.n, args.queries, args.quick)
    grown = args.batches * args.batch
    if grown >= base.shape[0]:
        raise SystemExit(f"--batches x --batch ({grown:,}) must be below the set's "
                         f"{base.shape[0]:,} vectors")
    initial = base.shape[0] - grown
    report(f"# Incremental inserts: {args.batches} batches of {args.batch:,} into "
           f"{initial:,} vectors ({args.dataset}{', quick' if args.quick else ''})\n")
    for line in header_lines(base, queries, info):
        report(line)
    report(f"- HNSW M={M}, ef_construction={EF_CONSTRUCTION}; {args.threads} threads for the "
           f"load and every batch; recall@{K} at ef {RECALL_EF} (queries in one call, one "
           "thread)")
    report(f"- load at start: `{uptime()}`\n")

    workdir = tempfile.TemporaryDirectory(prefix="augurdb-incremental-")
    systems: dict[str, Grower] = {}
    loads: dict[str, Meter] = {}
    for name in args.systems:
        why = available(name)
        if why:
            print(f"skipping {name}: {why}", file=sys.stderr, flush=True)
            continue
        system: Grower = (Hnswlib(base.shape[0]) if name == "hnswlib" else
                          AugurDB("none" if name == "augurdb-fp32" else "sq8",
                                  Path(workdir.name) / name, base.shape[0]))
        log(f"loading {name} ({initial:,} vectors)")
        with Meter() as meter:
            system.load(base[:initial], args.threads)
        loads[name] = meter
        systems[name] = system

    times: dict[str, list[float]] = {name: [] for name in systems}
    for b in range(args.batches):
        lo = initial + b * args.batch
        ids = np.arange(lo, lo + args.batch, dtype=np.int64)
        rows = np.ascontiguousarray(base[lo:lo + args.batch])
        for name, system in systems.items():
            start = time.perf_counter()
            system.insert(ids, rows)
            times[name].append(time.perf_counter() - start)
    log("batches done")

    report("## Initial load (one bulk call; AugurDB's includes its checkpoint)\n")
    report("| system | seconds | vectors/s | own cores |\n|---|---:|---:|---:|")
    for name, meter in loads.items():
        report(f"| {LABELS[name]} | {meter.seconds:.1f} | {initial / meter.seconds:,.0f} | "
               f"{meter.own_cores:.2f} |")

    report(f"\n## Batches of {args.batch:,} (interleaved across systems)\n")
    report(f"| system | vectors/s | / hnswlib | median batch ms | p90 batch ms | max batch ms | "
           f"recall@{K} after |\n|---|---:|---:|---:|---:|---:|---:|")
    rates: dict[str, float] = {name: grown / sum(t) for name, t in times.items()}
    for name, system in systems.items():
        ids_found = system.search(queries)
        rec = recall_at_k(ids_found, queries, base, gt_sq, K)
        ordered = sorted(times[name])
        p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
        rel = (f"{rates[name] / rates['hnswlib']:.2f}x" if "hnswlib" in rates else "n/a")
        report(f"| {LABELS[name]} | {rates[name]:,.0f} | {rel} | "
               f"{1000 * statistics.median(ordered):.1f} | {1000 * p90:.1f} | "
               f"{1000 * ordered[-1]:.1f} | {rec:.4f} |")
        system.close()
    report(f"\n- load at the end: `{uptime()}`")
    workdir.cleanup()
    if args.out is not None:
        args.out.write_text("\n".join(report.lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
