"""What every peer adapter shares: the common index parameters, the facts recorded per system
(:class:`SystemInfo`) and the :class:`Adapter` base class, which owns the timed single-query loop
so that every system is timed by the same few lines (:func:`timed_loop`)."""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

M = 16
EF_CONSTRUCTION = 200
K = 10

FloatArray = npt.NDArray[np.float32]
IdArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class SystemInfo:
    """Static facts about one system entry of the suite."""

    key: str
    label: str
    package: str  # PyPI name (for the version and the install hint)
    module: str  # what the worker imports
    thread_knob: str | None  # how the build thread count is set, None if there is none
    persists: str | None  # how it persists, None if in memory only
    params: str  # the index parameters used
    notes: tuple[str, ...] = ()  # where the parameters or the method differ, and why
    quick: bool = False  # part of --quick
    slow: bool = False  # per-call overhead in the milliseconds: query subset in the sweep
    rebuild_per_ef: bool = False  # ef is fixed at build: sweep a subset of efs, one build each


def timed_loop(call: Callable[[Any], Any], rows: Sequence[Any],
               missing_errors: tuple[type[BaseException], ...] = ()) -> tuple[float, list[Any]]:
    """Calls ``call(row)`` for every row; returns (seconds, raw results). Only the calls are
    timed: converting results to ids is left for afterwards. A call raising one of
    ``missing_errors`` leaves None (no results) in its slot."""
    out: list[Any] = [None] * len(rows)
    start = time.perf_counter()
    for i, row in enumerate(rows):
        try:
            out[i] = call(row)
        except missing_errors:
            pass
    return time.perf_counter() - start, out


def timed_call(call: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[float, Any]:
    """(seconds, result) of one call: the batch searches time only the system's own call, and
    convert its result afterwards."""
    start = time.perf_counter()
    result = call(*args, **kwargs)
    return time.perf_counter() - start, result


@contextlib.contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """Sends what native code prints to file descriptor 1 to stderr instead (glass prints its
    build progress there), so that reports written to stdout stay clean."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def pad_ids(rows: Sequence[Sequence[int]], n: int) -> IdArray:
    """Lists of ids -> (n, K) int64, -1 padded."""
    out = np.full((n, K), -1, dtype=np.int64)
    for i, row in enumerate(rows):
        values = list(row)[:K]
        out[i, :len(values)] = values
    return out


def jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return repr(value)


class NotSupported(Exception):
    """The system has no such operation (e.g. no batch search)."""


class Adapter:
    """One system. Subclasses set ``index`` in :meth:`build` and implement the query calls.

    ``single_methods`` names the one-query-per-call loops the adapter offers; the first one is
    the system's headline curve.
    """

    key = ""
    #: The system's facts; ``info.module`` is imported as ``self.lib`` when the adapter is made
    #: (in the worker process only, so a broken package costs only its own row).
    info: SystemInfo
    single_methods: tuple[str, ...] = ("single",)
    #: Exceptions of one query that mean "fewer than k results" (a None row, counted missing).
    missing_errors: tuple[type[BaseException], ...] = ()

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self.index: Any = None
        self.lib: Any = importlib.import_module(self.info.module)

    # Build / persist -------------------------------------------------------------------------
    def build(self, base: FloatArray, threads: int, workdir: Path) -> dict[str, Any]:
        raise NotImplementedError

    def build_persistent(self, base: FloatArray, threads: int, path: Path) -> dict[str, Any]:
        """Builds straight to disk (systems whose persistence is not a save of the in-memory
        index). Returns extra timings; the caller times the whole call."""
        raise NotSupported

    def save(self, path: Path) -> None:
        """Writes the built index to ``path`` (systems that persist by saving)."""
        raise NotSupported

    def reopen(self, path: Path) -> None:
        raise NotSupported

    def close(self) -> None:
        self.index = None

    def memory_bytes(self) -> int | None:
        return None

    # Queries ---------------------------------------------------------------------------------
    def set_ef(self, ef: int) -> None:
        self.ef = ef

    def query_call(self, method: str, ef: int) -> Callable[[Any], Any]:
        """The one-query call that ``method`` times, bound to its arguments (k, ef, threads=1)
        before the clock starts, taking one element of :meth:`rows`."""
        raise NotImplementedError

    def single_thread(self) -> contextlib.AbstractContextManager[None]:
        """Scope of the single-query loop (faiss pins its OpenMP pool to one thread)."""
        return contextlib.nullcontext()

    def single(self, method: str, rows: Sequence[Any], ef: int) -> tuple[float, Any]:
        """Runs one query per call over ``rows``; returns (seconds, raw results)."""
        call = self.query_call(method, ef)
        with self.single_thread():
            return timed_loop(call, rows, self.missing_errors)

    def rows(self, queries: FloatArray) -> list[Any]:
        """Per-query arguments, made once outside the timing (1-d rows by default)."""
        return [queries[i] for i in range(queries.shape[0])]

    def ids_of(self, raw: Any, n: int) -> IdArray:
        """Raw single-loop results -> (n, K) int64 ids, -1 padded (outside the timing)."""
        out = np.full((n, K), -1, dtype=np.int64)
        for i, row in enumerate(raw):
            if row is None:
                continue
            ids = np.asarray(row, dtype=np.int64).ravel()[:K]
            out[i, :ids.shape[0]] = ids
        return out

    def batch(self, queries: FloatArray, ef: int, threads: int) -> tuple[float, IdArray]:
        raise NotSupported
