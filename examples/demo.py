"""AugurDB demo on real data: Fashion-MNIST (60,000 images of clothing, 784-d).

Builds an index on all cores, checks recall@10 against the exact ground truth, runs a batch of
queries, and shows a search with metadata. Run with `make demo` (installs the Debian data set
package and the library into .venv first).
"""

from __future__ import annotations

import time

import numpy as np

import augurdb
from augurdb.smoke_bench import exact_ground_truth, load_fashion_mnist, recall_at_k

CLASSES = ["T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
           "Bag", "Ankle boot"]


def main() -> None:
    info = augurdb.build_info()
    print(f"AugurDB {info['version']} ({info['simd']} kernels, {info['compiler']})")
    data = load_fashion_mnist()
    # Exact neighbours of 1,000 queries by NumPy (a few seconds).
    queries = data.test[:1000]
    truth = exact_ground_truth(data.train, queries, k=10)
    print(f"Fashion-MNIST: {data.train.shape[0]} base vectors, {len(queries)} queries, "
          f"dim {data.train.shape[1]}")

    with augurdb.open(dim=784, metric="l2", m=16, ef_construction=200) as col:
        metadata = [{"label": CLASSES[c], "class": int(c)} for c in data.train_labels]
        start = time.perf_counter()
        col.add(np.arange(len(data.train)), data.train, metadata=metadata)
        build_s = time.perf_counter() - start
        stats = col.stats()
        print(f"built in {build_s:.1f} s ({len(data.train) / build_s:,.0f} vectors/s on "
              f"{stats['threads']} threads), {stats['memory_bytes'] / 2**20:.0f} MiB")

        for ef in (32, 64, 128):
            start = time.perf_counter()
            res = col.search_batch(queries, k=10, ef=ef)
            elapsed = time.perf_counter() - start
            recall = recall_at_k(res.ids, queries, data.train, truth.sqdist[:len(queries)], 10)
            print(f"ef={ef:4d}: recall@10 {recall:.4f}, {len(queries) / elapsed:,.0f} queries/s "
                  f"(batch, all threads)")

        query = data.test[0]
        print(f"\nquery 0 is a {CLASSES[data.test_labels[0]]}; its 5 nearest neighbours:")
        for hit in col.search(query, k=5):
            print(f"  id {hit.id:5d}  distance {hit.distance:10.0f}  {hit.metadata['label']}")


if __name__ == "__main__":
    main()
