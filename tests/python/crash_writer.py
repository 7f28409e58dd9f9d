"""The child process of test_crash.py: writes to a database until it is killed.

    python crash_writer.py DB LOG SEED CYCLE NEXT_ID DIM CHECKPOINT_WAL_BYTES

Opens DB with durability="sync" (recovering whatever the previous child left), then loops over
random operations: add a batch of new ids, upsert or delete some live ids, or checkpoint. Each
operation is logged to LOG twice, one line each, written with os.write so that a SIGKILL loses
no line already written:

    B <op> <version> <ids>     before the call   (op: P add, U upsert, D delete, C checkpoint)
    A <op> <version> <ids>     after it returned: the operation is acknowledged

<ids> is "start-end" (a range, end excluded) for adds and a comma list otherwise. Every row
written by an operation carries metadata {"v": version}, the vector vectors(seed, [id],
version) and the document document(id, version), so the parent can check exact contents
without being told them.
"""

from __future__ import annotations

import os
import sys

import numpy as np

# m=16, ef_construction=100: at m=8/40 about 1 record in 15,000 is unreachable by search even
# with no crash at all (HNSW's pruning), which would blur the parent's search check. The parent
# opens with the same values (it may be the one that creates the database).
INDEX_PARAMS = {"m": 16, "ef_construction": 100}


def vectors(seed: int, ids, version: int, dim: int) -> np.ndarray:
    """The vector of each id at a version: a pure function, shared with the parent."""
    rows = [np.random.default_rng([seed, int(i), version]).standard_normal(dim) for i in ids]
    return np.asarray(rows, dtype=np.float32).reshape(len(rows), dim)


def document(rid: int, version: int) -> str | None:
    """The document of each id at a version (none for one id in five), shared with the parent;
    "d<id>" occurs in no other record's document, so a text search for it finds only <id>."""
    if rid % 5 == 0:
        return None
    return f"record d{rid} version v{version} {'even' if rid % 2 == 0 else 'odd'}"


def main(argv: list[str]) -> int:
    import augurdb  # imported here so that the parent can import vectors() cheaply

    db, log_path = argv[0], argv[1]
    seed, cycle, next_id, dim, wal_bytes = (int(x) for x in argv[2:7])
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def emit(line: str) -> None:
        os.write(log, (line + "\n").encode())

    col = augurdb.open(db, durability="sync", dim=dim, checkpoint_wal_bytes=wal_bytes,
                       threads=2, **INDEX_PARAMS)
    live = LiveIds(col.ids())
    emit(f"R {len(live)}")
    rng = np.random.default_rng([seed, cycle, 0xC4A54])
    version = cycle * 1_000_000
    while True:
        version += 1
        r = rng.random()
        if r < 0.05:
            emit(f"B C {version} -")
            col.checkpoint()
            emit(f"A C {version} -")
        elif r < 0.15 and len(live):
            picked = live.sample(rng)
            text = ",".join(map(str, picked))
            emit(f"B D {version} {text}")
            removed = col.delete(picked)
            emit(f"A D {version} {text}")
            assert removed == len(picked), (removed, picked)
            for i in picked:
                live.remove(i)
        elif r < 0.30 and len(live):
            picked = live.sample(rng)
            text = ",".join(map(str, picked))
            emit(f"B U {version} {text}")
            col.upsert(picked, vectors(seed, picked, version, dim),
                       documents=[document(i, version) for i in picked],
                       metadata=[{"v": version}] * len(picked))
            emit(f"A U {version} {text}")
        else:
            k = int(rng.integers(1, 41))
            ids = range(next_id, next_id + k)
            emit(f"B P {version} {next_id}-{next_id + k}")
            col.add(np.arange(next_id, next_id + k), vectors(seed, ids, version, dim),
                    documents=[document(i, version) for i in ids],
                    metadata=[{"v": version}] * k)
            emit(f"A P {version} {next_id}-{next_id + k}")
            for i in ids:
                live.add(i)
            next_id += k


class LiveIds:
    """The live ids, with O(1) add, remove and uniform sampling."""

    def __init__(self, ids) -> None:
        self.items = [int(i) for i in ids]
        self.where = {x: n for n, x in enumerate(self.items)}

    def __len__(self) -> int:
        return len(self.items)

    def add(self, x: int) -> None:
        self.where[x] = len(self.items)
        self.items.append(x)

    def remove(self, x: int) -> None:
        n = self.where.pop(x)
        last = self.items.pop()
        if n < len(self.items):
            self.items[n] = last
            self.where[last] = n

    def sample(self, rng: np.random.Generator) -> list[int]:
        k = int(rng.integers(1, min(10, len(self.items)) + 1))
        picks = rng.choice(len(self.items), size=k, replace=False)
        return sorted(self.items[int(n)] for n in picks)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
