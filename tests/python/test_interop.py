"""A database written from Python opens from C++ with identical search results, and back.

The C++ side is tests/cpp/interop_tool, built by `make test` (test-cpp) before the Python suite
runs; AUGURDB_INTEROP_TOOL overrides its path.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

import augurdb

ROOT = Path(__file__).resolve().parents[2]
TOOL = Path(os.environ.get("AUGURDB_INTEROP_TOOL", ROOT / "build/cpp/tests/cpp/interop_tool"))

pytestmark = pytest.mark.skipif(
    not TOOL.exists() and "CI" not in os.environ,
    reason=f"{TOOL} not built (run `make test-cpp` first); CI always builds it")


def cpp_search(db: Path, queries: np.ndarray, k: int, tmp_path: Path) -> np.ndarray:
    qfile = tmp_path / "q.f32"
    queries.astype(np.float32).tofile(qfile)
    out = subprocess.run([str(TOOL), "search", str(db), str(qfile), str(k)], capture_output=True,
                         text=True, check=True).stdout
    return np.array([[int(x) for x in line.split()] for line in out.splitlines()])


def test_python_writes_cpp_reads(tmp_path):
    rng = np.random.default_rng(5)
    base = rng.random((500, 12), dtype=np.float32)
    db = tmp_path / "py.adb"
    with augurdb.open(db, dim=12) as col:
        col.add(np.arange(500), base, metadata=[{"i": i} for i in range(500)])
        col.delete([3, 4])
        queries = rng.random((20, 12), dtype=np.float32)
        expected = col.search_batch(queries, k=5, ef=200).ids
    np.testing.assert_array_equal(cpp_search(db, queries, 5, tmp_path), expected)


def test_cpp_writes_python_reads(tmp_path):
    db = tmp_path / "cpp.adb"
    subprocess.run([str(TOOL), "write", str(db), "400", "10"], check=True)
    rng = np.random.default_rng(6)
    queries = (rng.random((15, 10)) * 10).astype(np.float32)
    via_cpp = cpp_search(db, queries, 7, tmp_path)
    with augurdb.open(db, mode="r") as col:
        assert len(col) == 400 and col.dim == 10
        assert col.count({"parity": 1}) == 200
        np.testing.assert_array_equal(col.search_batch(queries, k=7, ef=200).ids, via_cpp)
