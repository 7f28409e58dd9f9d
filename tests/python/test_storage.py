"""Durable storage through the Python API: reopen round trips, WAL replay, the writer lock,
read-only mode, parameter checks on reopen, and how damaged files are reported
(docs/format/durability.md)."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import augurdb
import numpy as np
import pytest
from augurdb import errors

# ---------------------------------------------------------------- helpers


def _crc32c_table() -> list[int]:
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    c = 0xFFFFFFFF
    for b in data:
        c = _TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def mask(crc: int) -> int:
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def files(path: Path) -> dict[str, bytes]:
    """Every database file and its bytes (LOCK excluded: a writer rewrites the holder's pid)."""
    return {p.name: p.read_bytes() for p in sorted(path.iterdir()) if p.name != "LOCK"}


def only(path: Path, pattern: str) -> Path:
    found = sorted(path.glob(pattern))
    assert len(found) == 1, f"{pattern}: {[p.name for p in found]}"
    return found[0]


def crash_image(src: Path, dst: Path) -> Path:
    """The files of a database whose writer is still open, as a crash of that process would
    leave them (a killed process loses nothing that reached the kernel)."""
    dst.mkdir()
    for p in src.iterdir():
        if p.name != "LOCK":
            shutil.copyfile(p, dst / p.name)
    return dst


def wal_records(data: bytes) -> list[tuple[int, int, int]]:
    """(offset, type, payload length) of each record, parsed as docs/format/wal.md says."""
    out, off = [], 0
    while off + 13 <= len(data):
        pcrc, length, rtype, hcrc = struct.unpack_from("<IIBI", data, off)
        assert hcrc == mask(crc32c(data[off + 4:off + 9])), f"header crc at {off}"
        payload = data[off + 13:off + 13 + length]
        assert len(payload) == length and pcrc == mask(crc32c(payload)), f"payload crc at {off}"
        out.append((off, rtype, length))
        off += 13 + length
    assert off == len(data)
    return out


def vec(ids, dim: int, version: int = 0) -> np.ndarray:
    rows = [np.random.default_rng([int(i) & 0xFFFFFFFF, version]).standard_normal(dim) for i in ids]
    return np.asarray(rows, dtype=np.float32).reshape(len(rows), dim)


def snapshot(col: augurdb.Collection, ids) -> dict:
    """id -> (vector bytes, metadata) for every id present."""
    out = {}
    for rid, rec in zip(ids, col.get(ids)):
        if rec is not None:
            out[rid] = (np.asarray(rec.vector, np.float32).tobytes(), rec.metadata)
    return out


def assert_same_results(a: augurdb.BatchResults, b: augurdb.BatchResults) -> None:
    assert a.ids.shape == b.ids.shape
    assert (a.ids == b.ids).all()
    np.testing.assert_array_equal(a.distances, b.distances)


# ---------------------------------------------------------------- round trips


def build_mixed(col: augurdb.Collection, data: np.ndarray, str_ids: bool) -> list:
    """Adds, deletes and upserts; returns every id ever used."""
    n = len(data)
    ids = [f"doc-{i}" for i in range(n)] if str_ids else list(range(n))
    meta = [{"i": i, "even": i % 2 == 0, "name": f"n{i}", "score": i / 7, "tags": ["a", i]}
            if i % 3 else None for i in range(n)]
    col.add(ids[: n // 2], data[: n // 2], metadata=meta[: n // 2])
    col.add(ids[n // 2:], data[n // 2:], metadata=meta[n // 2:])
    assert col.delete(ids[10:40]) == 30
    # Upsert: replace some existing rows (new vectors and metadata), resurrect deleted ones.
    replaced = ids[100:120] + ids[20:25]
    col.upsert(replaced, data[100:125][::-1] + 0.25, metadata=[{"v": 2}] * len(replaced))
    return ids


@pytest.mark.parametrize("str_ids, metric", [(False, "l2"), (True, "cosine"), (False, "ip")])
def test_reopen_round_trip(tmp_path, data, queries, str_ids, metric):
    path = tmp_path / "db"
    col = augurdb.open(path, dim=16, metric=metric, m=8, ef_construction=64)
    ids = build_mixed(col, data, str_ids)
    before = snapshot(col, ids)
    results = col.search_batch(queries, k=10)
    count = len(col)
    col.close()
    assert count == len(data) - 30 + 5

    for mode in ("w", "r"):
        with augurdb.open(path, mode=mode) as again:
            assert again.metric == metric and again.dim == 16 and len(again) == count
            st = again.stats()
            assert st["m"] == 8 and st["ef_construction"] == 64
            assert st["id_kind"] == ("str" if str_ids else "int")
            assert snapshot(again, ids) == before
            assert sorted(map(str, again.ids())) == sorted(map(str, before))
            for gone in ids[25:40]:
                assert gone not in again
            assert_same_results(results, again.search_batch(queries, k=10))


def test_reopen_keeps_writing(tmp_path, data):
    path = tmp_path / "db"
    with augurdb.open(path, dim=16) as col:
        col.add(range(100), data[:100])
    with augurdb.open(path) as col:
        col.add(range(100, 200), data[100:200])
        col.delete([0, 1])
    with augurdb.open(path, mode="r") as col:
        assert len(col) == 198 and 0 not in col and 199 in col
        np.testing.assert_array_equal(col.get([150])[0].vector, data[150])


def test_empty_database_reopens(tmp_path):
    path = tmp_path / "db"
    augurdb.open(path).close()
    with augurdb.open(path, mode="r") as col:
        assert len(col) == 0 and col.dim is None
    with augurdb.open(path, dim=3) as col:  # dim still free: nothing was ever added
        col.add([1], np.ones((1, 3)))
    with augurdb.open(path, mode="r") as col:
        assert col.dim == 3 and len(col) == 1


def test_wal_replay_after_checkpoint(tmp_path, data, queries):
    """checkpoint, more writes (adds, deletes, upserts), crash, reopen: the WAL is replayed."""
    path = tmp_path / "db"
    col = augurdb.open(path, dim=16, threads=1)
    col.add(range(300), data[:300], metadata=[{"i": i} for i in range(300)])
    col.checkpoint()
    seq = col.stats()["checkpoint_sequence"]
    assert col.stats()["wal_bytes"] == 0
    col.add(range(300, 600), data[300:600])
    col.delete(range(0, 50))
    col.upsert([60, 61, 700], data[:3] * 2 + 1, metadata=[{"up": 1}, None, {"new": True}])
    assert col.stats()["wal_bytes"] > 0
    assert col.stats()["checkpoint_sequence"] == seq
    expected = snapshot(col, list(range(701)))
    results = col.search_batch(queries, k=10)

    image = crash_image(path, tmp_path / "crashed")
    assert len(wal_records(only(image, "wal-*.log").read_bytes())) == 3
    col.close()

    with augurdb.open(image, mode="r") as ro:
        assert snapshot(ro, list(range(701))) == expected
    with augurdb.open(image, threads=1) as again:
        assert len(again) == len(expected)
        assert snapshot(again, list(range(701))) == expected
        # One thread, same seed, same insertion order: replay rebuilds the same graph.
        assert_same_results(results, again.search_batch(queries, k=10))
    # The writer's close checkpointed the replayed log: one checkpoint, an empty WAL.
    assert only(image, "wal-*.log").stat().st_size == 0
    only(image, "checkpoint-*.adb")


def test_auto_checkpoint_with_small_wal_limit(tmp_path):
    path = tmp_path / "db"
    dim = 8
    col = augurdb.open(path, dim=dim, checkpoint_wal_bytes=4096)
    seqs = set()
    for b in range(60):
        ids = range(b * 10, b * 10 + 10)
        col.add(ids, vec(ids, dim))
        seqs.add(col.stats()["checkpoint_sequence"])
        assert col.stats()["wal_bytes"] <= 4096 + 13 + 10 * (8 + 4 * dim) + 64
    assert len(seqs) >= 5, seqs  # a 423-byte record per batch: a checkpoint every ~10
    # Superseded checkpoints and logs are removed as soon as the new checkpoint is durable.
    only(path, "checkpoint-*.adb")
    only(path, "wal-*.log")
    assert not list(path.glob("*.tmp"))
    image = crash_image(path, tmp_path / "crashed")
    col.close()
    with augurdb.open(image, mode="r") as again:
        assert len(again) == 600
        got = again.get([0, 299, 599])
        np.testing.assert_array_equal(np.stack([r.vector for r in got]), vec([0, 299, 599], dim))


def test_close_without_changes_writes_no_checkpoint(tmp_path, data):
    path = tmp_path / "db"
    with augurdb.open(path, dim=16) as col:
        col.add(range(50), data[:50])
    name = only(path, "checkpoint-*.adb").name
    before = files(path)
    with augurdb.open(path) as col:
        assert len(col) == 50
    assert only(path, "checkpoint-*.adb").name == name
    assert files(path) == before


def test_flush_makes_writes_visible_to_a_new_reader(tmp_path, data):
    path = tmp_path / "db"
    with augurdb.open(path, dim=16, durability="none") as col:
        col.add(range(20), data[:20])
        col.flush()
        with augurdb.open(path, mode="r") as ro:
            assert len(ro) == 20


@pytest.mark.parametrize("durability", ["sync", "batch", "none"])
def test_every_durability_level_survives_a_process_crash(tmp_path, data, durability):
    path = tmp_path / "db"
    col = augurdb.open(path, dim=16, durability=durability)
    for b in range(5):
        col.add(range(b * 20, b * 20 + 20), data[b * 20:b * 20 + 20])
    image = crash_image(path, tmp_path / "crashed")  # a killed process loses no written bytes
    col.close()
    with augurdb.open(image, mode="r") as again:
        assert len(again) == 100


# ---------------------------------------------------------------- the writer lock

def test_second_writer_in_another_process_is_locked(tmp_path):
    path = tmp_path / "db"
    col = augurdb.open(path, dim=4)
    col.add([1], np.ones((1, 4)))
    script = textwrap.dedent("""
        import sys, augurdb
        from augurdb import errors
        try:
            augurdb.open(sys.argv[1]).close()
        except errors.DatabaseLocked as e:
            print("LOCKED", e)
            sys.exit(3)
        print("OPENED")
    """)
    run = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 3, run.stdout + run.stderr
    assert f"pid {os.getpid()}" in run.stdout, run.stdout
    assert str(path) in run.stdout
    # A reader in that process is fine beside the writer.
    reader = ("import sys, augurdb; c = augurdb.open(sys.argv[1], mode='r'); "
              "print(len(c)); c.close()")
    run = subprocess.run([sys.executable, "-c", reader, str(path)], capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0 and run.stdout.strip() == "1", run.stdout + run.stderr
    col.close()
    run = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0 and "OPENED" in run.stdout, run.stdout + run.stderr


def test_lock_is_released_when_the_holder_is_killed(tmp_path):
    path = tmp_path / "db"
    script = ("import sys, time, augurdb; c = augurdb.open(sys.argv[1], dim=4); "
              "print('READY', flush=True); time.sleep(60)")
    child = subprocess.Popen([sys.executable, "-c", script, str(path)], stdout=subprocess.PIPE,
                             text=True)
    try:
        assert child.stdout.readline().strip() == "READY"
        with pytest.raises(errors.DatabaseLocked, match=f"pid {child.pid}"):
            augurdb.open(path)
    finally:
        child.kill()
        child.wait()
    augurdb.open(path).close()


def test_second_writer_in_the_same_process_is_locked(tmp_path):
    path = tmp_path / "db"
    col = augurdb.open(path, dim=4)
    with pytest.raises(errors.DatabaseLocked, match=f"pid {os.getpid()}") as info:
        augurdb.open(path)
    assert isinstance(info.value, OSError)
    col.add([1], np.ones((1, 4)))  # the failed open disturbed nothing
    col.close()
    with augurdb.open(path) as again:
        assert len(again) == 1


# ---------------------------------------------------------------- read-only mode

def test_reader_beside_a_writer(tmp_path, data):
    path = tmp_path / "db"
    writer = augurdb.open(path, dim=16)
    writer.add(range(100), data[:100])
    writer.checkpoint()
    writer.add(range(100, 150), data[100:150])  # synced in the WAL, not checkpointed
    writer.delete([0, 1])
    reader = augurdb.open(path, mode="r")
    assert reader.read_only and not writer.read_only
    assert len(reader) == 148 and 0 not in reader and 149 in reader
    np.testing.assert_array_equal(reader.get([120])[0].vector, data[120])
    assert reader.search(data[130], k=1)[0].id == 130

    for call in (lambda: reader.add([999], data[:1]), lambda: reader.upsert([5], data[:1]),
                 lambda: reader.delete([5]), lambda: reader.checkpoint(),
                 lambda: reader.compact()):
        with pytest.raises(errors.NotSupported, match="read-only"):
            call()
    reader.flush()  # nothing to flush: a no-op, not an error
    assert len(reader) == 148 and 5 in reader

    # A reader sees the state when it opened; a new reader sees later writes.
    writer.add(range(150, 160), data[150:160])
    assert len(reader) == 148
    with augurdb.open(path, mode="r") as second:
        assert len(second) == 158
    reader.close()
    writer.close()
    with augurdb.open(path, mode="r") as after:
        assert len(after) == 158


def test_reader_never_modifies_files(tmp_path, data):
    path = tmp_path / "db"
    col = augurdb.open(path, dim=16)
    col.add(range(10), data[:10])
    image = crash_image(path, tmp_path / "crashed")
    col.close()
    wal = only(image, "wal-*.log")
    wal.write_bytes(wal.read_bytes()[:-3])  # torn tail: a writer would truncate it
    (image / "checkpoint-000099.adb.tmp").write_bytes(b"stale")  # a writer would remove it
    before = files(image)
    with augurdb.open(image, mode="r") as ro:
        assert len(ro) == 0  # the only batch was torn
    assert files(image) == before
    assert not (image / "LOCK").exists()


def test_read_mode_on_a_missing_path_is_not_found(tmp_path):
    missing = tmp_path / "nothing here"
    with pytest.raises(errors.NotFound, match="nothing here"):
        augurdb.open(missing, mode="r")
    assert not missing.exists(), "a reader must not create the directory"
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(errors.NotFound):
        augurdb.open(empty, mode="r")
    assert list(empty.iterdir()) == []


def test_directory_of_other_files_is_not_a_database(tmp_path):
    path = tmp_path / "notes"
    path.mkdir()
    (path / "readme.txt").write_text("hello")
    with pytest.raises(errors.CorruptDatabase, match="no checkpoint"):
        augurdb.open(path)
    assert [p.name for p in path.iterdir() if p.name != "LOCK"] == ["readme.txt"]


# ---------------------------------------------------------------- parameters on reopen

@pytest.mark.parametrize("kwargs, exc, match", [
    ({"metric": "ip"}, errors.InvalidArgument, "metric"),
    ({"dim": 16}, errors.DimensionMismatch, "dim"),
    ({"m": 12}, errors.InvalidArgument, "m=8"),
    ({"ef_construction": 100}, errors.InvalidArgument, "ef_construction"),
])
@pytest.mark.parametrize("mode", ["w", "r"])
def test_parameter_mismatch_on_reopen(tmp_path, kwargs, exc, match, mode):
    path = tmp_path / "db"
    with augurdb.open(path, dim=8, metric="l2", m=8, ef_construction=50) as col:
        col.add(range(10), vec(range(10), 8))
    before = files(path)
    with pytest.raises(exc, match=match):
        augurdb.open(path, mode=mode, **kwargs)
    assert files(path) == before
    # Matching (or omitted) parameters open; ef_search may change freely.
    with augurdb.open(path, dim=8, metric="l2", m=8, ef_construction=50, ef_search=99) as col:
        assert len(col) == 10 and col.stats()["ef_search"] == 99


# ---------------------------------------------------------------- damaged files

def make_db(tmp_path: Path, data: np.ndarray) -> Path:
    path = tmp_path / "db"
    with augurdb.open(path, dim=16) as col:
        col.add(range(200), data[:200], metadata=[{"i": i} for i in range(200)])
    return path


def checkpoint_sections(raw: bytes) -> dict[int, tuple[int, int]]:
    """kind -> (offset, size), parsed as docs/format/checkpoint.md says."""
    assert raw[:8] == b"AUGURCKP"
    _seq, count, meta_size = struct.unpack_from("<QII", raw, 16)
    table = 32 + meta_size
    out = {}
    for i in range(count):
        kind, _r, off, size, _crc, _r2 = struct.unpack_from("<IIQQII", raw, table + 32 * i)
        out[kind] = (off, size)
    return out


# Header bytes (magic, version, prefix crc, sequence, count, meta, section table) and the middle
# of sections (1 index header, 2 vectors, 15 level-0 links, 9 used flags, 10 metadata).
@pytest.mark.parametrize("where", [3, 10, 13, 20, 26, 30, 40, 70, "s1", "s2", "s15", "s9", "s10"])
@pytest.mark.parametrize("mode", ["w", "r"])
def test_corrupt_checkpoint_byte(tmp_path, data, where, mode):
    path = make_db(tmp_path, data)
    ckpt = only(path, "checkpoint-*.adb")
    raw = bytearray(ckpt.read_bytes())
    if isinstance(where, str):
        off, size = checkpoint_sections(bytes(raw))[int(where[1:])]
        assert size > 0
        pos, expect = off + size // 2, f"offset {off}"
    else:
        pos, expect = where, "offset"
    raw[pos] ^= 0x40
    ckpt.write_bytes(bytes(raw))
    before = files(path)
    with pytest.raises(errors.CorruptDatabase) as info:
        augurdb.open(path, mode=mode)
    msg = str(info.value)
    assert ckpt.name in msg and expect in msg, msg
    assert isinstance(info.value, OSError)
    assert files(path) == before, "a failed open changed the files"


def test_newer_checkpoint_version_is_not_supported(tmp_path, data):
    path = make_db(tmp_path, data)
    ckpt = only(path, "checkpoint-*.adb")
    raw = bytearray(ckpt.read_bytes())
    assert raw[:8] == b"AUGURCKP" and struct.unpack_from("<I", raw, 8)[0] == 4
    struct.pack_into("<I", raw, 8, 5)
    struct.pack_into("<I", raw, 12, mask(crc32c(bytes(raw[:12]))))
    ckpt.write_bytes(bytes(raw))
    before = files(path)
    for mode in ("w", "r"):
        with pytest.raises(errors.NotSupported, match="version 5"):
            augurdb.open(path, mode=mode)
    assert files(path) == before


def crashed_with_wal(tmp_path: Path, data: np.ndarray, batches: int = 4) -> Path:
    """A crash image whose WAL holds `batches` add records of 25 rows each."""
    path = tmp_path / "live"
    col = augurdb.open(path, dim=16)
    col.checkpoint()
    for b in range(batches):
        col.add(range(b * 25, b * 25 + 25), data[b * 25:b * 25 + 25])
    image = crash_image(path, tmp_path / "crashed")
    col.close()
    return image


@pytest.mark.parametrize("cut", [1, 5, 13, 200, "header"])
def test_torn_wal_tail_is_dropped(tmp_path, data, cut):
    image = crashed_with_wal(tmp_path, data)
    wal = only(image, "wal-*.log")
    raw = wal.read_bytes()
    recs = wal_records(raw)
    last = recs[-1][0]
    keep = last + 7 if cut == "header" else len(raw) - cut
    wal.write_bytes(raw[:keep])
    with augurdb.open(image, mode="r") as ro:
        assert len(ro) == 75
    assert wal.stat().st_size == keep, "a reader must not truncate"
    col = augurdb.open(image)
    assert len(col) == 75 and 74 in col and 75 not in col
    np.testing.assert_array_equal(col.get([74])[0].vector, data[74])
    assert wal.stat().st_size == last, "the writer truncates the torn tail"
    col.add(range(75, 100), data[75:100])  # new records follow the good ones
    image2 = crash_image(image, tmp_path / "crashed2")
    col.close()
    with augurdb.open(image2, mode="r") as again:
        assert len(again) == 100


@pytest.mark.parametrize("where", ["payload", "length", "payload crc", "first"])
def test_wal_corruption_before_the_tail_is_corrupt_database(tmp_path, data, where):
    image = crashed_with_wal(tmp_path, data)
    wal = only(image, "wal-*.log")
    raw = bytearray(wal.read_bytes())
    recs = wal_records(bytes(raw))
    off = recs[0][0] if where == "first" else recs[1][0]
    pos = {"payload": off + 13 + recs[1][2] // 2, "length": off + 5, "payload crc": off + 1,
           "first": off + 20}[where]
    raw[pos] ^= 0x01
    wal.write_bytes(bytes(raw))
    before = files(image)
    for mode in ("w", "r"):
        with pytest.raises(errors.CorruptDatabase) as info:
            augurdb.open(image, mode=mode)
        msg = str(info.value)
        assert wal.name in msg and f"offset {off}" in msg, msg
    assert files(image) == before


# ---------------------------------------------------------------- regressions (fixed bugs)

def test_reader_racing_a_checkpoint_sees_every_synced_write(tmp_path):
    """Deterministic replay of the race: the reader is paused (in effect) between listing the
    directory and looking for wal-N, by doing the writer's checkpoint steps the moment the
    reader has mapped checkpoint-N (seen in /proc/self/maps) while it verifies a large file."""
    import threading

    if not Path("/proc/self/maps").exists():
        pytest.skip("needs /proc/self/maps to see when the reader has mapped the checkpoint")
    n = 100_000
    live, image, staged = tmp_path / "live", tmp_path / "image", tmp_path / "staged"
    col = augurdb.open(live, dim=4, m=4, ef_construction=8)
    col.add(range(n), np.random.default_rng(0).random((n, 4), dtype=np.float32))
    col.checkpoint()
    col.add(range(n, n + 10), np.ones((10, 4)))  # synced in wal-N only
    crash_image(live, image)  # checkpoint-N + wal-N with the 10 rows
    col.close()               # live: checkpoint-N+1 holding all n + 10 rows, empty wal-N+1
    old_ckpt, old_wal = only(image, "checkpoint-*.adb"), only(image, "wal-*.log")
    new_ckpt, new_wal = only(live, "checkpoint-*.adb"), only(live, "wal-*.log")
    staged.mkdir()
    shutil.copyfile(new_ckpt, staged / "c")
    shutil.copyfile(new_wal, staged / "w")

    seen: dict[str, int] = {}

    def reader() -> None:
        with augurdb.open(image, mode="r") as ro:
            seen["len"] = len(ro)

    thread = threading.Thread(target=reader)
    thread.start()
    while old_ckpt.name not in Path("/proc/self/maps").read_text():
        pass
    # The writer's checkpoint: new checkpoint renamed into place, its WAL created, old removed.
    os.rename(staged / "c", image / new_ckpt.name)
    os.rename(staged / "w", image / new_wal.name)
    os.remove(old_wal)
    os.remove(old_ckpt)
    thread.join()
    assert seen["len"] == n + 10


def test_dim_mismatch_when_dim_is_only_in_the_wal(tmp_path):
    path = tmp_path / "db"
    col = augurdb.open(path)  # no dim: the first add fixes it
    col.add([1, 2], np.ones((2, 8)))
    image = crash_image(path, tmp_path / "crashed")
    col.close()
    with pytest.raises(errors.DimensionMismatch):
        augurdb.open(image, dim=4, mode="r")
