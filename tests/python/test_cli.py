"""The ``augurdb`` command line (issue 7): every command's output and every error path.

Commands run as ``python -m augurdb ...`` subprocesses on small generated files; a few checks
that need to reach inside (a failure in the middle of an import) call ``cli.main`` in process.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

import augurdb
from augurdb import cli, errors

from conftest import clustered

DIM = 8


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``python -m augurdb ARGS`` in ``cwd``."""
    return subprocess.run([sys.executable, "-m", "augurdb", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=60)


class Result:
    """What :func:`call` returns: the fields of a CompletedProcess that the tests read."""

    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


@pytest.fixture
def call(tmp_path, capsys, monkeypatch):
    """``cli.main(ARGS)`` in this process, in tmp_path: the cheap way to cover the variants
    (each subprocess costs a Python + NumPy start)."""
    monkeypatch.chdir(tmp_path)

    def invoke(*args: str) -> Result:
        capsys.readouterr()
        rc = cli.main(list(args))
        out, err = capsys.readouterr()
        return Result(rc, out, err)

    return invoke


def assert_one_line_error(proc: subprocess.CompletedProcess[str] | Result, cls: str, match: str,
                          rc: int = 1) -> None:
    assert proc.returncode == rc, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr  # no traceback without --debug
    assert lines[0].startswith(f"{cls}: "), lines[0]
    assert match in lines[0], lines[0]
    assert "Traceback" not in proc.stderr


def write_fvecs(path: Path, x: np.ndarray) -> None:
    n, d = x.shape
    rows = np.empty((n, d + 1), dtype="<f4")
    rows[:, 1:] = x
    rows.view("<i4")[:, 0] = d
    rows.tofile(path)


def write_bvecs(path: Path, x: np.ndarray) -> None:
    n, d = x.shape
    rows = np.empty((n, d + 4), dtype=np.uint8)
    rows[:, :4] = np.frombuffer(struct.pack("<i", d), dtype=np.uint8)
    rows[:, 4:] = x
    rows.tofile(path)


def write_jsonl(path: Path, records: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


@pytest.fixture
def vecs() -> np.ndarray:
    return clustered(60, DIM, seed=4)


def read_back(db: Path) -> augurdb.Collection:
    return augurdb.open(db, mode="r")


# ---------------------------------------------------------------- import: formats

def test_import_npy_then_info_search(tmp_path, vecs, call):
    np.save(tmp_path / "v.npy", vecs)
    proc = run("import", "db", "v.npy", "--batch", "25", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    summary = proc.stdout.strip().splitlines()[-1]
    assert summary.startswith("imported 60 vectors (dim 8) from v.npy")
    assert "vectors/s" in summary and " s (" in summary and "now holds 60" in summary

    with read_back(tmp_path / "db") as col:
        assert len(col) == 60 and col.dim == DIM and col.metric == "l2"
        assert sorted(col.ids()) == list(range(60))
        np.testing.assert_array_equal(col.get([7])[0].vector, vecs[7])

    # A second import continues the ids after the largest existing one.
    np.save(tmp_path / "w.npy", vecs[:5] + 100)
    proc = call("import", "db", "w.npy")
    assert proc.returncode == 0, proc.stderr
    assert "now holds 65" in proc.stdout
    with read_back(tmp_path / "db") as col:
        assert sorted(col.ids())[-5:] == [60, 61, 62, 63, 64]
        np.testing.assert_array_equal(col.get([62])[0].vector, vecs[2] + 100)

    proc = run("info", "db", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert info["count"] == 65 and info["dim"] == DIM and info["metric"] == "l2"
    assert (info["m"], info["ef_construction"], info["ef_search"]) == (16, 200, 64)
    assert info["format_version"] == 4
    assert info["checkpoint_sequence"] >= 1
    assert info["memory_bytes"] > 0 and info["checkpoint_bytes"] > 0
    assert info["disk_bytes"] >= info["checkpoint_bytes"] + info["wal_bytes"]
    assert info["simd"] == augurdb.build_info()["simd"]

    proc = run("info", "db", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    for key in ("count", "dim", "metric", "ef_construction", "memory", "wal", "checkpoint",
                "on disk", "checkpoint seq", "format version", "simd"):
        assert key in text
    assert "65" in text.split("count", 1)[1].splitlines()[0]

    # search: the table's first hit is the query's own row, at distance 0.
    proc = run("search", "db", "--from", "v.npy", "--row", "9", "-k", "3", "--ef", "50",
               cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert lines[0].split() == ["rank", "id", "distance", "metadata"]
    assert len(lines) == 4
    assert lines[1].split()[:3] == ["1", "9", "0"]

    vector = ",".join(f"{v:.9g}" for v in vecs[11])
    proc = run("search", "db", "--vector", vector, "-k", "2", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["metric"] == "l2" and out["k"] == 2 and len(out["hits"]) == 2
    assert out["hits"][0]["rank"] == 1 and out["hits"][0]["id"] == 11
    assert out["hits"][0]["distance"] == pytest.approx(0.0, abs=1e-4)
    assert out["hits"][1]["distance"] >= out["hits"][0]["distance"]


def test_import_npz_fvecs_bvecs(call, tmp_path, vecs):
    np.savez(tmp_path / "named.npz", other=np.zeros(3), vectors=vecs,
             ids=np.arange(1000, 1060))
    np.savez(tmp_path / "first.npz", labels=np.zeros(4), emb=vecs[:4])
    write_fvecs(tmp_path / "v.fvecs", vecs)
    bytes_ = np.arange(40, dtype=np.uint8).reshape(5, 8) * 3
    write_bvecs(tmp_path / "v.bvecs", bytes_)

    assert call("import", "npz", "named.npz").returncode == 0
    with read_back(tmp_path / "npz") as col:
        assert sorted(col.ids()) == list(range(1000, 1060))
        np.testing.assert_array_equal(col.get([1005])[0].vector, vecs[5])
    proc = call("import", "npz1", "first.npz")
    assert proc.returncode == 0, proc.stderr
    assert "imported 4 vectors" in proc.stdout

    proc = call("import", "fv", "v.fvecs", "--metric", "cosine")
    assert proc.returncode == 0, proc.stderr
    with read_back(tmp_path / "fv") as col:
        assert len(col) == 60 and col.metric == "cosine"
        unit = vecs[59] / np.linalg.norm(vecs[59])  # cosine stores unit vectors
        np.testing.assert_allclose(col.get([59])[0].vector, unit, rtol=1e-5, atol=1e-6)

    proc = call("import", "bv", "v.bvecs", "--metric", "ip")
    assert proc.returncode == 0, proc.stderr
    with read_back(tmp_path / "bv") as col:
        assert len(col) == 5 and col.metric == "ip"
        np.testing.assert_array_equal(col.get([4])[0].vector, bytes_[4].astype(np.float32))


def test_import_jsonl_with_str_ids_and_metadata(call, tmp_path, vecs):
    records = [{"id": f"doc-{i}", "vector": vecs[i].tolist(),
                "metadata": {"n": i, "tag": "é"} if i % 2 else None} for i in range(20)]
    write_jsonl(tmp_path / "d.jsonl", records)
    proc = call("import", "db", "d.jsonl", "--durability", "none")
    assert proc.returncode == 0, proc.stderr
    with read_back(tmp_path / "db") as col:
        assert len(col) == 20 and "doc-3" in col
        assert col.get(["doc-3"])[0].metadata == {"n": 3, "tag": "é"}
    proc = call("search", "db", "--from", "d.jsonl", "--row", "3", "-k", "1", "--json")
    assert proc.returncode == 0, proc.stderr
    hit = json.loads(proc.stdout)["hits"][0]
    assert hit["id"] == "doc-3" and hit["metadata"] == {"n": 3, "tag": "é"}
    proc = call("search", "db", "--from", "d.jsonl", "--row", "5", "-k", "1")
    assert proc.returncode == 0, proc.stderr
    assert "doc-5" in proc.stdout and '"tag": "é"' in proc.stdout

    # Default int ids cannot extend a string-id database.
    np.save(tmp_path / "v.npy", vecs[:2])
    proc = call("import", "db", "v.npy")
    assert_one_line_error(proc, "InvalidArgument", "string ids")


def test_import_jsonl_documents_then_search_text(call, tmp_path, vecs):
    words = ["apple pie recipes", "running shoes", None, "apples and pears", "the shoe shop"]
    records = [{"id": i, "vector": vecs[i].tolist(), "document": words[i % 5]}
               for i in range(20)]
    write_jsonl(tmp_path / "d.jsonl", records)
    proc = call("import", "db", "d.jsonl", "--tokenizer", "english")
    assert proc.returncode == 0, proc.stderr
    with read_back(tmp_path / "db") as col:
        assert col.get([3])[0].document == "apples and pears" and col.get([2])[0].document is None
        assert col.stats()["tokenizer"] == "english" and col.stats()["documents"] == 16
    proc = call("search", "db", "--text", "apple", "-k", "3", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["text"] == "apple" and len(out["hits"]) == 3
    assert all(h["document"] in ("apple pie recipes", "apples and pears") for h in out["hits"])
    assert all(h["score"] == h["text_score"] > 0 and h["distance"] is None for h in out["hits"])
    proc = call("search", "db", "--text", "shoes", "-k", "2")
    assert proc.returncode == 0, proc.stderr
    assert "score" in proc.stdout.splitlines()[0] and "running shoes" in proc.stdout
    # Hybrid: a vector query and a text query together.
    proc = call("search", "db", "--from", "d.jsonl", "--row", "1", "--text", "shoe", "-k", "2",
                "--fusion", "weighted", "--json")
    assert proc.returncode == 0, proc.stderr
    hits = json.loads(proc.stdout)["hits"]
    assert hits[0]["id"] == 1 and hits[0]["distance"] == 0.0
    proc = call("search", "db")
    assert proc.returncode == 2
    write_jsonl(tmp_path / "bad.jsonl", [{"vector": [1.0] * DIM, "document": 5}])
    proc = call("import", "db", "bad.jsonl")
    assert_one_line_error(proc, "InvalidArgument", "'document' must be a string or null")


def test_import_embed_then_search_by_text(call, tmp_path, minilm_files):
    """import --embed on the real MiniLM model; the function is stored, so a later search of
    a text needs no --embed."""
    spec = f"onnx:{minilm_files[0]},{minilm_files[1]}"
    docs = ["a text editor for programmers", "a web browser with tabs",
            "image manipulation program", "a compiler for the C language",
            "music player with playlists", "spreadsheet and office suite"]
    write_jsonl(tmp_path / "docs.jsonl",
                [{"id": f"pkg-{i}", "document": d, "metadata": {"n": i}}
                 for i, d in enumerate(docs)])
    proc = call("import", "db", "docs.jsonl", "--embed", spec, "--metric", "cosine",
                "--batch", "4")  # two batches: the second is embedded while the first indexes
    assert proc.returncode == 0, proc.stderr
    assert "imported 6 vectors (dim 384)" in proc.stdout
    proc = call("search", "db", "program to edit source code", "-k", "2", "--json")
    assert proc.returncode == 0, proc.stderr
    hits = json.loads(proc.stdout)["hits"]
    assert hits[0]["id"] == "pkg-0" and hits[0]["document"] == docs[0]
    proc = call("search", "db", "listen to songs", "-k", "1")
    assert proc.returncode == 0, proc.stderr
    assert "document" in proc.stdout.splitlines()[0] and "music player" in proc.stdout
    proc = call("search", "db", "web browser", "--text", "browser", "-k", "1", "--json")
    assert json.loads(proc.stdout)["hits"][0]["id"] == "pkg-1"
    proc = call("info", "db")
    assert "embedding function  onnx" in proc.stdout
    # Errors: a file with vectors, a non-jsonl file, a bad spec, a missing model, text and
    # --vector together, a text query on a database without a function.
    write_jsonl(tmp_path / "vec.jsonl", [{"vector": [1.0, 2.0], "document": "x"}])
    assert_one_line_error(call("import", "db", "vec.jsonl", "--embed", spec),
                          "InvalidArgument", "has a 'vector'")
    np.save(tmp_path / "v.npy", np.ones((2, 384), np.float32))
    assert_one_line_error(call("import", "db", "v.npy", "--embed", spec),
                          "InvalidArgument", "--embed reads documents from a .jsonl")
    assert_one_line_error(call("import", "db", "docs.jsonl", "--embed", "onnx:only-one"),
                          "InvalidArgument", "MODEL,TOKENIZER")
    assert_one_line_error(call("import", "db2", "docs.jsonl", "--embed",
                               f"onnx:missing.onnx,{minilm_files[1]}"), "NotFound", "missing.onnx")
    assert not (tmp_path / "db2").exists()
    assert call("search", "db", "words", "--vector", "1,2").returncode == 2
    np.save(tmp_path / "plain.npy", np.ones((2, 4), np.float32))
    assert call("import", "plain", "plain.npy").returncode == 0
    assert_one_line_error(call("search", "plain", "some words"), "EmbeddingFunctionError",
                          "no embedding function")


def test_import_ids_file_and_id_column(call, tmp_path, vecs):
    np.save(tmp_path / "v.npy", vecs[:4])
    (tmp_path / "ids.txt").write_text("10\n20\n30\n40\n")
    assert call("import", "a", "v.npy", "--ids", "ids.txt").returncode == 0
    with read_back(tmp_path / "a") as col:
        assert sorted(col.ids()) == [10, 20, 30, 40]
        np.testing.assert_array_equal(col.get([30])[0].vector, vecs[2])

    np.save(tmp_path / "ids.npy", np.array(["x", "y", "z", "w"]))
    assert call("import", "b", "v.npy", "--ids", "ids.npy").returncode == 0
    with read_back(tmp_path / "b") as col:
        assert sorted(col.ids()) == ["w", "x", "y", "z"]

    with_ids = np.hstack([np.array([[7], [5], [3], [1]], np.float32), vecs[:4]])
    np.save(tmp_path / "c.npy", with_ids)
    proc = call("import", "c", "c.npy", "--id-column")
    assert proc.returncode == 0, proc.stderr
    assert "(dim 8)" in proc.stdout
    with read_back(tmp_path / "c") as col:
        assert sorted(col.ids()) == [1, 3, 5, 7] and col.dim == DIM
        np.testing.assert_array_equal(col.get([5])[0].vector, vecs[1])

    (tmp_path / "short.txt").write_text("1\n2\n")
    proc = call("import", "d", "v.npy", "--ids", "short.txt")
    assert_one_line_error(proc, "InvalidArgument", "holds 2 ids but v.npy holds 4 vectors")
    (tmp_path / "dup.txt").write_text("1\n2\n2\n3\n")
    proc = call("import", "d", "v.npy", "--ids", "dup.txt")
    assert_one_line_error(proc, "InvalidArgument", "id 2 occurs more than once")
    assert not (tmp_path / "d").exists()

    # An id that already exists: refused up front (nothing written), or replaced with --upsert.
    proc = call("import", "a", "v.npy", "--ids", "ids.npy")
    assert_one_line_error(proc, "InvalidArgument", "has int ids")
    (tmp_path / "again.txt").write_text("50\n60\n40\n70\n")
    proc = call("import", "a", "v.npy", "--ids", "again.txt")
    assert_one_line_error(proc, "DuplicateId", "id 40 already exists")
    with read_back(tmp_path / "a") as col:
        assert len(col) == 4
    proc = call("import", "a", "v.npy", "--ids", "again.txt", "--upsert")
    assert proc.returncode == 0, proc.stderr
    with read_back(tmp_path / "a") as col:
        assert sorted(col.ids()) == [10, 20, 30, 40, 50, 60, 70]
        np.testing.assert_array_equal(col.get([40])[0].vector, vecs[2])


def test_import_hdf5(call, tmp_path, vecs):
    h5py = pytest.importorskip("h5py", reason="h5py comes with the [test] extra")
    with h5py.File(tmp_path / "ann.hdf5", "w") as f:
        f["train"] = vecs
        f["test"] = vecs[:3]
    proc = call("import", "db", "ann.hdf5")
    assert proc.returncode == 0, proc.stderr
    with read_back(tmp_path / "db") as col:
        assert len(col) == 60


def test_import_hdf5_without_h5py_says_how_to_get_it(tmp_path, call, monkeypatch):
    (tmp_path / "ann.hdf5").write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(64))
    monkeypatch.setitem(sys.modules, "h5py", None)  # as if not installed
    proc = call("import", "db", "ann.hdf5")
    assert_one_line_error(proc, "NotSupported", "pip install h5py")
    assert not (tmp_path / "db").exists()


def test_import_without_tqdm_still_works(tmp_path, vecs, call, monkeypatch):
    np.save(tmp_path / "v.npy", vecs)
    monkeypatch.setitem(sys.modules, "tqdm", None)  # as if not installed
    assert cli._progress(10, "x") is None
    proc = call("import", "db", "v.npy", "--batch", "7")
    assert proc.returncode == 0, proc.stderr
    assert "imported 60 vectors" in proc.stdout


# ---------------------------------------------------------------- import: bad input

def test_import_missing_file_and_bad_extension(tmp_path):
    proc = run("import", "db", "nope.npy", cwd=tmp_path)
    assert_one_line_error(proc, "NotFound", "nope.npy")
    (tmp_path / "v.csv").write_text("1,2,3\n")
    proc = run("import", "db", "v.csv", cwd=tmp_path)
    assert_one_line_error(proc, "InvalidArgument", "unsupported file type (.csv)")
    assert ".fvecs" in proc.stderr
    assert not (tmp_path / "db").exists()


def test_import_truncated_and_inconsistent_fvecs(tmp_path, vecs, call):
    write_fvecs(tmp_path / "v.fvecs", vecs[:10])
    data = (tmp_path / "v.fvecs").read_bytes()
    (tmp_path / "cut.fvecs").write_bytes(data[:-6])
    proc = run("import", "db", "cut.fvecs", cwd=tmp_path)
    assert_one_line_error(proc, "InvalidArgument", "truncated")
    assert "row 9 is incomplete" in proc.stderr
    assert not (tmp_path / "db").exists()

    bad = bytearray(data)
    bad[3 * 36:3 * 36 + 4] = struct.pack("<i", 5)  # row 3 claims dim 5
    (tmp_path / "bad.fvecs").write_bytes(bytes(bad))
    proc = call("import", "db", "bad.fvecs")
    assert_one_line_error(proc, "InvalidArgument", "row 3 declares dimension 5")
    assert not (tmp_path / "db").exists()


def test_import_ragged_and_malformed_jsonl(tmp_path, vecs, call):
    records = [{"id": i, "vector": vecs[i].tolist()} for i in range(5)]
    records[3]["vector"] = records[3]["vector"][:5]
    write_jsonl(tmp_path / "ragged.jsonl", records)
    proc = run("import", "db", "ragged.jsonl", cwd=tmp_path)
    assert_one_line_error(proc, "InvalidArgument", "line 4: vector has 5 values, expected 8")
    assert not (tmp_path / "db").exists()

    (tmp_path / "broken.jsonl").write_text('{"id": 1, "vector": [1, 2]}\n{"id": 2, "vec\n')
    proc = call("import", "db", "broken.jsonl")
    assert_one_line_error(proc, "InvalidArgument", "line 2: invalid JSON")



def _bad_input_files(tmp_path: Path, vecs: np.ndarray) -> list[tuple[str, str]]:
    """(file name, what its one-line error must say) for files that are not what they claim."""
    notes = b"meeting notes, not vectors\n"
    (tmp_path / "notes.npy").write_bytes(notes)
    (tmp_path / "empty.npy").write_bytes(b"")
    np.save(tmp_path / "whole.npy", vecs)
    (tmp_path / "cut.npy").write_bytes((tmp_path / "whole.npy").read_bytes()[:200])
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    header = (tmp_path / "whole.npy").read_bytes()[:128].replace(b"'descr'", b"'dscr' ")
    (tmp_path / "header.npy").write_bytes(header + bytes(64))
    (tmp_path / "notes.npz").write_bytes(notes)
    with zipfile.ZipFile(tmp_path / "member.npz", "w") as archive:
        archive.writestr("vectors.npy", notes)
    np.savez(tmp_path / "objects.npz", vectors=np.array([[{}]], dtype=object))
    (tmp_path / "notes.fvecs").write_bytes(notes)
    write_bvecs(tmp_path / "v.bvecs", (vecs[:6] * 10).astype(np.uint8))
    bvecs = bytearray((tmp_path / "v.bvecs").read_bytes())
    bvecs[2 * 12:2 * 12 + 4] = struct.pack("<i", 9)  # row 2 claims dim 9
    (tmp_path / "ragged.bvecs").write_bytes(bytes(bvecs))
    (tmp_path / "notes.hdf5").write_bytes(notes)
    (tmp_path / "latin1.jsonl").write_bytes(b'{"vector": [1, 2]}\n{"vector": [1, 2]}\n'
                                            b'{"vector": [3, 4], "metadata": {"k": "caf\xe9"}}\n')
    (tmp_path / "list.jsonl").write_text('{"vector": [1, 2]}\n\n[1, 2]\n')
    return [
        ("notes.npy", "notes.npy: not a .npy file (bad magic"),
        ("empty.npy", "not a .npy file (bad magic: expected b'\\x93NUMPY', found an empty file)"),
        ("cut.npy", "truncated .npy file: its header declares shape (60, 8)"),
        ("objects.npy", "holds Python objects (dtype object), not numbers"),
        ("header.npy", "header.npy: corrupt .npy header"),
        ("notes.npz", "notes.npz: not a .npz file (bad magic: expected a zip archive"),
        ("member.npz", "member.npz['vectors']: not a .npy file (bad magic"),
        ("objects.npz", "objects.npz['vectors']: holds Python objects"),
        ("notes.fvecs", "notes.fvecs: not a .fvecs file (row 0 declares dimension"),
        ("ragged.bvecs", "row 2 declares dimension 9 but row 0 declares 8"),
        ("notes.hdf5", "notes.hdf5: not an HDF5 file (bad magic"),
        ("latin1.jsonl", "latin1.jsonl line 3: not UTF-8 text (byte 0xe9"),
        ("list.jsonl", "list.jsonl line 3: expected a JSON object, got list"),
    ]


def test_import_wrong_files_say_what_they_are_not(tmp_path, vecs, call):
    """Issue 17: one line naming what the file is not, exit 1, never NumPy's pickle advice."""
    cases = _bad_input_files(tmp_path, vecs)
    proc = run("import", "db", "notes.npy", cwd=tmp_path)  # the case, as a user runs it
    assert_one_line_error(proc, "InvalidArgument", "notes.npy: not a .npy file (bad magic")
    for name, message in cases:
        proc = call("import", "db", name)
        assert_one_line_error(proc, "InvalidArgument", message)
        assert "pickle" not in proc.stderr.replace("never unpickles", "")
        assert not (tmp_path / "db").exists(), name
    # The same readers serve --ids and search --from.
    np.save(tmp_path / "v.npy", vecs)
    assert_one_line_error(call("import", "db", "v.npy", "--ids", "notes.npy"), "InvalidArgument",
                          "notes.npy: not a .npy file (bad magic")
    (tmp_path / "ids.txt").write_bytes(b"1\n2\n\xff\n")
    assert_one_line_error(call("import", "db", "v.npy", "--ids", "ids.txt"), "InvalidArgument",
                          "ids.txt line 3: not UTF-8 text")
    assert_one_line_error(call("search", "nodb", "--from", "notes.npy"), "InvalidArgument",
                          "not a .npy file")


def test_import_hdf5_names_the_missing_dataset(tmp_path, vecs, call):
    h5py = pytest.importorskip("h5py", reason="h5py comes with the [test] extra")
    with h5py.File(tmp_path / "ann.hdf5", "w") as f:
        f["base"] = vecs
        f.create_group("neighbors")
    proc = call("import", "db", "ann.hdf5")
    assert_one_line_error(proc, "InvalidArgument",
                          "ann.hdf5 has no dataset 'train' (top-level entries: base, neighbors)")
    proc = call("import", "db", "ann.hdf5", "--dataset", "neighbors")
    assert_one_line_error(proc, "InvalidArgument", "ann.hdf5['neighbors'] is a group")
    assert not (tmp_path / "db").exists()
    assert call("import", "db", "ann.hdf5", "--dataset", "base").returncode == 0
    with read_back(tmp_path / "db") as col:
        assert len(col) == 60

def test_import_nan_rejected_before_any_write(tmp_path, vecs, call):
    bad = vecs.copy()
    bad[45, 2] = np.nan
    np.save(tmp_path / "nan.npy", bad)
    proc = run("import", "db", "nan.npy", "--batch", "10", cwd=tmp_path)
    assert_one_line_error(proc, "InvalidVector", "row 45 has a non-finite value (NaN)")
    assert "nothing was imported" in proc.stderr
    assert not (tmp_path / "db").exists()  # not even an empty database is left behind

    # Into an existing database: it keeps exactly what it had.
    np.save(tmp_path / "ok.npy", vecs[:3])
    assert call("import", "db", "ok.npy").returncode == 0
    proc = call("import", "db", "nan.npy", "--batch", "10")
    assert_one_line_error(proc, "InvalidVector", "NaN")
    with read_back(tmp_path / "db") as col:
        assert len(col) == 3


def test_import_wrong_dim_for_existing_db(tmp_path, vecs, call):
    np.save(tmp_path / "v.npy", vecs[:3])
    np.save(tmp_path / "w.npy", np.ones((2, DIM + 1), np.float32))
    assert call("import", "db", "v.npy").returncode == 0
    proc = run("import", "db", "w.npy", cwd=tmp_path)
    assert_one_line_error(proc, "DimensionMismatch", "dim")
    with read_back(tmp_path / "db") as col:
        assert len(col) == 3


def test_import_into_locked_db(tmp_path, vecs, call):
    np.save(tmp_path / "v.npy", vecs[:3])
    with augurdb.open(tmp_path / "db", dim=DIM):
        proc = run("import", "db", "v.npy", cwd=tmp_path)
        assert_one_line_error(proc, "DatabaseLocked", "open for writing")
        # Readers still work beside the writer.
        assert call("info", "db").returncode == 0


def test_debug_prints_traceback(tmp_path, call):
    proc = run("--debug", "import", "db", "nope.npy", cwd=tmp_path)
    assert proc.returncode == 1
    assert "Traceback" in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("NotFound: ")
    proc = call("import", "db", "nope.npy", "--debug")
    assert proc.returncode == 1 and "Traceback" in proc.stderr


def test_failure_mid_import_reports_what_was_kept(tmp_path, vecs, monkeypatch, capsys):
    np.save(tmp_path / "v.npy", vecs)
    real_add = augurdb.Collection.add
    calls = []

    def flaky_add(self, ids, vectors, **kwargs):
        calls.append(len(ids))
        if len(calls) == 3:
            raise errors.StorageError("disk full (simulated)")
        return real_add(self, ids, vectors, **kwargs)

    monkeypatch.setattr(augurdb.Collection, "add", flaky_add)
    rc = cli.main(["import", str(tmp_path / "db"), str(tmp_path / "v.npy"), "--batch", "25"])
    err = capsys.readouterr().err.strip()
    assert rc == 1
    assert err.startswith("StorageError: disk full (simulated)")
    assert "50 of 60 vectors (rows 0..49) were imported and kept" in err
    monkeypatch.undo()
    with read_back(tmp_path / "db") as col:
        assert sorted(col.ids()) == list(range(50))


# ---------------------------------------------------------------- search / info errors

def test_search_errors(call, tmp_path, vecs):
    np.save(tmp_path / "v.npy", vecs[:5])
    assert call("import", "db", "v.npy").returncode == 0
    proc = call("search", "db", "--vector", "1,2,3")
    assert_one_line_error(proc, "DimensionMismatch", "dim")
    proc = call("search", "db", "--vector", "1,x,3")
    assert_one_line_error(proc, "InvalidArgument", "--vector")
    proc = call("search", "db", "--from", "v.npy", "--row", "5")
    assert_one_line_error(proc, "InvalidArgument", "--row 5 is out of range")
    proc = call("search", "db", "--from", "v.npy", "--where", "tag == 'a'")
    assert_one_line_error(proc, "InvalidFilter", "--where")
    proc = call("search", "db", "--from", "v.npy", "--where", '{"tag": {"$regex": "a"}}')
    assert_one_line_error(proc, "InvalidFilter", "$regex")
    proc = call("search", "missing", "--vector", "1")
    assert_one_line_error(proc, "NotFound", "missing")
    proc = call("search", "db")  # neither --vector, --from nor --text
    assert proc.returncode == 2 and "needs a query text, --vector, --from or --text" in proc.stderr
    proc = call("search", "db", "--vector", "1", "-k", "0")
    assert proc.returncode == 2


def test_info_missing_db(call, tmp_path):
    proc = call("info", "nothing-here")
    assert_one_line_error(proc, "NotFound", "nothing-here")
    assert not (tmp_path / "nothing-here").exists()  # read-only: never creates


def test_checkpoint_format_version_reader(tmp_path):
    db = tmp_path / "db"
    db.mkdir()
    (db / "checkpoint-000002.adb").write_bytes(b"AUGURCKP" + struct.pack("<I", 7) + bytes(8))
    (db / "checkpoint-000010.adb").write_bytes(b"AUGURCKP" + struct.pack("<I", 9) + bytes(8))
    assert cli.checkpoint_format_version(str(db)) == 9  # the newest by sequence
    (db / "checkpoint-000011.adb").write_bytes(b"NOTMAGIC" + bytes(8))
    with pytest.raises(errors.CorruptDatabase):
        cli.checkpoint_format_version(str(db))


# ---------------------------------------------------------------- usage, version, bench

def test_usage_errors_exit_2(tmp_path, call):
    proc = run("frobnicate", cwd=tmp_path)
    assert proc.returncode == 2 and "invalid choice" in proc.stderr
    proc = call()
    assert proc.returncode == 2 and "import" in proc.stderr
    proc = call("import", "db")
    assert proc.returncode == 2
    proc = call("import", "db", "v.npy", "--metric", "hamming")
    assert proc.returncode == 2
    proc = call("import", "db", "v.npy", "--ids", "x.txt", "--id-column")
    assert proc.returncode == 2
    np.savez(tmp_path / "v.npz", vectors=np.ones((2, 3)), ids=np.arange(2))
    proc = call("import", "db", "v.npz", "--id-column")
    assert proc.returncode == 2 and "already holds ids" in proc.stderr
    assert not (tmp_path / "db").exists()
    proc = call("--help")
    assert proc.returncode == 0 and "search" in proc.stdout
    assert call("import", "--help").returncode == 0


def test_version(tmp_path, call):
    proc = run("version", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"augurdb {augurdb.__version__}\n")
    assert augurdb.build_info()["simd"] in proc.stdout
    proc = call("version", "--json")
    info = json.loads(proc.stdout)
    assert info["version"] == augurdb.__version__ and info["compiler"]


def test_bench_delegates(tmp_path, capsys):
    proc = run("bench", "fashion-mnist", "--help", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "hnswlib" in proc.stdout and "--quick" in proc.stdout
    # The benchmark's own argument checks answer (exit 2), so arguments reach it.
    assert cli.main(["bench", "--runs", "0"]) == 2
    assert "--runs" in capsys.readouterr().err
    assert cli.main(["bench", "imagenet"]) == 2
    assert "unknown data set" in capsys.readouterr().err


def test_python_dash_m_and_console_script_agree():
    # pyproject declares augurdb = "augurdb.cli:main"; __main__ calls the same function.
    import augurdb.__main__ as entry

    assert entry.main is cli.main
    assert os.path.basename(cli.__file__) == "cli.py"


def test_verify_ok_and_corrupt(tmp_path):
    vecs = np.random.default_rng(9).random((50, 4), dtype=np.float32)
    np.save(tmp_path / "v.npy", vecs)
    assert run("import", "db", "v.npy", cwd=tmp_path).returncode == 0
    proc = run("verify", "db", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.startswith("ok: 50 records"), proc.stdout
    ckpt = sorted((tmp_path / "db").glob("checkpoint-*.adb"))[-1]
    data = bytearray(ckpt.read_bytes())
    data[4096 + 8] ^= 0xFF  # inside the first section
    ckpt.write_bytes(bytes(data))
    proc = run("verify", "db", cwd=tmp_path)
    assert proc.returncode == 1 and "CorruptDatabase" in proc.stderr and "offset" in proc.stderr
