"""The ``augurdb`` command line: import, search, info, bench, version.

Run ``augurdb --help`` (or ``python -m augurdb --help``). Exit status: 0 ok, 1 error, 2 usage
error, 130 interrupted. Errors print as one line, ``ClassName: message``; ``--debug`` adds the
traceback. Optional helpers are imported lazily: ``tqdm`` (progress bars, none without it) and
``h5py`` (only to read ``.hdf5`` files).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import struct
import sys
import time
import traceback
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from . import errors
from .cli_bench import BENCH_DATASETS, BENCH_MODULE, run_bench
from .cli_embed import SPEC_HELP, PrefetchingEmbedder, embedding_from_spec
from .vector_files import CHUNK as _CHUNK
from .vector_files import DEFAULT_HDF5_DATASET, Source, load_ids, load_source
from .vector_files import FORMATS_TEXT as _FORMATS_TEXT

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

_CHECKPOINT_MAGIC = b"AUGURCKP"


class UsageError(Exception):
    """Arguments that parse but do not fit together; exit status 2 like argparse's errors."""


# --------------------------------------------------------------------------------------------
# Helpers


def _progress(total: int, desc: str) -> Any:
    """A tqdm bar on stderr (hidden when stderr is not a terminal), or None without tqdm."""
    try:
        from tqdm import tqdm  # type: ignore[import-untyped]
    except ImportError:
        return None
    return tqdm(total=total, desc=desc, unit="vec", unit_scale=True, file=sys.stderr,
                disable=None, leave=False, dynamic_ncols=True)


def _human_bytes(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"  # unreachable


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {value}")
    return value


def _duplicate(ids: Any) -> Any:
    """One id that occurs twice in ``ids``, or None."""
    if isinstance(ids, np.ndarray):
        if ids.size < 2:
            return None
        ordered = np.sort(ids)
        same = np.flatnonzero(ordered[1:] == ordered[:-1])
        return int(ordered[same[0]]) if same.size else None
    seen: set[Any] = set()
    for x in ids:
        if x in seen:
            return x
        seen.add(x)
    return None


# --------------------------------------------------------------------------------------------
# import


def cmd_import(args: argparse.Namespace) -> int:
    import augurdb

    source = load_source(args.file, args.dataset, documents_only=args.embed is not None)
    try:
        return _import(augurdb, source, args)
    finally:
        source.close()


def _import(augurdb: Any, source: Source, args: argparse.Namespace) -> int:
    if args.id_column:
        if source.ids is not None:
            raise UsageError(f"{source.name} already holds ids; drop --id-column")
        source.take_id_column()
    if args.ids is not None:
        if source.ids is not None:
            raise UsageError(f"{source.name} already holds ids; drop --ids")
        source.ids = load_ids(args.ids)
        if len(source.ids) != source.count:
            raise errors.InvalidArgument(
                f"{os.path.basename(args.ids)} holds {len(source.ids):,} ids but "
                f"{source.name} holds {source.count:,} vectors")
    n, dim = source.count, source.dim
    if n == 0:
        raise errors.InvalidArgument(f"{source.name} holds no vectors")
    # --embed: vectors come from the documents (dim 0 until the function has run once).
    function = embedding_from_spec(args.embed) if args.embed is not None else None

    created = not os.path.exists(args.db)
    col = augurdb.open(args.db, mode="w", durability=args.durability, dim=dim or None,
                       metric=args.metric, tokenizer=args.tokenizer, embedding_function=function)
    imported = 0
    embedder = None
    try:
        if dim and col.dim is not None and col.dim != dim:
            raise errors.DimensionMismatch(
                f"{source.name} has vectors of dimension {dim} but database {args.db} has dim "
                f"{col.dim}")
        ids = _resolve_ids(col, source, args)
        if function is None:
            _validate_rows(source, col.metric)
            rows = source.rows
        else:
            embedder = PrefetchingEmbedder(function, source.documents or [])
            rows = embedder.rows

        started = time.perf_counter()
        bar = _progress(n, "import")
        try:
            for start in range(0, n, args.batch):
                stop = min(start + args.batch, n)
                batch_ids = ids[start:stop]
                meta = source.metadata[start:stop] if source.metadata is not None else None
                docs = source.documents[start:stop] if source.documents is not None else None
                try:
                    if args.upsert:
                        col.upsert(batch_ids, rows(start, stop), documents=docs, metadata=meta)
                    else:
                        col.add(batch_ids, rows(start, stop), documents=docs, metadata=meta)
                except errors.AugurDBError as exc:
                    if imported == 0:
                        raise
                    kept = (f"{imported:,} of {n:,} vectors (rows 0..{imported - 1}) were "
                            "imported and kept; rows from "
                            f"{start} on were not")
                    raise type(exc)(f"{exc} [{kept}]") from exc
                except KeyboardInterrupt:
                    print(f"interrupted: {imported:,} of {n:,} vectors (rows 0..{imported - 1}) "
                          "were imported and kept", file=sys.stderr)
                    raise
                imported = stop
                if bar is not None:
                    bar.update(stop - start)
        finally:
            if bar is not None:
                bar.close()
        col.flush()
        seconds = time.perf_counter() - started
        total = len(col)
        dim = col.dim or dim
    finally:
        if embedder is not None:
            embedder.close()
        col.close()
        if created and imported == 0 and os.path.isdir(args.db):
            shutil.rmtree(args.db, ignore_errors=True)  # leave nothing behind we made

    rate = imported / seconds if seconds > 0 else float("inf")
    verb = "upserted" if args.upsert else "imported"
    print(f"{verb} {imported:,} vectors (dim {dim}) from {source.name} into {args.db} in "
          f"{seconds:.2f} s ({rate:,.0f} vectors/s); the database now holds {total:,}")
    return EXIT_OK


def _resolve_ids(col: Any, source: Source, args: argparse.Namespace) -> Any:
    """The ids to write, checked against each other and the database before anything is added."""
    n = source.count
    existing = col.ids() if len(col) else []
    existing_kind = col.stats().get("id_kind") if existing else None
    if source.ids is None:
        if existing_kind == "str":
            raise errors.InvalidArgument(
                f"database {args.db} has string ids; pass --ids FILE (or ids in the file)")
        start = max(existing) + 1 if existing else 0
        if start + n > 2**63:
            raise errors.InvalidArgument("default ids would overflow int64; pass --ids FILE")
        return np.arange(start, start + n, dtype=np.int64)
    ids = source.ids
    new_kind = "int" if isinstance(ids, np.ndarray) else "str"
    if existing_kind is not None and existing_kind != new_kind:
        raise errors.InvalidArgument(
            f"database {args.db} has {existing_kind} ids but {source.name} gives {new_kind} ids")
    dup = _duplicate(ids)
    if dup is not None:
        raise errors.InvalidArgument(f"id {dup!r} occurs more than once in the input")
    if existing and not args.upsert:
        if new_kind == "int":
            clash = np.flatnonzero(np.isin(ids, np.asarray(existing, dtype=np.int64)))
            first = int(ids[clash[0]]) if clash.size else None
        else:
            have = set(existing)
            first = next((x for x in ids if x in have), None)
        if first is not None:
            raise errors.DuplicateId(
                f"id {first!r} already exists in {args.db}; use --upsert to replace existing "
                "records")
    return ids


def _validate_rows(source: Source, metric: str) -> None:
    """Rejects NaN/Inf (and all-zero rows under cosine) before the first batch is written."""
    for start in range(0, source.count, _CHUNK):
        block = source.rows(start, start + _CHUNK)
        finite = np.isfinite(block)
        if not finite.all():
            row, column = (int(x) for x in np.argwhere(~finite)[0])
            value = block[row, column]
            what = "NaN" if np.isnan(value) else ("Inf" if value > 0 else "-Inf")
            raise errors.InvalidVector(
                f"{source.name} row {start + row} has a non-finite value ({what}) at column "
                f"{column} (or is out of float32 range); nothing was imported")
        if metric == "cosine":
            zero = np.flatnonzero(~block.any(axis=1))
            if zero.size:
                raise errors.InvalidVector(
                    f"{source.name} row {start + int(zero[0])} is all zeros, which has no "
                    "direction under the cosine metric; nothing was imported")


# --------------------------------------------------------------------------------------------
# search


def _parse_vector(text: str) -> npt.NDArray[np.float32]:
    body = text.strip()
    if body.startswith("[") and body.endswith("]"):
        body = body[1:-1]
    parts = [p for p in body.replace(",", " ").split()]
    if not parts:
        raise errors.InvalidArgument("--vector is empty; give numbers like \"0.1,0.2,0.3\"")
    try:
        values = [float(p) for p in parts]
    except ValueError as exc:
        raise errors.InvalidArgument(f"--vector: {exc}") from None
    return np.array(values, dtype=np.float32)


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def cmd_search(args: argparse.Namespace) -> int:
    where = None
    if args.where is not None:
        try:
            where = json.loads(args.where)
        except json.JSONDecodeError as exc:
            raise errors.InvalidFilter(f"--where is not valid JSON: {exc.msg} at column "
                                       f"{exc.colno}") from None
    query = None
    if args.vector is not None:
        query = _parse_vector(args.vector)
    elif args.from_file is not None:
        source = load_source(args.from_file, args.dataset)
        try:
            if args.id_column:
                source.take_id_column()
            if not args.row < source.count:
                raise errors.InvalidArgument(
                    f"--row {args.row} is out of range: {source.name} holds {source.count:,} "
                    "vectors")
            query = source.rows(args.row, args.row + 1)[0]
        finally:
            source.close()
    if args.query is not None:
        if query is not None:
            raise UsageError("give a query text or --vector/--from, not both")
        query = args.query
    elif query is None and args.text is None:
        raise UsageError("search needs a query text, --vector, --from or --text")

    import augurdb

    function = embedding_from_spec(args.embed) if args.embed is not None else None
    with augurdb.open(args.db, mode="r", embedding_function=function) as col:
        started = time.perf_counter()
        hits = col.search(query, k=args.k, text=args.text, ef=args.ef, where=where,
                          fusion=args.fusion)
        seconds = time.perf_counter() - started
        metric = col.metric

    if args.json:
        out = {
            "k": args.k,
            "ef": args.ef,
            "metric": metric,
            "text": args.text,
            "seconds": seconds,
            "hits": [{"rank": i, "id": h.id, "distance": _json_value(float(h.distance)),
                      "score": _json_value(float(h.score)),
                      "text_score": _json_value(float(h.text_score)),
                      "metadata": h.metadata, "document": h.document}
                     for i, h in enumerate(hits, start=1)],
        }
        print(json.dumps(out, ensure_ascii=False))
        return EXIT_OK
    # Vector search ranks by distance; text and hybrid search by score (BM25 or fused).
    if args.text is None:
        # Documents (a text query's hits) say more than metadata where there are any.
        documents = any(h.document is not None for h in hits)
        header = ("rank", "id", "distance", "document" if documents else "metadata")
        rows = [(str(i), str(h.id), f"{h.distance:.6g}", _snippet(h.document) if documents
                 else json.dumps(h.metadata, ensure_ascii=False) if h.metadata else "")
                for i, h in enumerate(hits, start=1)]
    else:
        header = ("rank", "id", "score", "document")
        rows = [(str(i), str(h.id), f"{h.score:.6g}", _snippet(h.document))
                for i, h in enumerate(hits, start=1)]
    widths = [max(len(r[c]) for r in [header, *rows]) for c in range(3)]
    print(f"{header[0]:>{widths[0]}}  {header[1]:<{widths[1]}}  {header[2]:>{widths[2]}}  "
          f"{header[3]}".rstrip())
    for r in rows:
        print(f"{r[0]:>{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:>{widths[2]}}  {r[3]}".rstrip())
    if not rows:
        print("(no results: no record matches)" if args.text is not None
              else "(no results: the database is empty)")
    return EXIT_OK


def _snippet(document: str | None, width: int = 70) -> str:
    """A document on one line, cut to `width` characters."""
    if document is None:
        return ""
    line = " ".join(document.split())
    return line if len(line) <= width else line[:width - 3] + "..."


# --------------------------------------------------------------------------------------------
# info


def checkpoint_format_version(db: str) -> int | None:
    """The version (u32 LE at offset 8) of the newest checkpoint-*.adb in ``db``, or None."""
    for _ in range(3):  # a live writer may replace the checkpoint between listing and reading
        newest: tuple[int, str] | None = None
        for entry in os.listdir(db):
            if entry.startswith("checkpoint-") and entry.endswith(".adb"):
                try:
                    seq = int(entry[len("checkpoint-"):-len(".adb")])
                except ValueError:
                    continue
                if newest is None or seq > newest[0]:
                    newest = (seq, entry)
        if newest is None:
            return None
        try:
            with open(os.path.join(db, newest[1]), "rb") as f:
                head = f.read(12)
        except FileNotFoundError:
            continue
        if len(head) < 12 or head[:8] != _CHECKPOINT_MAGIC:
            raise errors.CorruptDatabase(f"{newest[1]} does not start with an AugurDB header")
        return int(struct.unpack_from("<I", head, 8)[0])
    return None


def _disk_bytes(db: str) -> int:
    total = 0
    for root, _dirs, files in os.walk(db):
        for name in files:
            try:
                total += os.stat(os.path.join(root, name)).st_size
            except FileNotFoundError:
                pass
    return total


def cmd_info(args: argparse.Namespace) -> int:
    import augurdb

    with augurdb.open(args.db, mode="r") as col:
        stats = col.stats()
        embedding = col.embedding_function_identity
    build = augurdb.build_info()
    info: dict[str, Any] = {
        "path": os.path.abspath(args.db),
        "count": stats["count"],
        "deleted": stats.get("deleted"),
        "dim": stats["dim"] or None,
        "metric": stats["metric"],
        "id_kind": stats.get("id_kind"),
        "m": stats["m"],
        "ef_construction": stats["ef_construction"],
        "ef_search": stats["ef_search"],
        "memory_bytes": stats["memory_bytes"],
        "wal_bytes": stats.get("wal_bytes"),
        "checkpoint_bytes": stats.get("checkpoint_bytes"),
        "disk_bytes": _disk_bytes(args.db),
        "checkpoint_sequence": stats.get("checkpoint_sequence"),
        "format_version": checkpoint_format_version(args.db),
        "documents": stats.get("documents"),
        "tokenizer": stats.get("tokenizer"),
        "embedding_function": embedding,
        "simd": stats.get("simd", build.get("simd")),
        "simd_detected": build.get("simd_detected"),
    }
    if args.json:
        print(json.dumps(info))
        return EXIT_OK

    def size(key: str) -> str:
        value = info[key]
        return "-" if value is None else f"{_human_bytes(value)} ({value:,} bytes)"

    def plain(value: Any) -> str:
        if value is None:
            return "-"
        if isinstance(value, int) and not isinstance(value, bool):
            return f"{value:,}"
        return str(value)

    lines = [
        ("path", info["path"]),
        ("count", plain(info["count"])),
        ("deleted", plain(info["deleted"])),
        ("dim", plain(info["dim"])),
        ("metric", info["metric"]),
        ("id kind", plain(info["id_kind"])),
        ("m", plain(info["m"])),
        ("ef_construction", plain(info["ef_construction"])),
        ("ef_search", plain(info["ef_search"])),
        ("memory", size("memory_bytes")),
        ("wal", size("wal_bytes")),
        ("checkpoint", size("checkpoint_bytes")),
        ("on disk", size("disk_bytes")),
        ("checkpoint seq", plain(info["checkpoint_sequence"])),
        ("format version", plain(info["format_version"])),
        ("documents", plain(info["documents"])),
        ("tokenizer", plain(info["tokenizer"])),
        ("embedding function", "-" if embedding is None else
         f"{embedding['name']} {json.dumps(embedding.get('config', {}))}"),
        ("simd", f"{info['simd']} (best on this CPU: {info['simd_detected']})"),
    ]
    width = max(len(k) for k, _ in lines)
    for key, value in lines:
        print(f"{key:<{width}}  {value}")
    return EXIT_OK


# --------------------------------------------------------------------------------------------
# bench, version


def cmd_verify(args: argparse.Namespace) -> int:
    import augurdb

    started = time.perf_counter()
    with augurdb.open(args.db, mode="r") as col:
        report = col.verify()
    report["seconds"] = round(time.perf_counter() - started, 3)
    if args.json:
        print(json.dumps(report))
    else:
        print(f"ok: {report['records']:,} records, {report['graph_links']:,} graph links, "
              f"{report['checkpoint_bytes']:,} checkpoint bytes and {report['wal_records']:,} WAL "
              f"records verified in {report['seconds']} s")
    return 0


def cmd_version(args: argparse.Namespace) -> int:
    import platform

    import augurdb

    info = {"version": augurdb.__version__, **augurdb.build_info(),
            "python": platform.python_version(), "numpy": np.__version__}
    if args.json:
        print(json.dumps(info))
        return EXIT_OK
    print(f"augurdb {info['version']}")
    width = max(len(k) for k in info)
    for key, value in info.items():
        if key != "version":
            print(f"  {key:<{width}}  {value}")
    return EXIT_OK


# --------------------------------------------------------------------------------------------
# Parser and main


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="print the full traceback on errors")

    parser = argparse.ArgumentParser(
        prog="augurdb", parents=[common],
        description="AugurDB, an embedded vector database: import vectors, search, inspect.",
        epilog="Exit status: 0 ok, 1 error, 2 usage error, 130 interrupted.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser(
        "import", parents=[common], help="load vectors from a file into a database",
        description=f"Loads vectors (ids, metadata) from {_FORMATS_TEXT} into DB, creating it "
                    "if missing. .npz: array 'vectors' (else the first 2-D array) and optional "
                    "'ids'; .fvecs/.bvecs: TEXMEX; .hdf5: the --dataset (needs h5py); "
                    ".jsonl: {\"id\", \"vector\", \"metadata\", \"document\"} per line (the "
                    "document is stored and indexed for search --text). Ids default to "
                    "0..n-1, after the largest existing int id. The whole file is checked "
                    "(NaN, dimension, ids) before the first batch is written.")
    p.add_argument("db", metavar="DB", help="database directory")
    p.add_argument("file", metavar="FILE", help="input file")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--ids", metavar="FILE",
                       help="ids, one per line (text) or a 1-D .npy array, in row order")
    group.add_argument("--id-column", action="store_true",
                       help="column 0 of each row holds an integer id; the rest is the vector")
    p.add_argument("--dataset", default=DEFAULT_HDF5_DATASET, metavar="NAME",
                   help=f"HDF5 dataset to read (default {DEFAULT_HDF5_DATASET}, as in "
                        "ann-benchmarks files)")
    p.add_argument("--metric", choices=("l2", "ip", "cosine"),
                   help="metric of a new database (default l2; an existing one keeps its own)")
    p.add_argument("--tokenizer", choices=("simple", "english"),
                   help="document tokenizer of a new database (default simple; an existing one "
                        "keeps its own)")
    p.add_argument("--batch", type=_positive_int, default=10000, metavar="N",
                   help="vectors per write (default 10000)")
    p.add_argument("--durability", choices=("none", "batch", "sync"), default="sync",
                   help="log fsync policy while importing (default sync; the import is flushed "
                        "at the end either way)")
    p.add_argument("--upsert", action="store_true",
                   help="replace records whose id exists instead of failing")
    p.add_argument("--embed", metavar="SPEC",
                   help=SPEC_HELP + "; FILE is then .jsonl with a 'document' and no 'vector' per "
                        "line, and the function is stored in the database for text queries")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("search", parents=[common],
                       help="nearest neighbours of one vector, BM25 text search, or both",
                       description="Prints the k nearest records to a query vector, the k best "
                                   "BM25 matches of --text, or with both a hybrid (fused) "
                                   "ranking (opens the database read-only).")
    p.add_argument("db", metavar="DB", help="database directory")
    p.add_argument("query", nargs="?", metavar="\"QUERY TEXT\"",
                   help="a text to embed with the database's embedding function (see import "
                        "--embed) and search by vector; add --text for a hybrid search")
    p.add_argument("--embed", metavar="SPEC",
                   help=SPEC_HELP + "; default: the one stored in the database")
    p.add_argument("--text", metavar="\"QUERY\"",
                   help="BM25 text query over the records' documents")
    p.add_argument("--fusion", choices=("rrf", "weighted"), default="rrf",
                   help="how --text and a vector query are fused (default rrf)")
    query = p.add_mutually_exclusive_group()
    query.add_argument("--vector", metavar="\"1,2,3\"", help="the query, comma-separated")
    query.add_argument("--from", dest="from_file", metavar="FILE",
                       help=f"take the query from a file ({_FORMATS_TEXT})")
    p.add_argument("--row", type=_non_negative_int, default=0, metavar="N",
                   help="row of --from FILE (default 0)")
    p.add_argument("--id-column", action="store_true",
                   help="column 0 of --from FILE holds ids; skip it")
    p.add_argument("--dataset", default=DEFAULT_HDF5_DATASET, metavar="NAME",
                   help=f"HDF5 dataset of --from FILE (default {DEFAULT_HDF5_DATASET})")
    p.add_argument("-k", type=_positive_int, default=10, help="results (default 10)")
    p.add_argument("--ef", type=_positive_int, default=None, metavar="N",
                   help="search beam width (default: the database's ef_search)")
    p.add_argument("--where", metavar="JSON",
                   help='metadata filter, e.g. \'{"genre": "news", "year": {"$gte": 2020}}\'')
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("info", parents=[common], help="describe a database",
                       description="Counts, parameters, sizes, checkpoint and format version, "
                                   "SIMD level (opens the database read-only).")
    p.add_argument("db", metavar="DB", help="database directory")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("verify", parents=[common], help="full integrity check of a database",
                       description="Checks every checksum, the graph invariants and the id "
                                   "mapping; exit 1 with the first problem found.")
    p.add_argument("db", help="database directory")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("bench", add_help=False,
                       help="AugurDB vs hnswlib on Fashion-MNIST from the source checkout, "
                            "else a built-in smoke run (see 'augurdb bench --help')",
                       description=f"Runs python -m {BENCH_MODULE} of the source checkout, or "
                                   "augurdb.smoke_bench outside one or with --smoke, with the "
                                   "remaining arguments.")
    p.add_argument("dataset", nargs="?", choices=BENCH_DATASETS)
    p.add_argument("rest", nargs=argparse.REMAINDER)

    p = sub.add_parser("version", parents=[common], help="version and build information")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_version)
    return parser


def _one_line(exc: BaseException) -> str:
    message = " ".join(str(exc).split()) if str(exc) else ""
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line; returns the exit status (0 ok, 1 error, 2 usage, 130 Ctrl-C)."""
    args_list = list(sys.argv[1:] if argv is None else argv)

    # bench passes everything after it through untouched (its own flags, --help included).
    leading = 0
    while leading < len(args_list) and args_list[leading] == "--debug":
        leading += 1
    if leading < len(args_list) and args_list[leading] == "bench":
        try:
            return run_bench(args_list[leading + 1:])
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
        except Exception as exc:  # noqa: BLE001 - the CLI's one-line error contract
            if leading:
                traceback.print_exc()
            print(_one_line(exc), file=sys.stderr)
            return EXIT_ERROR

    parser = build_parser()
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:  # --help (0) or a usage error (2)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    if getattr(args, "func", None) is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    debug = getattr(args, "debug", False)
    try:
        return int(args.func(args))
    except UsageError as exc:
        print(f"augurdb {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        if debug:
            traceback.print_exc()
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - the CLI's one-line error contract
        if debug:
            traceback.print_exc()
        print(_one_line(exc), file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
