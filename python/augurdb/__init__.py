"""AugurDB: an embedded vector database.

>>> import augurdb, numpy as np
>>> col = augurdb.open(dim=4)                       # in memory
>>> col.add([1, 2], np.eye(2, 4, dtype=np.float32), metadata=[{"k": "a"}, {"k": "b"}])
>>> [h.id for h in col.search(np.array([1, 0, 0, 0], np.float32), k=1)]
[1]
"""

from __future__ import annotations

from . import errors
from ._core import Hit, Record
from ._core import build_info as _core_build_info
from .collection import BatchResults, Collection, TextStats, open
from .errors import AugurDBError

__version__ = "0.1.0"


def build_info() -> dict[str, str]:
    """Facts about this build for bug reports.

    Keys: ``version``, ``compiler``, ``simd`` (the distance-kernel family in use on this CPU:
    "avx512", "avx2", "neon" or "scalar"; the environment variable ``AUGURDB_SIMD`` can force a
    lower one) and ``simd_detected`` (the best family this CPU supports).
    """
    return dict(_core_build_info())


__all__ = [
    "AugurDBError",
    "BatchResults",
    "Collection",
    "Hit",
    "Record",
    "TextStats",
    "__version__",
    "build_info",
    "errors",
    "open",
]
