"""Smoke test of the quantized benchmark (``python -m bench.ann.quantized --quick``).

Runs the quick mode (5,000 base vectors, 200 queries, two ef values: a few seconds) and checks that
the report has a sweep row and a QPS-at-recall row for every system, and a memory row for each
system that ran. A peer whose package is missing (hnswlib, faiss-cpu, usearch, pyglass-portable,
scann) must appear as "skipped" with the reason, not fail the run. The numbers themselves are not
judged.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

from bench.ann import quantized


def _dataset() -> str:
    """Fashion-MNIST when its Debian package is installed, else the built-in synthetic set."""
    from bench.ann import datasets
    if (datasets.FASHION_MNIST_DIR / "train-images-idx3-ubyte.gz").is_file():
        return "fashion-mnist"
    return "clustered-1m"


def test_quick_quantized_has_every_system(tmp_path: Path) -> None:
    out = tmp_path / "quantized.md"
    proc = subprocess.run(
        [sys.executable, "-m", "bench.ann.quantized", "--quick", "--dataset", _dataset(),
         "--out", str(out)],
        capture_output=True, text=True, timeout=300, cwd=Path(__file__).resolve().parents[2])
    assert proc.returncode == 0, f"benchmark failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    text = out.read_text(encoding="utf-8")
    assert text == proc.stdout, "--out must hold exactly the printed report"
    assert text.startswith("# Quantized traversal")
    for heading in ("## Builds", "## Sweep", "## QPS at fixed recall@10", "## Memory"):
        assert heading in text, heading
    assert "load at start:" in text and "CPU:" in text and "SIMD" in text

    qps_section = text.split("## QPS at fixed recall@10")[1].split("## Memory")[0]
    memory_section = text.split("## Memory")[1]
    for name in quantized.SYSTEM_ORDER:
        label = quantized.LABELS[name]
        module = quantized.PEER_MODULES.get(name)
        if module is not None and importlib.util.find_spec(module) is None:
            assert f"| {label} | skipped: " in qps_section, name
            assert f"skipping {name}:" in proc.stderr, name
            continue
        for ef in quantized.QUICK_EFS:
            assert f"| {ef} | {name} | " in text, (name, ef)
        row = next((line for line in qps_section.splitlines()
                    if line.startswith(f"| {label} |")), None)
        assert row is not None, f"no QPS row for {name}"
        assert "x |" in row or "n/a" in row, row
        assert f"| {label} | `" in memory_section, f"no memory row for {name}"
