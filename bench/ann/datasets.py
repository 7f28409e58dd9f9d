"""Benchmark data: Fashion-MNIST and its shared exact ground truth.

Data sources (see ``shared/data/README.md`` next to the repository):

- Fashion-MNIST vectors come from the Debian package ``dataset-fashion-mnist``
  (``/usr/share/datasets/fashion-mnist/``, IDX files, gzip). They are returned as float32
  without scaling (pixel values 0..255), exactly as ann-benchmarks does.
- The exact ground truth (100 nearest base vectors per query, with their integer squared
  distances) lives in ``shared/data/``. ``shared/`` is found next to the repository root (its
  parent directory holds ``shared/``) or wherever the environment variable
  ``AUGURDB_SHARED_DIR`` points.

The loaders and the recall rule themselves live in :mod:`augurdb.smoke_bench` (the package's
smoke benchmark uses them too) and the scoring helpers in :mod:`bench.ann.common`.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from augurdb.smoke_bench import (
    FASHION_MNIST_DIR,
    DatasetMissingError,
    FashionMNIST,
    GroundTruth,
    load_fashion_mnist,
)

from .common import repo_root

__all__ = ["FASHION_MNIST_DIR", "DatasetMissingError", "FashionMNIST", "GroundTruth",
           "load_fashion_mnist", "load_ground_truth", "shared_dir"]

GROUND_TRUTH_BASENAME = "fashion-mnist-784-euclidean.gt100"
SHARED_DIR_ENV = "AUGURDB_SHARED_DIR"


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

