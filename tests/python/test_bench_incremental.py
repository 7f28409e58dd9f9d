"""Smoke test of the incremental-insert benchmark (``python -m bench.ann.incremental --quick``).

The quick mode loads 15,000 synthetic vectors and inserts 5 batches of 1,000 (seconds). The test
checks the report's shape: a load row and a batch row for every system that ran, a ratio against
hnswlib, and a recall figure that shows the grown index answers queries (a broken insert path
that silently dropped the batches would cost recall here). The speeds are not judged.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

from bench.ann import incremental


def test_quick_incremental_reports_every_system(tmp_path: Path) -> None:
    out = tmp_path / "incremental.md"
    proc = subprocess.run(
        [sys.executable, "-m", "bench.ann.incremental", "--quick", "--out", str(out)],
        capture_output=True, text=True, timeout=300, cwd=Path(__file__).resolve().parents[2])
    assert proc.returncode == 0, f"benchmark failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    text = out.read_text(encoding="utf-8")
    assert text == proc.stdout, "--out must hold exactly the printed report"
    assert text.startswith("# Incremental inserts: 5 batches of 1,000 into 15,000 vectors")
    assert "CPU:" in text and "SIMD" in text
    loads, batches = text.split("## Batches of 1,000")
    for name in incremental.SYSTEMS:
        label = incremental.LABELS[name]
        if name == "hnswlib" and importlib.util.find_spec("hnswlib") is None:
            assert f"skipping {name}:" in proc.stderr
            continue
        assert f"| {label} |" in loads, name
        row = re.search(rf"\| {re.escape(label)} \| ([\d,]+) \| ([\d.]+x|n/a) \| .* \| "
                        rf"([01]\.\d{{4}}) \|", batches)
        assert row is not None, f"no batch row for {name}:\n{batches}"
        assert int(row.group(1).replace(",", "")) > 0
        # 20,000 clustered vectors at ef 64: every system finds nearly all true neighbours, the
        # inserted fifth included (queries are drawn from the same mixture).
        assert float(row.group(3)) >= 0.9, (name, row.group(3))


def test_batches_must_leave_an_initial_set() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.ann.incremental", "--quick", "--batch", "5000"],
        capture_output=True, text=True, timeout=120, cwd=Path(__file__).resolve().parents[2])
    assert proc.returncode != 0
    assert "must be below the set's 20,000 vectors" in proc.stderr
