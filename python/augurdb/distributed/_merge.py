"""Merging per-shard results into the answer of one collection holding all the data. Pure
Python and NumPy (no Ray), so the rules are tested on their own.

- Vector search: each shard's top k by distance; the k smallest of their union are the global
  top k (every global top-k record is in its shard's top k).
- Text search: each shard scores with the summed statistics (DFS), so the same argument holds
  with BM25, largest first.
- Hybrid search: each shard returns every record either of its sides listed (its top
  ``candidates`` by distance and by BM25, with both exact scores); the global sides are the
  top ``candidates`` of the union by distance and by BM25 (> 0), fused exactly as the engine's
  db/fusion.cc does (ranks from 1; RRF or min-max weighted; ties by arrival order).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from ._shard import HitTuple


@dataclasses.dataclass(frozen=True)
class ShardHit:
    """A search result of a sharded collection (the attributes of :class:`augurdb.Hit`)."""

    id: Any
    distance: float
    score: float
    text_score: float
    metadata: dict[str, Any]
    document: str | None
    shard: int


def _hits(per_shard: Sequence[tuple[int, list[HitTuple]]]) -> list[ShardHit]:
    return [ShardHit(*t, shard=s) for s, hits in per_shard for t in hits]


def merge_vector(per_shard: Sequence[tuple[int, list[HitTuple]]], k: int) -> list[ShardHit]:
    hits = _hits(per_shard)
    order = sorted(range(len(hits)), key=lambda i: (hits[i].distance, i))
    return [hits[i] for i in order[:k]]


def merge_text(per_shard: Sequence[tuple[int, list[HitTuple]]], k: int) -> list[ShardHit]:
    hits = _hits(per_shard)
    order = sorted(range(len(hits)), key=lambda i: (-hits[i].score, i))
    return [hits[i] for i in order[:k]]


def hybrid_candidates(k: int, candidates: int | None) -> int:
    """The engine's default: ``max(50, 4k)`` (db/fusion.cc HybridCandidates)."""
    return candidates if candidates else max(50, 4 * k)


def merge_hybrid(per_shard: Sequence[tuple[int, list[HitTuple]]], k: int, candidates: int,
                 fusion: str, rrf_k: float, alpha: float) -> list[ShardHit]:
    pool = _hits(per_shard)
    vector_side = sorted(range(len(pool)), key=lambda i: (pool[i].distance, i))[:candidates]
    text_side = sorted((i for i in range(len(pool)) if pool[i].text_score > 0),
                       key=lambda i: (-pool[i].text_score, i))[:candidates]
    vector_rank = {i: r + 1 for r, i in enumerate(vector_side)}
    text_rank = {i: r + 1 for r, i in enumerate(text_side)}
    listed = list(dict.fromkeys(vector_side + text_side))  # the engine's first-seen order
    if fusion == "rrf":
        def fused(i: int) -> float:
            score = 0.0
            if i in vector_rank:
                score += 1.0 / (rrf_k + vector_rank[i])
            if i in text_rank:
                score += 1.0 / (rrf_k + text_rank[i])
            return score
    else:
        v = [pool[i].distance for i in vector_side]
        t = [pool[i].text_score for i in text_side]
        v_lo, v_hi = (min(v), max(v)) if v else (0.0, 0.0)
        t_lo, t_hi = (min(t), max(t)) if t else (0.0, 0.0)

        def fused(i: int) -> float:
            vs = ((v_hi - pool[i].distance) / (v_hi - v_lo) if v_hi > v_lo else 1.0) \
                if i in vector_rank else 0.0
            ts = ((pool[i].text_score - t_lo) / (t_hi - t_lo) if t_hi > t_lo else 1.0) \
                if i in text_rank else 0.0
            return alpha * vs + (1.0 - alpha) * ts
    scores = {i: fused(i) for i in listed}
    seen = {i: n for n, i in enumerate(listed)}
    order = sorted(listed, key=lambda i: (-scores[i], seen[i]))[:k]
    return [dataclasses.replace(pool[i], score=scores[i]) for i in order]


def merge_batch(parts: Sequence[tuple[npt.NDArray[Any], npt.NDArray[np.float32],
                                      npt.NDArray[np.float64] | None]],
                k: int, by_score: bool) -> tuple[npt.NDArray[Any], npt.NDArray[np.float32],
                                                 npt.NDArray[np.float64] | None]:
    """Row-wise merge of per-shard (ids, distances, scores) batches: the k smallest distances,
    or with ``by_score`` the k largest scores (text search), padding kept last."""
    ids = np.concatenate([p[0] for p in parts], axis=1)
    distances = np.concatenate([p[1] for p in parts], axis=1)
    scores = None
    if by_score:
        scores = np.concatenate([p[2] for p in parts if p[2] is not None], axis=1)
        key = np.where(np.isnan(scores), np.inf, -scores)
    else:
        key = distances
    order = np.argsort(key, axis=1, kind="stable")[:, :k]
    rows = np.arange(ids.shape[0])[:, None]
    return (ids[rows, order], distances[rows, order],
            None if scores is None else scores[rows, order])

