"""Sharded collections on Ray (``pip install "augurdb[ray]"``).

>>> import augurdb.distributed as dist
>>> col = dist.open("/shared/kb", shards=4, dim=384, metric="cosine")   # doctest: +SKIP
>>> col.add(ids, vectors, documents=texts)                                # doctest: +SKIP
>>> col.search(q, k=10, text="error E1234")        # hybrid, global BM25  # doctest: +SKIP
>>> ds.write_datasink(dist.AugurDBDatasink("/shared/kb2", shards=4, dim=384))  # doctest: +SKIP

Each shard is a Ray actor owning one AugurDB directory under ``root`` (``root/shard-0000`` ...),
on a filesystem every node sees, or, with ``node_local=True``, on the node the shard was first
placed on (the actor is then pinned there). Ids route to shards by a stable hash stored in
``root/augurdb-shards.json`` with the shard count, so ``open(root)`` reopens the collection
and another ``shards`` is an error. Searches ask every shard and merge exactly; text and hybrid
searches first gather document frequencies from every shard (a "DFS" phase), so BM25 scores
equal those of one collection holding all the data. ``augurdb.open`` never imports this module.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ray

from .. import errors
from ._datasink import AugurDBDatasink
from ._layout import Layout, read_layout, shard_dir, write_layout
from ._merge import ShardHit
from ._sharded import SearchResults, ShardedCollection, ShardRecord, start_shards

__all__ = ["AugurDBDatasink", "SearchResults", "ShardHit", "ShardRecord", "ShardedCollection",
           "open"]


def _pick_nodes(shards: int) -> tuple[str, ...]:
    alive = sorted(n["NodeID"] for n in ray.nodes() if n.get("Alive"))  # type: ignore[no-untyped-call]
    if not alive:
        raise errors.ShardUnavailable("no live Ray node to place shards on")
    return tuple(alive[s % len(alive)] for s in range(shards))


def open(root: str | Path, *, shards: int | None = None,  # noqa: A001 - mirrors augurdb.open
         dim: int | None = None, metric: str | None = None, ray_address: str | None = None,
         node_local: bool = False, allow_partial: bool = False, num_cpus: float = 0,
         **open_kwargs: Any) -> ShardedCollection:
    """Opens (or creates, with ``shards``) the sharded collection at ``root``.

    ``metric`` defaults to "l2" for a new collection and to the stored one otherwise (another
    is an error, as is another ``shards``). ``open_kwargs`` go to every shard's
    :func:`augurdb.open` (``m``, ``ef_search``, ``quantization``, ``tokenizer``,
    ``durability``...). Ray is initialised with ``ray_address`` when it is not yet (None:
    a local cluster). ``num_cpus`` is what each shard actor reserves from Ray's scheduler (0:
    shards do not hold back CPUs from Ray tasks such as a datasink's writers).
    """
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise errors.InvalidArgument(f"{root} is not a directory")
    if shards is not None and (isinstance(shards, bool) or not isinstance(shards, int)
                               or shards < 1):
        raise errors.InvalidArgument(f"shards must be a positive int, got {shards!r}")
    layout = read_layout(root)
    if layout is None:
        if shards is None:
            hint = (" (it holds shard directories but no layout file: not created by "
                    "augurdb.distributed, or damaged)" if any(root.glob("shard-*")) else "")
            raise errors.InvalidArgument(
                f"{root} holds no sharded collection{hint}; pass shards= to create one")
        if any(root.glob("shard-*")):
            raise errors.CorruptDatabase(f"{root} holds shard directories but no layout file")
    else:
        if shards is not None and shards != layout.shards:
            raise errors.InvalidArgument(
                f"{root} has {layout.shards} shards, not {shards}: resharding is not supported "
                f"(open it without shards=)")
        if metric is not None and metric != layout.metric:
            raise errors.InvalidArgument(f"{root} uses metric {layout.metric!r}, not {metric!r}")
        if dim is not None and layout.dim is not None and dim != layout.dim:
            raise errors.DimensionMismatch(f"{root} is {layout.dim}-d, not {dim}-d")
    if not ray.is_initialized():
        ray.init(address=ray_address)
    if layout is None:
        assert shards is not None
        layout = Layout(shards, metric or "l2", dim, _pick_nodes(shards) if node_local else None)
        for s in range(shards):
            shard_dir(root, s).mkdir(parents=True, exist_ok=True)
        write_layout(root, layout)
    actors = start_shards(root, layout, open_kwargs, num_cpus)
    learnt = None
    if layout.dim is None:  # learn it from a shard that has data
        dims = {d for d, _ in ray.get([a.describe.remote() for a in actors]) if d}
        learnt = dims.pop() if dims else None
    return ShardedCollection(root, layout, actors, allow_partial, learnt)
