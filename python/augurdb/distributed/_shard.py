"""One shard: an AugurDB collection in a Ray actor (made remote by ``_sharded``). Results leave
the actor as plain tuples and NumPy arrays: Ray pickles them (arrays travel zero-copy through
the object store), which the engine's Hit and Record objects are not made for."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

import augurdb

# (id, distance, score, text_score, metadata, document)
HitTuple = tuple[Any, float, float, float, dict[str, Any], "str | None"]
# (id, vector, metadata, document)
RecordTuple = tuple[Any, np.ndarray, dict[str, Any], "str | None"]


def _hit(h: Any) -> HitTuple:
    return (h.id, float(h.distance), float(h.score), float(h.text_score), h.metadata, h.document)


def _record(r: Any) -> RecordTuple:
    return (r.id, r.vector, r.metadata, r.document)


class ShardServer:
    """Owns the collection at ``path``; a restarted actor reopens it (WAL recovery)."""

    def __init__(self, path: str, open_kwargs: dict[str, Any]) -> None:
        # An error is kept, not raised: Ray would report a failed constructor as a bare
        # ActorDiedError, while a method that raises delivers the AugurDB error itself.
        self._error: Exception | None = None
        try:
            self._opened = augurdb.open(path, **open_kwargs)
        except Exception as error:  # noqa: BLE001 - re-raised by every call
            self._error = error

    @property
    def _col(self) -> augurdb.Collection:
        if self._error is not None:
            raise self._error
        return self._opened

    def ping(self) -> int:
        self._col  # noqa: B018 - raises the open error, if any
        return os.getpid()

    def describe(self) -> tuple[int | None, str]:
        return self._col.dim, self._col.metric

    def put(self, method: str, ids: Any, vectors: np.ndarray, metadata: Any,
            documents: Any) -> int:
        getattr(self._col, method)(ids, vectors, metadata=metadata, documents=documents)
        return len(vectors)

    def existing(self, ids: list[Any]) -> list[Any]:
        """The ids this shard holds (add checks every shard before any writes)."""
        return [i for i in ids if i in self._col]

    def delete(self, ids: Any, where: Any) -> int:
        return self._col.delete(ids, where=where)

    def get(self, ids: list[Any]) -> list[RecordTuple | None]:
        return [None if r is None else _record(r) for r in self._col.get(ids)]

    def find(self, where: Any, limit: int | None) -> list[RecordTuple]:
        return [_record(r) for r in self._col.get(where=where, limit=limit) if r is not None]

    def count(self, where: Any) -> int:
        return self._col.count(where)

    def ids(self) -> list[Any]:
        return self._col.ids()

    def text_stats(self, texts: list[str]) -> augurdb.TextStats:
        return self._col.text_stats(texts)

    def search(self, query: Any, k: int, options: dict[str, Any]) -> list[HitTuple]:
        return [_hit(h) for h in self._col.search(query, k, **options)]

    def search_batch(self, queries: Any, k: int, options: dict[str, Any]
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        r = self._col.search_batch(queries, k, **options)
        return r.ids, r.distances, r.scores

    def stats(self) -> dict[str, Any]:
        return self._col.stats()

    def verify(self) -> bool:
        return bool(self._col.verify())

    def checkpoint(self) -> None:
        self._col.checkpoint()

    def close(self) -> None:
        self._col.close()
