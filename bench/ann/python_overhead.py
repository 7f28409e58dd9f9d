"""Python overhead: the same calls through the Python API and through the C++ Collection API
(bench/micro/collection_overhead.cc), same data, same process tree, interleaved.

    python -m bench.ann.python_overhead --cpp build/perf/bench/micro/collection_overhead

Prints best-of-N seconds for: add() of 60,000 vectors (2 threads), search_batch of 10,000
queries (1 and 2 threads), and 10,000 one-query search_batch calls; and Python / C++ ratios.
"""

from __future__ import annotations

import argparse
import subprocess
import time

import numpy as np

import augurdb
from .common import cpu_info
from .datasets import load_fashion_mnist


def python_times(repeat: int) -> dict[str, float]:
    data = load_fashion_mnist()
    base, queries = data.train, data.test
    ids = np.arange(len(base))
    best: dict[str, float] = {}

    def keep(name: str, seconds: float) -> None:
        best[name] = min(best.get(name, float("inf")), seconds)

    for _ in range(repeat):
        col = augurdb.open(dim=784, threads=2)
        t = time.perf_counter()
        col.add(ids, base)
        keep("add_60000_threads2_s", time.perf_counter() - t)
        t = time.perf_counter()
        col.search_batch(queries, k=10, ef=64, threads=1)
        keep("search_batch_10000_threads1_s", time.perf_counter() - t)
        t = time.perf_counter()
        col.search_batch(queries, k=10, ef=64, threads=2)
        keep("search_batch_10000_threads2_s", time.perf_counter() - t)
        rows = [queries[i:i + 1] for i in range(len(queries))]
        t = time.perf_counter()
        for row in rows:
            col.search_batch(row, k=10, ef=64, threads=1)
        keep("search_batch_1x10000_calls_s", time.perf_counter() - t)
        col.close()
    return best


def cpp_times(binary: str, repeat: int) -> dict[str, float]:
    out = subprocess.run([binary, "--repeat", str(repeat)], capture_output=True, text=True,
                         check=True).stdout
    return {name: float(value) for name, value in (line.split() for line in out.splitlines())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cpp", required=True, help="path of the collection_overhead binary")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"CPU {cpu_info().get('model')}, SIMD {augurdb.build_info()['simd']}")
    # Interleave: C++, Python, C++, Python; keep the best of everything.
    cpp: dict[str, float] = {}
    py: dict[str, float] = {}
    for _ in range(2):
        for k, v in cpp_times(args.cpp, args.repeat).items():
            cpp[k] = min(cpp.get(k, float("inf")), v)
        for k, v in python_times(args.repeat).items():
            py[k] = min(py.get(k, float("inf")), v)
    print("| call | C++ s | Python s | Python / C++ |")
    print("|---|---:|---:|---:|")
    for name in cpp:
        print(f"| {name} | {cpp[name]:.4f} | {py[name]:.4f} | {py[name] / cpp[name]:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
