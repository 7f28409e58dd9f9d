"""The Python face of a collection: argument normalisation, context manager, repr.

All work happens in the C++ engine (``augurdb._core``); this module only turns Python input
into the exact types the engine reads in place (int64 / float32 C-contiguous arrays) and back.
"""

from __future__ import annotations

import dataclasses
import json
import numbers
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Union

import numpy as np
import numpy.typing as npt

from . import _core, errors
from ._core import Hit, Record
from ._embedder import Embedder
from .embeddings.base import EmbeddingCallable

IdLike = Union[int, str]
Ids = Union[Sequence[int], Sequence[str], "npt.NDArray[np.integer[Any]]", int, str]
Metadata = dict[str, Any]

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


@dataclasses.dataclass(frozen=True)
class TextStats:
    """BM25 statistics for some query terms: live document count, their summed length (tokens)
    and each term's document frequency. :meth:`Collection.text_stats` gathers them; the sum
    over the shards of a sharded collection (``a + b``), passed back as ``text_stats=`` to
    :meth:`Collection.search`, scores each shard as one collection holding all the data."""

    doc_count: int = 0
    total_length: int = 0
    doc_freqs: Mapping[str, int] = dataclasses.field(default_factory=dict)

    def __add__(self, other: TextStats) -> TextStats:
        freqs = dict(self.doc_freqs)
        for term, df in other.doc_freqs.items():
            freqs[term] = freqs.get(term, 0) + df
        return TextStats(self.doc_count + other.doc_count,
                         self.total_length + other.total_length, freqs)

    def _arg(self) -> tuple[int, int, dict[str, int]]:
        def count(what: str, value: Any) -> int:
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) \
                    or not 0 <= int(value) < 2**64:
                raise errors.InvalidArgument(
                    f"text_stats: {what} must be an int >= 0, got {value!r}")
            return int(value)
        return (count("doc_count", self.doc_count), count("total_length", self.total_length),
                {str(t): count(f"doc_freqs[{t!r}]", df) for t, df in self.doc_freqs.items()})


def _text_stats_arg(value: Any) -> tuple[int, int, dict[str, int]] | None:
    if value is None:
        return None
    if not isinstance(value, TextStats):
        raise errors.InvalidArgument(
            f"text_stats must be an augurdb.TextStats (from Collection.text_stats), got "
            f"{type(value).__name__}")
    return value._arg()


class BatchResults:
    """Results of :meth:`Collection.search_batch`.

    ``ids`` is an ``(nq, k)`` int64 array (``-1`` where fewer than k results exist) for integer
    ids, or an object array (``None`` padding) for string ids. ``distances`` is an ``(nq, k)``
    float32 array (``+inf`` padding), smaller is closer (NaN in a text-only search). ``scores``
    is None, or with ``texts`` an ``(nq, k)`` float64 array of fused (hybrid) or BM25
    (text-only) scores, higher is better (NaN padding). Iterating yields ``(ids, distances)``
    row by row.
    """

    __slots__ = ("ids", "distances", "scores")

    def __init__(self, ids: npt.NDArray[Any], distances: npt.NDArray[np.float32],
                 scores: npt.NDArray[np.float64] | None = None) -> None:
        self.ids = ids
        self.distances = distances
        self.scores = scores

    def __len__(self) -> int:
        return int(self.distances.shape[0])

    def __iter__(self) -> Iterator[tuple[npt.NDArray[Any], npt.NDArray[np.float32]]]:
        return iter(zip(self.ids, self.distances))

    def __repr__(self) -> str:
        return f"BatchResults(shape={self.distances.shape})"


def _normalize_ids(ids: Ids, allow_empty: bool = False) -> tuple[str, Any]:
    """-> ("int", int64 C-contiguous array) or ("str", list[str]); one kind per batch.

    An empty batch is an error for writes (``add``/``upsert``) and a no-op for reads/deletes."""
    if isinstance(ids, (str, bytes)) or isinstance(ids, numbers.Integral):
        ids = [ids]  # a single id
    if isinstance(ids, np.ndarray):
        if ids.ndim != 1:
            raise errors.InvalidArgument(f"ids must be one-dimensional, got shape {ids.shape}")
        if np.issubdtype(ids.dtype, np.integer) and ids.dtype != np.bool_:
            if ids.dtype == np.uint64 and ids.size and int(ids.max()) > _INT64_MAX:
                raise errors.InvalidArgument("integer ids must fit in int64")
            if ids.size == 0 and not allow_empty:
                raise errors.InvalidArgument("empty batch: pass at least one id")
            return "int", np.ascontiguousarray(ids, dtype=np.int64)
        if ids.dtype.kind in ("U", "O"):
            ids = ids.tolist()
        else:
            raise errors.InvalidArgument(f"ids must be int or str, got an array of {ids.dtype}")
    if not isinstance(ids, Iterable):
        raise errors.InvalidArgument(
            f"ids must be a sequence of int or str, not {type(ids).__name__}")
    items = list(ids)
    if not items:
        if allow_empty:
            return "int", np.empty(0, dtype=np.int64)
        raise errors.InvalidArgument("empty batch: pass at least one id")
    first = items[0]
    if isinstance(first, str):
        for i, x in enumerate(items):
            if not isinstance(x, str):
                raise errors.InvalidArgument(
                    f"mixed id kinds: ids[0] is str but ids[{i}] is {type(x).__name__}")
        try:
            "".join(items).encode("utf-8")  # one pass; ids are stored as UTF-8
        except UnicodeEncodeError:
            for i, x in enumerate(items):
                try:
                    x.encode("utf-8")
                except UnicodeEncodeError as exc:
                    raise errors.InvalidArgument(
                        f"id ids[{i}]={x!r} is not valid Unicode ({exc.reason}); ids are stored "
                        "as UTF-8") from None
        return "str", items
    for i, x in enumerate(items):
        if isinstance(x, bool) or not isinstance(x, numbers.Integral):
            kind = type(x).__name__
            if i == 0:
                raise errors.InvalidArgument(f"ids must be int or str, not {kind}")
            raise errors.InvalidArgument(f"mixed id kinds: ids[0] is int but ids[{i}] is {kind}")
        if not _INT64_MIN <= int(x) <= _INT64_MAX:
            raise errors.InvalidArgument(f"integer id {x} does not fit in int64")
    return "int", np.fromiter((int(x) for x in items), dtype=np.int64, count=len(items))


_F32 = np.dtype(np.float32)


def _as_float32(array: Any, ndim: int, what: str) -> npt.NDArray[np.float32]:
    """float32 C-contiguous view of ``array`` (no copy if it already is one; else one copy)."""
    # Fast path first: at 30K queries/s every 100 ns of checking is 0.3%.
    if (type(array) is np.ndarray and array.dtype is _F32 and array.ndim == ndim
            and array.flags.c_contiguous):
        return array
    if isinstance(array, np.ndarray) and array.dtype == np.float32 and array.flags.c_contiguous:
        out = array
    else:
        try:
            src = np.asarray(array)
        except (ValueError, TypeError) as exc:
            raise errors.InvalidArgument(f"{what} must be a numeric array: {exc}") from None
        if src.dtype.kind not in "fiub" or src.dtype == np.bool_:
            raise errors.InvalidArgument(f"{what} must be numeric, got dtype {src.dtype}")
        out = np.ascontiguousarray(src, dtype=np.float32)
    if out.ndim == 1 and ndim == 2:
        out = out.reshape(1, -1)
    elif out.ndim == 2 and ndim == 1 and out.shape[0] == 1:
        out = out.reshape(-1)
    if out.ndim != ndim:
        raise errors.InvalidArgument(
            f"{what} must be {'a 2-D (n, dim)' if ndim == 2 else 'a 1-D (dim,)'} array, "
            f"got shape {out.shape}")
    return out


def _where_json(where: Any) -> str:
    """A filter dict -> the JSON text the engine parses ("" for no filter)."""
    if where is None:
        return ""
    if not isinstance(where, dict):
        raise errors.InvalidFilter(f"where must be a dict, not {type(where).__name__}")
    try:
        return json.dumps(where, allow_nan=False, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise errors.InvalidFilter(f"where cannot be expressed as a filter: {exc}") from None


def _documents_list(documents: Any) -> list[Any] | None:
    """None, or a list with one entry per row; the engine checks the count and that each entry
    is a str or None (InvalidArgument naming the row)."""
    if documents is None:
        return None
    if isinstance(documents, (str, bytes)):
        raise errors.InvalidArgument("documents must be a sequence of str (one per id), not a "
                                     f"single {type(documents).__name__}")
    if not isinstance(documents, Iterable):
        raise errors.InvalidArgument(
            f"documents must be a sequence of str or None, not {type(documents).__name__}")
    return list(documents)


def _text_arg(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise errors.InvalidArgument(f"{name} must be a str, not {type(value).__name__}")
    return value


def _real_arg(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise errors.InvalidArgument(f"{name} must be a number, got {value!r}")
    return float(value)


def _where_document_json(where_document: Any) -> str:
    """{"$contains": str} / {"$not_contains": str} -> JSON text ("" for none); the engine checks
    the form (InvalidFilter)."""
    if where_document is None:
        return ""
    if not isinstance(where_document, dict):
        raise errors.InvalidFilter(
            f"where_document must be a dict, not {type(where_document).__name__}")
    try:
        return json.dumps(where_document, allow_nan=False, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise errors.InvalidFilter(f"where_document is not a document filter: {exc}") from None


def _hybrid_args(fusion: Any, rrf_k: Any, alpha: Any,
                 candidates: Any) -> tuple[str, float, float, int]:
    """Type checks only; names and ranges are checked once, in the engine."""
    return (_text_arg("fusion", fusion), _real_arg("rrf_k", rrf_k), _real_arg("alpha", alpha),
            _check_optional_positive("candidates", candidates))


# (text, fusion, rrf_k, alpha, candidates) of a search without text: never read by the engine.
_NO_HYBRID: tuple[Any, ...] = (None, "rrf", 60.0, 0.5, 0)


def _is_str_sequence(value: Any) -> bool:
    if isinstance(value, np.ndarray):
        return value.dtype.kind in ("U", "O") and value.ndim == 1 and \
            all(isinstance(v, str) for v in value)
    return isinstance(value, (list, tuple)) and len(value) > 0 and \
        all(isinstance(v, str) for v in value)


def _check_k(k: Any) -> int:
    if type(k) is int and k > 0:
        return k
    if isinstance(k, bool) or not isinstance(k, numbers.Integral):
        raise errors.InvalidArgument(f"k must be an int, not {type(k).__name__}")
    if k <= 0:
        raise errors.InvalidArgument(f"k must be >= 1, got {k}")
    return int(k)


def _check_optional_positive(name: str, value: Any) -> int:
    """None -> 0 (engine default); else a positive int."""
    if value is None:
        return 0
    if type(value) is int and value > 0:
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise errors.InvalidArgument(f"{name} must be a positive int or None, got {value!r}")
    return int(value)


class Collection:
    """A set of vectors with ids and metadata, searchable by similarity.

    Create one with :func:`augurdb.open`. Ids are all ``int`` or all ``str`` (fixed by the first
    :meth:`add`). Thread-safe: searches run concurrently with each other and with one writer; the
    GIL is released inside every engine call.
    """

    def __init__(self, core: _core.Collection, path: str | None = None,
                 embedding_function: EmbeddingCallable | None = None) -> None:
        self._core: _core.Collection | None = core
        self._path = path
        self._embedder = Embedder(core, embedding_function)

    # ---- lifecycle ----

    def close(self) -> None:
        """Checkpoints a persistent collection (if anything changed), releases its files and the
        writer lock. Further calls raise :class:`augurdb.errors.AugurDBError`; closing twice is
        fine."""
        core, self._core = self._core, None
        if core is not None:
            core.close()

    def flush(self) -> None:
        """Makes every write so far durable (fsync of the write-ahead log), whatever the
        durability level. A no-op in memory."""
        self._c().flush()

    def checkpoint(self) -> None:
        """Writes a checkpoint (vectors, graph, ids, metadata) and empties the write-ahead log,
        so the next open maps it instead of replaying the log; a no-op when nothing changed since
        the last one. Also done automatically when the log grows past ``checkpoint_wal_bytes``
        (an ``add`` or ``upsert`` larger than that writes a checkpoint instead of a log record,
        so its rows are written once) and at :meth:`close`."""
        self._c().checkpoint()

    @property
    def read_only(self) -> bool:
        """True when opened with ``mode="r"``."""
        return bool(self._c().read_only)

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return self._core is None

    def __enter__(self) -> Collection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _c(self) -> _core.Collection:
        if self._core is None:
            raise errors.AugurDBError("the collection is closed")
        return self._core

    # ---- writes ----

    def add(self, ids: Ids, vectors: npt.ArrayLike | None = None, *,
            documents: Sequence[str | None] | None = None,
            metadata: Sequence[Metadata | None] | None = None) -> None:
        """Inserts new records. All-or-nothing: on any error nothing is added.

        ``vectors`` is an ``(n, dim)`` array; float32 C-contiguous input is read in place, other
        numeric input is converted to float32 once. ``documents`` is ``None`` or one str (or
        None) per id: stored with the record and searchable by ``search(text=...)`` as soon as
        ``add`` returns. Without ``vectors``, the collection's embedding function (see
        :func:`open`) computes them from ``documents`` (then every document must be a str),
        before anything is written: if it raises, nothing is added. ``metadata`` is ``None`` or
        one dict (or None) per id with str, int, float, bool or None values, or lists of those.

        Int ids are 0 .. 2**63 - 1 (-1 pads short search results); string ids are non-empty
        valid Unicode. One collection holds one kind.

        Raises DuplicateId (id exists), InvalidArgument (empty batch, duplicate ids in the batch,
        a negative or empty id, mixed id kinds, bad metadata, a document that is not a str,
        documents and ids of different lengths, vectors=None without documents),
        DimensionMismatch (also for an embedding function whose vectors have another length),
        InvalidVector (NaN/Inf), EmbeddingFunctionError (vectors=None and no usable function,
        or the function failed).
        """
        self._write(ids, vectors, documents, metadata, upsert=False)

    def upsert(self, ids: Ids, vectors: npt.ArrayLike | None = None, *,
               documents: Sequence[str | None] | None = None,
               metadata: Sequence[Metadata | None] | None = None) -> None:
        """Inserts new ids and replaces the vector, metadata and document of existing ones (a
        row without a document leaves its record without one)."""
        self._write(ids, vectors, documents, metadata, upsert=True)

    def _write(self, ids: Ids, vectors: npt.ArrayLike | None, documents: Any, metadata: Any,
               upsert: bool) -> None:
        core = self._c()
        kind, id_values = _normalize_ids(ids)
        if metadata is not None and not isinstance(metadata, Sequence):
            metadata = list(metadata)
        docs = _documents_list(documents)
        if vectors is None:
            matrix = self._embed_documents(docs, len(id_values), metadata)
        else:
            matrix = _as_float32(vectors, 2, "vectors")
        if kind == "int":
            core.add_int(id_values, matrix, metadata, docs, upsert)
        else:
            core.add_str(id_values, matrix, metadata, docs, upsert)

    def _embed_documents(self, docs: list[Any] | None, count: int,
                         metadata: Any) -> npt.NDArray[np.float32]:
        # The cheap checks the engine would make anyway run first, so that a bad batch fails
        # before minutes of embedding.
        if docs is None:
            raise errors.InvalidArgument(
                "add needs vectors, or documents to embed with the collection's embedding "
                "function")
        if len(docs) != count:
            raise errors.InvalidArgument(
                f"documents has {len(docs)} entries for {count} ids")
        if metadata is not None and len(metadata) != count:
            raise errors.InvalidArgument(f"metadata has {len(metadata)} entries for {count} ids")
        for i, doc in enumerate(docs):
            if not isinstance(doc, str):
                raise errors.InvalidArgument(
                    f"documents[{i}] is {type(doc).__name__}: without vectors every document "
                    f"must be a str to embed")
        return self._embedder.embed(docs, self.dim, "documents")

    def _embed_queries(self, texts: list[str]) -> npt.NDArray[np.float32]:
        return self._embedder.embed(texts, self.dim, "the query" if len(texts) == 1
                                    else "the queries")

    @property
    def embedding_function(self) -> EmbeddingCallable | None:
        """The function that embeds documents and ``str`` queries: the one passed to
        :func:`open`, else the stored one (rebuilt on first use; raises
        :class:`~augurdb.errors.EmbeddingFunctionError` naming it when it cannot be), else
        None."""
        if self._embedder.identity is None and not self._embedder.has_function:
            return None
        return self._embedder.function()

    @property
    def embedding_function_identity(self) -> dict[str, Any] | None:
        """The stored identity ``{"name": ..., "config": {...}}`` of the embedding function,
        or None (none stored, or only a plain callable was given)."""
        identity = self._embedder.identity
        return None if identity is None else dict(identity)

    def delete(self, ids: Ids | None = None, *, where: Metadata | None = None) -> int:
        """Removes the given ids (unknown ids are ignored), or every record matching ``where``;
        returns how many were removed."""
        core = self._c()
        if where is not None:
            if ids is not None:
                raise errors.InvalidArgument("pass ids or where, not both")
            return int(core.delete_where(_where_json(where)))
        if ids is None:
            raise errors.InvalidArgument("delete needs ids or where=")
        kind, id_values = _normalize_ids(ids, allow_empty=True)
        if len(id_values) == 0:
            return 0
        return int(core.delete_int(id_values) if kind == "int" else core.delete_str(id_values))

    def verify(self) -> dict[str, int]:
        """Full integrity check: graph invariants (neighbour ids in range, no self loops, degree
        bounds, entry point valid), ids <-> records both ways, metadata and documents only on
        live records, the text index's invariants and that it indexes exactly the documents,
        and for a database on disk every checksum of its checkpoint and write-ahead log.
        Returns what was checked; raises :class:`~augurdb.errors.CorruptDatabase` naming the
        first problem."""
        return dict(self._c().verify())

    def compact(self) -> None:
        """Reclaims the memory slots of deleted records for reuse (also done automatically)."""
        self._c().compact()

    def reserve(self, capacity: int) -> None:
        """Makes room for ``capacity`` records in all, so that adds up to it do not grow the
        index by copying its arrays (like hnswlib's ``max_elements`` or usearch's ``reserve``).

        A memory hint for this session only: not stored, never shrinks, and a no-op when the
        collection already has room. Deleted records hold their room until :meth:`compact`.
        Raises :class:`~augurdb.errors.InvalidArgument` for a negative or too large capacity."""
        if isinstance(capacity, bool) or not isinstance(capacity, numbers.Integral) \
                or capacity < 0:
            raise errors.InvalidArgument(
                f"capacity must be a non-negative int, got {capacity!r}")
        self._c().reserve(int(capacity))

    # ---- reads ----

    def get(self, ids: Ids | None = None, *, where: Metadata | None = None,
            limit: int | None = None) -> list[Record | None]:
        """One :class:`Record` (``.id``, ``.vector``, ``.metadata``, ``.document``) per id, None
        where absent;
        or, with ``where``, the records matching the filter (up to ``limit``)."""
        core = self._c()
        if where is not None or ids is None:
            if ids is not None:
                raise errors.InvalidArgument("pass ids or where, not both")
            return list(core.find(_where_json(where), _check_optional_positive("limit", limit)))
        kind, id_values = _normalize_ids(ids, allow_empty=True)
        if len(id_values) == 0:
            return []
        return core.get_int(id_values) if kind == "int" else core.get_str(id_values)

    def count(self, where: Metadata | None = None) -> int:
        """Number of records, or of records matching the filter ``where``."""
        return int(self._c().count(_where_json(where)))

    def search(self, query: npt.ArrayLike | str | None = None, k: int = 10, *,
               text: str | None = None,
               where: Metadata | None = None, where_document: dict[str, str] | None = None,
               ef: int | None = None, rerank: int | None = None, fusion: str = "rrf",
               rrf_k: float = 60, alpha: float = 0.5, candidates: int | None = None,
               text_stats: TextStats | None = None) -> list[Hit]:
        """The ``k`` best records for a query vector, a text query, or both (hybrid).

        ``query`` only: the nearest records to ``query`` (a ``(dim,)`` vector, or a str that
        the collection's embedding function turns into one), closest first.
        Each :class:`Hit` has ``.id``, ``.distance`` (squared L2 for "l2", ``1 - dot`` for
        "cosine", ``-dot`` for "ip"), ``.score`` (``-distance``), ``.metadata`` and
        ``.document``. ``ef`` (beam width; default the collection's ``ef_search``, raised to
        ``k``) trades speed for recall; an ``ef`` below ``k`` narrows the walk further and still
        returns ``k`` hits. Returns fewer than k hits only when the collection holds fewer.
        ``rerank`` (quantized collections) is how many graph candidates are re-scored with the
        exact vectors (default 2 * k for SQ8, 4 * k for SQ4).

        ``text`` only: BM25 (Lucene's, k1 1.2, b 0.75) over the documents, best first, ties in
        slot order (see :meth:`ids`); ``.score`` and ``.text_score`` are the BM25 score,
        ``.distance`` is NaN.
        A text with no indexable token (only punctuation, or only stop words under "english")
        finds nothing.

        Both: hybrid search. Each side contributes its top ``candidates`` (default
        ``max(50, 4 * k)``) under the same filters; ``fusion="rrf"`` scores
        ``sum(1 / (rrf_k + rank))`` over the sides that list a hit (rank from 1);
        ``fusion="weighted"`` scores ``alpha * v + (1 - alpha) * t`` with each side min-max
        normalised over its candidates (0 for a side that does not list the hit). Every hit
        carries ``.score`` (fused), ``.distance`` (exact) and ``.text_score`` (exact BM25, 0.0
        when no query term occurs), whichever side listed it.

        ``where`` restricts both sides to records whose metadata match a filter, e.g.
        ``{"genre": "news", "year": {"$gte": 2020}}`` (docs/filters.md); ``where_document`` to
        records whose document contains (``{"$contains": "..."}``) or does not contain
        (``{"$not_contains": "..."}``) a substring.

        ``text_stats`` (a :class:`TextStats` holding every query term) replaces the collection's
        own BM25 statistics: a sharded collection passes the sum over its shards.
        """
        core = self._c()
        kk = _check_k(k)
        where_json = _where_json(where)
        doc_json = _where_document_json(where_document)
        stats = _text_stats_arg(text_stats)
        if isinstance(query, str):
            query = self._embed_queries([query])[0]
        if query is None:
            if text is None:
                raise errors.InvalidArgument("search needs a query vector, text=, or both")
            return core.search_text(_text_arg("text", text), kk, where_json, doc_json, stats)
        # Vector-only searches skip the fusion arguments' checks: they are the hot path.
        hybrid = _NO_HYBRID if text is None else (
            _text_arg("text", text), *_hybrid_args(fusion, rrf_k, alpha, candidates))
        return core.search(_as_float32(query, 1, "query"), kk,
                           _check_optional_positive("ef", ef),
                           _check_optional_positive("rerank", rerank), where_json, hybrid[0],
                           doc_json, *hybrid[1:], stats)

    def search_batch(self, queries: npt.ArrayLike | Sequence[str] | None, k: int = 10, *,
                     texts: Sequence[str] | None = None, where: Metadata | None = None,
                     where_document: dict[str, str] | None = None, ef: int | None = None,
                     threads: int | None = None, rerank: int | None = None, fusion: str = "rrf",
                     rrf_k: float = 60, alpha: float = 0.5, candidates: int | None = None,
                     text_stats: TextStats | None = None) -> BatchResults:
        """Searches every row of ``queries`` (``(nq, dim)``) on ``threads`` threads (default:
        the collection's), with the GIL released. Returns :class:`BatchResults` with NumPy
        arrays, no per-result Python objects for integer ids.

        With ``texts`` (one str per row) each row is a hybrid search as :meth:`search` with
        ``text=texts[i]``, or a text-only one when ``queries`` is None; the results then carry
        ``scores``. ``where_document`` and ``text_stats`` (as in :meth:`search`, holding the
        terms of every row) need ``texts``. ``queries`` may also be a list of str, embedded by
        the collection's embedding function."""
        core = self._c()
        kk = _check_k(k)
        if _is_str_sequence(queries):
            queries = self._embed_queries([str(q) for q in queries])  # type: ignore[union-attr]
        scores = None
        if texts is None:
            if queries is None:
                raise errors.InvalidArgument("search_batch needs queries, texts=, or both")
            if where_document is not None or text_stats is not None:
                raise errors.InvalidArgument(
                    "where_document and text_stats in search_batch need texts=")
            ids, distances = core.search_batch(_as_float32(queries, 2, "queries"), kk,
                                               _check_optional_positive("ef", ef),
                                               _check_optional_positive("threads", threads),
                                               _check_optional_positive("rerank", rerank),
                                               _where_json(where))
        else:
            if isinstance(texts, str) or not isinstance(texts, Iterable):
                raise errors.InvalidArgument("texts must be a sequence of str, one per query")
            text_list = [_text_arg(f"texts[{i}]", t) for i, t in enumerate(texts)]
            matrix = None if queries is None else _as_float32(queries, 2, "queries")
            ids, distances, scores = core.search_batch_text(
                matrix, text_list, kk, _check_optional_positive("ef", ef),
                _check_optional_positive("threads", threads),
                _check_optional_positive("rerank", rerank), _where_json(where),
                _where_document_json(where_document),
                *_hybrid_args(fusion, rrf_k, alpha, candidates), _text_stats_arg(text_stats))
        if type(ids) is list:
            id_array = np.empty(len(ids), dtype=object)
            id_array[:] = ids
            ids = id_array.reshape(distances.shape)
        return BatchResults(ids, distances, scores)

    def text_stats(self, texts: str | Sequence[str]) -> TextStats:
        """The BM25 statistics of this collection for the terms of ``texts`` (tokenized as the
        text index does): what a sharded search sums over its shards before scoring."""
        items = [texts] if isinstance(texts, str) else list(texts)
        count, length, freqs = self._c().text_stats(
            [_text_arg(f"texts[{i}]", t) for i, t in enumerate(items)])
        return TextStats(int(count), int(length), dict(freqs))

    def __len__(self) -> int:
        return len(self._c())

    def __contains__(self, item: object) -> bool:
        core = self._c()
        if isinstance(item, str):
            return bool(core.contains_str(item))
        if isinstance(item, numbers.Integral) and not isinstance(item, bool):
            return _INT64_MIN <= int(item) <= _INT64_MAX and bool(core.contains_int(int(item)))
        return False

    def __iter__(self) -> Iterator[IdLike]:
        """Iterates over the ids (a snapshot)."""
        return iter(self.ids())

    def ids(self) -> list[IdLike]:
        """All ids, as a list (a snapshot), in slot order: insertion order, except that the
        slots of deleted records are reused and that a batch of 10,000 rows or more is laid out
        by similarity (nearby vectors get nearby slots, which makes searches faster)."""
        return list(self._c().ids())

    @property
    def dim(self) -> int | None:
        """Vector dimension, or None until the first add when opened without one."""
        d = int(self._c().dim)
        return d or None

    @property
    def metric(self) -> str:
        """"l2", "ip" or "cosine"."""
        return str(self._c().metric)

    @property
    def path(self) -> str | None:
        """The database path, or None for an in-memory collection."""
        return self._path

    def stats(self) -> dict[str, Any]:
        """count, dim, metric, memory_bytes (RAM held by vectors, graph, ids and metadata),
        index_bytes, mapped_vector_bytes (vectors served from the checkpoint file, see
        ``vectors_on_disk``), deleted, capacity (records the index holds before an add grows
        it; see :meth:`reserve`), m, ef_construction, ef_search, threads, simd, id_kind,
        documents (records with a document), text_index_bytes (part of memory_bytes) and
        tokenizer."""
        return dict(self._c().stats())

    def __repr__(self) -> str:
        if self._core is None:
            return "<augurdb.Collection (closed)>"
        where = self._path or "memory"
        return (f"<augurdb.Collection {where} count={len(self)} dim={self.dim} "
                f"metric={self.metric!r}>")


def open(  # noqa: A001 - mirrors builtins.open / sqlite3.connect naming on purpose
    path: str | os.PathLike[str] | None = None,
    *,
    mode: str = "w",
    durability: str = "sync",
    dim: int | None = None,
    metric: str | None = None,
    m: int | None = None,
    ef_construction: int | None = None,
    ef_search: int | None = None,
    threads: int | None = None,
    seed: int = 42,
    checkpoint_wal_bytes: int | None = None,
    quantization: str | None = None,
    rerank: int | None = None,
    vectors_on_disk: bool = False,
    tokenizer: str | None = None,
    embedding_function: EmbeddingCallable | None = None,
    **unknown: Any,
) -> Collection:
    """Opens a collection.

    ``path=None`` keeps it in memory; otherwise ``path`` is a database directory, created if
    missing (``mode="w"``, the only writer: a second process gets
    :class:`~augurdb.errors.DatabaseLocked`) or opened read-only (``mode="r"``, any number, beside
    a writer; sees its last checkpoint plus its synced log).

    ``durability`` says what a write that returned survives: ``"sync"`` (default) fsyncs the log
    before returning, so nothing acknowledged is lost even on power failure; ``"batch"`` fsyncs
    at most every 100 ms and ``"none"`` only at flush/checkpoint/close — both survive a crash of
    the process, but an OS crash or power loss may lose the most recent writes.

    ``metric`` is "l2" (squared Euclidean, the default), "ip" (inner product) or "cosine";
    ``dim`` may be None until the first add. ``m`` (graph degree, default 16),
    ``ef_construction`` (build beam, 200) and ``ef_search`` (default search beam, 64) tune the
    HNSW index; when reopening, None means "as stored" and a different value is an error (except
    ``ef_search``). ``threads`` (default: all cores) sizes the worker pool; ``seed`` makes
    single-threaded builds reproducible; ``checkpoint_wal_bytes`` (default 64 MiB) is the log
    size that triggers an automatic checkpoint.

    ``quantization="sq8"`` walks the graph on 8-bit per-dimension codes (4x less memory traffic
    than float32) and re-scores the best ``rerank`` candidates with the exact vectors, which are
    kept too; ``"sq4"`` uses 4-bit codes (8x less traffic, coarser, so it re-scores more
    candidates by default); ``"none"`` (default) uses float32 throughout. Fixed at creation.

    ``vectors_on_disk=True`` (quantized collections with a path) serves the float32 vectors,
    which only reranking and :meth:`Collection.get` read, from the checkpoint file's mapping
    instead of RAM: ``stats()["memory_bytes"]`` then counts codes and graph, and
    ``stats()["mapped_vector_bytes"]`` the file-backed vectors (OS page cache, evictable).
    Vectors added since the last checkpoint stay in memory until the next one. Chosen per open.

    ``tokenizer`` splits documents and text queries for BM25: ``"simple"`` (default: lower-cased
    runs of Unicode letters and digits) or ``"english"`` (simple, then English stop words
    removed and Snowball stemming). Stored at creation; None when reopening means "as stored".

    ``embedding_function`` (``fn(list[str]) -> (n, dim) float32``) lets :meth:`Collection.add`
    take documents without vectors and :meth:`Collection.search` take a str query. One with an
    identity (``name()``/``get_config()``, e.g. :class:`augurdb.embeddings.OnnxEmbedding`) is
    stored in the database, so a later ``open`` without it rebuilds it on first use; one that
    contradicts the stored identity (another name or model file) raises
    :class:`~augurdb.errors.EmbeddingFunctionError`. A plain callable is used, not stored.
    """
    if unknown:
        valid = ("path, mode, durability, dim, metric, m, ef_construction, ef_search, threads, "
                 "seed, checkpoint_wal_bytes, quantization, rerank, vectors_on_disk, tokenizer, "
                 "embedding_function")
        raise errors.InvalidArgument(
            f"unknown parameter(s) {', '.join(sorted(unknown))}; valid ones: {valid}")
    if mode not in ("w", "r"):
        raise errors.InvalidArgument(f"unknown mode {mode!r}: use 'w' (read-write) or 'r'")
    # Python types -> the engine's option types only; values are checked, and defaults filled,
    # once in C++ (Collection::Open).
    options: dict[str, Any] = {"read_only": mode == "r"}
    for name, value in (("metric", metric), ("quantization", quantization),
                        ("durability", durability), ("tokenizer", tokenizer)):
        if value is not None:
            if not isinstance(value, str):
                raise errors.InvalidArgument(f"{name} must be a str, got {value!r}")
            options[name] = value
    if not isinstance(vectors_on_disk, bool):
        raise errors.InvalidArgument(
            f"vectors_on_disk must be True or False, got {vectors_on_disk!r}")
    options["vectors_on_disk"] = vectors_on_disk
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise errors.InvalidArgument(f"seed must be a non-negative int, got {seed!r}")
    options["seed"] = int(seed)
    for name, value in (
            ("dim", dim), ("m", m), ("ef_construction", ef_construction), ("ef_search", ef_search),
            ("threads", threads), ("checkpoint_wal_bytes", checkpoint_wal_bytes),
            ("rerank", rerank)):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise errors.InvalidArgument(f"{name} must be a positive int or None, got {value!r}")
        options[name] = int(value)
    if path is None:
        path_str = ""
    else:
        path_str = os.fspath(path)
        if not isinstance(path_str, str) or not path_str:
            raise errors.InvalidArgument(f"path must be a non-empty str or PathLike, got {path!r}")
        options["path"] = path_str
    core = _core.Collection.open(**options)
    try:
        return Collection(core, path_str or None, embedding_function)
    except BaseException:
        core.close()
        raise
