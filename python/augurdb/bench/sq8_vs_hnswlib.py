"""SQ8 traversal vs float32 vs hnswlib on Fashion-MNIST, same process, interleaved per ef:
single-thread QPS (one query per call) and recall@10, then QPS interpolated at recall 0.95 and
0.99, plus memory_bytes.

    python -m augurdb.bench.sq8_vs_hnswlib [--queries 3000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import augurdb
from augurdb.bench.datasets import cpu_info, load_fashion_mnist, load_ground_truth, recall_at_k


def qps_one_by_one(search, queries: np.ndarray) -> tuple[float, np.ndarray]:
    rows = [queries[i:i + 1] for i in range(len(queries))]
    ids = np.empty((len(queries), 10), dtype=np.int64)
    start = time.perf_counter()
    for i, row in enumerate(rows):
        ids[i] = search(row)
    return len(queries) / (time.perf_counter() - start), ids


def at_recall(curve: list[tuple[float, float]], target: float) -> float | None:
    pts = sorted(curve)
    for (r0, q0), (r1, q1) in zip(pts, pts[1:]):
        if r0 <= target <= r1 and r1 > r0:
            w = (target - r0) / (r1 - r0)
            return float(np.exp(np.log(q0) + w * (np.log(q1) - np.log(q0))))
    return None


def main(argv: list[str] | None = None) -> int:
    import hnswlib

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queries", type=int, default=3000)
    parser.add_argument("--ef", type=int, nargs="+", default=[10, 12, 16, 24, 32, 48, 64])
    args = parser.parse_args(argv)
    print(f"# SQ8 vs fp32 vs hnswlib ({cpu_info().get('model')}, SIMD "
          f"{augurdb.build_info()['simd']}, {time.strftime('%Y-%m-%d %H:%M')})\n")
    data = load_fashion_mnist()
    gt = load_ground_truth()
    base, queries = data.train, data.test[:args.queries]
    gt_sq = gt.sqdist[:args.queries]
    systems = {}
    for q in ("none", "sq8"):
        col = augurdb.open(dim=784, m=16, ef_construction=200, quantization=q)
        col.add(np.arange(len(base)), base)
        systems[f"augurdb-{q}"] = col
    h = hnswlib.Index("l2", 784)
    h.init_index(len(base), M=16, ef_construction=200, random_seed=42)
    h.add_items(base, num_threads=2)
    curves: dict[str, list[tuple[float, float]]] = {name: [] for name in
                                                     ["hnswlib", "augurdb-none", "augurdb-sq8"]}
    print("| ef | system | recall@10 | QPS 1t |\n|---:|---|---:|---:|")
    for ef in args.ef:
        h.set_ef(ef)
        for _ in range(2):  # best of 2, interleaved
            for name in curves:
                if name == "hnswlib":
                    qps, ids = qps_one_by_one(lambda r: h.knn_query(r, k=10, num_threads=1)[0][0],
                                              queries)
                else:
                    col = systems[name]
                    qps, ids = qps_one_by_one(
                        lambda r, col=col: col.search_batch(r, k=10, ef=ef, threads=1).ids[0], queries)
                rec = recall_at_k(ids, queries, base, gt_sq, 10)
                prev = [p for p in curves[name] if p[2] == ef] if False else None
                curves[name].append((rec, qps))
        for name in curves:
            pts = curves[name][-2:]
            best = max(pts, key=lambda p: p[1])
            curves[name] = curves[name][:-2] + [best]
            print(f"| {ef} | {name} | {best[0]:.4f} | {best[1]:,.0f} |")
    print("\n| recall | hnswlib | AugurDB fp32 | AugurDB SQ8 | SQ8 / hnswlib |\n|---:|---:|---:|---:|---:|")
    for target in (0.95, 0.99):
        vals = {n: at_recall(c, target) for n, c in curves.items()}
        ratio = (f"{vals['augurdb-sq8'] / vals['hnswlib']:.2f}x"
                 if vals["augurdb-sq8"] and vals["hnswlib"] else "n/a")
        fmt = lambda v: f"{v:,.0f}" if v else "n/a"  # noqa: E731
        print(f"| {target} | {fmt(vals['hnswlib'])} | {fmt(vals['augurdb-none'])} | "
              f"{fmt(vals['augurdb-sq8'])} | {ratio} |")
    for name, col in systems.items():
        print(f"\n{name}: memory_bytes {col.stats()['memory_bytes'] / 2**20:.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
