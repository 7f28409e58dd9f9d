"""Filtered search on Fashion-MNIST: recall@10 against the exact filtered ground truth and QPS,
for the class label (10% each) and a synthetic attribute at 50%, 10%, 1% and 0.1% selectivity,
side by side with post-filtering (search more, then drop non-matches) and brute force.

    python -m augurdb.bench.filtered [--queries 1000] [--ef 32 64 128]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

import augurdb
from augurdb.bench.datasets import (brute_force_ground_truth, cpu_info, load_fashion_mnist,
                                    recall_at_k)

ATTR_LEVELS = 10_000  # attr is uniform in [0, 10000): attr < t selects t / 10000 of the records


def _timed(fn: Any, runs: int = 2) -> tuple[Any, float]:
    best, out = float("inf"), None
    for _ in range(runs):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return out, best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--ef", type=int, nargs="+", default=[32, 64, 128])
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    info = cpu_info()
    print(f"# Filtered search, Fashion-MNIST (CPU {info.get('model')}, SIMD "
          f"{augurdb.build_info()['simd']}, {time.strftime('%Y-%m-%d %H:%M')})\n")
    data = load_fashion_mnist()
    base, queries = data.train, data.test[:args.queries]
    n = len(base)
    rng = np.random.default_rng(args.seed)
    attr = rng.integers(0, ATTR_LEVELS, n)
    metadata = [{"label": int(c), "attr": int(a)} for c, a in zip(data.train_labels, attr)]
    col = augurdb.open(dim=784)
    col.add(np.arange(n), base, metadata=metadata)

    # Unfiltered reference curve (single thread, whole batch per call).
    unfiltered = []
    for ef in [10, 16, 24, 32, 48, 64, 96, 128, 192]:
        res, s = _timed(lambda ef=ef: col.search_batch(queries, k=10, ef=ef, threads=1))
        unfiltered.append((recall_at_k(res.ids, queries, base, _gt_all(base, queries), 10),
                           len(queries) / s))

    cases = [("label == 3 (10%)", {"label": 3}, data.train_labels == 3)]
    for share, t in ((0.5, 5000), (0.1, 1000), (0.01, 100), (0.001, 10)):
        cases.append((f"attr < {t} ({share:.1%})", {"attr": {"$lt": t}}, attr < t))

    print("| filter | matches | method | ef | recall@10 | QPS 1t | QPS vs unfiltered at same recall |")
    print("|---|---:|---|---:|---:|---:|---:|")
    worst_recall, ratio_at_10 = 1.0, None
    for name, where, mask in cases:
        subset = np.flatnonzero(mask)
        gt = brute_force_ground_truth(base[subset], queries, k=10)
        assert col.count(where) == len(subset)
        for ef in args.ef:
            res, s = _timed(lambda ef=ef: col.search_batch(queries, k=10, ef=ef, threads=1, where=where))
            assert np.isin(res.ids[res.ids >= 0], subset).all(), "a result fails the filter"
            recall = recall_at_k(res.ids, queries, base, gt.sqdist, 10)
            qps = len(queries) / s
            ref = _interp_qps(unfiltered, recall)
            rel = f"{qps / ref:.2f}" if ref else "n/a"
            if ef == args.ef[-1]:
                worst_recall = min(worst_recall, recall)
            if name.startswith("label") and ef == args.ef[0]:
                ratio_at_10 = (recall, qps / ref if ref else None)
            print(f"| {name} | {len(subset)} | AugurDB where= | {ef} | {recall:.4f} | {qps:,.0f} | {rel} |")
        # Post-filtering: search k / selectivity (capped), keep the matches.
        k_post = int(min(n, max(10, 10 / max(len(subset) / n, 1e-6)) * 1.5))
        k_post = min(k_post, 2000)

        def post(k_post: int = k_post, mask: np.ndarray = mask) -> np.ndarray:
            r = col.search_batch(queries, k=k_post, ef=max(k_post, 64), threads=1)
            out = np.full((len(queries), 10), -1, dtype=np.int64)
            for q in range(len(queries)):
                ids = r.ids[q][r.ids[q] >= 0]
                kept = ids[mask[ids]][:10]
                out[q, :len(kept)] = kept
            return out

        ids, s = _timed(post, runs=1)
        print(f"| {name} | {len(subset)} | post-filter k={k_post} | - | "
              f"{recall_at_k(ids, queries, base, gt.sqdist, 10):.4f} | {len(queries) / s:,.0f} | - |")

        def brute(subset: np.ndarray = subset) -> np.ndarray:
            sub = base[subset].astype(np.float32)
            norms = (sub * sub).sum(1)
            d = norms[None, :] - 2 * queries @ sub.T
            return subset[np.argsort(d, axis=1)[:, :10]]

        ids, s = _timed(brute, runs=1)
        print(f"| {name} | {len(subset)} | brute force (NumPy BLAS) | - | "
              f"{recall_at_k(ids, queries, base, gt.sqdist, 10):.4f} | {len(queries) / s:,.0f} | - |")
    print(f"\nlowest filtered recall at ef={args.ef[-1]}: {worst_recall:.4f}")
    if ratio_at_10 and ratio_at_10[1]:
        print(f"label filter (10%) at ef={args.ef[0]}: recall {ratio_at_10[0]:.4f}, QPS "
              f"{ratio_at_10[1]:.2f}x the unfiltered QPS at that recall")
    return 0


_GT_CACHE: dict[int, np.ndarray] = {}


def _gt_all(base: np.ndarray, queries: np.ndarray) -> np.ndarray:
    key = len(queries)
    if key not in _GT_CACHE:
        _GT_CACHE[key] = brute_force_ground_truth(base, queries, k=10).sqdist
    return _GT_CACHE[key]


def _interp_qps(curve: list[tuple[float, float]], recall: float) -> float | None:
    """Unfiltered QPS at `recall`, interpolated (log QPS) on the sweep; None if out of range."""
    pts = sorted(curve)
    for (r0, q0), (r1, q1) in zip(pts, pts[1:]):
        if r0 <= recall <= r1:
            if r1 == r0:
                return max(q0, q1)
            w = (recall - r0) / (r1 - r0)
            return float(np.exp(np.log(q0) + w * (np.log(q1) - np.log(q0))))
    if pts and recall <= pts[0][0]:
        return pts[0][1]
    return None


if __name__ == "__main__":
    raise SystemExit(main())
