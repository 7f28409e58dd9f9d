"""The built-in smoke benchmark behind ``augurdb bench`` when the repository's suite is absent.

Builds one index, searches it one query per call, and prints recall@10 against exact NumPy
ground truth and QPS for a few ef values, under a line naming the CPU and the SIMD level in use.
Data: Fashion-MNIST-784 when the Debian package ``dataset-fashion-mnist`` is installed, else a
seeded Gaussian-cluster set (held-out queries). Only NumPy is needed.

The peer suite (hnswlib, faiss, usearch, Chroma, LanceDB, OmenDB, ...) lives in the repository's
``bench/ann/`` and reuses the data, ground-truth and recall helpers below, so a figure printed
here and one printed there mean the same thing.
"""

from __future__ import annotations

import argparse
import gzip
import os
import struct
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_APT_PACKAGE = "dataset-fashion-mnist"

#: Additive tolerance on the unsquared distance (ann-benchmarks ``knn_threshold``).
RECALL_EPSILON = 1e-3

# IDX type codes (http://yann.lecun.com/exdb/mnist/): only unsigned bytes are used here.
_IDX_UBYTE = 0x08

# Candidates kept per query beyond k before the float64 re-rank (exact_ground_truth).
SHORTLIST_SLACK = 32


class DatasetMissingError(FileNotFoundError):
    """A benchmark input file is not installed; the message says how to get it."""


class FashionMNIST(NamedTuple):
    """Fashion-MNIST-784: ``train`` (base vectors) and ``test`` (queries) as float32
    ``(n, 784)`` C-contiguous arrays with values 0..255, and their uint8 class labels 0..9."""

    train: npt.NDArray[np.float32]
    test: npt.NDArray[np.float32]
    train_labels: npt.NDArray[np.uint8]
    test_labels: npt.NDArray[np.uint8]


class GroundTruth(NamedTuple):
    """Exact nearest neighbours: ``ids[q, j]`` is the index of the j-th nearest base vector of
    query q (ties broken by smaller index), ``sqdist[q, j]`` its exact squared L2 distance."""

    ids: npt.NDArray[np.integer[Any]]
    sqdist: npt.NDArray[np.integer[Any]]


# --------------------------------------------------------------------------------------------
# Locating files


def read_idx_ubyte(path: Path, limit: int | None = None) -> npt.NDArray[np.uint8]:
    """Reads a gzip IDX file of unsigned bytes (header: magic with type code and rank, then one
    big-endian uint32 per dimension) into a uint8 array of that shape, keeping the first
    ``limit`` items when given."""
    with gzip.open(path, "rb") as stream:
        data = stream.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError(f"{path}: not an IDX file (bad magic)")
    type_code, rank = data[2], data[3]
    if type_code != _IDX_UBYTE:
        raise ValueError(f"{path}: IDX type code {type_code:#04x}, expected unsigned byte (0x08)")
    header_size = 4 + 4 * rank
    shape = struct.unpack(f">{rank}I", data[4:header_size])
    count = int(np.prod(shape))
    if len(data) - header_size != count:
        raise ValueError(f"{path}: header says shape {shape} ({count} bytes), "
                         f"file holds {len(data) - header_size}")
    array = np.frombuffer(data, dtype=np.uint8, offset=header_size).reshape(shape)
    if limit is not None:
        array = array[:limit]
    return array


def _fashion_file(name: str) -> Path:
    path = FASHION_MNIST_DIR / name
    if not path.is_file():
        raise DatasetMissingError(
            f"{path} is missing. Install the Debian package {FASHION_MNIST_APT_PACKAGE!r}: "
            f"sudo apt-get install {FASHION_MNIST_APT_PACKAGE}")
    return path


def load_fashion_mnist(limit_train: int | None = None,
                       limit_test: int | None = None) -> FashionMNIST:
    """Loads Fashion-MNIST-784 (60,000 base vectors, 10,000 queries) from the Debian package
    ``dataset-fashion-mnist``, optionally only the first ``limit_train`` / ``limit_test`` rows.

    Vectors are float32 ``(n, 784)`` C-contiguous, unscaled (0..255); labels are uint8.
    Raises :class:`DatasetMissingError` naming the apt package when the files are absent.
    """
    def images(name: str, limit: int | None) -> npt.NDArray[np.float32]:
        pixels = read_idx_ubyte(_fashion_file(name), limit)
        return np.ascontiguousarray(pixels.reshape(pixels.shape[0], -1), dtype=np.float32)

    def labels(name: str, limit: int | None) -> npt.NDArray[np.uint8]:
        return np.array(read_idx_ubyte(_fashion_file(name), limit), dtype=np.uint8)

    return FashionMNIST(
        train=images("train-images-idx3-ubyte.gz", limit_train),
        test=images("t10k-images-idx3-ubyte.gz", limit_test),
        train_labels=labels("train-labels-idx1-ubyte.gz", limit_train),
        test_labels=labels("t10k-labels-idx1-ubyte.gz", limit_test),
    )



def gaussian_clusters(n: int, n_queries: int, clusters: int = 1_000, dim: int = 128,
                      seed: int = 20261205) -> tuple[npt.NDArray[np.float32],
                                                     npt.NDArray[np.float32]]:
    """``n`` base points and ``n_queries`` held-out queries from one Gaussian mixture: centres
    ``4 * N(0, I)``, unit-variance clusters, uniform cluster choice."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, clusters, dim]))
    centres = 4.0 * rng.normal(size=(clusters, dim))

    def sample(count: int, stream: int) -> npt.NDArray[np.float32]:
        r = np.random.default_rng(np.random.SeedSequence([seed, clusters, dim, stream]))
        out = np.empty((count, dim), dtype=np.float32)
        for start in range(0, count, 65_536):  # bounded float64 temporaries at 1M
            stop = min(count, start + 65_536)
            which = r.integers(0, clusters, size=stop - start)
            out[start:stop] = centres[which] + r.normal(size=(stop - start, dim))
        return out

    return sample(n, 1), sample(n_queries, 2)




def exact_ground_truth(base: npt.NDArray[np.float32], queries: npt.NDArray[np.float32],
                       k: int = 100, chunk: int = 64) -> GroundTruth:
    """Exact ``k`` nearest base vectors per query: ``ids`` int64 and ``sqdist`` float64
    ``(nq, k)``, ordered by (distance, index).

    A float32 matrix product picks a shortlist of ``k + 32`` candidates per query (the slack
    absorbs float32 rounding near the k-th distance), which are re-ranked with float64 distances
    recomputed from the vectors: exact for integer-valued data such as Fashion-MNIST, whose
    partial sums stay below 2**53.
    """
    k = min(k, base.shape[0])
    width = min(base.shape[0], k + SHORTLIST_SLACK)
    base_norms = np.einsum("ij,ij->i", base, base, dtype=np.float32)
    ids = np.empty((queries.shape[0], k), dtype=np.int64)
    sqdist = np.empty((queries.shape[0], k), dtype=np.float64)
    for start in range(0, queries.shape[0], chunk):
        q = queries[start:start + chunk]
        approx = base_norms[None, :] - 2.0 * (q @ base.T)  # + |q|^2, constant per row
        shortlist = np.argpartition(approx, width - 1, axis=1)[:, :width]
        for row in range(q.shape[0]):
            cand = shortlist[row]
            diff = base[cand].astype(np.float64) - q[row].astype(np.float64)
            exact = np.einsum("ij,ij->i", diff, diff)
            order = np.lexsort((cand, exact))[:k]
            ids[start + row] = cand[order]
            sqdist[start + row] = exact[order]
    return GroundTruth(ids=ids, sqdist=sqdist)


def true_sqdist(found_ids: npt.ArrayLike, queries: npt.NDArray[np.floating[Any]],
                base: npt.NDArray[np.floating[Any]], chunk: int = 1024) -> npt.NDArray[np.float64]:
    """Exact squared L2 distance, in float64, from each query to each returned base vector.

    ``found_ids[q, j]`` indexes ``base``; ``-1`` (no result) and out-of-range ids give NaN.
    float64 matters: Fashion-MNIST squared distances reach 5e7, beyond float32's exact integers.
    """
    ids = np.asarray(found_ids)
    if ids.ndim != 2 or ids.shape[0] != queries.shape[0]:
        raise ValueError(f"found_ids must be (n_queries, k), got {ids.shape} for "
                         f"{queries.shape[0]} queries")
    ids = ids.astype(np.int64, copy=False)
    valid = (ids >= 0) & (ids < base.shape[0])
    out = np.full(ids.shape, np.nan, dtype=np.float64)
    for start in range(0, ids.shape[0], chunk):
        stop = start + chunk
        rows = np.where(valid[start:stop], ids[start:stop], 0)
        diff = base[rows].astype(np.float64) - queries[start:stop, None, :].astype(np.float64)
        dist = np.einsum("qkd,qkd->qk", diff, diff)
        out[start:stop] = np.where(valid[start:stop], dist, np.nan)
    return out


def recall_at_k(found_ids: npt.ArrayLike, queries: npt.NDArray[np.floating[Any]],
                base: npt.NDArray[np.floating[Any]], gt_sqdist: npt.ArrayLike, k: int,
                per_query: bool = False) -> Any:
    """Recall@k by the ann-benchmarks "k-nn" rule.

    For each query, each of the first ``k`` returned ids (``found_ids``, ``(nq, >=k)``, indices
    into ``base``) has its true squared distance recomputed from the vectors in float64; it counts
    as correct when ``sqrt(true) <= sqrt(gt_sqdist[q, k-1]) + 1e-3``. Ids of ``-1`` (missing
    results) never count. recall@k = correct / k per query; the mean over queries is returned
    (the per-query array when ``per_query`` is true).
    """
    ids = np.asarray(found_ids)
    if ids.ndim != 2 or ids.shape[1] < k:
        raise ValueError(f"found_ids must be (n_queries, >= {k}), got shape {ids.shape}")
    gt = np.asarray(gt_sqdist)
    if gt.shape[0] != ids.shape[0] or gt.shape[1] < k:
        raise ValueError(f"gt_sqdist must be ({ids.shape[0]}, >= {k}), got shape {gt.shape}")
    distances = np.sqrt(true_sqdist(ids[:, :k], queries, base))
    threshold = np.sqrt(gt[:, k - 1].astype(np.float64)) + RECALL_EPSILON
    with np.errstate(invalid="ignore"):  # NaN (missing id) compares False: not counted
        correct = distances <= threshold[:, None]
    recalls = correct.sum(axis=1) / k
    return recalls if per_query else float(recalls.mean())


# --------------------------------------------------------------------------------------------
# Machine description

_INTERESTING_FLAGS = ("sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl",
                      "avx512dq", "avx512_vnni", "avx_vnni", "avx512_bf16", "avx512vpopcntdq")


def cpu_info() -> dict[str, Any]:
    """The facts to log with every measurement: CPU ``model``, ``cores`` (online CPUs) and
    ``cores_usable`` (this process's affinity), the SIMD-relevant CPU ``flags``, ``thp``
    (transparent huge page mode, the bracketed word of
    /sys/kernel/mm/transparent_hugepage/enabled) and ``loadavg`` (1, 5, 15 minutes).

    ``model`` ends with the CPU family, model number and L3 size where Linux reports them:
    cloud VMs often name only "AMD EPYC", which does not tell Zen 2 (family 23) from Zen 3
    (25, model < 0x10) or Zen 4 (25, model >= 0x10), and the ratios differ between them."""
    model, flags, ident = "unknown", set(), {}
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "model name" and model == "unknown":
                    model = value.strip()
                elif key in ("cpu family", "model") and key not in ident:
                    ident[key] = value.strip()
                elif key == "flags" and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    details = [f"family {ident['cpu family']} model {ident['model']}"] if len(ident) == 2 else []
    try:
        l3 = Path("/sys/devices/system/cpu/cpu0/cache/index3/size").read_text(encoding="utf-8")
        details.append(f"L3 {l3.strip()}")
    except OSError:
        pass
    if details:
        model = f"{model} ({', '.join(details)})"
    thp = "unknown"
    try:
        text = Path("/sys/kernel/mm/transparent_hugepage/enabled").read_text(encoding="utf-8")
        thp = next((w.strip("[]") for w in text.split() if w.startswith("[")), text.strip())
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = os.cpu_count() or 0
    try:
        load: list[float] | None = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = None
    return {
        "model": model,
        "cores": os.cpu_count() or 0,
        "cores_usable": usable,
        "flags": [f for f in _INTERESTING_FLAGS if f in flags],
        "thp": thp,
        "loadavg": load,
    }


def machine_banner() -> str:
    """One line naming what a figure was measured on: CPU model and cores, the SIMD level the
    engine dispatches to (and the best this CPU offers), and the load average at start."""
    import augurdb

    cpu, build = cpu_info(), augurdb.build_info()
    override = os.environ.get("AUGURDB_SIMD")
    return (f"CPU {cpu['model']} ({cpu['cores']} cores, {cpu['cores_usable']} usable), SIMD "
            f"{build.get('simd')} (detected {build.get('simd_detected')}"
            + (f", AUGURDB_SIMD={override}" if override else "")
            + f"), load {cpu['loadavg']}, augurdb {augurdb.__version__}")


# --------------------------------------------------------------------------------------------
# The smoke run

K = 10
SMOKE_EFS = (10, 16, 32, 64, 128)


def _smoke_data(n: int, n_queries: int, dataset: str) -> tuple[Any, Any, str]:
    if dataset in ("auto", "fashion-mnist"):
        try:
            data = load_fashion_mnist(limit_train=n, limit_test=n_queries)
            return data.train, data.test, f"Fashion-MNIST-784, first {len(data.train):,} images"
        except DatasetMissingError:
            if dataset == "fashion-mnist":
                raise
    base, queries = gaussian_clusters(n, n_queries, clusters=max(1, n // 100), dim=96)
    return base, queries, f"Gaussian clusters, {n:,} x 96 (Fashion-MNIST not installed)"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="augurdb bench",
        description="Built-in smoke benchmark: one build, recall@10 against exact NumPy ground "
                    "truth and single-query QPS per ef. Run inside the source checkout, "
                    "'augurdb bench' runs the repository's suite instead (bench/ann: AugurDB vs "
                    "hnswlib and the other peers); --smoke forces this one.")
    parser.add_argument("--quick", action="store_true",
                        help="2,000 vectors and 100 queries instead of 20,000 and 1,000")
    parser.add_argument("--dataset", choices=("auto", "fashion-mnist", "clusters"),
                        default="auto", help="default: Fashion-MNIST when installed")
    parser.add_argument("--n", type=int, default=None, help="base vectors")
    parser.add_argument("--queries", type=int, default=None, help="queries")
    parser.add_argument("--ef", type=int, nargs="+", default=list(SMOKE_EFS),
                        help="ef values (default: %(default)s)")
    parser.add_argument("--runs", type=int, default=2,
                        help="timed runs per ef, the best is reported (default 2)")
    parser.add_argument("--threads", type=int, default=0,
                        help="build threads (default: all cores)")
    args = parser.parse_args(argv)
    args.n = args.n or (2_000 if args.quick else 20_000)
    args.queries = args.queries or (100 if args.quick else 1_000)
    if args.runs < 1 or args.n < 1 or args.queries < 1 or any(ef < 1 for ef in args.ef):
        parser.error("--runs, --n, --queries and every --ef must be >= 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    import augurdb

    args = parse_args(argv)
    print(machine_banner(), flush=True)
    base, queries, source = _smoke_data(args.n, args.queries, args.dataset)
    truth = exact_ground_truth(base, queries, k=K)
    print(f"data: {source}; {len(queries):,} queries, exact ground truth by NumPy")
    start = time.perf_counter()
    with augurdb.open(dim=base.shape[1], metric="l2", m=16, ef_construction=200,
                      threads=args.threads or None) as col:
        col.add(np.arange(len(base)), base)
        build_s = time.perf_counter() - start
        print(f"build: {len(base):,} vectors in {build_s:.2f} s ({len(base) / build_s:,.0f} "
              "vectors/s), M=16, ef_construction=200")
        rows = [queries[i:i + 1] for i in range(len(queries))]
        print(f"\n{'ef':>5}  {'recall@10':>9}  {'QPS (1 query/call)':>18}")
        for ef in sorted(set(args.ef)):
            best = float("inf")
            for _ in range(args.runs):
                out = []
                started = time.perf_counter()
                for row in rows:
                    out.append(col.search_batch(row, K, ef=ef, threads=1).ids)
                best = min(best, time.perf_counter() - started)
            recall = recall_at_k(np.concatenate(out), queries, base, truth.sqdist, K)
            print(f"{ef:>5}  {recall:>9.4f}  {len(rows) / best:>18,.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
