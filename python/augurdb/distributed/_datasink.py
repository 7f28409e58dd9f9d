"""Bulk load from Ray Data: ``ds.write_datasink(AugurDBDatasink(root, shards=4, dim=384))``."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import ray
from ray.data.block import Block, BlockAccessor
from ray.data.datasource.datasink import Datasink, WriteResult

from .. import errors
from . import _sharded


def _metadata(value: Any) -> dict[str, Any] | None:
    """A row's metadata: a JSON string (kept exactly) or a dict (an Arrow struct, where keys
    other rows have arrive as None: those are dropped)."""
    if value is None:
        return None
    if isinstance(value, str):
        return dict(json.loads(value))
    if isinstance(value, dict):
        return {k: (v.tolist() if isinstance(v, np.ndarray) else v)
                for k, v in value.items() if v is not None}
    raise errors.InvalidArgument(f"metadata must be a dict or a JSON string, got "
                                 f"{type(value).__name__}")


class AugurDBDatasink(Datasink[int]):
    """Writes a Ray Dataset with columns ``id``, ``vector`` and optionally ``metadata`` and
    ``document`` into a sharded collection at ``root`` (created with ``shards``, ``dim``,
    ``metric`` and ``open_kwargs`` as :func:`augurdb.distributed.open` takes them, or reopened).
    Write tasks run in parallel and send each block's rows to their shards' actors (upsert, so a
    retried task is harmless); when all are done every shard checkpoints and the collection is
    closed. Open it again with ``augurdb.distributed.open(root)``."""

    def __init__(self, root: str | Path, *, shards: int | None = None, dim: int | None = None,
                 metric: str | None = None, **open_kwargs: Any) -> None:
        self.root = Path(root)
        self.shards, self.dim, self.metric, self.open_kwargs = shards, dim, metric, open_kwargs
        self._collection: _sharded.ShardedCollection | None = None

    def on_write_start(self, schema: Any = None) -> None:
        from . import open as open_sharded
        self._collection = open_sharded(self.root, shards=self.shards, dim=self.dim,
                                        metric=self.metric, **self.open_kwargs)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_collection"] = None  # tasks find the shards by their actor names
        return state

    def write(self, blocks: Iterable[Block], ctx: Any) -> int:
        from ._layout import read_layout
        layout = read_layout(self.root)
        if layout is None:
            raise errors.InvalidArgument(f"{self.root} holds no sharded collection")
        actors = [ray.get_actor(_sharded.actor_name(self.root, s), namespace=_sharded.NAMESPACE)
                  for s in range(layout.shards)]
        collection = _sharded.ShardedCollection(self.root, layout, actors)
        rows = 0
        for block in blocks:
            frame = BlockAccessor.for_block(block).to_pandas()
            if len(frame) == 0:
                continue
            for column in ("id", "vector"):
                if column not in frame:
                    raise errors.InvalidArgument(f"the dataset has no {column!r} column")
            ids = frame["id"].tolist()
            vectors = np.stack([np.asarray(v, dtype=np.float32) for v in frame["vector"]])
            metadata = [_metadata(m) for m in frame["metadata"]] if "metadata" in frame else None
            documents = ([d if isinstance(d, str) else None for d in frame["document"]]
                         if "document" in frame else None)
            collection.upsert(ids, vectors, metadata=metadata, documents=documents)
            rows += len(ids)
        return rows

    def on_write_complete(self, write_result: WriteResult[int]) -> None:
        if self._collection is not None:
            self._collection.checkpoint()
            self._collection.close()
            self._collection = None

    def on_write_failed(self, error: Exception) -> None:
        if self._collection is not None:
            self._collection.close()
            self._collection = None
