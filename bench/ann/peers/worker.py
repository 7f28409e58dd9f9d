"""The worker process that hosts one system for :mod:`bench.ann.suite`, the parent's handle on
it (:class:`Worker`), and the on-disk size and cleanup helpers the suite uses on what a worker
wrote."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..common import (
    Meter,
    engine_built,
    peak_rss_bytes,
    release_free_memory,
    reset_peak_rss,
    rss_bytes,
)
from . import make_adapter, thread_env
from .base import Adapter, FloatArray, jsonable


def _siblings(path: Path) -> list[Path]:
    """Files named ``<path>.<suffix>`` (OmenDB writes ``db.omen``, ``db.vecs``, ... for "db")."""
    parent = path.parent
    if not parent.is_dir():
        return []
    return [p for p in parent.iterdir() if p.name.startswith(path.name + ".")]


def disk_bytes(path: Path) -> int:
    """Apparent size of a file, of every file under a directory, or of the ``<path>.*`` files
    when ``path`` itself does not exist."""
    if not path.exists():
        return sum(disk_bytes(p) for p in _siblings(path))
    if path.is_file():
        return path.stat().st_size
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += (Path(root) / name).stat().st_size
            except OSError:
                pass
    return total


@dataclass
class WorkerState:
    key: str
    base: FloatArray
    queries: FloatArray
    workdir: Path
    adapter: Adapter | None = None
    rows: list[Any] = field(default_factory=list)
    baseline_rss: int = 0


def _handle(state: WorkerState, command: str, args: dict[str, Any]) -> Any:
    adapter = state.adapter
    assert adapter is not None
    if command == "build":
        threads = int(args["threads"])
        base = state.base[: args.get("limit") or state.base.shape[0]]
        release_free_memory()
        rss_before = rss_bytes()
        peak_ok = reset_peak_rss()
        with Meter() as meter:
            extra = adapter.build(base, threads, state.workdir)
        rss_after = rss_bytes()
        peak = peak_rss_bytes()
        state.rows = adapter.rows(state.queries)
        if args.get("drop_base"):
            # The index holds its own copy (or the data is on disk): free the worker's array so
            # that many live workers fit in memory at 1M vectors.
            state.base = None  # type: ignore[assignment]
            release_free_memory()
        return {"threads": threads, "vectors": int(base.shape[0]), **meter.as_dict(),
                "cpu_seconds": meter.own_cores * meter.seconds,
                "rss_delta_bytes": rss_after - rss_before,
                "peak_rss_delta_bytes": (peak - rss_before) if (peak and peak_ok) else None,
                "memory_bytes": adapter.memory_bytes(), "extra": extra,
                "engine_stamp": engine_built()}
    if command == "single":
        n = int(args["n"])
        method = args["method"]
        ef = int(args["ef"])
        adapter.set_ef(ef)
        with Meter() as meter:
            seconds, raw = adapter.single(method, state.rows[:n], ef)
        return {"seconds": seconds, "own_cores": meter.own_cores,
                "other_cores": meter.other_cores, "steal_cores": meter.steal_cores,
                "ids": adapter.ids_of(raw, n)}
    if command == "batch":
        n = int(args["n"])
        ef = int(args["ef"])
        adapter.set_ef(ef)
        with Meter() as meter:
            seconds, ids = adapter.batch(state.queries[:n], ef, int(args["threads"]))
        return {"seconds": seconds, "own_cores": meter.own_cores,
                "other_cores": meter.other_cores, "steal_cores": meter.steal_cores, "ids": ids}
    if command == "save":
        path = Path(args["path"])
        with Meter() as meter:
            adapter.save(path)
        return {"save_seconds": meter.seconds, "disk_bytes": disk_bytes(path)}
    if command == "disk":
        return {"disk_bytes": disk_bytes(Path(args["path"]))}
    if command == "build_persistent":
        path = Path(args["path"])
        release_free_memory()
        rss_before = rss_bytes()
        with Meter() as meter:
            extra = adapter.build_persistent(state.base, int(args["threads"]), path)
        adapter.close()
        return {"build_seconds": meter.seconds, "own_cores": meter.own_cores,
                "other_cores": meter.other_cores, "rss_delta_bytes": rss_bytes() - rss_before,
                "disk_bytes": disk_bytes(path), "extra": jsonable(extra)}
    if command == "reopen":
        path = Path(args["path"])
        ef = int(args["ef"])
        release_free_memory()
        rss_before = rss_bytes()
        start = time.perf_counter()
        adapter.reopen(path)
        opened = time.perf_counter()
        adapter.set_ef(ef)
        rows = adapter.rows(state.queries[:1])
        _, raw = adapter.single(adapter.single_methods[0], rows, ef)
        first = time.perf_counter()
        rss_first = rss_bytes()
        # A check that the reopened index answers like the built one (recall on a subset).
        n = int(args.get("check_queries", 200))
        state.rows = adapter.rows(state.queries)
        _, raw_check = adapter.single(adapter.single_methods[0], state.rows[:n], ef)
        return {"open_seconds": opened - start, "first_query_seconds": first - opened,
                "open_plus_first_query_seconds": first - start,
                "rss_after_open_and_first_query_bytes": rss_first - rss_before,
                "check_ids": adapter.ids_of(raw_check, n), "check_ef": ef}
    if command == "set_ef":
        adapter.set_ef(int(args["ef"]))
        return {}
    if command == "close":
        adapter.close()
        release_free_memory()
        return {}
    raise ValueError(f"unknown command {command!r}")


def worker_main(conn: Any, key: str, base_path: str, queries_path: str, workdir: str) -> None:
    """Entry point of a worker process: loads the arrays, imports the system, then answers
    ``(command, args)`` messages with ``("ok", result)`` or ``("error", text)`` until "exit"."""
    try:
        base = np.load(base_path)
        queries = np.load(queries_path)
        state = WorkerState(key=key, base=base, queries=queries, workdir=Path(workdir))
        state.workdir.mkdir(parents=True, exist_ok=True)
        try:
            state.adapter = make_adapter(key, base.shape[1])
        except BaseException as exc:  # noqa: BLE001 - reported to the parent verbatim
            conn.send(("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))
            return
        state.baseline_rss = rss_bytes()
        conn.send(("ok", {"pid": os.getpid(), "baseline_rss_bytes": state.baseline_rss,
                          "engine_stamp": engine_built()}))
    except BaseException as exc:  # noqa: BLE001
        conn.send(("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))
        return
    while True:
        try:
            command, args = conn.recv()
        except EOFError:
            return
        if command == "exit":
            try:
                if state.adapter is not None:
                    state.adapter.close()
            finally:
                conn.send(("ok", {}))
            return
        try:
            conn.send(("ok", _handle(state, command, args)))
        except BaseException as exc:  # noqa: BLE001
            conn.send(("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))


def remove_path(path: Path) -> None:
    """Removes a file or directory and any ``<path>.*`` siblings."""
    for p in [path, *_siblings(path)]:
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)


# --------------------------------------------------------------------------------------------
# The parent's end: one spawned worker per system and thread count, driven by the suite


class WorkerError(RuntimeError):
    """A command failed inside a worker (the message is the worker's traceback)."""


class WorkerTimeout(RuntimeError):
    pass


class Worker:
    """A spawned process hosting one system (:func:`bench.ann.peers.worker.worker_main`)."""

    def __init__(self, key: str, threads: int, arrays: dict[str, str], workdir: Path,
                 start_timeout: float = 300.0) -> None:
        self.key = key
        ctx = multiprocessing.get_context("spawn")
        self.conn, child = ctx.Pipe()
        env = thread_env(key, threads)
        saved = {name: os.environ.get(name) for name in env}
        os.environ.update(env)
        try:
            self.process = ctx.Process(
                target=worker_main,
                args=(child, key, arrays["base"], arrays["queries"], str(workdir)),
                daemon=True, name=f"bench-{key}-{threads}t")
            self.process.start()
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
        child.close()
        self.hello = self._receive(start_timeout, "start")

    def _receive(self, timeout: float | None, what: str) -> Any:
        if not self.conn.poll(timeout):
            self.kill()
            raise WorkerTimeout(f"{what} did not finish within {timeout:.0f} s")
        try:
            status, payload = self.conn.recv()
        except (EOFError, ConnectionResetError) as exc:
            self.process.join(5)
            raise WorkerError(f"worker process died during {what} "
                              f"(exit code {self.process.exitcode})") from exc
        if status != "ok":
            raise WorkerError(payload)
        return payload

    def call(self, command: str, timeout: float | None = None, **args: Any) -> Any:
        try:
            self.conn.send((command, args))
        except (BrokenPipeError, OSError) as exc:
            raise WorkerError(f"worker process is gone (exit code {self.process.exitcode})") \
                from exc
        return self._receive(timeout, command)

    def exit(self) -> None:
        if self.process.is_alive():
            try:
                self.conn.send(("exit", {}))
                if self.conn.poll(60):
                    self.conn.recv()
            except (EOFError, BrokenPipeError, OSError):
                pass
            self.process.join(30)
        self.kill()

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
            self.process.join(10)
