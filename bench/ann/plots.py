"""PNG plots for :mod:`bench.ann.suite` (matplotlib, Agg backend, no display needed).

- recall@10 vs QPS, ann-benchmarks style: recall on x, QPS on a log y axis, one line per
  system (its Pareto frontier over the ef sweep, every measured point marked);
- build rate: grouped bars of vectors/s per system, one bar per thread count;
- memory: RSS growth of the build and on-disk size per system.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

_COLOURS = {
    "augurdb": "#d62728", "hnswlib": "#1f77b4", "faiss": "#2ca02c", "usearch": "#9467bd",
    "chromadb-memory": "#ff7f0e", "chromadb-persistent": "#8c564b", "lancedb": "#17becf",
    "omendb": "#7f7f7f", "glass": "#bcbd22", "scann": "#e377c2", "augurdb-sq8": "#ff9896",
    "augurdb-fp32": "#d62728", "augurdb-sq4": "#98df8a",
}


def _pyplot() -> Any:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _save(plt: Any, fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def _frontier(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    frontier: list[tuple[float, float]] = []
    best = float("-inf")
    for recall, qps in sorted(points, key=lambda p: (-p[0], -p[1])):
        if qps > best:
            frontier.append((recall, qps))
            best = qps
    return sorted(frontier)


def recall_qps(curves: dict[str, dict[str, Any]], path: Path, title: str) -> Path:
    """``curves``: {name: {"key": system key, "points": [(recall, qps), ...],
    "dashed": bool}}. Writes a PNG and returns its path."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(9, 6), dpi=110)
    lowest = 1.0
    for name, curve in curves.items():
        points = [(r, q) for r, q in curve["points"] if q and q > 0]
        if not points:
            continue
        colour = _COLOURS.get(curve.get("key", ""), None)
        style = "--" if curve.get("dashed") else "-"
        front = _frontier(points)
        ax.plot([p[0] for p in front], [p[1] for p in front], style, color=colour, marker="o",
                markersize=4, linewidth=1.6, label=name)
        others = [p for p in points if p not in front]
        if others:
            ax.plot([p[0] for p in others], [p[1] for p in others], "x", color=colour,
                    markersize=4, alpha=0.5)
        lowest = min(lowest, min(p[0] for p in points))
    ax.set_yscale("log")
    ax.set_xlabel("recall@10 (ann-benchmarks k-nn rule)")
    ax.set_ylabel("queries per second (log)")
    ax.set_xlim(max(0.0, min(lowest, 0.9) - 0.02), 1.002)
    ax.grid(True, which="both", alpha=0.3)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="lower left")
    return _save(plt, fig, path)


def _grouped_bars(plt: Any, names: list[str], groups: Sequence[Any],
                  height: Callable[[str, Any], float],
                  label: Callable[[Any], str]) -> tuple[Any, Any, list[tuple[Any, list[float]]]]:
    """One group of bars per name, one bar per group member; returns (fig, ax, [(bars,
    heights) per member]) for the caller's labels and annotations."""
    fig, ax = plt.subplots(figsize=(max(7, 1.3 * len(names) + 2), 5), dpi=110)
    width = 0.8 / max(1, len(groups))
    drawn = []
    for j, g in enumerate(groups):
        xs = [i + (j - (len(groups) - 1) / 2) * width for i in range(len(names))]
        heights = [height(n, g) for n in names]
        drawn.append((ax.bar(xs, heights, width, label=label(g)), heights))
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=20, ha="right", fontsize=8)
    return fig, ax, drawn


def build_bars(rates: dict[str, dict[int, float]], path: Path, title: str) -> Path:
    """``rates``: {system label: {threads: vectors per second}}. Grouped bars."""
    plt = _pyplot()
    threads = sorted({t for r in rates.values() for t in r})
    fig, ax, drawn = _grouped_bars(plt, list(rates), threads, lambda n, t: rates[n].get(t, 0.0),
                                   lambda t: f"{t} thread{'s' if t > 1 else ''}")
    for bars, values in drawn:
        for bar, value in zip(bars, values):
            if value > 0:
                ax.annotate(f"{value:,.0f}", (bar.get_x() + bar.get_width() / 2, value),
                            ha="center", va="bottom", fontsize=7, rotation=90,
                            xytext=(0, 2), textcoords="offset points")
    ax.set_ylabel("vectors / second (build)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(True, axis="y", alpha=0.3)
    ax.margins(y=0.15)
    return _save(plt, fig, path)


def memory_bars(values: dict[str, dict[str, float | None]], path: Path, title: str,
                raw_bytes: float) -> Path:
    """``values``: {system label: {"RSS growth": bytes, "on disk": bytes}} (None = n/a)."""
    plt = _pyplot()
    kinds = sorted({k for v in values.values() for k in v})
    fig, ax, _ = _grouped_bars(plt, list(values), kinds,
                               lambda n, kind: (values[n].get(kind) or 0.0) / 2**20, str)
    ax.axhline(raw_bytes / 2**20, color="black", linestyle=":", linewidth=1,
               label="raw float32 vectors")
    ax.set_ylabel("MiB")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(True, axis="y", alpha=0.3)
    return _save(plt, fig, path)
