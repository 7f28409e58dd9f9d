"""Benchmarks for AugurDB, runnable from an installed package.

Modules:

- :mod:`bench.ann.datasets`: loaders for the benchmark data (Fashion-MNIST-784 from the
  Debian package ``dataset-fashion-mnist`` and the shared exact ground truth), the
  ann-benchmarks recall@k rule, and a description of the machine a result was measured on.
- :mod:`bench.ann.hnsw_vs_hnswlib`: AugurDB against hnswlib side by side in one process
  (build throughput, single-thread QPS vs recall@10, batch QPS, memory). Run it with
  ``python -m bench.ann.hnsw_vs_hnswlib [--quick] [--out DIR]``.

Nothing here is imported by ``import augurdb``; the benchmark's extra dependencies
(``hnswlib``, optionally ``tqdm``) are the ``bench`` extra: ``pip install augurdb[bench]``.
"""
