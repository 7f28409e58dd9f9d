"""Benchmark data, the ann-benchmarks recall rule, and a description of the machine.

Data sources (see ``shared/data/README.md`` next to the repository):

- Fashion-MNIST vectors come from the Debian package ``dataset-fashion-mnist``
  (``/usr/share/datasets/fashion-mnist/``, IDX files, gzip). They are returned as float32
  without scaling (pixel values 0..255), exactly as ann-benchmarks does.
- The exact ground truth (100 nearest base vectors per query, with their integer squared
  distances) lives in ``shared/data/``. ``shared/`` is found next to the repository root (its
  parent directory holds ``shared/``) or wherever the environment variable
  ``AUGURDB_SHARED_DIR`` points.

Recall follows the ann-benchmarks "k-nn" metric: a returned id is correct when its *true*
Euclidean distance to the query, recomputed from the vectors, is at most the true k-th nearest
distance plus 1e-3 (additive, on the unsquared distance). See the "Measuring honestly" section of
``shared/PERFORMANCE.md`` for why the additive form is used.
"""

from __future__ import annotations

import gzip
import os
import struct
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_APT_PACKAGE = "dataset-fashion-mnist"
GROUND_TRUTH_BASENAME = "fashion-mnist-784-euclidean.gt100"
SHARED_DIR_ENV = "AUGURDB_SHARED_DIR"

#: Additive tolerance on the unsquared distance (ann-benchmarks ``knn_threshold``).
RECALL_EPSILON = 1e-3

# IDX type codes (http://yann.lecun.com/exdb/mnist/): only unsigned bytes are used here.
_IDX_UBYTE = 0x08


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


def _ancestors(start: Path) -> list[Path]:
    start = start.resolve()
    return [start, *start.parents]


def repo_root() -> Path | None:
    """The AugurDB source checkout this code runs from (or the working directory is in), found by
    walking up to a directory holding ``pyproject.toml`` and ``python/augurdb``; None if neither
    is inside a checkout (e.g. an installed wheel run from elsewhere)."""
    for start in (Path(__file__).parent, Path.cwd()):
        for directory in _ancestors(start):
            is_checkout = (directory / "pyproject.toml").is_file() and (
                directory / "python" / "augurdb").is_dir()
            if is_checkout:
                return directory
    return None


def shared_dir() -> Path:
    """The ``shared/`` directory with benchmark data.

    ``$AUGURDB_SHARED_DIR`` if set; otherwise ``shared/`` in the repository root's parent
    directory (or in the repository root itself). Raises :class:`DatasetMissingError` naming the
    places looked at when none exists.
    """
    override = os.environ.get(SHARED_DIR_ENV)
    if override:
        path = Path(override).expanduser()
        if not path.is_dir():
            raise DatasetMissingError(f"{SHARED_DIR_ENV}={override!r} is not a directory")
        return path
    root = repo_root()
    candidates = [root.parent / "shared", root / "shared"] if root is not None else []
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    if candidates:
        looked = ", ".join(str(c) for c in candidates)
    else:
        looked = f"nothing (no AugurDB checkout above {Path(__file__).parent} or {Path.cwd()})"
    raise DatasetMissingError(
        f"cannot find the shared/ data directory; looked at: {looked}. "
        f"Set {SHARED_DIR_ENV} to the directory that holds data/{GROUND_TRUTH_BASENAME}.*.npy")


# --------------------------------------------------------------------------------------------
# Loading


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


def load_ground_truth() -> GroundTruth:
    """Loads the exact Fashion-MNIST ground truth (int32 ``(10000, 100)`` ids and squared
    distances, query order = file order) from ``shared/data/``; see :func:`shared_dir`."""
    data = shared_dir() / "data"
    paths = {kind: data / f"{GROUND_TRUTH_BASENAME}.{kind}.npy" for kind in ("ids", "sqdist")}
    for path in paths.values():
        if not path.is_file():
            raise DatasetMissingError(
                f"{path} is missing; set {SHARED_DIR_ENV} to the shared/ directory that holds "
                f"data/{GROUND_TRUTH_BASENAME}.*.npy")
    truth = GroundTruth(ids=np.load(paths["ids"]), sqdist=np.load(paths["sqdist"]))
    if truth.ids.shape != truth.sqdist.shape:
        raise ValueError(f"ground truth shapes differ: ids {truth.ids.shape}, "
                         f"sqdist {truth.sqdist.shape}")
    return truth


def brute_force_ground_truth(base: npt.NDArray[np.floating[Any]],
                             queries: npt.NDArray[np.floating[Any]], k: int = 100,
                             chunk: int = 256) -> GroundTruth:
    """Exact k nearest neighbours by a full scan, in the same form as :func:`load_ground_truth`
    (ties broken by smaller index).

    Distances are computed in float64; for integer-valued vectors such as Fashion-MNIST they are
    exact (all partial sums are integers below 2**53) and are returned as int64. Meant for
    subsets (the quick benchmark); a 60K x 10K scan is slow in NumPy.
    """
    k = min(k, base.shape[0])
    base64 = np.asarray(base, dtype=np.float64)
    base_norms = np.einsum("ij,ij->i", base64, base64)
    ids = np.empty((queries.shape[0], k), dtype=np.int64)
    sqdist = np.empty((queries.shape[0], k), dtype=np.float64)
    for start in range(0, queries.shape[0], chunk):
        q = np.asarray(queries[start:start + chunk], dtype=np.float64)
        dist = np.einsum("ij,ij->i", q, q)[:, None] + base_norms[None, :] - 2.0 * (q @ base64.T)
        np.maximum(dist, 0.0, out=dist)
        # Shortlist with argpartition (a little wider, so ties at the k-th value survive), then
        # order by (distance, index).
        width = min(base.shape[0], k + 16)
        shortlist = np.argpartition(dist, width - 1, axis=1)[:, :width]
        for row in range(q.shape[0]):
            cand = shortlist[row]
            cand_dist = dist[row, cand]
            order = np.lexsort((cand, cand_dist))[:k]
            ids[start + row] = cand[order]
            sqdist[start + row] = cand_dist[order]
    integral = bool(np.all(base64 == np.round(base64))) and bool(
        np.all(np.asarray(queries) == np.round(np.asarray(queries))))
    return GroundTruth(ids=ids, sqdist=np.round(sqdist).astype(np.int64) if integral else sqdist)


# --------------------------------------------------------------------------------------------
# Recall


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
    /sys/kernel/mm/transparent_hugepage/enabled) and ``loadavg`` (1, 5, 15 minutes)."""
    model, flags = "unknown", set()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "model name" and model == "unknown":
                    model = value.strip()
                elif key == "flags" and not flags:
                    flags = set(value.split())
    except OSError:
        pass
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
