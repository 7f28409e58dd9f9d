"""Smoke test of the quantized benchmark (``python -m bench.ann.quantized --quick``).

Runs the quick mode (5,000 base vectors, 200 queries, two ef values: a few seconds) and checks that
the report has a sweep row and a QPS-at-recall row for every system, and a memory row for each
system that ran. A peer whose package is missing (hnswlib, faiss-cpu, usearch, pyglass-portable,
scann) must appear as "skipped" with the reason, not fail the run. ``--out`` also writes the
recall-QPS and build plots (bench.ann.quantized_plots), which must parse the report back. The
numbers themselves are not judged.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from bench.ann import quantized, quantized_plots


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

    # --out also writes the two plots, and the report parses back into every sweep point.
    sweep, builds, threads, title = quantized_plots.parse(out)
    ran = [n for n in quantized.SYSTEM_ORDER if f"| {quantized.QUICK_EFS[0]} | {n} | " in text]
    assert sorted(sweep) == sorted(ran)
    assert all(len(points) == len(quantized.QUICK_EFS) for points in sweep.values())
    assert all(0.0 <= r <= 1.0 and q > 0 for points in sweep.values() for r, q in points)
    assert len(builds) >= len(ran) and threads == 2
    assert "SIMD" in title and "CPU not recorded" not in title
    if importlib.util.find_spec("matplotlib") is not None:
        for suffix in ("-recall-qps.png", "-build.png"):
            png = tmp_path / f"quantized{suffix}"
            assert png.stat().st_size > 1000, png
            assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plots_refuse_a_file_that_is_not_a_quantized_report(tmp_path: Path) -> None:
    other = tmp_path / "other.md"
    other.write_text("# Something else\n\n## Builds\n\n| a | b | c |\n|---|---|---|\n",
                     encoding="utf-8")
    with pytest.raises(ValueError, match="no '## Sweep' table"):
        quantized_plots.parse(other)
