"""Embedding functions on the command line: ``--embed SPEC`` and the import pipeline that embeds
the next batch of documents while the engine indexes the current one.

SPEC is ``onnx:MODEL,TOKENIZER`` (:class:`augurdb.embeddings.OnnxEmbedding` on a local ONNX file
and its ``tokenizer.json``) or ``sentence-transformers:NAME_OR_PATH``. Nothing is downloaded: a
missing file is an error naming it.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np
import numpy.typing as npt

from . import errors
from .embeddings.base import EmbeddingCallable, check_embeddings

SPEC_HELP = ("embedding function: onnx:MODEL.onnx,TOKENIZER.json or "
             "sentence-transformers:NAME_OR_PATH (local files only)")


def embedding_from_spec(spec: str) -> EmbeddingCallable:
    """The embedding function a ``--embed`` SPEC names; InvalidArgument for a malformed one."""
    kind, sep, rest = spec.partition(":")
    if not sep or not rest:
        raise errors.InvalidArgument(f"--embed {spec!r}: expected KIND:ARGS, e.g. "
                                     "onnx:model.onnx,tokenizer.json")
    if kind == "onnx":
        parts = rest.split(",")
        if len(parts) != 2 or not all(parts):
            raise errors.InvalidArgument(f"--embed {spec!r}: onnx needs MODEL,TOKENIZER")
        from .embeddings import OnnxEmbedding

        try:
            return OnnxEmbedding(parts[0], parts[1])
        except FileNotFoundError as error:
            raise errors.NotFound(str(error)) from error
    if kind == "sentence-transformers":
        from .embeddings import SentenceTransformerEmbedding

        return SentenceTransformerEmbedding(rest)
    raise errors.InvalidArgument(f"--embed {spec!r}: unknown kind {kind!r}; use onnx or "
                                 "sentence-transformers")


class PrefetchingEmbedder:
    """``rows(start, stop)`` gives the embeddings of ``documents[start:stop]``; after each call
    the next range of the same length is embedded on a background thread, so embedding batch
    i + 1 overlaps indexing batch i (both release the GIL: onnxruntime and the engine)."""

    def __init__(self, function: EmbeddingCallable, documents: Sequence[str]) -> None:
        self._function = function
        self._documents = documents
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="augurdb-embed")
        self._pending: tuple[int, int, Future[npt.NDArray[np.float32]]] | None = None

    def _embed(self, start: int, stop: int) -> npt.NDArray[np.float32]:
        texts = list(self._documents[start:stop])
        try:
            return check_embeddings(self._function(texts), len(texts))
        except errors.AugurDBError:
            raise
        except Exception as error:
            raise errors.EmbeddingFunctionError(
                f"the embedding function failed on rows {start}..{stop - 1}: "
                f"{type(error).__name__}: {error}") from error

    def rows(self, start: int, stop: int) -> npt.NDArray[np.float32]:
        if self._pending is not None and self._pending[:2] == (start, stop):
            vectors = self._pending[2].result()
        else:
            vectors = self._embed(start, stop)
        following = min(stop + (stop - start), len(self._documents))
        self._pending = None
        if stop < following:
            self._pending = (stop, following, self._pool.submit(self._embed, stop, following))
        return vectors

    def close(self) -> None:
        if self._pending is not None:
            self._pending[2].cancel()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> PrefetchingEmbedder:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
