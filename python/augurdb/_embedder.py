"""A collection's embedding function: which one, stored how, and how texts become vectors.

The engine keeps the function's identity as opaque JSON in the checkpoint's parameters
(``{"name": ..., "config": {...}}``, :meth:`augurdb._core.Collection.set_embedding_function`,
durable when the call returns). This module decides what to store and what to use:

- a function passed to :func:`augurdb.open` is used for the session; if it has an identity
  (:class:`~augurdb.embeddings.EmbeddingFunction`) and the collection is writable, that identity
  is stored. It must not contradict a stored one: another name, or another ``model_sha256``
  where both configs carry one, is :class:`~augurdb.errors.EmbeddingFunctionError` (the stored
  vectors came from another model); the same name with another config (a moved model file)
  replaces the stored config;
- with no function passed, the stored identity is rebuilt on first use (so opening never loads
  a model, and a database whose function cannot be rebuilt here still opens: only what needs the
  function raises, naming it and why).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from . import _core, errors
from .embeddings.base import (
    EmbeddingCallable,
    build_embedding_function,
    check_embeddings,
    embedding_identity,
)

FloatArray = npt.NDArray[np.float32]

# Texts per call of the function: bounds the memory of one call and paces the progress bar. As
# large as OnnxEmbedding's tokenize chunk (4,096), within which it sorts texts by length: with
# 256 per call the add(documents=) path ran at 0.80x the function alone (more padding).
EMBED_BATCH = 4096
# More texts than this show a progress bar (tqdm, when installed, on a terminal).
PROGRESS_MIN_TEXTS = 2 * EMBED_BATCH


def _describe(identity: dict[str, Any]) -> str:
    return f"{identity.get('name')!r} (config {json.dumps(identity.get('config', {}))})"


def _parse_stored(raw: str) -> dict[str, Any] | None:
    if not raw:
        return None
    try:
        stored = json.loads(raw)
    except ValueError as error:
        raise errors.CorruptDatabase(f"stored embedding function identity is not JSON: "
                                     f"{error}") from error
    if not isinstance(stored, dict) or not isinstance(stored.get("name"), str):
        raise errors.CorruptDatabase(f"stored embedding function identity {raw!r} has no name")
    return stored


def _conflict(stored: dict[str, Any], name: str, config: dict[str, Any]) -> str | None:
    if stored["name"] != name:
        return "another name"
    old = stored.get("config", {})
    if "model_sha256" in old and "model_sha256" in config and \
            old["model_sha256"] != config["model_sha256"]:
        return "another model file (sha256)"
    return None


class Embedder:
    """The embedding function of one open collection (see the module docstring)."""

    def __init__(self, core: _core.Collection, function: EmbeddingCallable | None) -> None:
        self._stored = _parse_stored(core.embedding_function)
        self._function = function
        self._error: BaseException | None = None
        if function is None:
            return
        if not callable(function):
            raise errors.InvalidArgument(
                f"embedding_function must be callable (list[str] -> (n, dim) float32), got "
                f"{type(function).__name__}")
        try:
            identity = embedding_identity(function)
        except ValueError as error:
            raise errors.EmbeddingFunctionError(str(error)) from error
        if identity is None:
            return  # a plain callable: used, never stored
        name, config = identity
        if self._stored is not None:
            why = _conflict(self._stored, name, config)
            if why is not None:
                raise errors.EmbeddingFunctionError(
                    f"this collection's vectors come from embedding function "
                    f"{_describe(self._stored)}; the one given is {name!r} ({why}). Open it "
                    f"without embedding_function= to use the stored one, or re-embed into a "
                    f"new collection")
        wanted = {"name": name, "config": config}
        if wanted != self._stored and not core.read_only:
            core.set_embedding_function(json.dumps(wanted, sort_keys=True))
            self._stored = wanted

    @property
    def has_function(self) -> bool:
        """True once a function is in hand (passed, or rebuilt from the stored identity)."""
        return self._function is not None

    @property
    def identity(self) -> dict[str, Any] | None:
        """The stored ``{"name", "config"}``, or None."""
        return self._stored

    def function(self) -> EmbeddingCallable:
        """The function in use, rebuilding the stored one on first call."""
        if self._function is not None:
            return self._function
        if self._stored is None:
            raise errors.EmbeddingFunctionError(
                "this collection has no embedding function: pass vectors (or a query vector), "
                "or open it with augurdb.open(..., embedding_function=fn)")
        if self._error is None:
            try:
                self._function = build_embedding_function(self._stored["name"],
                                                           self._stored.get("config", {}))
                return self._function
            except Exception as error:  # noqa: BLE001 - any failure is reported the same way
                self._error = error
        raise errors.EmbeddingFunctionError(
            f"the collection's embedding function {_describe(self._stored)} cannot be rebuilt "
            f"here: {type(self._error).__name__}: {self._error}. Install what it needs, or open "
            f"the collection with embedding_function= set to an equivalent function"
        ) from self._error

    def embed(self, texts: Sequence[str], dim: int | None, what: str) -> FloatArray:
        """``texts`` as a float32 ``(n, dim)`` array, in batches of :data:`EMBED_BATCH`.

        ``dim`` (the collection's, None while unset) must match: DimensionMismatch otherwise.
        A function that raises or returns malformed rows raises EmbeddingFunctionError; nothing
        has been written then."""
        function = self.function()
        parts: list[FloatArray] = []
        starts = range(0, len(texts), EMBED_BATCH)
        for start in _progress(starts, len(texts), what):
            chunk = list(texts[start:start + EMBED_BATCH])
            try:
                out = check_embeddings(function(chunk), len(chunk))
            except errors.AugurDBError:
                raise
            except Exception as error:
                raise errors.EmbeddingFunctionError(
                    f"the embedding function failed on {what}: {type(error).__name__}: "
                    f"{error}") from error
            got = out.shape[1]
            if dim is not None and got != dim:
                raise errors.DimensionMismatch(
                    f"the embedding function returned {got}-d vectors; the collection holds "
                    f"{dim}-d vectors")
            dim = got
            parts.append(out)
        if not parts:
            return np.empty((0, dim or 0), dtype=np.float32)
        return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _progress(starts: range, total: int, what: str) -> Any:
    if total < PROGRESS_MIN_TEXTS or not sys.stderr.isatty():
        return starts
    try:
        from tqdm import tqdm  # type: ignore[import-untyped, unused-ignore]
    except ImportError:
        return starts
    return tqdm(starts, desc=f"embedding {what}", unit="batch", leave=False)
