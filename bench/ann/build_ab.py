"""Build rate and recall of one engine build on Fashion-MNIST and on a float version of it.

An engine change to the build is judged by running this once per extension, alternating, each
in its own process, for example with two installed copies of the package::

    PYTHONPATH=/tmp/old python -m bench.ann.build_ab --sets fashion fashion-pca384
    PYTHONPATH=/tmp/new python -m bench.ann.build_ab --sets fashion fashion-pca384

Each run builds one in-memory collection per set (one ``add`` of all rows, 2 threads by
default) and prints vectors/s, the cores the process kept busy over the ``add`` (CPU time /
wall time; with 2 threads, 2.00 would be no serial part and no idle worker), the seconds in
which only one thread ran (sampled per thread every 100 ms from /proc: a build's serial start,
and a worker left waiting at its end), and recall@10 at a few ef (one call of all queries).

Sets:
- ``fashion``: the 60,000 x 784 Fashion-MNIST rows, 2,000 test queries, shared/data ground truth
  (ids, as stored). Its pixels are integers, which flatters anything quantized.
- ``fashion-pca384``: the same rows centred and projected on their top 384 principal axes, each
  axis scaled by 1 / sqrt(its singular value) (partly whitened): real data with non-integer,
  unequal scales, 384-d as sentence embeddings are. Exact ground truth by
  :func:`common.cached_ground_truth` (float32 shortlist re-ranked in float64), cached.
- ``minilm``: real sentence embeddings, all-MiniLM-L6-v2 of Debian's package descriptions
  (:mod:`bench.ann.minilm`: 60,808 x 384 unit vectors, 1,000 queries), searched with L2 (the
  cosine order on unit vectors). Needs the model packages and apt lists its docstring names.
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from typing import Any

import augurdb
import numpy as np
import numpy.typing as npt
from augurdb.smoke_bench import load_fashion_mnist, machine_banner

from .common import cached_ground_truth
from .datasets import load_ground_truth

FloatArray = npt.NDArray[np.float32]
N_QUERIES = 2000
PCA_DIM = 384


def fashion() -> tuple[FloatArray, FloatArray, npt.NDArray[np.integer[Any]]]:
    fm = load_fashion_mnist()
    return fm.train, fm.test[:N_QUERIES], load_ground_truth().ids[:N_QUERIES, :10]


def fashion_pca384() -> tuple[FloatArray, FloatArray, npt.NDArray[np.integer[Any]]]:
    fm = load_fashion_mnist()
    train = fm.train.astype(np.float64)
    mean = train.mean(axis=0)
    _, singular, axes = np.linalg.svd(train - mean, full_matrices=False)
    projection = axes[:PCA_DIM].T / np.sqrt(singular[:PCA_DIM] / np.sqrt(len(train)))
    base = ((train - mean) @ projection).astype(np.float32)
    queries = ((fm.test[:N_QUERIES] - mean) @ projection).astype(np.float32)
    truth, _, _ = cached_ground_truth(f"fashion-pca{PCA_DIM}-q{N_QUERIES}", base, queries, k=10)
    return base, queries, truth.ids[:, :10]


def minilm_384() -> tuple[FloatArray, FloatArray, npt.NDArray[np.integer[Any]]]:
    from . import minilm  # imports onnxruntime; only this set needs it

    base, queries, truth = minilm.load()
    return base, queries, truth.ids[:, :10]


SETS = {"fashion": fashion, "fashion-pca384": fashion_pca384, "minilm": minilm_384}


class ThreadTimeline:
    """Samples every thread's CPU time (/proc/self/task/*/stat, clock ticks) every ``period``
    seconds while it is entered; ``one_thread_seconds`` is the time of the periods in which
    exactly one thread ran for most of the period (the others at most a fifth of it)."""

    def __init__(self, period: float = 0.1) -> None:
        self.period = period
        self.tick = 1.0 / os.sysconf("SC_CLK_TCK")
        self.samples: list[dict[str, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _cpu_ticks() -> dict[str, int]:
        ticks = {}
        for tid in os.listdir("/proc/self/task"):
            try:
                with open(f"/proc/self/task/{tid}/stat", encoding="ascii") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                ticks[tid] = int(fields[11]) + int(fields[12])  # utime + stime
            except (OSError, IndexError, ValueError):
                continue  # the thread ended
        return ticks

    def _run(self) -> None:
        while not self._stop.wait(self.period):
            self.samples.append(self._cpu_ticks())

    def __enter__(self) -> ThreadTimeline:
        self.samples.append(self._cpu_ticks())
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def one_thread_seconds(self) -> float:
        total = 0.0
        for before, after in zip(self.samples, self.samples[1:]):
            busy = sorted(((after[t] - before.get(t, 0)) * self.tick for t in after), reverse=True)
            if busy and busy[0] >= 0.6 * self.period and sum(busy[1:]) <= 0.2 * self.period:
                total += self.period
        return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", nargs="+", choices=sorted(SETS), default=["fashion"])
    parser.add_argument("--quantization", default="none", choices=["none", "sq8", "sq4"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--ef", type=int, nargs="+", default=[10, 16, 32, 64])
    args = parser.parse_args()
    print(f"{machine_banner()}, from {augurdb.__file__}", flush=True)
    for name in args.sets:
        base, queries, truth = SETS[name]()
        col = augurdb.open(dim=base.shape[1], metric="l2", threads=args.threads,
                           quantization=args.quantization)
        cpu0, start = os.times(), time.perf_counter()
        with ThreadTimeline() as timeline:
            col.add(np.arange(len(base), dtype=np.int64), base)
        seconds, cpu1 = time.perf_counter() - start, os.times()
        rate = len(base) / seconds
        busy = (cpu1.user - cpu0.user + cpu1.system - cpu0.system) / seconds
        recalls = []
        for ef in args.ef:
            ids = col.search_batch(queries, k=10, ef=ef).ids
            hits = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(ids, truth)])
            recalls.append(f"ef {ef} {hits:.4f}")
        print(f"{name} {args.quantization}: {rate:,.0f} vec/s, {busy:.2f} cores busy, "
              f"{timeline.one_thread_seconds():.1f} of {seconds:.1f} s on one thread; "
              "recall@10 " + ", ".join(recalls), flush=True)
        col.close()


if __name__ == "__main__":
    main()
