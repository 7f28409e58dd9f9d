"""Reading vectors (ids, metadata) from the files ``augurdb import`` and ``search --from`` take.

Each reader checks the file's magic and header itself before handing it to NumPy or h5py, so a
wrong or damaged file gives one line saying what it is not ("not a .npy file (bad magic ...)")
instead of a library's own advice: NumPy's answer to a text file named ``.npy`` is to suggest
``allow_pickle=True``, which would run code from the file. Nothing here unpickles.

Every error is :class:`augurdb.errors.InvalidArgument` (``NotFound`` for a missing file,
``NotSupported`` when h5py is needed but absent), with the file name and, where it helps, the
row, line or member at fault.
"""

from __future__ import annotations

import json
import os
import struct
import zipfile
from pathlib import Path
from typing import IO, Any, Callable

import numpy as np
import numpy.typing as npt

from . import errors

FORMATS = (".npy", ".npz", ".fvecs", ".bvecs", ".hdf5", ".h5", ".jsonl")
FORMATS_TEXT = ".npy, .npz, .fvecs, .bvecs, .hdf5/.h5 or .jsonl"
CHUNK = 65536  # rows per validation step (bounded memory on memory-mapped files)
DEFAULT_HDF5_DATASET = "train"  # the ann-benchmarks layout

_NPY_MAGIC = b"\x93NUMPY"
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_MAX_XVECS_DIM = 1 << 20


class Source:
    """Vectors (plus optional ids, metadata and documents) read from one input file.

    ``vectors`` is anything 2-D that slices by rows (a NumPy array, a memory map, an h5py
    dataset); rows are converted to float32 one batch at a time, so big ``.npy``/``.fvecs`` files
    are never loaded whole. ``first_col`` is 1 when column 0 holds ids (``--id-column``).
    """

    def __init__(self, path: str, vectors: Any, ids: Any = None,
                 metadata: list[dict[str, Any] | None] | None = None,
                 closer: Callable[[], None] | None = None,
                 documents: list[str | None] | None = None) -> None:
        self.path = path
        self.name = os.path.basename(path)
        self.vectors = vectors
        self.ids = ids
        self.metadata = metadata
        self.documents = documents
        self.first_col = 0
        self._closer = closer

    @property
    def count(self) -> int:
        if self.vectors is None:  # documents to embed
            return len(self.documents or [])
        return int(self.vectors.shape[0])

    @property
    def dim(self) -> int:
        """Vector length; 0 for documents that an embedding function will turn into vectors."""
        if self.vectors is None:
            return 0
        return int(self.vectors.shape[1]) - self.first_col

    def rows(self, start: int, stop: int) -> npt.NDArray[np.float32]:
        """Rows [start, stop) as a float32 C-contiguous (n, dim) array."""
        block = np.asarray(self.vectors[start:stop])
        if self.first_col:
            block = block[:, self.first_col:]
        return np.ascontiguousarray(block, dtype=np.float32)

    def take_id_column(self) -> None:
        """Column 0 becomes the ids (integral values), the rest the vectors."""
        if self.vectors.shape[1] < 2:
            raise errors.InvalidArgument(
                f"{self.name}: --id-column needs at least 2 columns, got {self.vectors.shape[1]}")
        column = np.empty(self.count, dtype=np.float64)
        for start in range(0, self.count, CHUNK):
            column[start:start + CHUNK] = np.asarray(self.vectors[start:start + CHUNK, 0],
                                                     dtype=np.float64)
        bad = np.flatnonzero(~np.isfinite(column) | (column != np.round(column))
                             | (np.abs(column) >= 2.0**63))
        if bad.size:
            raise errors.InvalidArgument(
                f"{self.name} row {bad[0]}: id column value {column[bad[0]]!r} is not an integer")
        self.ids = column.astype(np.int64)
        self.first_col = 1

    def close(self) -> None:
        if self._closer is not None:
            self._closer()
            self._closer = None


def _check_matrix(name: str, array: Any, what: str = "array") -> None:
    shape = tuple(array.shape)
    if len(shape) != 2:
        raise errors.InvalidArgument(f"{name}: expected a 2-D (n, dim) {what}, got shape {shape}")
    kind = np.dtype(array.dtype).kind
    if kind not in "fiu":
        raise errors.InvalidArgument(f"{name}: expected numeric vectors, got dtype {array.dtype}")
    if shape[1] == 0:
        raise errors.InvalidArgument(f"{name}: vectors have dimension 0")


def _shown(head: bytes) -> str:
    """The first bytes of a file, for a message that says what was found instead."""
    return repr(head[:8]) if head else "an empty file"


# ---- .npy and .npz


class _NpyHeader:
    """What a .npy header declares; ``data_bytes`` is the size its data must have."""

    def __init__(self, shape: tuple[int, ...], dtype: np.dtype[Any], offset: int) -> None:
        self.shape, self.dtype, self.offset = shape, dtype, offset
        self.data_bytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize


def _read_npy_header(stream: IO[bytes], where: str) -> _NpyHeader:
    """Checks magic, version and header of the .npy data at ``stream``'s start.

    ``where`` names the file (or ``file['member']``) in the messages; every failure is an
    InvalidArgument that says what the bytes are not, never NumPy's pickle advice.
    """
    head = stream.read(len(_NPY_MAGIC))
    if head != _NPY_MAGIC:
        raise errors.InvalidArgument(
            f"{where}: not a .npy file (bad magic: expected {_NPY_MAGIC!r}, found {_shown(head)})")
    version = stream.read(2)
    if len(version) < 2 or (version[0], version[1]) not in ((1, 0), (2, 0), (3, 0)):
        raise errors.InvalidArgument(
            f"{where}: not a .npy file this NumPy reads (format version {tuple(version)})")
    try:
        if version[0] == 1:
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
        else:  # 3.0 differs from 2.0 only in allowing UTF-8 in field names
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
    except (ValueError, SyntaxError, OSError, EOFError) as exc:
        reason = " ".join(str(exc).split())[:160]
        raise errors.InvalidArgument(f"{where}: corrupt .npy header ({reason})") from None
    del fortran  # rows() copies into C order either way
    if dtype.hasobject:
        raise errors.InvalidArgument(
            f"{where}: holds Python objects (dtype {dtype}), not numbers; AugurDB reads numeric "
            "arrays only and never unpickles")
    return _NpyHeader(tuple(int(x) for x in shape), dtype, stream.tell())


def _open_binary(path: str) -> IO[bytes]:
    try:
        return open(path, "rb")
    except OSError as exc:
        raise errors.StorageError(f"cannot read {path}: {exc.strerror}") from None


def _load_npy_array(path: str, mmap: bool) -> np.ndarray[Any, Any]:
    """A .npy file's array, memory-mapped when ``mmap``; header and size checked first."""
    name = os.path.basename(path)
    with _open_binary(path) as f:
        header = _read_npy_header(f, name)
    have = os.path.getsize(path) - header.offset
    if have < header.data_bytes:
        raise errors.InvalidArgument(
            f"{name}: truncated .npy file: its header declares shape {header.shape} of "
            f"{header.dtype} ({header.data_bytes:,} bytes of data) but {max(have, 0):,} follow")
    try:
        array: np.ndarray[Any, Any] = np.load(path, mmap_mode="r" if mmap else None,
                                              allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise errors.InvalidArgument(f"{name}: unreadable .npy file ({exc})") from None
    return array


def _load_npy(path: str) -> Source:
    array = _load_npy_array(path, mmap=True)
    _check_matrix(os.path.basename(path), array)
    return Source(path, array)


def _load_npz(path: str) -> Source:
    name = os.path.basename(path)
    with _open_binary(path) as f:
        head = f.read(4)
    # A zip starts with a local file header, or with the end record when it holds no file.
    if head not in (b"PK\x03\x04", b"PK\x05\x06"):
        raise errors.InvalidArgument(
            f"{name}: not a .npz file (bad magic: expected a zip archive, found {_shown(head)})")
    try:
        with zipfile.ZipFile(path) as archive:
            headers: dict[str, _NpyHeader] = {}
            for member in archive.namelist():
                key = member[:-4] if member.endswith(".npy") else member
                with archive.open(member) as stream:
                    headers[key] = _read_npy_header(stream, f"{name}['{key}']")
            if "vectors" in headers:
                key = "vectors"
            else:
                candidates = [k for k, h in headers.items() if len(h.shape) == 2 and k != "ids"]
                if not candidates:
                    shapes = ", ".join(f"{k}{h.shape}" for k, h in headers.items()) or "none"
                    raise errors.InvalidArgument(
                        f"{name} has no 'vectors' array and no 2-D array (arrays: {shapes})")
                key = candidates[0]
            with np.load(path, allow_pickle=False) as arrays:
                vectors = arrays[key]
                ids = arrays["ids"] if "ids" in headers else None
    except errors.AugurDBError:
        raise  # already says what is wrong (InvalidArgument is also a ValueError)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        reason = " ".join(str(exc).split())[:160]
        raise errors.InvalidArgument(f"{name}: corrupt .npz file ({reason})") from None
    _check_matrix(f"{name}['{key}']", vectors)
    if ids is not None:
        ids = _check_id_array(f"{name}['ids']", ids)
    return Source(path, vectors, ids=ids)


# ---- TEXMEX .fvecs / .bvecs


def _load_xvecs(path: str, ext: str) -> Source:
    """TEXMEX .fvecs / .bvecs: per row, an int32 dim then dim float32 / uint8 values.

    The format has no magic; a file is one only if row 0's dimension is plausible and every row
    has the same size and repeats it."""
    name = os.path.basename(path)
    size = os.path.getsize(path)
    if size == 0:
        raise errors.InvalidArgument(f"{name} is empty")
    if size < 4:
        raise errors.InvalidArgument(f"{name} is truncated: {size} bytes, less than one header")
    with _open_binary(path) as f:
        (dim,) = struct.unpack("<i", f.read(4))
    if not 0 < dim <= _MAX_XVECS_DIM:
        raise errors.InvalidArgument(
            f"{name}: not a {ext} file (row 0 declares dimension {dim}; expected 1.."
            f"{_MAX_XVECS_DIM})")
    item = 4 if ext == ".fvecs" else 1
    row_bytes = 4 + dim * item
    if size % row_bytes:
        whole = size // row_bytes
        raise errors.InvalidArgument(
            f"{name} is truncated or not a {ext} file: {size} bytes is not a whole number of "
            f"{row_bytes}-byte rows (dim {dim}); row {whole} is incomplete")
    n = size // row_bytes
    if ext == ".fvecs":
        raw = np.memmap(path, dtype="<i4", mode="r", shape=(n, dim + 1))
        dims = raw[:, 0]
        vectors = raw.view("<f4")[:, 1:]
    else:
        raw = np.memmap(path, dtype=np.uint8, mode="r", shape=(n, row_bytes))
        dims = np.ascontiguousarray(raw[:, :4]).view("<i4").reshape(-1)
        vectors = raw[:, 4:]
    bad = np.flatnonzero(dims != dim)
    if bad.size:
        raise errors.InvalidArgument(
            f"{name}: not a valid {ext} file: row {bad[0]} declares dimension "
            f"{int(dims[bad[0]])} but row 0 declares {dim} (inconsistent record sizes)")
    return Source(path, vectors)


# ---- HDF5


def _has_hdf5_magic(path: str) -> bool:
    """The HDF5 signature sits at byte 0, or after a user block at 512, 1024, 2048, ..."""
    size = os.path.getsize(path)
    with _open_binary(path) as f:
        offset = 0
        while offset + len(_HDF5_MAGIC) <= size:
            f.seek(offset)
            if f.read(len(_HDF5_MAGIC)) == _HDF5_MAGIC:
                return True
            offset = 512 if offset == 0 else offset * 2
    return False


def _load_hdf5(path: str, dataset: str) -> Source:
    name = os.path.basename(path)
    if not _has_hdf5_magic(path):
        with _open_binary(path) as f:
            head = f.read(8)
        raise errors.InvalidArgument(
            f"{name}: not an HDF5 file (bad magic: expected {_HDF5_MAGIC!r}, found "
            f"{_shown(head)})")
    try:
        import h5py  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError:
        raise errors.NotSupported(
            f"reading {name} needs h5py, which is not installed: pip install h5py") from None
    try:
        handle = h5py.File(path, "r")
    except OSError as exc:
        reason = " ".join(str(exc).split())[:160]
        raise errors.InvalidArgument(f"{name}: corrupt HDF5 file ({reason})") from None
    try:
        if dataset not in handle:
            keys = ", ".join(sorted(handle.keys())) or "none"
            raise errors.InvalidArgument(
                f"{name} has no dataset {dataset!r} (top-level entries: {keys}); name one with "
                "--dataset")
        vectors = handle[dataset]
        if not isinstance(vectors, h5py.Dataset):
            raise errors.InvalidArgument(f"{name}['{dataset}'] is a group, not a dataset")
        _check_matrix(f"{name}['{dataset}']", vectors, "dataset")
    except errors.AugurDBError:
        handle.close()
        raise
    return Source(path, vectors, closer=handle.close)


# ---- JSON lines


def _text_lines(path: str) -> list[tuple[int, str]]:
    """(line number, text) of each non-blank line of a UTF-8 text file.

    Decoded line by line, so a binary file or a stray Latin-1 byte is reported with its line
    instead of a UnicodeDecodeError that names only a byte offset."""
    name = os.path.basename(path)
    out: list[tuple[int, str]] = []
    with _open_binary(path) as f:
        for lineno, raw in enumerate(f, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise errors.InvalidArgument(
                    f"{name} line {lineno}: not UTF-8 text (byte {raw[exc.start]:#04x} at column "
                    f"{exc.start + 1})") from None
            if line.strip():
                out.append((lineno, line))
    return out


def _load_jsonl(path: str, documents_only: bool = False) -> Source:
    """Records from a JSON Lines file. ``documents_only`` (import --embed): every line needs a
    str 'document' and no 'vector' (the embedding function computes them)."""
    name = os.path.basename(path)
    ids: list[Any] = []
    vectors: list[list[float]] = []
    metadata: list[dict[str, Any] | None] = []
    documents: list[str | None] = []
    dim = 0
    id_kind: type | None = None
    have_ids: bool | None = None
    first_line = 0
    for lineno, line in _text_lines(path):
        where = f"{name} line {lineno}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise errors.InvalidArgument(
                f"{where}: invalid JSON: {exc.msg} (column {exc.colno})") from None
        if not isinstance(obj, dict):
            raise errors.InvalidArgument(
                f"{where}: expected a JSON object, got {type(obj).__name__}")
        vector = obj.get("vector")
        if documents_only:
            if vector is not None:
                raise errors.InvalidArgument(
                    f"{where}: has a 'vector', but --embed computes vectors from documents; "
                    "drop --embed to import the file's vectors")
            if not isinstance(obj.get("document"), str):
                raise errors.InvalidArgument(f"{where}: --embed needs a 'document' string")
            vector = [0.0]  # placeholder: only documents are kept
        if not isinstance(vector, list) or not vector:
            raise errors.InvalidArgument(f"{where}: 'vector' must be a non-empty list")
        if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in vector):
            raise errors.InvalidArgument(f"{where}: 'vector' must hold only numbers")
        if not vectors:
            dim, first_line = len(vector), lineno
        elif len(vector) != dim:
            raise errors.InvalidArgument(
                f"{where}: vector has {len(vector)} values, expected {dim} (as on line "
                f"{first_line}); ragged rows")
        has_id = "id" in obj
        if have_ids is None:
            have_ids = has_id
        elif has_id != have_ids:
            raise errors.InvalidArgument(
                f"{where}: {'has' if has_id else 'lacks'} an 'id' but line {first_line} "
                f"{'does not' if has_id else 'does'}; give every line an id or none")
        if has_id:
            value = obj["id"]
            if isinstance(value, bool) or not isinstance(value, (int, str)):
                raise errors.InvalidArgument(
                    f"{where}: 'id' must be an int or a str, not {type(value).__name__}")
            if id_kind is None:
                id_kind = type(value)
            elif type(value) is not id_kind:
                raise errors.InvalidArgument(
                    f"{where}: id {value!r} is {type(value).__name__} but earlier ids are "
                    f"{id_kind.__name__}; use one kind")
            ids.append(value)
        meta = obj.get("metadata")
        if meta is not None and not isinstance(meta, dict):
            raise errors.InvalidArgument(f"{where}: 'metadata' must be an object or null")
        metadata.append(meta)
        document = obj.get("document")
        if document is not None and not isinstance(document, str):
            raise errors.InvalidArgument(f"{where}: 'document' must be a string or null")
        documents.append(document)
        vectors.append(vector)
    if not vectors:
        raise errors.InvalidArgument(f"{name} holds no records")
    array = np.array(vectors, dtype=np.float64)
    id_array: Any = None
    if have_ids:
        id_array = np.array(ids, dtype=np.int64) if id_kind is int else ids
    keep_metadata = metadata if any(m is not None for m in metadata) else None
    keep_documents = documents if any(d is not None for d in documents) else None
    return Source(path, None if documents_only else array, ids=id_array, metadata=keep_metadata,
                  documents=keep_documents)


# ---- entry points


def _check_path(path: str) -> None:
    if not os.path.exists(path):
        raise errors.NotFound(f"no such file: {path}")
    if os.path.isdir(path):
        raise errors.InvalidArgument(f"{path} is a directory, not a file")


def load_source(path: str, dataset: str = DEFAULT_HDF5_DATASET,
                documents_only: bool = False) -> Source:
    """Opens an input file by its extension (see FORMATS); ``dataset`` names the HDF5 one.
    ``documents_only``: a .jsonl file of documents to embed (no vectors)."""
    ext = Path(path).suffix.lower()
    if documents_only and ext != ".jsonl":
        raise errors.InvalidArgument(
            f"{os.path.basename(path)}: --embed reads documents from a .jsonl file "
            "({\"id\", \"document\", \"metadata\"} per line)")
    if ext not in FORMATS:
        shown = ext or "no extension"
        raise errors.InvalidArgument(
            f"{os.path.basename(path)}: unsupported file type ({shown}); use {FORMATS_TEXT}")
    _check_path(path)
    if ext == ".npy":
        return _load_npy(path)
    if ext == ".npz":
        return _load_npz(path)
    if ext in (".fvecs", ".bvecs"):
        return _load_xvecs(path, ext)
    if ext in (".hdf5", ".h5"):
        return _load_hdf5(path, dataset)
    return _load_jsonl(path, documents_only)


def _check_id_array(name: str, ids: Any) -> Any:
    """int64 array or list[str] from an array of ids."""
    ids = np.asarray(ids)
    if ids.ndim != 1:
        raise errors.InvalidArgument(f"{name}: ids must be 1-D, got shape {ids.shape}")
    if ids.dtype.kind in "iu":
        if ids.dtype == np.uint64 and ids.size and int(ids.max()) >= 2**63:
            raise errors.InvalidArgument(f"{name}: integer ids must fit in int64")
        return ids.astype(np.int64)
    if ids.dtype.kind == "U":
        return [str(x) for x in ids.tolist()]
    raise errors.InvalidArgument(f"{name}: ids must be integers or strings, got dtype {ids.dtype}")


def load_ids(path: str) -> Any:
    """--ids FILE: a .npy 1-D array, or text with one id per line (ints if all parse as ints)."""
    name = os.path.basename(path)
    _check_path(path)
    if path.lower().endswith(".npy"):
        return _check_id_array(name, _load_npy_array(path, mmap=False))
    numbered = _text_lines(path)
    if not numbered:
        raise errors.InvalidArgument(f"{name} holds no ids")
    # A blank line inside the list would shift every later id onto the wrong row.
    expected = 1
    for lineno, _ in numbered:
        if lineno != expected:
            raise errors.InvalidArgument(f"{name} line {expected}: empty id")
        expected += 1
    lines = [line.strip() for _, line in numbered]
    try:
        values = [int(x) for x in lines]
    except ValueError:
        return lines
    if any(not -(2**63) <= v < 2**63 for v in values):
        raise errors.InvalidArgument(f"{name}: integer ids must fit in int64")
    return np.array(values, dtype=np.int64)
