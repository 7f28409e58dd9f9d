"""What both framework adapters share: a collection the store opened (closed with the store,
or when the store is garbage-collected, releasing the writer lock) or one it was given (left
open), and the close / context-manager methods over it."""

from __future__ import annotations

import os
import weakref
from typing import Any

import augurdb

from .. import errors


def _close_quietly(collection: augurdb.Collection) -> None:
    try:
        collection.close()
    except errors.AugurDBError:
        pass


def open_owned(owner: object, path: str | os.PathLike[str] | None,
               collection: augurdb.Collection | None, metric: str,
               open_kwargs: dict[str, Any]) -> tuple[augurdb.Collection, Any]:
    """``(collection, finalizer)``: the given collection and None, or a new one opened with
    ``path``, ``metric`` and ``open_kwargs`` and a finalizer that closes it with ``owner``."""
    if collection is not None:
        if path is not None or open_kwargs:
            raise errors.InvalidArgument("pass collection= or path/open arguments, not both")
        return collection, None
    opened = augurdb.open(path, metric=metric, **open_kwargs)
    return opened, weakref.finalize(owner, _close_quietly, opened)


class ClosingStore:
    """close(), ``with`` support; the store sets ``_finalizer`` (None: nothing to close)."""

    _finalizer: Any

    def close(self) -> None:
        """Closes the collection if the store opened it (checkpoint, lock released)."""
        if self._finalizer is not None:
            self._finalizer()

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
