"""PNG plots of a :mod:`bench.ann.quantized` report.

Reads the Markdown report that ``python -m bench.ann.quantized --out FILE.md`` writes and puts
two plots beside it, so every past result file can be plotted the same way as a new run:

- ``FILE-recall-qps.png``: recall@10 vs QPS (one query per call, one thread), a line per system
  (its Pareto frontier over the ef sweep);
- ``FILE-build.png``: build rate per system (vectors/s), glass's graph-only build as its own bar.

The report's header line ``- CPU: ...`` and ``- AugurDB ... SIMD ...`` go into the titles, so a
plot says which machine it came from.

    python -m bench.ann.quantized_plots bench/results/quantized-*.md
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from pathlib import Path

from . import plots

_TABLE_ROW = re.compile(r"^\|(.+)\|\s*$")


def _section(lines: Sequence[str], title: str) -> list[list[str]]:
    """The body rows of the first table after the ``## title`` heading, as cells."""
    rows: list[list[str]] = []
    inside = False
    for line in lines:
        if line.startswith("## "):
            if inside and rows:
                break
            inside = line[3:].startswith(title)
            continue
        match = _TABLE_ROW.match(line) if inside else None
        if match is None:
            if rows:
                break
            continue
        cells = [c.strip() for c in match.group(1).split("|")]
        if set("".join(cells)) <= set("-: "):  # the header rule
            continue
        rows.append(cells)
    return rows[1:] if rows else []  # drop the header row


def _number(cell: str) -> float | None:
    try:
        return float(cell.replace(",", ""))
    except ValueError:
        return None


def _header_match(lines: Sequence[str], pattern: str, default: str) -> str:
    """The first group of ``pattern`` in the report's header lines (before the first table)."""
    for line in lines:
        if line.startswith("## "):
            break
        match = re.search(pattern, line)
        if match:
            return match.group(1)
    return default


def parse(report: Path) -> tuple[dict[str, list[tuple[float, float]]], dict[str, float], int, str]:
    """(sweep points {system: [(recall, qps)]}, build rates {label: vectors/s}, build threads,
    title)."""
    lines = report.read_text(encoding="utf-8").splitlines()
    sweep: dict[str, list[tuple[float, float]]] = {}
    for cells in _section(lines, "Sweep"):
        recall, qps = _number(cells[2]), _number(cells[3])
        if recall is not None and qps is not None:
            sweep.setdefault(cells[1], []).append((recall, qps))
    builds: dict[str, float] = {}
    for cells in _section(lines, "Builds"):
        rate = _number(cells[2]) if len(cells) > 2 else None
        if rate is not None:
            builds[cells[0]] = rate
    if not sweep:
        raise ValueError(f"{report}: no '## Sweep' table (not a bench.ann.quantized report?)")
    data = lines[0].removeprefix("# ").split(": ")[-1] if lines else report.stem
    cpu = _header_match(lines, r"^- CPU: (.+?), \d+ cores", "CPU not recorded")
    simd = _header_match(lines, r" SIMD (\w+)", "?")
    threads = int(_header_match(lines, r"builds with (\d+) thread", "0"))
    return sweep, builds, threads, f"{data}: {cpu}, SIMD {simd}"


def plot(report: Path) -> list[Path]:
    """Writes the two PNGs beside ``report``; returns their paths."""
    sweep, builds, threads, title = parse(report)
    stem = report.with_suffix("")
    curves = {name: {"key": name, "points": points} for name, points in sweep.items()}
    out = [plots.recall_qps(curves, Path(f"{stem}-recall-qps.png"),
                            f"{title}\none query per call, 1 thread, best of the repetitions")]
    if builds:
        out.append(plots.build_bars({label: {threads: rate} for label, rate in builds.items()},
                                    Path(f"{stem}-build.png"), f"{title}\nbuild rate"))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    paths = [Path(a) for a in (sys.argv[1:] if argv is None else argv)]
    if not paths:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    for path in paths:
        try:
            written = plot(path)
        except (OSError, ValueError) as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        print("\n".join(str(p) for p in written))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
