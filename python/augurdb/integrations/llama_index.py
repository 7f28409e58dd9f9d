"""AugurDB as a LlamaIndex vector store (``pip install "augurdb[llama-index]"``).

>>> from llama_index.core import StorageContext, VectorStoreIndex
>>> from augurdb.integrations.llama_index import AugurDBVectorStore
>>> store = AugurDBVectorStore("./kb.adb")                                   # doctest: +SKIP
>>> index = VectorStoreIndex.from_documents(
...     docs, storage_context=StorageContext.from_defaults(vector_store=store))  # doctest: +SKIP
>>> retriever = index.as_retriever(vector_store_query_mode="hybrid", alpha=0.5)  # doctest: +SKIP
>>> retriever.retrieve("error E1234 on boot")                                 # doctest: +SKIP

Each node is one record: the node id is the record id, its embedding the vector, its text the
record's document (BM25-indexed: TEXT_SEARCH, SPARSE and HYBRID queries run in the engine), and
its metadata the record's metadata, with three reserved keys beside it: ``ref_doc_id`` (so that
``delete(ref_doc_id)`` and ``doc_ids=`` are engine filters), ``_node_type`` and ``_node_content``
(the node's other fields as JSON, so relationships and templates survive a reopen). Metadata
values may be str, int, float, bool, None or lists of those.

``MetadataFilters`` become the engine's filter language (docs/filters.md) for every operator
LlamaIndex defines, nested, with AND, OR and NOT, and with the semantics of LlamaIndex's own
reference store (``SimpleVectorStore``): a missing or null field matches only ``!=`` and
``nin``; ``contains``/``any``/``all`` test list membership on list fields and substrings on
string fields; ``text_match`` is a case-sensitive substring test (``text_match_insensitive``
ignores case); ``is_empty`` matches a missing, null, ``""`` or ``[]`` value. One difference:
``==`` on a list-valued field matches when an element equals the value (the engine's rule).

Similarities are higher-is-better: ``1 - distance`` for "cosine" (the cosine), the dot product
for "ip", ``1 / (1 + euclidean distance)`` for "l2"; BM25 scores for text queries and fused
scores for hybrid ones.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from llama_index.core.bridge.pydantic import PrivateAttr
from llama_index.core.indices.query.embedding_utils import get_top_k_mmr_embeddings
from llama_index.core.schema import BaseNode, ImageNode, IndexNode, MetadataMode, Node, TextNode
from llama_index.core.vector_stores.types import (
    BasePydanticVectorStore,
    FilterCondition,
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
    VectorStoreQuery,
    VectorStoreQueryMode,
    VectorStoreQueryResult,
)

import augurdb

from .. import errors
from ._owned import ClosingStore, open_owned

__all__ = ["AugurDBVectorStore", "filters_to_where"]

REF_DOC_KEY = "ref_doc_id"
NODE_TYPE_KEY = "_node_type"
NODE_CONTENT_KEY = "_node_content"
_RESERVED = (REF_DOC_KEY, NODE_TYPE_KEY, NODE_CONTENT_KEY)
# Node fields kept elsewhere than in _node_content.
_NOT_IN_CONTENT = ("embedding", "metadata", "text", "text_resource")
_NODE_CLASSES: dict[str, type[BaseNode]] = {
    cls.class_name(): cls for cls in (TextNode, Node, IndexNode, ImageNode)}
_TEXT_MODES = (VectorStoreQueryMode.TEXT_SEARCH, VectorStoreQueryMode.SPARSE)


# ---- filters ----

def _absent(key: str) -> dict[str, Any]:
    """A missing or null field: what LlamaIndex's reference store treats as "no value"."""
    return {"$or": [{key: {"$exists": False}}, {key: None}]}


def _holds(key: str, value: Any) -> dict[str, Any]:
    """LlamaIndex's ``value in field``: list membership, or a substring of a string field."""
    if isinstance(value, str):
        return {"$or": [{key: {"$contains": value}}, {key: {"$substring": value}}]}
    return {key: {"$contains": value}}


def _as_list(op: FilterOperator, value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise errors.InvalidArgument(
            f"filter operator {op.value!r} needs a list value, got {type(value).__name__}")
    return value


def _leaf(f: MetadataFilter) -> dict[str, Any]:
    key, op, value = f.key, FilterOperator(f.operator), f.value
    if op == FilterOperator.IS_EMPTY:
        return {key: {"$empty": True}}
    if op in (FilterOperator.IN, FilterOperator.NIN):
        values = _as_list(op, value)
        if op == FilterOperator.IN:
            return {key: {"$in": values}}
        return {"$or": [{key: {"$nin": values}}, _absent(key)]}
    if op == FilterOperator.ANY:
        return {"$or": [_holds(key, v) for v in _as_list(op, value)] or [{"$not": {}}]}
    if op == FilterOperator.ALL:
        values = _as_list(op, value)
        if not values:  # all() of nothing: any present, non-null value
            return {"$not": _absent(key)}
        return {"$and": [_holds(key, v) for v in values]}
    if isinstance(value, list):
        raise errors.InvalidArgument(
            f"filter operator {op.value!r} on {key!r} takes one value, not a list (use 'in', "
            f"'any' or 'all')")
    if op == FilterOperator.CONTAINS:
        return _holds(key, value)
    if op in (FilterOperator.TEXT_MATCH, FilterOperator.TEXT_MATCH_INSENSITIVE):
        if not isinstance(value, str):
            raise errors.InvalidArgument(
                f"filter operator {op.value!r} on {key!r} needs a str, got "
                f"{type(value).__name__}")
        name = "$substring" if op == FilterOperator.TEXT_MATCH else "$isubstring"
        return {key: {name: value}}
    if op == FilterOperator.NE:
        return {"$or": [{key: {"$ne": value}}, _absent(key)]}
    engine_op = {FilterOperator.EQ: "$eq", FilterOperator.GT: "$gt", FilterOperator.GTE: "$gte",
                 FilterOperator.LT: "$lt", FilterOperator.LTE: "$lte"}.get(op)
    if engine_op is None:
        raise errors.NotSupported(f"filter operator {op.value!r} is not supported")
    return {key: {engine_op: value}}


def filters_to_where(filters: MetadataFilters | None) -> dict[str, Any] | None:
    """LlamaIndex ``MetadataFilters`` (nested, AND/OR/NOT) as an AugurDB ``where`` filter."""
    if filters is None or not filters.filters:
        return None
    parts = [filters_to_where(f) or {} if isinstance(f, MetadataFilters) else _leaf(f)
             for f in filters.filters]
    condition = FilterCondition(filters.condition or FilterCondition.AND)
    if condition == FilterCondition.AND:
        return parts[0] if len(parts) == 1 else {"$and": parts}
    either = parts[0] if len(parts) == 1 else {"$or": parts}
    if condition == FilterCondition.OR:
        return either
    if condition == FilterCondition.NOT:
        return {"$not": either}
    raise errors.NotSupported(f"filter condition {condition.value!r} is not supported")


def _and(*wheres: dict[str, Any] | None) -> dict[str, Any] | None:
    parts = [w for w in wheres if w]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else {"$and": parts}


# ---- nodes <-> records ----

def _record_of(node: BaseNode) -> tuple[dict[str, Any], str]:
    """(metadata, document) stored for a node."""
    metadata = dict(node.metadata or {})
    clash = [k for k in _RESERVED if k in metadata]
    if clash:
        raise errors.InvalidArgument(
            f"node {node.node_id!r} has metadata key {clash[0]!r}, which the AugurDB vector "
            f"store reserves")
    content = node.model_dump(mode="json")
    for field in _NOT_IN_CONTENT:
        content.pop(field, None)
    metadata[REF_DOC_KEY] = node.ref_doc_id
    metadata[NODE_TYPE_KEY] = node.class_name()
    metadata[NODE_CONTENT_KEY] = json.dumps(content, ensure_ascii=False)
    return metadata, node.get_content(metadata_mode=MetadataMode.NONE)


def _node_of(record: Any) -> BaseNode:
    metadata = dict(record.metadata or {})
    content = json.loads(metadata.pop(NODE_CONTENT_KEY, None) or "{}")
    node_class = _NODE_CLASSES.get(str(metadata.pop(NODE_TYPE_KEY, "")), TextNode)
    metadata.pop(REF_DOC_KEY, None)
    content["id_"] = str(record.id)
    content["metadata"] = metadata
    node = node_class.model_validate(content)
    node.set_content(record.document or "")
    return node


class AugurDBVectorStore(ClosingStore, BasePydanticVectorStore):
    """A LlamaIndex vector store on an AugurDB collection (``stores_text=True``).

    ``path=None`` keeps it in memory; otherwise a database directory, created if missing and
    reopened (with its dimension and metric) if present. ``collection`` uses an open
    :class:`augurdb.Collection` instead (the store then does not close it). ``dim`` may be left
    out: a new collection takes it from the first embedding added. ``metric`` and
    ``open_kwargs`` go to :func:`augurdb.open` (e.g. ``quantization="sq8"``,
    ``tokenizer="english"``). The store closes a collection it opened on :meth:`close`, as a
    context manager, or when garbage-collected, releasing the database's writer lock.
    """

    stores_text: bool = True
    flat_metadata: bool = False
    mmr_prefetch_factor: float = 4.0

    _collection: augurdb.Collection = PrivateAttr()
    _finalizer: Any = PrivateAttr(default=None)

    def __init__(self, path: str | os.PathLike[str] | None = None, *,
                 collection: augurdb.Collection | None = None, dim: int | None = None,
                 metric: str = "cosine", **open_kwargs: Any) -> None:
        super().__init__(stores_text=True)
        if dim is not None:
            open_kwargs["dim"] = dim
        self._collection, self._finalizer = open_owned(self, path, collection, metric,
                                                       open_kwargs)

    @classmethod
    def class_name(cls) -> str:
        return "AugurDBVectorStore"

    @property
    def client(self) -> augurdb.Collection:
        """The underlying :class:`augurdb.Collection`."""
        return self._collection

    # ---- writes ----

    def add(self, nodes: Sequence[BaseNode], **kwargs: Any) -> list[str]:
        """Stores the nodes (an existing id is replaced); returns their ids. Every node needs an
        embedding; nothing is written when one lacks it or has bad metadata."""
        if not nodes:
            return []
        last = {node.node_id: node for node in nodes}  # a repeated id keeps its last node
        ids = list(last)
        vectors = []
        for node in last.values():
            if node.embedding is None:
                raise errors.InvalidArgument(f"node {node.node_id!r} has no embedding")
            vectors.append(node.embedding)
        records = [_record_of(node) for node in last.values()]
        self._collection.upsert(ids, np.asarray(vectors, dtype=np.float32),
                                documents=[document for _, document in records],
                                metadata=[metadata for metadata, _ in records])
        return [node.node_id for node in nodes]

    def delete(self, ref_doc_id: str, **delete_kwargs: Any) -> None:
        """Removes every node of the source document ``ref_doc_id``."""
        self._collection.delete(where={REF_DOC_KEY: ref_doc_id})

    def delete_nodes(self, node_ids: list[str] | None = None,
                     filters: MetadataFilters | None = None, **delete_kwargs: Any) -> None:
        """Removes the nodes with these ids and/or matching ``filters`` (both: the ids that
        match); neither removes nothing."""
        where = filters_to_where(filters)
        if node_ids is None:
            if where is not None:
                self._collection.delete(where=where)
            return
        targets = self._ids_matching(node_ids, where)
        if targets:
            self._collection.delete(targets)

    def clear(self) -> None:
        """Removes every node."""
        self._collection.delete(where={})

    # ---- reads ----

    def _ids_matching(self, node_ids: list[str], where: dict[str, Any] | None) -> list[str]:
        """The stored ids among ``node_ids`` whose records match ``where``, in their order.
        The engine evaluates the filter over the records of the same source documents only."""
        records = [r for r in self._collection.get([str(i) for i in node_ids]) if r is not None]
        if where is None or not records:
            return [str(r.id) for r in records]
        docs = sorted({r.metadata.get(REF_DOC_KEY) for r in records}, key=str)
        matched = {str(r.id) for r in self._collection.get(
            where=_and(where, {REF_DOC_KEY: {"$in": docs}})) if r is not None}
        return [str(r.id) for r in records if str(r.id) in matched]

    def get_nodes(self, node_ids: list[str] | None = None,
                  filters: MetadataFilters | None = None) -> list[BaseNode]:
        """The nodes with these ids (unknown ones left out) and/or matching ``filters``; all
        nodes when both are None."""
        where = filters_to_where(filters)
        if node_ids is None:
            return [_node_of(r) for r in self._collection.get(where=where or {}) if r is not None]
        keep = set(self._ids_matching(node_ids, where))
        records = self._collection.get([str(i) for i in node_ids]) if keep else []
        return [_node_of(r) for r in records if r is not None and str(r.id) in keep]

    def _similarity(self, distance: float) -> float:
        metric = self._collection.metric
        if metric == "cosine":
            return 1.0 - distance
        if metric == "ip":
            return -distance
        return 1.0 / (1.0 + float(np.sqrt(max(distance, 0.0))))

    def query(self, query: VectorStoreQuery, **kwargs: Any) -> VectorStoreQueryResult:
        """Runs ``query`` in mode DEFAULT (vector), TEXT_SEARCH or SPARSE (BM25), HYBRID
        (weighted fusion, ``alpha`` 1 = vectors only, 0 = BM25 only, default 0.5) or MMR.
        ``filters``, ``doc_ids`` and ``node_ids`` (non-empty) restrict the results. Extra keyword
        arguments ``ef`` and ``where_document`` go to :meth:`augurdb.Collection.search`."""
        mode = VectorStoreQueryMode(query.mode)
        k = int(query.hybrid_top_k or query.similarity_top_k) \
            if mode == VectorStoreQueryMode.HYBRID else int(query.similarity_top_k)
        where = _and(filters_to_where(query.filters),
                     {REF_DOC_KEY: {"$in": list(query.doc_ids)}} if query.doc_ids else None)
        if query.node_ids:  # LlamaIndex's retriever passes [] for "no restriction"
            return self._query_nodes(query, mode, k, where)
        if len(self._collection) == 0 or k <= 0:
            return VectorStoreQueryResult(nodes=[], similarities=[], ids=[])
        options: dict[str, Any] = {"where": where}
        for name in ("ef", "where_document"):
            if name in kwargs:
                options[name] = kwargs[name]
        if mode in _TEXT_MODES:
            hits = self._collection.search(None, k, text=self._query_text(query, mode),
                                           **options)
            return self._result(hits, [float(h.score) for h in hits])
        vector = self._query_vector(query, mode)
        if mode == VectorStoreQueryMode.HYBRID:
            alpha = 0.5 if query.alpha is None else float(query.alpha)
            candidates = max(k, int(query.sparse_top_k or 0)) if query.sparse_top_k else None
            hits = self._collection.search(vector, k, text=self._query_text(query, mode),
                                           fusion="weighted", alpha=alpha,
                                           candidates=candidates, **options)
            return self._result(hits, [float(h.score) for h in hits])
        if mode == VectorStoreQueryMode.MMR:
            fetch = max(k, int(k * float(kwargs.get("mmr_prefetch_factor",
                                                    self.mmr_prefetch_factor))))
            hits = self._collection.search(vector, fetch, **options)
            return self._mmr(query, vector, hits, k)
        if mode != VectorStoreQueryMode.DEFAULT:
            raise errors.NotSupported(
                f"query mode {mode.value!r} is not supported (default, text_search, sparse, "
                f"hybrid and mmr are)")
        hits = self._collection.search(vector, k, **options)
        return self._result(hits, [self._similarity(float(h.distance)) for h in hits])

    def _query_vector(self, query: VectorStoreQuery, mode: VectorStoreQueryMode) -> np.ndarray:
        if query.query_embedding is None:
            raise errors.InvalidArgument(f"a {mode.value!r} query needs query_embedding")
        return np.asarray(query.query_embedding, dtype=np.float32)

    @staticmethod
    def _query_text(query: VectorStoreQuery, mode: VectorStoreQueryMode) -> str:
        if not query.query_str:
            raise errors.InvalidArgument(f"a {mode.value!r} query needs query_str")
        return query.query_str

    def _result(self, hits: Sequence[Any], similarities: list[float]) -> VectorStoreQueryResult:
        return VectorStoreQueryResult(nodes=[_node_of(h) for h in hits],
                                      similarities=similarities, ids=[str(h.id) for h in hits])

    def _mmr(self, query: VectorStoreQuery, vector: np.ndarray, hits: Sequence[Any],
             k: int) -> VectorStoreQueryResult:
        if not hits:
            return VectorStoreQueryResult(nodes=[], similarities=[], ids=[])
        records = self._collection.get([h.id for h in hits])
        embeddings = [r.vector.tolist() for r in records if r is not None]
        similarities, ids = get_top_k_mmr_embeddings(
            vector.tolist(), embeddings, similarity_top_k=k,
            embedding_ids=list(range(len(embeddings))), mmr_threshold=query.mmr_threshold)
        picked = [hits[i] for i in ids]
        return VectorStoreQueryResult(nodes=[_node_of(h) for h in picked],
                                      similarities=[float(s) for s in similarities],
                                      ids=[str(h.id) for h in picked])

    def _query_nodes(self, query: VectorStoreQuery, mode: VectorStoreQueryMode, k: int,
                     where: dict[str, Any] | None) -> VectorStoreQueryResult:
        """A query restricted to ``node_ids``: exact, over those nodes only."""
        ids = self._ids_matching([str(i) for i in query.node_ids or []], where)
        if not ids or k <= 0:
            return VectorStoreQueryResult(nodes=[], similarities=[], ids=[])
        records = [r for r in self._collection.get(ids) if r is not None]
        if mode in _TEXT_MODES or mode == VectorStoreQueryMode.HYBRID:
            raise errors.NotSupported(
                f"query mode {mode.value!r} with node_ids is not supported (default and mmr "
                f"are)")
        vector = self._query_vector(query, mode)
        stack = np.stack([r.vector for r in records]).astype(np.float32)
        metric = self._collection.metric
        if metric == "l2":
            distances = ((stack - vector) ** 2).sum(axis=1)
        elif metric == "ip":
            distances = -(stack @ vector)
        else:
            norms = np.linalg.norm(stack, axis=1) * max(float(np.linalg.norm(vector)), 1e-30)
            distances = 1.0 - (stack @ vector) / np.maximum(norms, 1e-30)
        order = np.argsort(distances, kind="stable")
        if mode == VectorStoreQueryMode.MMR:
            return self._mmr(query, vector, [records[i] for i in order], k)
        order = order[:k]
        return VectorStoreQueryResult(
            nodes=[_node_of(records[i]) for i in order],
            similarities=[self._similarity(float(distances[i])) for i in order],
            ids=[str(records[i].id) for i in order])

    # ---- async: the engine releases the GIL, so a worker thread runs in parallel ----

    async def async_add(self, nodes: Sequence[BaseNode], **kwargs: Any) -> list[str]:
        return await asyncio.to_thread(self.add, nodes, **kwargs)

    async def adelete(self, ref_doc_id: str, **delete_kwargs: Any) -> None:
        await asyncio.to_thread(self.delete, ref_doc_id, **delete_kwargs)

    async def adelete_nodes(self, node_ids: list[str] | None = None,
                            filters: MetadataFilters | None = None,
                            **delete_kwargs: Any) -> None:
        await asyncio.to_thread(self.delete_nodes, node_ids, filters, **delete_kwargs)

    async def aget_nodes(self, node_ids: list[str] | None = None,
                         filters: MetadataFilters | None = None) -> list[BaseNode]:
        return await asyncio.to_thread(self.get_nodes, node_ids, filters)

    async def aclear(self) -> None:
        await asyncio.to_thread(self.clear)

    async def aquery(self, query: VectorStoreQuery, **kwargs: Any) -> VectorStoreQueryResult:
        return await asyncio.to_thread(self.query, query, **kwargs)
