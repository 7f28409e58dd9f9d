#!/usr/bin/env python3
"""Build and run bench/micro/distance_bench; write bench/results/distance_bench.md.

Usage (from anywhere in the repository):
    python3 bench/micro/run_distance_bench.py [--skip-build] [--build-dir DIR] [--repetitions N]
                                              [-- extra Google Benchmark flags]

The table holds the median CPU ns per distance over the repetitions, one row per dim, one column per
kernel, plus the ratio hnswlib_avx512 / augurdb_avx512 (> 1: ours is faster). Benchmarks never
gate correctness: this script fails only if the build or the benchmark binary fails.
Pure standard library.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OUTPUT = REPO / "bench" / "results" / "distance_bench.md"
METRICS = {
    "L2": "Squared L2",
    "IP": "Inner-product distance (ours: -dot; hnswlib: 1 - dot)",
}
# Column order; kernels this CPU lacks are simply absent from the results.
KERNEL_ORDER = [
    "augurdb_scalar",
    "augurdb_neon",
    "augurdb_avx2",
    "augurdb_avx512",
    "hnswlib_avx2",
    "hnswlib_avx512",
]
RATIO = ("hnswlib_avx512", "augurdb_avx512")
TO_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
NOISY_CV = 0.05  # cells whose coefficient of variation exceeds this get a '*'


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    print("+ " + " ".join(str(c) for c in cmd), file=sys.stderr, flush=True)
    return subprocess.run(cmd, check=True, **kwargs)


def git_commit() -> str:
    try:
        head = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short=12", "HEAD"],
            check=True, capture_output=True, text=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
            check=True, capture_output=True, text=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("-dirty" if dirty else "")


def hnswlib_version() -> str:
    try:
        out = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", "libhnswlib-dev"],
            check=True, capture_output=True, text=True,
        ).stdout.strip()
        return f"libhnswlib-dev {out}" if out else "unknown"
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def aggregates(report: dict, name: str) -> dict[tuple[str, str, int], float]:
    """(metric, kernel, dim) -> the `name` aggregate (median: ns; cv: fraction) of CPU time.

    CPU time rather than real time: on a shared machine a descheduled thread inflates real time,
    and every kernel here is single-threaded compute, so the two agree on a quiet machine.
    """
    out = {}
    for b in report["benchmarks"]:
        if b.get("run_type") != "aggregate" or b.get("aggregate_name") != name:
            continue
        metric, kernel, dim = b["run_name"].split("/")
        scale = 1.0 if b.get("aggregate_unit") == "percentage" else TO_NS[b.get("time_unit", "ns")]
        out[(metric, kernel, int(dim))] = b["cpu_time"] * scale
    return out


def fmt(ns: float | None, cv: float | None) -> str:
    if ns is None:
        return "–"
    text = f"{ns:.1f}" if ns < 100 else f"{ns:.0f}"
    return text + ("*" if cv is not None and cv > NOISY_CV else "")


def markdown(report: dict, med: dict, cv: dict, commit: str, command: str) -> str:
    ctx = report["context"]
    kernels = [k for k in KERNEL_ORDER if any(key[1] == k for key in med)]
    kernels += sorted({key[1] for key in med} - set(kernels))
    dims = sorted({key[2] for key in med})
    lines = [
        "# fp32 distance kernels: ns per distance",
        "",
        f"- Machine: {ctx.get('cpu_model', 'unknown')}, {ctx.get('num_cpus', '?')} CPUs "
        f"@ {ctx.get('mhz_per_cpu', '?')} MHz",
        f"- Date: {ctx.get('date', 'unknown')}",
        f"- Compiler: {ctx.get('compiler', 'unknown')} (Release, -O3; ISA flags per file, "
        "hnswlib compiled with the same flags as ours)",
        f"- SIMD level detected: {ctx.get('simd_detected', '?')}; "
        f"active: {ctx.get('simd_active', '?')}",
        f"- AugurDB commit: {commit}; peer: {hnswlib_version()}",
        f"- Command: `{command}`",
        "",
        "Median over the repetitions of CPU time per distance (ns): one query against a cycling set "
        "of 64-256 base vectors (<= 512 KiB: past L1, within L2) at a stride of an odd number of "
        "cache lines, each kernel called through a function pointer (see distance_bench.cc). "
        f"`*`: coefficient of variation above {NOISY_CV:.0%} (noisy machine). "
        f"Ratio = {RATIO[0]} / {RATIO[1]}; above 1 means AugurDB is faster.",
    ]
    for metric, title in METRICS.items():
        if not any(key[0] == metric for key in med):
            continue
        header = ["dim"] + kernels + [f"{RATIO[0]} / {RATIO[1]}"]
        lines += ["", f"## {metric}: {title}", ""]
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "|".join(["---:"] * len(header)) + "|")
        for dim in dims:
            row = [str(dim)] + [fmt(med.get((metric, k, dim)), cv.get((metric, k, dim)))
                                for k in kernels]
            num, den = med.get((metric, RATIO[0], dim)), med.get((metric, RATIO[1], dim))
            row.append(f"{num / den:.2f}" if num and den else "–")
            lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build-dir", default=str(REPO / "build-bench"))
    ap.add_argument("--skip-build", action="store_true", help="reuse an existing build")
    ap.add_argument("--repetitions", type=int, default=5)
    ap.add_argument("--output", default=str(OUTPUT))
    ap.add_argument("extra", nargs="*", help="passed to distance_bench (after --)")
    args = ap.parse_args()

    build = Path(args.build_dir)
    if not args.skip_build:
        # Build chatter goes to stderr: stdout carries only the Markdown.
        run(["cmake", "-S", str(REPO), "-B", str(build), "-G", "Ninja",
             "-DAUGURDB_BUILD_BENCH=ON", "-DCMAKE_BUILD_TYPE=Release"], stdout=sys.stderr)
        run(["cmake", "--build", str(build), "--target", "distance_bench"], stdout=sys.stderr)

    binary = build / "bench" / "micro" / "distance_bench"
    bench_cmd = [str(binary), "--benchmark_format=json",
                 f"--benchmark_repetitions={args.repetitions}",
                 "--benchmark_report_aggregates_only=true", *args.extra]
    commit = git_commit()
    env = dict(os.environ, AUGURDB_COMMIT=commit)
    proc = run(bench_cmd, env=env, stdout=subprocess.PIPE, text=True)
    report = json.loads(proc.stdout)
    med = aggregates(report, "median")
    cv = aggregates(report, "cv")
    if not med:
        print("distance_bench reported no median aggregates", file=sys.stderr)
        return 1

    command = "python3 bench/micro/run_distance_bench.py" + (
        " " + " ".join(sys.argv[1:]) if len(sys.argv) > 1 else "")
    text = markdown(report, med, cv, commit, command)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_text(text)
    tmp.replace(out)
    print(text)
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
