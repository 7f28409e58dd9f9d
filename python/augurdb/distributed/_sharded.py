"""ShardedCollection: the Collection API over shards that are Ray actors (``_shard``), with
writes routed by the stored id hash (``_layout``) and reads scattered and merged (``_merge``)."""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import ray
from ray.exceptions import (
    ActorUnavailableError,
    ActorUnschedulableError,
    RayActorError,
    RayTaskError,
)
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from .. import errors
from ..collection import (
    BatchResults,
    TextStats,
    _as_float32,
    _check_k,
    _normalize_ids,
)
from ._layout import Layout, route, shard_dir
from ._merge import ShardHit, hybrid_candidates, merge_batch, merge_hybrid, merge_text, merge_vector
from ._shard import ShardServer

NAMESPACE = "augurdb"
# A shard that died (and may be restarting), or whose pinned node is gone.
_DEAD = (RayActorError, ActorUnavailableError, ActorUnschedulableError)


@dataclasses.dataclass(frozen=True)
class ShardRecord:
    """A stored record of a sharded collection (the attributes of :class:`augurdb.Record`)."""

    id: Any
    vector: npt.NDArray[np.float32]
    metadata: dict[str, Any]
    document: str | None


class SearchResults(list[ShardHit]):
    """A list of hits; ``missing_shards`` names the shards that did not answer (only ever
    non-empty with ``allow_partial=True``)."""

    missing_shards: tuple[int, ...] = ()


def get(ref: Any) -> Any:
    """ray.get, raising an AugurDB error from a shard as itself (not wrapped in Ray's task
    error with the remote traceback in its message)."""
    try:
        return ray.get(ref)
    except RayTaskError as error:
        if isinstance(error.cause, errors.AugurDBError):
            raise error.cause from None
        raise


def actor_name(root: Path, shard: int) -> str:
    digest = hashlib.sha1(str(root.resolve()).encode()).hexdigest()[:16]
    return f"shard:{digest}:{shard}"


def start_shards(root: Path, layout: Layout, open_kwargs: dict[str, Any],
                 num_cpus: float) -> list[Any]:
    """One actor per shard (existing ones are reused), each owning its directory; Ray restarts
    a dead one, which reopens the directory. Waits until every shard has opened."""
    remote = ray.remote(ShardServer)
    kwargs = dict(open_kwargs, metric=layout.metric)
    if layout.dim is not None:
        kwargs["dim"] = layout.dim
    actors: list[Any] = []  # Ray's actor handles are untyped for mypy
    for shard in range(layout.shards):
        options: dict[str, Any] = {"name": actor_name(root, shard), "namespace": NAMESPACE,
                                   "get_if_exists": True, "max_restarts": -1,
                                   "max_task_retries": 0, "num_cpus": num_cpus}
        if layout.nodes is not None:
            options["scheduling_strategy"] = NodeAffinitySchedulingStrategy(
                layout.nodes[shard], soft=False)
        actors.append(remote.options(**options).remote(str(shard_dir(root, shard)), kwargs))
    try:
        for actor in actors:
            get(actor.ping.remote())
    except BaseException:
        stop_shards(root, actors)  # a shard that could not open (bad option, locked, corrupt)
        raise
    return actors


def stop_shards(root: Path, actors: list[Any], timeout: float = 30.0) -> None:
    """Kills the shard actors and waits until Ray has released their names: ray.kill only
    asks, and until the actor is dead a reopen's get_if_exists would get the dying one back
    (and fail on its first call)."""
    for actor in actors:
        ray.kill(actor, no_restart=True)
    deadline = time.monotonic() + timeout
    for shard in range(len(actors)):
        while True:
            try:
                ray.get_actor(actor_name(root, shard), namespace=NAMESPACE)
            except ValueError:  # no live actor holds the name any more
                break
            if time.monotonic() > deadline:
                return  # Ray is slow to reap; a reopen then reports the dead actor itself
            time.sleep(0.05)


class ShardedCollection:
    """A collection split over ``shards`` Ray actors (see :func:`augurdb.distributed.open`).

    Writes go to the shard the id hashes to; reads ask every shard and merge exactly, so the
    answers are those of one collection holding all the data (BM25 included: text and hybrid
    searches first sum every shard's statistics). A write is atomic on each shard, not across
    shards: when a shard dies during a write the call raises ShardUnavailable and the rows of
    the other shards are stored (upsert the batch again to finish it). Reads raise
    ShardUnavailable while a shard is down, unless ``allow_partial=True`` (per call, or the
    collection's default), which answers from the live shards and lists the missing ones in
    ``missing_shards``.
    """

    def __init__(self, root: Path, layout: Layout, actors: list[Any],
                 allow_partial: bool = False, dim: int | None = None) -> None:
        self._root, self._layout, self._actors = root, layout, actors
        self._dim = layout.dim if layout.dim is not None else dim
        self.allow_partial = allow_partial
        self._closed = False

    # ---- plumbing ----

    def _check_open(self) -> None:
        if self._closed:
            raise errors.InvalidArgument(f"the sharded collection at {self._root} is closed")

    def _gather(self, calls: dict[int, Any], allow_partial: bool | None = None,
                what: str = "call") -> tuple[dict[int, Any], tuple[int, ...]]:
        partial = self.allow_partial if allow_partial is None else allow_partial
        results: dict[int, Any] = {}
        missing: list[int] = []
        for shard, ref in calls.items():
            try:
                results[shard] = get(ref)
            except _DEAD:
                missing.append(shard)
        if missing and not partial:
            raise errors.ShardUnavailable(
                f"{what}: shard(s) {missing} of {self._root} did not answer (actor down); retry "
                f"once Ray has restarted it, or pass allow_partial=True", tuple(missing))
        return results, tuple(missing)

    def _all(self, method: str, *args: Any, allow_partial: bool | None = None
             ) -> tuple[dict[int, Any], tuple[int, ...]]:
        self._check_open()
        calls = {s: getattr(a, method).remote(*args) for s, a in enumerate(self._actors)}
        return self._gather(calls, allow_partial, method)

    def _by_shard(self, values: Sequence[Any] | npt.NDArray[Any]
                  ) -> dict[int, npt.NDArray[np.intp]]:
        shard_of = route(values, self._layout.shards)
        return {s: np.flatnonzero(shard_of == s) for s in range(self._layout.shards)
                if np.any(shard_of == s)}

    # ---- properties ----

    @property
    def root(self) -> Path:
        return self._root

    @property
    def shards(self) -> int:
        return self._layout.shards

    @property
    def metric(self) -> str:
        return self._layout.metric

    @property
    def dim(self) -> int | None:
        return self._dim

    @property
    def closed(self) -> bool:
        return self._closed

    def actors(self) -> list[Any]:
        """The shard actors' handles, in shard order (for monitoring and fault tests)."""
        return list(self._actors)

    # ---- writes ----

    def _put(self, method: str, ids: Any, vectors: Any, metadata: Sequence[Any] | None,
             documents: Sequence[Any] | None) -> None:
        self._check_open()
        if vectors is None:
            raise errors.InvalidArgument(
                f"{method} on a sharded collection needs vectors (embedding functions are not "
                f"supported across shards)")
        kind, values = _normalize_ids(ids)
        matrix = _as_float32(vectors, 2, "vectors")
        n = len(values)
        if matrix.shape[0] != n:
            raise errors.InvalidArgument(f"{matrix.shape[0]} vectors for {n} ids")
        if self._dim is not None and matrix.shape[1] != self._dim:
            raise errors.DimensionMismatch(
                f"vectors are {matrix.shape[1]}-d but the collection is {self._dim}-d")
        if not np.all(np.isfinite(matrix)):
            row = int(np.flatnonzero(~np.isfinite(matrix).all(axis=1))[0])
            raise errors.InvalidVector(f"vectors[{row}] holds NaN or infinity")
        for name, column in (("metadata", metadata), ("documents", documents)):
            if column is not None and len(column) != n:
                raise errors.InvalidArgument(f"{name} has {len(column)} entries for {n} ids")
        id_list = values.tolist() if kind == "int" else list(values)
        seen: set[Any] = set()
        for i in id_list:
            if i in seen:
                raise errors.DuplicateId(f"duplicate id {i!r} in the batch")
            seen.add(i)
        parts = self._by_shard(values)
        if method == "add":  # every shard checks its ids before any shard writes
            calls = {s: self._actors[s].existing.remote([id_list[i] for i in rows])
                     for s, rows in parts.items()}
            found, _ = self._gather(calls, False, "add")
            taken = [i for ids_ in found.values() for i in ids_]
            if taken:
                raise errors.DuplicateId(f"id {taken[0]!r} already exists; use upsert to "
                                         f"replace it")
        calls = {}
        for s, rows in parts.items():
            calls[s] = self._actors[s].put.remote(
                method, values[rows] if kind == "int" else [id_list[i] for i in rows],
                matrix[rows], None if metadata is None else [metadata[i] for i in rows],
                None if documents is None else [documents[i] for i in rows])
        self._gather(calls, False, method)
        self._dim = matrix.shape[1]

    def add(self, ids: Any, vectors: Any = None, *, metadata: Sequence[Any] | None = None,
            documents: Sequence[Any] | None = None) -> None:
        """Adds new records (an existing id is DuplicateId, checked on every shard first)."""
        self._put("add", ids, vectors, metadata, documents)

    def upsert(self, ids: Any, vectors: Any = None, *, metadata: Sequence[Any] | None = None,
               documents: Sequence[Any] | None = None) -> None:
        """Inserts or replaces records."""
        self._put("upsert", ids, vectors, metadata, documents)

    def delete(self, ids: Any = None, *, where: dict[str, Any] | None = None) -> int:
        """Removes the given ids, or every record matching ``where``; returns how many."""
        self._check_open()
        if (ids is None) == (where is None):
            raise errors.InvalidArgument("delete needs ids or where=, not both")
        if where is not None:
            return sum(self._all("delete", None, where)[0].values())
        kind, values = _normalize_ids(ids, allow_empty=True)
        id_list = values.tolist() if kind == "int" else list(values)
        calls = {s: self._actors[s].delete.remote([id_list[i] for i in rows], None)
                 for s, rows in self._by_shard(values).items()}
        return sum(self._gather(calls, False, "delete")[0].values())

    # ---- reads ----

    def get(self, ids: Any = None, *, where: dict[str, Any] | None = None,
            limit: int | None = None, allow_partial: bool | None = None
            ) -> list[ShardRecord | None]:
        """One record per id (None where absent), or the records matching ``where`` (shard by
        shard, up to ``limit``)."""
        self._check_open()
        if ids is None:
            found, _ = self._all("find", where or {}, limit, allow_partial=allow_partial)
            records = [ShardRecord(*t) for s in sorted(found) for t in found[s]]
            return list(records[:limit] if limit else records)
        if where is not None:
            raise errors.InvalidArgument("pass ids or where, not both")
        kind, values = _normalize_ids(ids, allow_empty=True)
        id_list = values.tolist() if kind == "int" else list(values)
        parts = self._by_shard(values)
        calls = {s: self._actors[s].get.remote([id_list[i] for i in rows])
                 for s, rows in parts.items()}
        got, _ = self._gather(calls, allow_partial, "get")
        out: list[ShardRecord | None] = [None] * len(id_list)
        for s, rows in parts.items():
            for row, record in zip(rows, got.get(s, [])):
                out[row] = None if record is None else ShardRecord(*record)
        return out

    def count(self, where: dict[str, Any] | None = None, *,
              allow_partial: bool | None = None) -> int:
        return sum(self._all("count", where, allow_partial=allow_partial)[0].values())

    def __len__(self) -> int:
        return self.count()

    def __contains__(self, item: object) -> bool:
        if not isinstance(item, (int, str)) or isinstance(item, bool):
            return False
        return self.get([item])[0] is not None

    def ids(self) -> list[Any]:
        found, _ = self._all("ids")
        return [i for s in sorted(found) for i in found[s]]

    def __iter__(self) -> Iterator[Any]:
        return iter(self.ids())

    def text_stats(self, texts: str | Sequence[str], *,
                   allow_partial: bool | None = None) -> TextStats:
        """The BM25 statistics of all the shards together (the sum of theirs)."""
        items = [texts] if isinstance(texts, str) else list(texts)
        found, _ = self._all("text_stats", items, allow_partial=allow_partial)
        total = TextStats()
        for stats in found.values():
            total = total + stats
        return total

    def _submit(self, query: Any, k: int, text: str | None, stats: TextStats | None,
                where: dict[str, Any] | None, where_document: dict[str, str] | None,
                ef: int | None, rerank: int | None, fusion: str, rrf_k: float, alpha: float,
                candidates: int | None) -> tuple[dict[int, Any], Callable[..., list[ShardHit]]]:
        """Sends one search to every shard: the pending calls, and how to merge their answers
        (a list of (shard, hits) in shard order)."""
        options: dict[str, Any] = {"where": where}
        if where_document is not None:
            options["where_document"] = where_document
        if query is not None:
            options.update(ef=ef, rerank=rerank)
        if text is not None:
            options.update(text=text, text_stats=stats)
        if text is not None and query is not None:
            pool = hybrid_candidates(k, candidates)
            options.update(fusion=fusion, rrf_k=rrf_k, alpha=alpha, candidates=pool)
            calls = {s: a.search.remote(query, 2 * pool, options)
                     for s, a in enumerate(self._actors)}
            return calls, lambda found: merge_hybrid(found, k, pool, fusion, float(rrf_k),
                                                     float(alpha))
        calls = {s: a.search.remote(query, k, options) for s, a in enumerate(self._actors)}
        merge = merge_vector if query is not None else merge_text
        return calls, lambda found: merge(found, k)

    def _collect(self, submitted: tuple[dict[int, Any], Callable[..., list[ShardHit]]],
                 allow_partial: bool | None) -> SearchResults:
        calls, merge = submitted
        found, missing = self._gather(calls, allow_partial, "search")
        out = SearchResults(merge(sorted(found.items())))
        out.missing_shards = missing
        return out

    def search(self, query: npt.ArrayLike | None = None, k: int = 10, *,
               text: str | None = None, where: dict[str, Any] | None = None,
               where_document: dict[str, str] | None = None, ef: int | None = None,
               rerank: int | None = None, fusion: str = "rrf", rrf_k: float = 60,
               alpha: float = 0.5, candidates: int | None = None,
               allow_partial: bool | None = None) -> SearchResults:
        """As :meth:`augurdb.Collection.search`, over every shard, merged exactly."""
        self._check_open()
        kk = _check_k(k)
        if query is None and text is None:
            raise errors.InvalidArgument("search needs a query vector, text=, or both")
        # The query goes to the object store once and reaches every shard from there.
        qref = None if query is None else ray.put(_as_float32(query, 1, "query"))
        stats = None if text is None else self.text_stats(text, allow_partial=allow_partial)
        return self._collect(self._submit(qref, kk, text, stats, where, where_document, ef,
                                          rerank, fusion, rrf_k, alpha, candidates),
                             allow_partial)

    def search_batch(self, queries: npt.ArrayLike | None, k: int = 10, *,
                     texts: Sequence[str] | None = None, where: dict[str, Any] | None = None,
                     where_document: dict[str, str] | None = None, ef: int | None = None,
                     threads: int | None = None, rerank: int | None = None, fusion: str = "rrf",
                     rrf_k: float = 60, alpha: float = 0.5, candidates: int | None = None,
                     allow_partial: bool | None = None) -> BatchResults:
        """As :meth:`augurdb.Collection.search_batch`: each shard searches the whole batch (the
        query matrix travels once, through Ray's object store), rows merged exactly. Hybrid
        rows go to the shards as single searches, all in flight together, and are merged one
        by one (the fused score needs both sides' exact scores)."""
        self._check_open()
        kk = _check_k(k)
        if texts is not None and queries is not None:
            matrix = _as_float32(queries, 2, "queries")
            text_list = list(texts)
            if len(text_list) != matrix.shape[0]:
                raise errors.InvalidArgument(
                    f"{matrix.shape[0]} queries but {len(text_list)} texts")
            # One DFS round for every row's terms, then every row's calls in flight at once.
            stats = self.text_stats(text_list, allow_partial=allow_partial)
            submitted = [self._submit(matrix[i], kk, t, stats, where, where_document, ef,
                                      rerank, fusion, rrf_k, alpha, candidates)
                         for i, t in enumerate(text_list)]
            rows = [self._collect(one, allow_partial) for one in submitted]
            return _batch_of(rows, kk, with_scores=True)
        options: dict[str, Any] = {"where": where, "threads": threads}
        if texts is not None:
            text_list = list(texts)
            options.update(texts=text_list, where_document=where_document,
                           text_stats=self.text_stats(text_list, allow_partial=allow_partial))
            qref = None
        else:
            if queries is None:
                raise errors.InvalidArgument("search_batch needs queries, texts=, or both")
            qref = ray.put(_as_float32(queries, 2, "queries"))
            options.update(ef=ef, rerank=rerank)
        calls = {s: a.search_batch.remote(qref, kk, options) for s, a in enumerate(self._actors)}
        found, _ = self._gather(calls, allow_partial, "search_batch")
        if not found:
            raise errors.ShardUnavailable("search_batch: no shard answered",
                                          tuple(range(self.shards)))
        ids, distances, scores = merge_batch([found[s] for s in sorted(found)], kk,
                                             by_score=texts is not None)
        return BatchResults(ids, distances, scores)

    # ---- maintenance ----

    def stats(self) -> dict[str, Any]:
        """Totals (``count``, ``memory_bytes``) and each shard's own stats (``per_shard``)."""
        found, _ = self._all("stats")
        per = [found[s] for s in sorted(found)]
        return {"shards": self.shards, "count": sum(int(p["count"]) for p in per),
                "memory_bytes": sum(int(p.get("memory_bytes", 0)) for p in per),
                "dim": self._dim, "metric": self.metric, "per_shard": per}

    def verify(self) -> bool:
        """Runs every shard's integrity check (CorruptDatabase names the first problem)."""
        found, _ = self._all("verify")
        return all(found.values())

    def checkpoint(self) -> None:
        self._all("checkpoint")

    def close(self) -> None:
        """Closes every shard (checkpoint, lock released) and stops the actors. Idempotent."""
        if self._closed:
            return
        calls = {s: a.close.remote() for s, a in enumerate(self._actors)}
        try:
            self._gather(calls, True, "close")
        finally:
            stop_shards(self._root, self._actors)
            self._closed = True

    def __enter__(self) -> ShardedCollection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{self.shards} shards"
        return f"ShardedCollection({str(self._root)!r}, {state}, metric={self.metric!r})"


def _batch_of(rows: list[SearchResults], k: int, with_scores: bool) -> BatchResults:
    strings = any(isinstance(h.id, str) for row in rows for h in row)
    ids: npt.NDArray[Any] = np.full((len(rows), k), None if strings else -1,
                                    dtype=object if strings else np.int64)
    distances = np.full((len(rows), k), np.inf, dtype=np.float32)
    scores = np.full((len(rows), k), np.nan) if with_scores else None
    for r, row in enumerate(rows):
        for c, hit in enumerate(row):
            ids[r, c], distances[r, c] = hit.id, hit.distance
            if scores is not None:
                scores[r, c] = hit.score
    return BatchResults(ids, distances, scores)

