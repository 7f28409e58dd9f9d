"""Sharded collections on Ray against one collection, same machine, same data (Fashion-MNIST,
60,000 x 784, exact ground truth from shared/data):

- bulk load: ``add`` of the whole set in batches of 10,000, vectors/s, 1, 2 and 4 shards;
- recall@10 against exact ground truth at the same per-shard ef as the single collection;
- scatter-gather overhead per query: one ``search`` call (p50 latency) and ``search_batch`` of
  the 10,000 test queries (QPS), sharded / single;
- text: the DFS round trip (``text_stats``) and a hybrid query on Debian descriptions.

    python -m bench.ann.distributed [--limit 60000] [--shards 1 2 4] [--out bench/results]

Prints the CPU model and SIMD level; writes distributed.json and distributed.md. On one 2-core
machine every shard shares the same two cores, so this measures the overhead of sharding, not
its scaling: docs/distributed.md turns these figures into the scaling model to N machines.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")

import augurdb  # noqa: E402

from .common import (  # noqa: E402
    GroundTruth,
    default_out_dir,
    exact_ground_truth,
    log,
    machine_banner,
    machine_header,
    markdown_table,
    recall_at_k,
    write_json,
)
from .datasets import load_fashion_mnist, load_ground_truth  # noqa: E402

BATCH = 10_000
EF = (32, 64, 128)


def load(col: Any, base: np.ndarray) -> float:
    start = time.perf_counter()
    for lo in range(0, len(base), BATCH):
        col.add(np.arange(lo, min(lo + BATCH, len(base))), base[lo:lo + BATCH])
    return len(base) / (time.perf_counter() - start)


def measure(col: Any, queries: np.ndarray, base: np.ndarray, truth: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"recall": {}, "batch_qps": {}}
    for ef in EF:
        start = time.perf_counter()
        result = col.search_batch(queries, 10, ef=ef)
        out["batch_qps"][ef] = len(queries) / (time.perf_counter() - start)
        out["recall"][ef] = recall_at_k(np.asarray(result.ids, dtype=np.int64), queries, base,
                                        truth.sqdist, 10)
    latencies = []
    for q in queries[:300]:
        start = time.perf_counter()
        col.search(q, 10, ef=64)
        latencies.append(time.perf_counter() - start)
    out["search_p50_ms"] = statistics.median(latencies) * 1e3
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=60_000, help="base vectors (<= 60,000)")
    parser.add_argument("--queries", type=int, default=10_000)
    parser.add_argument("--shards", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--out", type=Path, default=default_out_dir())
    args = parser.parse_args(argv)
    import augurdb.distributed as dist
    import ray

    banner = machine_banner()
    print(banner)
    data = load_fashion_mnist()
    base = np.ascontiguousarray(data.train[:args.limit])
    queries = np.ascontiguousarray(data.test[:args.queries])
    if args.limit == len(data.train):
        full = load_ground_truth()
        truth = GroundTruth(ids=full.ids[:len(queries)], sqdist=full.sqdist[:len(queries)])
    else:
        truth = exact_ground_truth(base, queries, 10)
    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1",
             log_to_driver=False)
    results: dict[str, Any] = {"header": machine_header(limit=args.limit,
                                                        queries=len(queries)), "runs": {}}
    single = augurdb.open(dim=base.shape[1])
    rate = load(single, base)
    results["runs"]["single"] = {"load_per_s": rate, **measure(single, queries, base, truth)}
    log(f"single: {rate:,.0f} vectors/s")
    single.close()
    with tempfile.TemporaryDirectory() as tmp:
        for shards in args.shards:
            col = dist.open(Path(tmp) / f"s{shards}", shards=shards, dim=base.shape[1],
                            durability="batch")
            rate = load(col, base)
            results["runs"][f"shards={shards}"] = {"load_per_s": rate,
                                                   **measure(col, queries, base, truth)}
            start = time.perf_counter()
            for _ in range(50):
                col.text_stats("warm jacket")
            results["runs"][f"shards={shards}"]["text_stats_ms"] = (
                (time.perf_counter() - start) / 50 * 1e3)
            log(f"{shards} shards: {rate:,.0f} vectors/s")
            col.close()
    ray.shutdown()

    rows = []
    base_run = results["runs"]["single"]
    for name, run in results["runs"].items():
        rows.append([name, f"{run['load_per_s']:,.0f}",
                     f"{run['load_per_s'] / base_run['load_per_s']:.2f}x",
                     " / ".join(f"{run['recall'][ef]:.4f}" for ef in EF),
                     " / ".join(f"{run['batch_qps'][ef]:,.0f}" for ef in EF),
                     f"{run['search_p50_ms']:.3f}",
                     f"{run.get('text_stats_ms', float('nan')):.2f}"])
    table = markdown_table(["collection", "load vec/s", "vs single",
                            "recall@10 ef " + "/".join(map(str, EF)),
                            "batch QPS ef " + "/".join(map(str, EF)), "search p50 ms",
                            "text_stats ms"], rows)
    text = (f"# Sharded collections on Ray vs one collection\n\n{banner}\n\n"
            f"Fashion-MNIST {args.limit} x 784, {len(queries)} queries, "
            f"one machine, 2 cores shared by every shard.\n\n{table}\n\n"
            f"Reproduce: `python -m bench.ann.distributed`\n")
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    write_json(args.out / "distributed.json", results)
    (args.out / "distributed.md").write_text(text)
    return results


if __name__ == "__main__":
    main()
