"""The report of :mod:`bench.ann.suite`: the machine header, the observations drawn from the
results (where AugurDB leads or trails, and by how much), the Markdown report and the plots."""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import common
from .common import (
    fmt_int as _fmt_int,
    fmt_s as _fmt_s,
    git_commit,
    markdown_table,
    ratio as _ratio,
)
from .peers import K

TARGET_RECALLS = (0.90, 0.95, 0.99)  # the recalls the report reads QPS at
REOPEN_EF = 64  # ef of the first query after a reopen (and of Chroma's stored ef_search)


def _fmt_mib(value: float | None) -> str:
    return common.fmt_mib(value, unit=False)


def machine_header(args: argparse.Namespace, dataset_info: dict[str, Any]) -> dict[str, Any]:
    import augurdb
    build = augurdb.build_info()
    core = Path(augurdb._core.__file__)  # type: ignore[attr-defined]
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "mode": "quick" if args.quick else "full",
        "host": platform.node(),
        "kernel": platform.release(),
        "cpu": common.cpu_info(),
        "simd": build.get("simd"),
        "simd_detected": build.get("simd_detected"),
        "augurdb_simd_env": os.environ.get("AUGURDB_SIMD"),
        "compiler": build.get("compiler"),
        "augurdb_version": augurdb.__version__,
        "augurdb_module": str(core.parent),
        "augurdb_core_built": datetime.datetime.fromtimestamp(
            core.stat().st_mtime).astimezone().isoformat(timespec="seconds"),
        "git_commit": git_commit(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "dataset": dataset_info,
    }


def _best_build(result: dict[str, Any], threads: int) -> dict[str, Any] | None:
    return next((b for b in result["builds"] if b["threads"] == threads), None)


def _qps(result: dict[str, Any], curve: str, target: str) -> float | None:
    return (result.get("qps_at_recall", {}).get(curve, {}).get(target, {}) or {}).get("best")


def _headline(key: str) -> str:
    return "search" if key == "augurdb" else "single"


def observations(results: dict[str, dict[str, Any]], threads: Sequence[int],
                 cores: int) -> list[str]:
    notes: list[str] = []
    a = results.get("augurdb")
    for key, r in results.items():
        if r["status"] != "ran":
            continue
        for b in r["builds"]:
            if b["threads"] + b["other_cores"] + b["steal_cores"] > cores + 0.25:
                notes.append(f"{r['label']} {b['threads']}-thread build: other processes kept "
                             f"{b['other_cores']:.2f} cores busy (steal {b['steal_cores']:.2f}) "
                             f"of {cores}: its time is inflated")
            if b["threads"] > 1 and b["own_cores"] < 0.75 * b["threads"] \
                    and b["other_cores"] < 0.5:
                notes.append(f"{r['label']} {b['threads']}-thread build used only "
                             f"{b['own_cores']:.2f} cores")
        busy = [p["other_cores"] for p in r["sweep"]]
        if busy and statistics.median(busy) > 0.25:
            notes.append(f"{r['label']}: other processes kept {statistics.median(busy):.2f} "
                         "cores busy during its single-query runs (median): QPS is noisy")
        multi = [p["own_cores"] for p in r["sweep"]]
        if multi and statistics.median(multi) > 1.3:
            notes.append(f"{r['label']}: its one-query-per-call loop used "
                         f"{statistics.median(multi):.2f} cores (median): not single-threaded "
                         "internally")
        recalls = [p["recall"] for p in r["sweep"] if p["method"] == _headline(key)]
        if recalls and max(recalls) < 0.95:
            notes.append(f"{r['label']}: the ef sweep tops out at recall {max(recalls):.4f}")
    if a is None or a["status"] != "ran":
        return notes
    top = max(threads)
    for key, r in results.items():
        if key == "augurdb" or r["status"] != "ran":
            continue
        for t in threads:
            pb, ab = _best_build(r, t), _best_build(a, t)
            if pb and ab and pb["vectors_per_second"] > ab["vectors_per_second"]:
                notes.append(f"BUILD: {r['label']} builds faster than AugurDB with {t} "
                             f"thread(s): {pb['vectors_per_second']:,.0f} vs "
                             f"{ab['vectors_per_second']:,.0f} vec/s "
                             f"({pb['vectors_per_second'] / ab['vectors_per_second']:.2f}x)")
        for target in ("0.95", "0.99"):
            pq, aq = _qps(r, _headline(key), target), _qps(a, "search", target)
            if pq and aq and pq > aq:
                notes.append(f"QPS: {r['label']} beats AugurDB search() at recall {target}, one "
                             f"query per call: {pq:,.0f} vs {aq:,.0f} ({pq / aq:.2f}x)")
            pq, aq = _qps(r, "batch", target), _qps(a, "batch", target)
            if pq and aq and pq > aq:
                notes.append(f"BATCH: {r['label']} beats AugurDB search_batch at recall "
                             f"{target} with {top} threads: {pq:,.0f} vs {aq:,.0f} QPS "
                             f"({pq / aq:.2f}x)")
        pb, ab = _best_build(r, top), _best_build(a, top)
        if pb and ab and pb["rss_delta_bytes"] < 0.9 * ab["rss_delta_bytes"] \
                and pb["rss_delta_bytes"] > 0:
            notes.append(f"MEMORY: {r['label']} grows RSS less than AugurDB: "
                         f"{_fmt_mib(pb['rss_delta_bytes'])} vs {_fmt_mib(ab['rss_delta_bytes'])}"
                         " MiB")
        rp, ap = r.get("persistence") or {}, a.get("persistence") or {}
        if rp.get("disk_bytes") and ap.get("disk_bytes") and \
                rp["disk_bytes"] < 0.9 * ap["disk_bytes"]:
            notes.append(f"DISK: {r['label']} is smaller on disk: {_fmt_mib(rp['disk_bytes'])} vs "
                         f"{_fmt_mib(ap['disk_bytes'])} MiB")
        ro, ao = rp.get("reopen") or {}, ap.get("reopen") or {}
        if ro.get("open_plus_first_query_seconds") and ao.get("open_plus_first_query_seconds") \
                and ro["open_plus_first_query_seconds"] < ao["open_plus_first_query_seconds"]:
            notes.append(f"REOPEN: {r['label']} reopens faster: "
                         f"{ro['open_plus_first_query_seconds'] * 1000:,.1f} vs "
                         f"{ao['open_plus_first_query_seconds'] * 1000:,.1f} ms (open + first "
                         "query)")
    return notes


def format_report(header: dict[str, Any], config: dict[str, Any],
                  results: dict[str, dict[str, Any]], notes: list[str],
                  plots: dict[str, str]) -> str:
    cpu = header["cpu"]
    ds = header["dataset"]
    threads = config["threads"]
    top = max(threads)
    out = [
        f"# AugurDB vs peers: {ds['name']} ({header['mode']} mode)",
        "",
        f"- date: {header['date']}; git commit: {header['git_commit']}",
        f"- machine: {header['host']} (Linux {header['kernel']}); CPU: {cpu['model']}, "
        f"{cpu['cores']} cores ({cpu['cores_usable']} usable); flags: "
        f"{' '.join(cpu['flags']) or 'n/a'}; THP: {cpu['thp']}; load average at start: "
        f"{cpu['loadavg']}",
        f"- AugurDB SIMD level: {header['simd']} (detected {header['simd_detected']}"
        + (f", AUGURDB_SIMD={header['augurdb_simd_env']}" if header["augurdb_simd_env"]
           else "") + f"); {header['compiler']}; augurdb {header['augurdb_version']} from "
        f"{header['augurdb_module']} (engine built {header['augurdb_core_built']})",
        f"- data: {config['train']:,} base vectors x {config['dim']}, {config['queries']:,} "
        f"queries, k={K}; ground truth: {ds.get('ground_truth')}",
        f"- index parameters: M=16, ef_construction=200 wherever the system has them (see "
        f"Parameters); ef sweep {config['efs']}; best (median) of up to {config['runs']} runs; "
        f"build threads {threads}; Python {header['python']}, numpy {header['numpy']}",
        "",
        "## Systems",
        "",
    ]
    rows = []
    for key, r in results.items():
        status = r["status"]
        if status != "ran":
            status = f"{status} ({r.get('error_stage')}): {r.get('error')}"
        elif r.get("skipped_parts"):
            status = "ran; " + "; ".join(r["skipped_parts"])
        rows.append([r["label"], f"{r['package']} {r['version'] or '(not installed)'}",
                     status.replace("|", "\\|")])
    out.append(markdown_table(["system", "package", "status"], rows))

    out += ["", f"## Build ({config['train']:,} vectors)", ""]
    rows = []
    for key, r in results.items():
        for b in sorted(r["builds"], key=lambda b: b["threads"]):
            rows.append([r["label"], str(b["threads"]), _fmt_s(b["seconds"]),
                         _fmt_int(b["vectors_per_second"]),
                         f"{b['own_cores']:.2f} / {b['other_cores']:.2f}",
                         _fmt_mib(b["rss_delta_bytes"]), _fmt_mib(b.get("peak_rss_delta_bytes")),
                         _fmt_mib(b.get("memory_bytes"))])
    out.append(markdown_table(["system", "threads", "seconds", "vec/s",
                               "cores own / others", "RSS growth MiB", "peak RSS growth MiB",
                               "engine-reported MiB"], rows))
    raw = config["train"] * config["dim"] * 4
    out += ["", f"Raw float32 vectors: {_fmt_mib(raw)} MiB. RSS growth is measured in a fresh "
                "process per build (data loaded before the baseline)."]
    rows = []
    for key, r in results.items():
        lo, hi = _best_build(r, min(threads)), _best_build(r, top)
        if lo and hi and lo is not hi:
            rows.append([r["label"], f"{hi['vectors_per_second'] / lo['vectors_per_second']:.2f}x"])
    if rows:
        out += ["", markdown_table(["system", f"{top}-thread / {min(threads)}-thread build rate"],
                                   rows)]

    def qps_table(curve_of: Any, title: str) -> None:
        nonlocal out
        out += ["", title, ""]
        a = results.get("augurdb")
        rows = []
        for key, r in results.items():
            if r["status"] != "ran" and not r["sweep"]:
                continue
            curve = curve_of(key)
            if curve is None:
                continue
            pts = [p for p in (r["batch"] if curve == "batch" else r["sweep"])
                   if curve == "batch" or p["method"] == curve]
            if not pts:
                continue
            cells = []
            for t in TARGET_RECALLS:
                v = (r.get("qps_at_recall", {}).get(curve, {}) or {}).get(f"{t:.2f}", {})
                cells.append(f"{_fmt_int(v.get('best'))} ({_fmt_int(v.get('median'))})")
            a_curve = "batch" if curve == "batch" else "search"
            ratio = _ratio(_qps(a, a_curve, "0.95") if a else None, _qps(r, curve, "0.95"))
            recalls = [p["recall"] for p in pts]
            label = r["label"] + (f" {curve}" if key == "augurdb" and curve != "batch" else "")
            rows.append([label, *cells, "n/a" if ratio is None else f"{ratio:.2f}x",
                         f"{min(recalls):.4f}-{max(recalls):.4f}", f"{pts[0]['queries']:,}",
                         str(max(len(p["seconds"]) for p in pts)),
                         f"{statistics.median(p['own_cores'] for p in pts):.2f}"])
        out.append(markdown_table(
            ["system", *[f"QPS @ {t:.2f}" for t in TARGET_RECALLS], "AugurDB / system @ 0.95",
             "recall range", "queries", "runs", "cores used"], rows))

    qps_table(_headline,
              "## Single-thread QPS at recall@10 (one query per call; best (median), "
              "interpolated on the Pareto frontier)")
    a = results.get("augurdb")
    if a and any(p["method"] != "search" for p in a["sweep"]):
        out += ["", "AugurDB search_batch with one row per call: " + ", ".join(
            f"{t}: {_fmt_int(_qps(a, 'search_batch(1 row)', t))}" for t in
            (f"{x:.2f}" for x in TARGET_RECALLS)) + " QPS."]
    qps_table(lambda key: "batch", f"## Batch QPS at recall@10 (all queries in one call, "
                                   f"{top} threads; best (median))")

    out += ["", "## Persistence", ""]
    rows = []
    for key, r in results.items():
        p = r.get("persistence")
        if not p:
            continue
        ro = p.get("reopen") or {}
        how = {"save": "save of the in-memory index", "build": "separate on-disk build",
               "built": "the measured build"}[p["kind"]]
        write = (f"save {_fmt_s(p.get('save_seconds'))}" if p["kind"] == "save" else
                 f"build {_fmt_s(p.get('build_seconds'))}")
        if p.get("extra", {}).get("close_seconds") is not None:
            write += f" (close {_fmt_s(p['extra']['close_seconds'])})"
        rows.append([r["label"], how, write, _fmt_mib(p.get("disk_bytes")),
                     _fmt_s(ro.get("open_seconds")),
                     _fmt_s(ro.get("first_query_seconds")),
                     _fmt_mib(ro.get("rss_after_open_and_first_query_bytes")),
                     "n/a" if ro.get("check_recall") is None else
                     f"{ro['check_recall']:.4f}",
                     (p.get("error") or "").replace("|", "\\|")])
    out.append(markdown_table(["system", "what is on disk", "write s", "disk MiB", "open s",
                               "first query s", "RSS after open+query MiB",
                               f"recall@10 after reopen (ef {REOPEN_EF}, "
                               f"{min(200, config['queries'])} q)", "error"], rows))
    out += ["", "Reopen runs in a fresh process; the page cache is warm (files just written)."]

    out += ["", "## Parameters and deviations", ""]
    for key, r in results.items():
        out.append(f"- **{r['label']}** ({r['package']} {r['version']}): {r['params']}. "
                   f"Threads: {r['thread_knob'] or 'none'}. Persistence: "
                   f"{r['persists'] or 'none (in memory only)'}.")
        for note in r.get("notes", []):
            out.append(f"  - {note}")
        plan = r.get("query_plan")
        if plan and (plan["queries"] < config["queries"] or plan["runs"] < config["runs"]):
            out.append(f"  - Query budget: {plan['queries']:,} of {config['queries']:,} queries, "
                       f"{plan['runs']} run(s) per ef (warm-up QPS at ef {max(config['efs'])}: "
                       + ", ".join(f"{m} {q:,.0f}" for m, q in
                                   plan["warmup_qps_at_max_ef"].items()) + ").")
    out += ["", "## Observations", ""]
    out += [f"- {n}" for n in notes] or ["- none"]
    if plots:
        out += ["", "## Plots", ""]
        out += [f"- {name}: `{path}`" for name, path in plots.items()]
    return "\n".join(out) + "\n"


def make_plots(results: dict[str, dict[str, Any]], config: dict[str, Any], out_dir: Path,
               stem: str, title: str) -> dict[str, str]:
    from . import plots
    made: dict[str, str] = {}
    single: dict[str, dict[str, Any]] = {}
    batch: dict[str, dict[str, Any]] = {}
    for key, r in results.items():
        methods = sorted({p["method"] for p in r["sweep"]},
                         key=lambda m: (m != _headline(key), m))
        for method in methods:
            name = r["label"] + (f" ({method})" if key == "augurdb" else "")
            single[name] = {"key": key, "dashed": method != _headline(key),
                            "points": [(p["recall"], p["qps_best"]) for p in r["sweep"]
                                       if p["method"] == method]}
        if r["batch"]:
            batch[r["label"]] = {"key": key,
                                 "points": [(p["recall"], p["qps_best"]) for p in r["batch"]]}
    top = max(config["threads"])
    path = out_dir / f"{stem}-recall-qps.png"
    plots.recall_qps(single, path, f"{title}: one query per call, 1 thread (best of runs)")
    made["recall vs QPS, single thread"] = str(path)
    path = out_dir / f"{stem}-batch-recall-qps.png"
    plots.recall_qps(batch, path, f"{title}: batch search, {top} threads")
    made["recall vs QPS, batch"] = str(path)
    rates = {r["label"]: {b["threads"]: b["vectors_per_second"] for b in r["builds"]}
             for r in results.values() if r["builds"]}
    path = out_dir / f"{stem}-build.png"
    plots.build_bars(rates, path, f"{title}: build rate ({config['train']:,} vectors)")
    made["build rate"] = str(path)
    memory: dict[str, dict[str, float | None]] = {}
    for r in results.values():
        b = _best_build(r, top)
        if b is None and r["builds"]:
            b = r["builds"][-1]
        p = r.get("persistence") or {}
        if b is not None:
            memory[r["label"]] = {"RSS growth (build)": b["rss_delta_bytes"],
                                  "on disk": p.get("disk_bytes")}
    path = out_dir / f"{stem}-memory.png"
    plots.memory_bars(memory, path, f"{title}: memory and disk",
                      config["train"] * config["dim"] * 4)
    made["memory and disk"] = str(path)
    return made
