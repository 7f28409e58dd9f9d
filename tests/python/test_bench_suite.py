"""Smoke test of the benchmark suite (``python -m bench.ann.suite --quick``).

Checks only that the quick run completes and writes valid JSON with the expected keys and
non-empty PNG plots; the numbers themselves are not judged here. Needs matplotlib (plots) and
faiss-cpu (one of the quick peers): ``pip install matplotlib faiss-cpu hnswlib tqdm``.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

_MISSING = [name for name in ("matplotlib", "faiss") if importlib.util.find_spec(name) is None]

pytestmark = pytest.mark.skipif(
    bool(_MISSING),
    reason=f"benchmark suite smoke test needs {' and '.join(_MISSING)} "
           "(pip install matplotlib faiss-cpu hnswlib tqdm)")


def _dataset() -> str:
    """Fashion-MNIST when its Debian package is installed, else the built-in synthetic set."""
    from bench.ann import datasets
    if (datasets.FASHION_MNIST_DIR / "train-images-idx3-ubyte.gz").is_file():
        return "fashion-mnist"
    return "clustered-1m"


def test_quick_suite_writes_json_and_plots(tmp_path: Path) -> None:
    dataset = _dataset()
    out = tmp_path / "results"
    proc = subprocess.run(
        [sys.executable, "-m", "bench.ann.suite", "--quick", "--dataset", dataset,
         "--out", str(out), "--tmpdir", str(tmp_path / "work")],
        capture_output=True, text=True, timeout=600, cwd=Path(__file__).resolve().parents[2])
    assert proc.returncode == 0, f"suite failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"

    stem = f"suite-{dataset}-quick"
    result = json.loads((out / f"{stem}.json").read_text(encoding="utf-8"))
    for key in ("header", "config", "systems", "observations", "plots", "report_markdown"):
        assert key in result, key
    for key in ("date", "cpu", "simd", "git_commit", "dataset"):
        assert key in result["header"], key
    assert set(result["systems"]) == {"augurdb", "hnswlib", "faiss"}
    augur = result["systems"]["augurdb"]
    assert augur["status"] == "ran", augur.get("error")
    for key in ("builds", "sweep", "batch", "qps_at_recall", "persistence"):
        assert key in augur, key
    assert augur["builds"] and augur["sweep"]
    for system in result["systems"].values():
        assert {"status", "label", "version", "params"} <= set(system)

    assert (out / f"{stem}.md").read_text(encoding="utf-8").startswith("# AugurDB vs peers")
    plots = [Path(p) for p in result["plots"].values()]
    assert len(plots) >= 3
    for plot in plots:
        data = plot.read_bytes()
        assert len(data) > 1000 and data[:8] == b"\x89PNG\r\n\x1a\n", plot
