"""``augurdb bench``: the benchmark suite of a source checkout, or the packaged smoke benchmark."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2

BENCH_MODULE = "bench.ann.hnsw_vs_hnswlib"
BENCH_DATASETS = ("fashion-mnist",)


def bench_checkout() -> Path | None:
    """The source checkout whose suite ``augurdb bench`` runs (the harness is not in the wheel):
    the first directory above the working directory, or above this package (an install into the
    checkout's .venv), that holds bench/ann; None for an install used elsewhere."""
    for start in (Path.cwd(), Path(__file__).resolve().parent):
        for directory in (start, *start.parents):
            if (directory / "bench" / "ann" / "hnsw_vs_hnswlib.py").is_file():
                return directory
    return None


def run_bench(rest: Sequence[str]) -> int:
    """``augurdb bench [--smoke] [fashion-mnist] ARGS...``: ``python -m bench.ann.hnsw_vs_hnswlib``
    of the checkout when there is one, else (or with --smoke) :mod:`augurdb.smoke_bench`."""
    rest = list(rest)
    smoke = "--smoke" in rest
    rest = [arg for arg in rest if arg != "--smoke"]
    checkout = None if smoke else bench_checkout()
    if rest and not rest[0].startswith("-"):
        if rest[0] not in BENCH_DATASETS:
            print(f"augurdb bench: error: unknown data set {rest[0]!r} (choose from "
                  f"{', '.join(BENCH_DATASETS)})", file=sys.stderr)
            return EXIT_USAGE
        rest = rest[1:] if checkout is not None else ["--dataset", rest[0], *rest[1:]]
    if checkout is None:
        from augurdb import smoke_bench

        entry = smoke_bench.main
    else:
        import importlib

        if str(checkout) not in sys.path:
            sys.path.insert(0, str(checkout))
        entry = importlib.import_module(BENCH_MODULE).main
    try:
        code = entry(rest)
    except SystemExit as exc:
        code = exc.code
    if code is None:
        return EXIT_OK
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)  # sys.exit("message")
    return EXIT_ERROR
