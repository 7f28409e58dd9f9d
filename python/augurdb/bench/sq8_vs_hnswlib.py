"""Alias of :mod:`augurdb.bench.quantized` (the SQ8/SQ4 benchmark grew peers: faiss IndexHNSWSQ and
usearch i8 next to hnswlib). ``python -m augurdb.bench.sq8_vs_hnswlib`` takes the same options.
"""

from __future__ import annotations

from augurdb.bench.quantized import at_recall, main, qps_one_by_one

__all__ = ["at_recall", "main", "qps_one_by_one"]

if __name__ == "__main__":
    raise SystemExit(main())
