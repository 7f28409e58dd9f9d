"""A synthetic 128-d data set with low intrinsic dimension, and its exact ground truth.

Real embeddings are not uniformly spread over their ambient space: they lie near a
low-dimensional manifold and gather in clusters of uneven size and spread. Uniform random
vectors (the usual synthetic stand-in) have neither property, which makes every graph index look
bad (all distances concentrate) and says little about behaviour on real data. This generator is a
cheap middle ground, used for build rate and memory at scale (1M vectors) where no real data set
is installed.

The model (``clustered-1m``, generator version 1), with ``rng = numpy.random.default_rng``:

1. A random orthonormal basis ``B`` (128 x 12) of a 12-d subspace: QR of a Gaussian matrix.
2. 100 cluster centres ``c_j ~ N(0, 4^2 I_12)`` in that subspace, mixture weights
   ``w ~ Dirichlet(1, ..., 1)`` (uneven cluster sizes) and per-cluster spreads
   ``s_j ~ LogNormal(0, 0.35)``.
3. Each point: draw cluster ``j ~ w``, then ``z = c_j + s_j * N(0, I_12)`` and
   ``x = B z + N(0, 0.1^2 I_128)`` (isotropic noise, about 10% of the energy), as float32.

Points are generated in fixed chunks of 65,536, chunk ``i`` from the ``i``-th child of
``SeedSequence(seed)``, so the first ``n`` base vectors are the same whatever the total size
(``--limit`` takes a prefix). Queries come from the same mixture with an independent seed
stream, so they are held out (not copies of base vectors).

Ground truth (:func:`augurdb.smoke_bench.exact_ground_truth`) is exact: a float32 matrix
product picks a shortlist of ``k + 32`` candidates per query, which are then re-ranked with
float64 distances recomputed from the vectors (ties broken by smaller index). It is cached by
:func:`bench.ann.common.cached_ground_truth`, keyed by generator version, seed, sizes and ``k``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from .common import GroundTruth, cached_ground_truth

GENERATOR_VERSION = 1
DIM = 128
INTRINSIC_DIM = 12
CLUSTERS = 100
CENTRE_SCALE = 4.0
SPREAD_SIGMA = 0.35
NOISE = 0.1
DEFAULT_SEED = 20261126
DEFAULT_N = 1_000_000
DEFAULT_QUERIES = 1_000
CHUNK = 65_536

FloatArray = npt.NDArray[np.float32]


class _Model:
    """The mixture's fixed parameters (basis, centres, weights, spreads) for one seed."""

    def __init__(self, seed: int) -> None:
        rng = np.random.default_rng(np.random.SeedSequence([seed, 0]))
        gaussian = rng.normal(size=(DIM, INTRINSIC_DIM))
        self.basis, _ = np.linalg.qr(gaussian)  # (DIM, INTRINSIC_DIM), orthonormal columns
        self.centres = rng.normal(0.0, CENTRE_SCALE, size=(CLUSTERS, INTRINSIC_DIM))
        self.weights = rng.dirichlet(np.ones(CLUSTERS))
        self.spreads = rng.lognormal(0.0, SPREAD_SIGMA, size=CLUSTERS)

    def sample(self, rng: np.random.Generator, n: int) -> FloatArray:
        which = rng.choice(CLUSTERS, size=n, p=self.weights)
        z = self.centres[which] + self.spreads[which, None] * rng.normal(
            size=(n, INTRINSIC_DIM))
        x = z @ self.basis.T + rng.normal(0.0, NOISE, size=(n, DIM))
        return np.ascontiguousarray(x, dtype=np.float32)


def _generate(seed: int, stream: int, n: int) -> FloatArray:
    model = _Model(seed)
    children = np.random.SeedSequence([seed, stream]).spawn((n + CHUNK - 1) // CHUNK)
    out = np.empty((n, DIM), dtype=np.float32)
    for index, child in enumerate(children):
        start = index * CHUNK
        stop = min(n, start + CHUNK)
        out[start:stop] = model.sample(np.random.default_rng(child), CHUNK)[:stop - start]
    return out


def base_vectors(n: int = DEFAULT_N, seed: int = DEFAULT_SEED) -> FloatArray:
    """The first ``n`` base vectors, float32 ``(n, 128)`` C-contiguous."""
    return _generate(seed, 1, n)


def query_vectors(n: int = DEFAULT_QUERIES, seed: int = DEFAULT_SEED) -> FloatArray:
    """``n`` held-out queries from the same mixture, float32 ``(n, 128)``."""
    return _generate(seed, 2, n)


def load(n: int = DEFAULT_N, n_queries: int = DEFAULT_QUERIES, seed: int = DEFAULT_SEED,
         k: int = 100, use_cache: bool = True) -> tuple[FloatArray, FloatArray, GroundTruth,
                                                         dict[str, Any]]:
    """(base, queries, exact ground truth, description) for ``clustered-1m`` (or a prefix of
    ``n`` base vectors). The ground truth is cached; the vectors are regenerated (seconds)."""
    base = base_vectors(n, seed)
    queries = query_vectors(n_queries, seed)
    key = f"clustered-v{GENERATOR_VERSION}-seed{seed}-n{n}-q{n_queries}"
    truth, cached_flag, path = cached_ground_truth(key, base, queries, k, use_cache)
    info = {
        "generator": f"bench.ann.synthetic v{GENERATOR_VERSION}",
        "seed": seed,
        "dim": DIM,
        "intrinsic_dim": INTRINSIC_DIM,
        "clusters": CLUSTERS,
        "noise_std": NOISE,
        "ground_truth": "exact (float32 shortlist of k+32, float64 re-rank)",
        "ground_truth_cached": cached_flag,
        "ground_truth_cache": str(path) if use_cache else None,
    }
    return base, queries, truth, info
