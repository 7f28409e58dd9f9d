"""The on-disk layout of a sharded collection: ``root/augurdb-shards.json`` (shard count, id hash,
metric, dimension, optional node pinning) beside one AugurDB directory per shard, and the stable
id -> shard routing. Pure Python: nothing here imports Ray."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .. import errors

LAYOUT_FILE = "augurdb-shards.json"
LAYOUT_FORMAT = 1
# Ints: splitmix64 of the two's-complement value; strs: the first 8 bytes of blake2b(utf-8),
# little-endian; then modulo the shard count. Never change it for an existing name: the routing
# of every stored id depends on it.
HASH_NAME = "splitmix64-int/blake2b64-str/v1"

_M64 = (1 << 64) - 1


@dataclasses.dataclass(frozen=True)
class Layout:
    shards: int
    metric: str
    dim: int | None = None
    # Node ids, one per shard, when shards are pinned to node-local storage; None = any node.
    nodes: tuple[str, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        return {"format": LAYOUT_FORMAT, "hash": HASH_NAME, "shards": self.shards,
                "metric": self.metric, "dim": self.dim,
                "nodes": list(self.nodes) if self.nodes is not None else None}


def shard_dir(root: Path, shard: int) -> Path:
    return root / f"shard-{shard:04d}"


def read_layout(root: Path) -> Layout | None:
    """The stored layout, or None when ``root`` holds none; CorruptDatabase for a damaged one,
    NotSupported for a newer format or another hash."""
    path = root / LAYOUT_FILE
    if not path.exists():
        return None
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(raw, dict):
            raise ValueError("not a JSON object")
        fmt, shards = int(raw["format"]), int(raw["shards"])
        metric, dim, nodes = str(raw["metric"]), raw.get("dim"), raw.get("nodes")
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise errors.CorruptDatabase(
            f"{path}: not a sharded-collection layout ({error})") from error
    if fmt > LAYOUT_FORMAT:
        raise errors.NotSupported(f"{path}: layout format {fmt} is newer than this AugurDB "
                                  f"reads ({LAYOUT_FORMAT}); upgrade AugurDB")
    if raw.get("hash") != HASH_NAME:
        raise errors.NotSupported(f"{path}: id hash {raw.get('hash')!r} is not {HASH_NAME!r}")
    if shards < 1:
        raise errors.CorruptDatabase(f"{path}: shard count {shards} is not positive")
    return Layout(shards, metric, None if dim is None else int(dim),
                  None if nodes is None else tuple(str(n) for n in nodes))


def write_layout(root: Path, layout: Layout) -> None:
    """Writes the layout atomically (temporary file, fsync, rename, fsync of the directory)."""
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / (LAYOUT_FILE + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(layout.to_json(), f, indent=2)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, root / LAYOUT_FILE)
    fd = os.open(root, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _splitmix64(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    with np.errstate(over="ignore"):
        z = x + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def shard_of_str(value: str, shards: int) -> int:
    digest = hashlib.blake2b(value.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little") % shards


def route(ids: Sequence[Any] | npt.NDArray[Any], shards: int) -> npt.NDArray[np.int64]:
    """The shard of every id (ints and strs; a batch holds one kind, as in a collection)."""
    if isinstance(ids, np.ndarray) and ids.dtype.kind in "iu":
        values = ids.astype(np.int64, copy=False).view(np.uint64)
        return (_splitmix64(values) % np.uint64(shards)).astype(np.int64)
    out = np.empty(len(ids), dtype=np.int64)
    ints = [i for i, v in enumerate(ids) if not isinstance(v, str)]
    if ints:
        values = np.array([int(ids[i]) & _M64 for i in ints], dtype=np.uint64)
        out[ints] = (_splitmix64(values) % np.uint64(shards)).astype(np.int64)
    for i, v in enumerate(ids):
        if isinstance(v, str):
            out[i] = shard_of_str(v, shards)
    return out
