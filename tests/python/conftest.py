"""Shared fixtures: small deterministic data sets with neighbourhood structure."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

# The benchmark harness (bench/ann) is not in the wheel: tests import it from the checkout.
_REPO_ROOT = str(Path(__file__).resolve().parents[2])
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)


def clustered(n: int, dim: int, seed: int = 0, clusters: int = 8) -> np.ndarray:
    """Gaussian clusters in a low-dimensional subspace (float32, C-contiguous)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 3, (clusters, dim))
    basis = rng.normal(0, 1, (clusters, 4, dim))
    which = rng.integers(0, clusters, n)
    z = rng.normal(0, 0.5, (n, 4))
    x = centres[which] + np.einsum("nk,nkd->nd", z, basis[which]) + rng.normal(0, 0.05, (n, dim))
    return np.ascontiguousarray(x, dtype=np.float32)


@pytest.fixture
def data() -> np.ndarray:
    return clustered(600, 16, seed=1)


@pytest.fixture
def queries() -> np.ndarray:
    return clustered(40, 16, seed=2)


def exact_knn(base: np.ndarray, queries: np.ndarray, k: int, metric: str = "l2") -> np.ndarray:
    """Exact distances (nq, k) sorted ascending, in the engine's conventions."""
    if metric == "l2":
        d = ((queries[:, None, :].astype(np.float64) - base[None].astype(np.float64)) ** 2).sum(-1)
    elif metric == "ip":
        d = -(queries.astype(np.float64) @ base.T.astype(np.float64))
    else:
        qn = queries / np.linalg.norm(queries, axis=1, keepdims=True)
        bn = base / np.linalg.norm(base, axis=1, keepdims=True)
        d = 1.0 - qn.astype(np.float64) @ bn.T.astype(np.float64)
    return np.sort(d, axis=1)[:, :k]
