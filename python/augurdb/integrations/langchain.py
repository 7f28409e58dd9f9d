"""AugurDB as a LangChain vector store (``pip install "augurdb[langchain]"``).

>>> from augurdb.integrations.langchain import AugurDBVectorStore
>>> store = AugurDBVectorStore(embeddings, "./kb.adb")             # doctest: +SKIP
>>> store.add_texts(["how to reset a router"], [{"lang": "en"}])    # doctest: +SKIP
>>> store.similarity_search("wifi broken", k=4, filter={"lang": "en"})  # doctest: +SKIP
>>> store.similarity_search("E1234 error", hybrid=True)             # BM25 + vectors, RRF

Each LangChain ``Document`` is one record: its ``id`` (a str; a UUID when none is given), its
embedding, ``page_content`` as the record's document (BM25-indexed, so ``hybrid=True`` fuses
keyword and vector rankings in the engine) and ``metadata`` as the record's metadata, which comes
back with the same keys and types (str, int, float, bool, None and lists of those; nested dicts
are not supported by the engine and raise ``InvalidArgument``). ``filter=`` takes the engine's
filter language (``{"year": {"$gte": 2020}}``, docs/filters.md). Adding an existing id replaces
the record. Scores: ``similarity_search_with_score`` returns the engine's distance (lower is
closer: ``1 - cos`` for "cosine", squared L2 for "l2", ``-dot`` for "ip"), and the relevance
functions map it to [0, 1] for unit vectors.

Async methods run the sync ones in LangChain's executor: the engine releases the GIL and is
thread-safe, so they do run in parallel.
"""

from __future__ import annotations

import math
import os
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import VectorStore
from langchain_core.vectorstores.utils import maximal_marginal_relevance

import augurdb

from .. import errors
from ._owned import ClosingStore, open_owned

__all__ = ["AugurDBVectorStore"]


class AugurDBVectorStore(ClosingStore, VectorStore):
    """A LangChain ``VectorStore`` on an AugurDB collection.

    ``path=None`` keeps it in memory; otherwise a database directory, created if missing.
    ``collection`` uses an open :class:`augurdb.Collection` instead (string ids; the store then
    does not close it). ``metric`` and ``open_kwargs`` go to :func:`augurdb.open` (e.g.
    ``quantization="sq8"``, ``tokenizer="english"``). ``hybrid=True`` makes text searches hybrid
    by default (``fusion``, ``alpha``: see :meth:`augurdb.Collection.search`).

    The store closes a collection it opened when it is closed, used as a context manager, or
    garbage-collected, releasing the database's writer lock.
    """

    def __init__(self, embedding: Embeddings, path: str | os.PathLike[str] | None = None, *,
                 collection: augurdb.Collection | None = None, metric: str = "cosine",
                 hybrid: bool = False, fusion: str = "rrf", alpha: float = 0.5,
                 **open_kwargs: Any) -> None:
        self._embedding = embedding
        self.hybrid, self.fusion, self.alpha = hybrid, fusion, alpha
        self._collection, self._finalizer = open_owned(self, path, collection, metric,
                                                       open_kwargs)

    # ---- lifecycle ----

    @property
    def embeddings(self) -> Embeddings:
        return self._embedding

    @property
    def collection(self) -> augurdb.Collection:
        """The underlying collection."""
        return self._collection

    # ---- writes ----

    def add_texts(self, texts: Iterable[str], metadatas: list[dict[str, Any]] | None = None, *,
                  ids: list[str] | None = None, **kwargs: Any) -> list[str]:
        """Embeds and stores ``texts``; returns their ids (given, or new UUIDs where an id is
        None). An id given twice in the batch keeps its last text, as consecutive adds would."""
        texts = list(texts)
        if metadatas is not None and len(metadatas) != len(texts):
            raise errors.InvalidArgument(
                f"got {len(metadatas)} metadatas for {len(texts)} texts")
        if ids is not None and len(ids) != len(texts):
            raise errors.InvalidArgument(f"got {len(ids)} ids for {len(texts)} texts")
        out = [str(i) if i is not None else str(uuid.uuid4())
               for i in (ids if ids is not None else [None] * len(texts))]
        if not texts:
            return out
        last = {id_: row for row, id_ in enumerate(out)}
        rows = sorted(last.values())
        vectors = np.asarray(self._embedding.embed_documents([texts[r] for r in rows]),
                             dtype=np.float32)
        metadata = None if metadatas is None else [dict(metadatas[r] or {}) for r in rows]
        self._collection.upsert([out[r] for r in rows], vectors,
                                documents=[texts[r] for r in rows], metadata=metadata)
        return out

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> bool | None:
        """Removes the given ids (unknown ones are ignored), or every record when ids is None."""
        if ids is None:
            ids = [str(i) for i in self._collection.ids()]
        if ids:
            self._collection.delete([str(i) for i in ids])
        return True

    # ---- reads ----

    def get_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        """The documents with these ids, in their order; unknown ids are left out."""
        if not ids or len(self._collection) == 0:
            return []
        records = self._collection.get([str(i) for i in ids])
        return [Document(page_content=r.document or "", metadata=dict(r.metadata or {}),
                         id=str(r.id)) for r in records if r is not None]

    def _search(self, vector: Sequence[float], k: int, filter: dict[str, Any] | None,
                text: str | None, kwargs: dict[str, Any]) -> list[tuple[Document, float]]:
        if len(self._collection) == 0:
            return []
        hybrid = kwargs.pop("hybrid", self.hybrid)
        options: dict[str, Any] = {"where": filter}
        for name in ("ef", "where_document", "candidates", "rrf_k"):
            if name in kwargs:
                options[name] = kwargs.pop(name)
        if hybrid and text is not None:
            options.update(text=text, fusion=kwargs.pop("fusion", self.fusion),
                           alpha=kwargs.pop("alpha", self.alpha))
        hits = self._collection.search(np.asarray(vector, dtype=np.float32), k, **options)
        return [(Document(page_content=h.document or "", metadata=dict(h.metadata or {}),
                          id=str(h.id)), float(h.distance)) for h in hits]

    def similarity_search_with_score(self, query: str, k: int = 4,
                                     filter: dict[str, Any] | None = None,  # noqa: A002
                                     **kwargs: Any) -> list[tuple[Document, float]]:
        """The ``k`` closest documents to ``query`` with their distances (lower is closer).
        ``hybrid=True`` ranks by the fusion of vector and BM25 rankings instead (the distance
        returned is still the exact one)."""
        return self._search(self._embedding.embed_query(query), k, filter, query, kwargs)

    def similarity_search(self, query: str, k: int = 4,
                          filter: dict[str, Any] | None = None,  # noqa: A002
                          **kwargs: Any) -> list[Document]:
        return [doc for doc, _ in self.similarity_search_with_score(query, k, filter, **kwargs)]

    def similarity_search_with_score_by_vector(
            self, embedding: list[float], k: int = 4,
            filter: dict[str, Any] | None = None,  # noqa: A002
            **kwargs: Any) -> list[tuple[Document, float]]:
        return self._search(embedding, k, filter, None, kwargs)

    def similarity_search_by_vector(self, embedding: list[float], k: int = 4,
                                    filter: dict[str, Any] | None = None,  # noqa: A002
                                    **kwargs: Any) -> list[Document]:
        return [doc for doc, _ in self._search(embedding, k, filter, None, kwargs)]

    def max_marginal_relevance_search_by_vector(
            self, embedding: list[float], k: int = 4, fetch_k: int = 20,
            lambda_mult: float = 0.5, filter: dict[str, Any] | None = None,  # noqa: A002
            **kwargs: Any) -> list[Document]:
        """``k`` documents chosen by maximal marginal relevance among the ``fetch_k`` closest
        (LangChain's own MMR on the stored vectors)."""
        found = self._search(embedding, max(fetch_k, k), filter, None, kwargs)
        if not found:
            return []
        records = self._collection.get([str(doc.id) for doc, _ in found])
        vectors = [r.vector.tolist() for r in records if r is not None]
        picked = maximal_marginal_relevance(np.asarray(embedding, dtype=np.float32), vectors,
                                            k=min(k, len(found)), lambda_mult=lambda_mult)
        return [found[i][0] for i in picked]

    def max_marginal_relevance_search(self, query: str, k: int = 4, fetch_k: int = 20,
                                      lambda_mult: float = 0.5,
                                      filter: dict[str, Any] | None = None,  # noqa: A002
                                      **kwargs: Any) -> list[Document]:
        return self.max_marginal_relevance_search_by_vector(
            self._embedding.embed_query(query), k, fetch_k, lambda_mult, filter, **kwargs)

    def _select_relevance_score_fn(self) -> Callable[[float], float]:
        metric = self._collection.metric
        if metric == "cosine":
            return self._cosine_relevance_score_fn
        if metric == "ip":
            return self._max_inner_product_relevance_score_fn
        # The engine's l2 distance is squared; LangChain's function takes the plain one.
        return lambda distance: self._euclidean_relevance_score_fn(math.sqrt(max(distance, 0)))

    # ---- constructors ----

    @classmethod
    def from_texts(cls, texts: list[str], embedding: Embeddings,
                   metadatas: list[dict[str, Any]] | None = None, *,
                   ids: list[str] | None = None, **kwargs: Any) -> AugurDBVectorStore:
        """A new store (``kwargs`` as the constructor's) holding ``texts``."""
        store = cls(embedding, **kwargs)
        store.add_texts(texts, metadatas, ids=ids)
        return store
