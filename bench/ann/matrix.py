"""The data-set matrix every graph or speed change is judged on.

One data set says little about a graph heuristic: the alpha-pruned neighbour rule (commit
0b9a60f) was tuned on Fashion-MNIST, where it helped, and lost recall on clustered and
high-dimensional data (issue 24). Each set below stresses the graph differently:

``fashion-mnist``
    60K x 784 L2, integer pixels, smooth manifold (Debian ``dataset-fashion-mnist``, ground truth
    from ``shared/data``).
``gauss-clusters-100k`` / ``gauss-clusters-1m``
    128-d, 1,000 Gaussian clusters: centres ``4 * N(0, I)``, points ``centre + N(0, I)``, queries
    from the same mixture (held out). Clusters overlap little, so the graph needs long edges that
    bridge them: a heuristic that fills the degree budget with near neighbours loses them.
``gauss-64-self``
    90K ``N(0, I)`` 64-d vectors (high intrinsic dimension: distances concentrate); 3,000 of the
    base points are queried with themselves, k = 1. Recall is the share found, so misses =
    (1 - recall) * 3,000.
``minilm-384``
    Real sentence embeddings: all-MiniLM-L6-v2 of Debian's English package descriptions, cosine
    (:mod:`bench.ann.minilm`, which needs ``onnxruntime``, ``tokenizers`` and the model
    packages; when they are missing the set is reported as unavailable, not skipped silently).

``quick=True`` gives smaller versions (a few seconds to build each) for the CI smoke run and for
iterating; their ratios are indicative only. Ground truth is always exact (float64 re-rank of a
float32 shortlist, :func:`augurdb.smoke_bench.exact_ground_truth`); vectors are regenerated
from fixed seeds, ground truth is cached under ``~/.cache/augurdb/bench``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import numpy.typing as npt

from augurdb.smoke_bench import gaussian_clusters

from . import datasets
from .common import cached_ground_truth

FloatArray = npt.NDArray[np.float32]

MATRIX = ("fashion-mnist", "gauss-clusters-100k", "gauss-64-self", "minilm-384",
          "gauss-clusters-1m")
#: The sets a default matrix run covers (the 1M set is opt-in: ~10 minutes of builds).
DEFAULT_MATRIX = MATRIX[:4]

GAUSS_SEED = 20261205
CLUSTERS = 1_000
CLUSTER_DIM = 128
CENTRE_SCALE = 4.0
SELF_DIM = 64


@dataclass
class MatrixDataset:
    """Base vectors, queries, exact squared-L2 ground truth ``(nq, >= k)`` and how to search:
    ``metric`` as AugurDB spells it ("cosine" sets are unit-norm, so the L2 recall rule and
    cosine order agree), ``k`` results per query."""

    name: str
    base: FloatArray
    queries: FloatArray
    gt_sqdist: npt.NDArray[Any]
    metric: str = "l2"
    k: int = 10
    info: dict[str, Any] = field(default_factory=dict)


def _cached_truth(key: str, base: FloatArray, queries: FloatArray,
                  k: int) -> npt.NDArray[np.float64]:
    return cached_ground_truth(key, base, queries, k)[0].sqdist


def _fashion(quick: bool) -> MatrixDataset:
    n, nq = (20_000, 300) if quick else (None, 2_000)
    data = datasets.load_fashion_mnist(limit_train=n, limit_test=nq)
    if n is None:
        gt = datasets.load_ground_truth().sqdist[:nq]
    else:
        gt = _cached_truth(f"fashion-n{n}-q{nq}", data.train, data.test, 10)
    return MatrixDataset("fashion-mnist", data.train, data.test, gt,
                         info={"source": "Debian dataset-fashion-mnist", "shape": "60K x 784"})


def _clusters(n: int, n_queries: int, clusters: int, label: str) -> MatrixDataset:
    base, queries = gaussian_clusters(n, n_queries, clusters)
    gt = _cached_truth(f"gauss-clusters-c{clusters}-n{n}-q{n_queries}-s{GAUSS_SEED}", base,
                       queries, 10)
    return MatrixDataset(label, base, queries, gt,
                         info={"generator": f"{clusters} clusters, centres {CENTRE_SCALE}*N(0,I)"
                               f", points centre + N(0,I), {CLUSTER_DIM}-d"})


def _gauss_self(quick: bool) -> MatrixDataset:
    n, nq = (30_000, 1_000) if quick else (90_000, 3_000)
    rng = np.random.default_rng(np.random.SeedSequence([GAUSS_SEED, SELF_DIM, n]))
    base = rng.normal(size=(n, SELF_DIM)).astype(np.float32)
    picks = rng.choice(n, size=nq, replace=False)
    queries = np.ascontiguousarray(base[picks])
    # Ten columns so that the peer suite can score recall@10 too; the matrix scores k = 1.
    gt = _cached_truth(f"gauss-self-d{SELF_DIM}-n{n}-q{nq}-s{GAUSS_SEED}", base, queries, 10)
    return MatrixDataset("gauss-64-self", base, queries, gt, k=1,
                         info={"generator": f"N(0, I) {SELF_DIM}-d, base points queried with "
                               "themselves", "k": 1})


def _minilm(quick: bool) -> MatrixDataset:
    from . import minilm  # imports onnxruntime lazily; raises DatasetMissingError when absent

    base, queries, truth = minilm.load(n_base=20_000 if quick else None,
                                       n_queries=300 if quick else 1_000)
    return MatrixDataset("minilm-384", base, queries, truth.sqdist, metric="cosine",
                         info={"source": "all-MiniLM-L6-v2 (int8 ONNX) of Debian package "
                               "descriptions"})


_LOADERS: dict[str, Callable[[bool], MatrixDataset]] = {
    "fashion-mnist": _fashion,
    "gauss-clusters-100k": lambda quick: _clusters(*((20_000, 300, 200) if quick
                                                     else (100_000, 500, CLUSTERS)),
                                                   "gauss-clusters-100k"),
    "gauss-clusters-1m": lambda quick: _clusters(*((200_000, 500, CLUSTERS) if quick
                                                   else (1_000_000, 1_000, CLUSTERS)),
                                                 "gauss-clusters-1m"),
    "gauss-64-self": _gauss_self,
    "minilm-384": _minilm,
}


def load(name: str, quick: bool = False) -> MatrixDataset:
    """One data set of the matrix; raises :class:`datasets.DatasetMissingError` when its input
    is not installed (the message says how to get it)."""
    if name not in _LOADERS:
        raise ValueError(f"unknown matrix data set {name!r}; known: {', '.join(MATRIX)}")
    return _LOADERS[name](quick)
