"""What an embedding function is, and how one is rebuilt from the identity a database stores.

An embedding function turns texts into vectors: ``fn(list[str]) -> (n, dim) float32``. Any
plain callable with that signature works. One that also has ``name()`` and ``get_config()``
(the :class:`EmbeddingFunction` protocol) has an identity: a registered name and a JSON-able
config, which a collection can store (as Chroma 1.x does) so that reopening the database
rebuilds the function with :func:`build_embedding_function` instead of asking for it again.

Thread safety: the registry is written at import time (class decorators) and read afterwards;
registering from several threads at once is not supported.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Callable, Protocol, TypeVar, runtime_checkable

import numpy as np
import numpy.typing as npt

from ..errors import AugurDBError

FloatArray = npt.NDArray[np.float32]
EmbeddingCallable = Callable[[list[str]], FloatArray]


@runtime_checkable
class EmbeddingFunction(Protocol):
    """An embedding function with an identity that a database can store.

    - ``__call__(texts)``: one float32 row per text, in order; ``(0, dim)`` for no texts.
    - ``name()``: the registry key, stable across releases (it is persisted).
    - ``get_config()``: JSON-able keyword arguments from which ``build_from_config`` rebuilds an
      equivalent function. Knobs that do not change the vectors (threads, batch size) stay out,
      so a database moved to another machine rebuilds with that machine's defaults.

    Register a class with :func:`register_embedding_function`; it then also needs a classmethod
    ``build_from_config(config)``.
    """

    def __call__(self, texts: list[str]) -> FloatArray: ...

    def name(self) -> str: ...

    def get_config(self) -> dict[str, Any]: ...


class EmbeddingFunctionNotFound(AugurDBError, LookupError):  # noqa: N818 (as errors.NotFound)
    """A stored embedding function's name is not registered in this process."""


_REGISTRY: dict[str, Any] = {}
T = TypeVar("T")


def register_embedding_function(cls: type[T]) -> type[T]:
    """Class decorator: makes ``cls`` rebuildable by :func:`build_embedding_function` under
    ``cls.name()``. ``cls`` needs a static ``name()`` and a classmethod
    ``build_from_config(config)``. Registering a name again replaces the earlier class (so a
    reloaded module keeps working)."""
    name = cls.name()  # type: ignore[attr-defined]
    if not isinstance(name, str) or not name:
        raise ValueError(f"{cls.__qualname__}.name() must return a non-empty str, got {name!r}")
    if not callable(getattr(cls, "build_from_config", None)):
        raise TypeError(f"{cls.__qualname__} needs a classmethod build_from_config(config)")
    _REGISTRY[name] = cls
    return cls


def registered_embedding_functions() -> list[str]:
    """The names :func:`build_embedding_function` can rebuild, sorted."""
    return sorted(_REGISTRY)


def build_embedding_function(name: str, config: dict[str, Any]) -> EmbeddingFunction:
    """Rebuilds a registered embedding function from its stored ``name`` and ``config``.

    Raises :class:`EmbeddingFunctionNotFound` when ``name`` is not registered (the message
    names it and what is registered), ``ValueError`` when ``config`` does not fit the class,
    and whatever the class raises for a missing runtime (``ImportError`` naming the extra to
    install) or model file (``FileNotFoundError`` naming the path).
    """
    cls = _REGISTRY.get(name)
    if cls is None:
        known = ", ".join(registered_embedding_functions()) or "none"
        raise EmbeddingFunctionNotFound(
            f"embedding function {name!r} is not registered in this process (registered: "
            f"{known}); import the module that defines it (its class must be decorated with "
            f"augurdb.embeddings.register_embedding_function) or pass the function explicitly")
    if not isinstance(config, dict):
        raise ValueError(f"config for embedding function {name!r} must be a dict, "
                         f"got {type(config).__name__}")
    try:
        return cls.build_from_config(config)  # type: ignore[no-any-return]
    except TypeError as error:  # an unknown or missing keyword in a stored config
        raise ValueError(f"cannot rebuild embedding function {name!r} from config "
                         f"{config!r}: {error}") from error


def embedding_identity(fn: Any) -> tuple[str, dict[str, Any]] | None:
    """``(name, config)`` for a function with an identity, None for a plain callable.

    The config is checked to survive a JSON round trip unchanged, since that is how it is
    stored; ``ValueError`` says which function's config does not."""
    if not isinstance(fn, EmbeddingFunction):
        return None
    name, config = fn.name(), fn.get_config()
    try:
        round_trip = json.loads(json.dumps(config))
    except (TypeError, ValueError) as error:
        raise ValueError(f"get_config() of embedding function {name!r} is not JSON-able: "
                         f"{error}") from error
    if round_trip != config:
        raise ValueError(f"get_config() of embedding function {name!r} changes in a JSON round "
                         f"trip (tuples or non-str keys?): {config!r}")
    return name, config


def check_texts(texts: Any) -> list[str]:
    """``texts`` (any iterable: list, tuple, NumPy array of str) as a list of str;
    ``TypeError`` for a bare str (a common slip that would embed each character) or any
    element that is not a str, naming its index."""
    if isinstance(texts, (str, bytes)):
        raise TypeError("embedding functions take a list of str, not a single "
                        f"{type(texts).__name__}: wrap it as [text]")
    if not isinstance(texts, Iterable):
        raise TypeError(f"embedding functions take a list of str, got {type(texts).__name__}")
    items: list[str] = list(texts)
    for i, text in enumerate(items):
        if not isinstance(text, str):
            raise TypeError(f"texts[{i}] is {type(text).__name__}, not str")
    return items


def check_embeddings(vectors: Any, count: int, who: str = "embedding function") -> FloatArray:
    """What an embedding function returned, as a C-contiguous float32 ``(count, dim)`` array;
    ``ValueError`` naming ``who`` when it is not 2-D, has the wrong number of rows, or holds
    NaN or infinity. A copy is made only when the dtype or layout needs one."""
    array = np.ascontiguousarray(vectors, dtype=np.float32)
    if array.ndim != 2 or array.shape[0] != count:
        raise ValueError(f"{who} returned shape {array.shape} for {count} texts; "
                         f"expected ({count}, dim)")
    if not np.isfinite(array).all():
        raise ValueError(f"{who} returned NaN or infinity")
    return array
