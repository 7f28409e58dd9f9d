"""Storage figures: the cost of durability and the speed of reopening.

1. Bulk insert of Fashion-MNIST (60,000 x 784) in batches of 1,000 with durability "sync"
   (an fsync per batch) vs "none", interleaved, same process: vectors/s and their ratio.
2. A 1,000,000 x 128 clustered database (Gaussian mixture in a 12-d subspace): build, close
   (checkpoint), reopen (best of 3; the checkpoint is mapped, not parsed) and check that the
   first queries after reopening return the same ids as before closing.

    python -m bench.ann.storage [--n 1000000] [--dir /tmp/augur-storage]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

import augurdb
from .common import cpu_info
from .datasets import load_fashion_mnist


def bulk_insert(path: Path, base: np.ndarray, durability: str, batch: int = 1000) -> float:
    shutil.rmtree(path, ignore_errors=True)
    start = time.perf_counter()
    with augurdb.open(path, dim=base.shape[1], durability=durability) as col:
        for lo in range(0, len(base), batch):
            col.add(np.arange(lo, min(lo + batch, len(base))), base[lo:lo + batch])
        col.flush()
        elapsed = time.perf_counter() - start  # excludes the checkpoint written by close()
    return len(base) / elapsed


def clustered(n: int, dim: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 4, (64, dim)).astype(np.float32)
    basis = rng.normal(0, 1, (64, 12, dim)).astype(np.float32)
    out = np.empty((n, dim), np.float32)
    for lo in range(0, n, 100_000):
        hi = min(n, lo + 100_000)
        c = rng.integers(0, 64, hi - lo)
        z = rng.normal(0, 1, (hi - lo, 12)).astype(np.float32)
        out[lo:hi] = centres[c] + np.einsum("nk,nkd->nd", z, basis[c]) + \
            rng.normal(0, 0.05, (hi - lo, dim)).astype(np.float32)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--dir", default=None)
    parser.add_argument("--skip-bulk", action="store_true")
    args = parser.parse_args(argv)
    root = Path(args.dir or tempfile.mkdtemp(prefix="augur-storage-"))
    root.mkdir(parents=True, exist_ok=True)
    print(f"# Storage figures ({cpu_info().get('model')}, {time.strftime('%Y-%m-%d %H:%M')})\n")

    if not args.skip_bulk:
        base = load_fashion_mnist().train
        rates: dict[str, list[float]] = {"sync": [], "none": []}
        for _ in range(2):
            for durability in ("none", "sync"):
                rates[durability].append(bulk_insert(root / f"fm-{durability}", base, durability))
        best = {k: max(v) for k, v in rates.items()}
        print("| durability | vectors/s (best of 2, batches of 1,000) |\n|---|---:|")
        for k in ("none", "sync"):
            print(f"| {k} | {best[k]:,.0f} |")
        print(f"\nsync / none: {best['sync'] / best['none']:.3f}\n")

    data = clustered(args.n, 128)
    queries = clustered(100, 128, seed=1)
    path = root / "big"
    shutil.rmtree(path, ignore_errors=True)
    start = time.perf_counter()
    col = augurdb.open(path, dim=128, durability="none", checkpoint_wal_bytes=1 << 40)
    for lo in range(0, args.n, 100_000):
        col.add(np.arange(lo, min(lo + 100_000, args.n)), data[lo:lo + 100_000])
    build_s = time.perf_counter() - start
    before = col.search_batch(queries, k=10).ids
    start = time.perf_counter()
    col.close()
    close_s = time.perf_counter() - start
    size = sum(f.stat().st_size for f in path.iterdir())
    reopen = []
    for _ in range(3):
        start = time.perf_counter()
        col = augurdb.open(path)
        reopen.append(time.perf_counter() - start)
        if _ < 2:
            col.close()
    after = col.search_batch(queries, k=10).ids
    col.close()
    print(f"{args.n:,} x 128: build {build_s:.1f} s ({args.n / build_s:,.0f} vec/s), close "
          f"(checkpoint) {close_s:.1f} s, on disk {size / 2**20:,.0f} MiB")
    print(f"reopen: best {min(reopen) * 1000:.0f} ms, all {[round(x * 1000) for x in reopen]} ms "
          f"(page cache warm)")
    print(f"first queries after reopen identical: {bool((before == after).all())}")
    shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
