"""Exceptions raised by AugurDB.

Every error is an :class:`AugurDBError`; most also subclass the built-in exception Python users
would expect (``ValueError`` for bad input, ``KeyError`` for a missing id, ``OSError`` for storage
problems), so existing ``except`` clauses keep working. The engine reports errors as numbered
status codes; :func:`_classes_by_code` maps each code to one class here (pure Python: this module
imports nothing from the extension).
"""

from __future__ import annotations


class AugurDBError(Exception):
    """Base class of every AugurDB error."""


class InvalidArgument(AugurDBError, ValueError):
    """An argument is malformed: empty batch, duplicate ids, bad k, unknown metric, bad metadata."""


class DimensionMismatch(InvalidArgument):
    """A vector's dimension differs from the collection's."""


class InvalidVector(InvalidArgument):
    """A vector holds NaN or Inf (or is all zeros under the cosine metric)."""


class DuplicateId(InvalidArgument):
    """``add`` was given an id that already exists (use ``upsert`` to replace it)."""


class InvalidFilter(InvalidArgument):
    """A ``where`` filter is malformed or compares a field with a value of the wrong type."""


class NotFound(AugurDBError, KeyError):
    """A requested record or file does not exist."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class StorageError(AugurDBError, OSError):
    """Reading or writing the database files failed."""


class DatabaseLocked(StorageError):
    """Another process holds the database open for writing."""


class CorruptDatabase(StorageError):
    """A database file failed a checksum or structural check; nothing was modified."""


class ResourceExhausted(AugurDBError, MemoryError):
    """Out of memory, or a size limit of the collection was reached."""


class NotSupported(AugurDBError, NotImplementedError):
    """The operation is not supported by this build or this collection."""


class EmbeddingFunctionError(AugurDBError, RuntimeError):
    """The collection's embedding function cannot be used: none was given or stored, the stored
    one cannot be rebuilt in this process (unregistered name, missing runtime or model file), it
    conflicts with the stored one, or it raised or returned malformed vectors."""


class ShardUnavailable(AugurDBError, ConnectionError):
    """A shard of a sharded collection (:mod:`augurdb.distributed`) did not answer: its actor
    died and has not come back yet, or its node is gone. ``shards`` lists which. Reads can pass
    ``allow_partial=True`` to get what the live shards have instead."""

    def __init__(self, message: str, shards: tuple[int, ...] = ()) -> None:
        super().__init__(message)
        self.shards = shards


class InternalError(AugurDBError, RuntimeError):
    """A bug in AugurDB; please report it with ``augurdb.build_info()``."""


# StatusCode (include/augurdb/status.h) -> class. Numbers are stable; never reorder.
_BY_CODE: dict[int, type[BaseException]] = {
    1: InvalidArgument,
    2: DimensionMismatch,
    3: NotFound,
    4: DuplicateId,
    5: CorruptDatabase,
    6: StorageError,
    7: DatabaseLocked,
    8: ResourceExhausted,
    9: KeyboardInterrupt,  # kCancelled: a long call interrupted by Ctrl-C
    10: NotSupported,
    11: InternalError,
    12: InvalidVector,
    13: InvalidFilter,
}


def _classes_by_code() -> tuple[type[BaseException] | None, ...]:
    """Tuple indexed by status code (index 0, OK, is None); used by the extension at import."""
    top = max(_BY_CODE)
    return tuple(_BY_CODE.get(code) for code in range(top + 1))


__all__ = [
    "AugurDBError",
    "InvalidArgument",
    "DimensionMismatch",
    "InvalidVector",
    "DuplicateId",
    "InvalidFilter",
    "NotFound",
    "StorageError",
    "DatabaseLocked",
    "CorruptDatabase",
    "ResourceExhausted",
    "NotSupported",
    "EmbeddingFunctionError",
    "ShardUnavailable",
    "InternalError",
]
