"""Typing of the package (issue 17): the committed engine stub matches the built module, and
``mypy --strict`` accepts a user script that makes every public call.

Both tools come with the ``[test]`` extra (nanobind pinned to the version the module is built
with, since the stub's text depends on it); without them the tests skip and say why.
"""

from __future__ import annotations

import difflib
import subprocess
import sys
from pathlib import Path

import augurdb
import pytest

ROOT = Path(__file__).resolve().parents[2]
COMMITTED_STUB = ROOT / "python" / "augurdb" / "_core.pyi"
PATTERNS = ROOT / "src" / "bindings" / "core_stub_patterns.txt"
TYPED_EXAMPLE = ROOT / "examples" / "typed_usage.py"


def test_core_stub_matches_the_built_module(tmp_path):
    pytest.importorskip("nanobind.stubgen", reason="nanobind comes with the [test] extra")
    generated = tmp_path / "_core.pyi"
    proc = subprocess.run(
        [sys.executable, "-m", "nanobind.stubgen", "-m", "augurdb._core", "-p",
         str(PATTERNS), "-o", str(generated)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    # A pattern naming a member the module no longer has would silently drop its refinement.
    assert "did not match" not in proc.stdout, proc.stdout
    want = generated.read_text(encoding="utf-8")
    have = COMMITTED_STUB.read_text(encoding="utf-8")
    if have != want:
        diff = "".join(difflib.unified_diff(
            have.splitlines(keepends=True), want.splitlines(keepends=True),
            "python/augurdb/_core.pyi (committed)", "stub of the installed augurdb._core", n=1))
        pytest.fail("python/augurdb/_core.pyi is stale: run `make stubs` and commit it\n"
                    + diff[:4000])


def test_installed_package_ships_the_stub_and_marker():
    package = Path(augurdb.__file__).parent
    assert (package / "py.typed").is_file()
    assert (package / "_core.pyi").is_file()


def test_mypy_strict_accepts_the_typed_example(tmp_path):
    pytest.importorskip("mypy", reason="mypy comes with the [test] extra")
    # Run outside the checkout so mypy reads the installed package (stub included), not
    # python/, and keeps its cache out of the tree.
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "cache"),
         str(TYPED_EXAMPLE)],
        cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_typed_example_runs(tmp_path):
    proc = subprocess.run([sys.executable, str(TYPED_EXAMPLE), str(tmp_path)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "read-only add refused" in proc.stdout
