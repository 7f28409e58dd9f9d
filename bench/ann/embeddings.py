"""Embedding throughput: documents/s of :class:`augurdb.embeddings.OnnxEmbedding` against
fastembed's ``TextEmbedding`` on the same local ONNX file (all-MiniLM-L6-v2, int8) and the same
``tokenizer.json``, at the same onnxruntime thread count.

Documents: a seeded random sample of Debian's English package descriptions (the corpus of
:mod:`bench.ann.minilm`; its docstring says how to fetch it), embedded in the sample's order.
Both sides truncate at 256 tokens, mean-pool and L2-normalise; fastembed reads its truncation
from ``tokenizer_config.json``, so the run gives it a model directory of symlinks to the
packaged files plus a ``tokenizer_config.json`` with ``model_max_length`` 256, registered as a
custom model with ``specific_model_path`` (it never downloads then). The two outputs are
compared (cosine per document) to show the work is the same.

Each engine warms up on 64 documents, then the engines alternate for ``--rounds`` rounds and
each keeps its fastest round, so load from other processes on a shared machine hits both alike
(the table shows the cores others used during each engine's best round).

Run: ``python -m bench.ann.embeddings [--docs 2000] [--threads 2]``; writes
``bench/results/embeddings.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from augurdb.embeddings import OnnxEmbedding

from . import minilm
from .common import (
    Meter,
    default_out_dir,
    fmt_ratio,
    machine_banner,
    machine_header,
    markdown_table,
    package_version,
    write_json,
)
from .datasets import DatasetMissingError

FASTEMBED_MODEL = "augurdb-bench/all-MiniLM-L6-v2-onnx-int8"
WARMUP_DOCS = 64
Embed = Callable[[list[str]], np.ndarray]


def sample_texts(count: int, seed: int) -> list[str]:
    texts = minilm.corpus_texts()
    picks = np.random.default_rng(seed).choice(len(texts), size=min(count, len(texts)),
                                               replace=False)
    return [texts[i] for i in picks]


def fastembed_model_dir(model: Path, tokenizer: Path, into: Path) -> Path:
    """A directory laid out as fastembed expects a model: the ONNX file and the tokenizer
    files as symlinks, and tokenizer_config.json with the 256-token limit."""
    source = tokenizer.parent
    (into / "model.onnx").symlink_to(model)
    for name in ("tokenizer.json", "config.json", "special_tokens_map.json"):
        (into / name).symlink_to(source / name)
    config = json.loads((source / "tokenizer_config.json").read_text(encoding="utf-8"))
    config["model_max_length"] = minilm.MAX_TOKENS
    (into / "tokenizer_config.json").write_text(json.dumps(config), encoding="utf-8")
    return into


def fastembed_embedder(model_dir: Path, threads: int, batch_size: int) -> Embed | None:
    """fastembed's TextEmbedding on ``model_dir``, or None (with the reason printed) when
    fastembed is not installed."""
    try:
        from fastembed import TextEmbedding
        from fastembed.common.model_description import ModelSource, PoolingType
    except ImportError as error:
        print(f"fastembed: not installed ({error}); pip install fastembed")
        return None
    if FASTEMBED_MODEL not in {m["model"] for m in TextEmbedding.list_supported_models()}:
        TextEmbedding.add_custom_model(
            model=FASTEMBED_MODEL, pooling=PoolingType.MEAN, normalization=True,
            sources=ModelSource(hf=FASTEMBED_MODEL), dim=minilm.DIM, model_file="model.onnx")
    engine = TextEmbedding(FASTEMBED_MODEL, threads=threads, specific_model_path=str(model_dir),
                           local_files_only=True)

    def embed(texts: list[str]) -> np.ndarray:
        return np.stack(list(engine.embed(texts, batch_size=batch_size)))

    return embed


def padded_tokens(token_counts: Sequence[int], batch: int, sort: bool) -> int:
    """Token positions the model computes when ``token_counts`` run in batches of ``batch``,
    each padded to its longest text: in the given order, or sorted by length within the
    chunks OnnxEmbedding tokenizes at once."""
    counts = list(token_counts)
    if sort:
        chunk = 4096
        counts = [c for start in range(0, len(counts), chunk)
                  for c in sorted(counts[start:start + chunk])]
    return sum(max(counts[start:start + batch]) * len(counts[start:start + batch])
               for start in range(0, len(counts), batch))


def add_documents_engine(fn: OnnxEmbedding) -> Embed:
    """``add(ids, documents=texts)`` on a fresh collection that embeds with ``fn``: the end-to-end
    cost of the embedding-function path (embedding, checks, indexing); returns the stored
    vectors (their read-back is a few ms of the total)."""
    import augurdb

    def run(texts: list[str]) -> np.ndarray:
        with augurdb.open(metric="cosine", embedding_function=fn) as col:
            col.add(np.arange(len(texts)), documents=list(texts))
            return np.stack([r.vector for r in col.get(np.arange(len(texts)))])
    return run


def race(engines: dict[str, Embed], texts: list[str], rounds: int,
         ) -> tuple[dict[str, Meter], dict[str, np.ndarray]]:
    """Each engine's fastest round (alternating engines each round) and its output."""
    best: dict[str, Meter] = {}
    outputs: dict[str, np.ndarray] = {}
    for embed in engines.values():
        embed(texts[:WARMUP_DOCS])
    for round_index in range(rounds):
        for name, embed in engines.items():
            with Meter() as meter:
                outputs[name] = embed(texts)
            print(f"  round {round_index + 1}: {name} {len(texts) / meter.seconds:.1f} docs/s",
                  file=sys.stderr)
            if name not in best or meter.seconds < best[name].seconds:
                best[name] = meter
    return best, outputs


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ann.embeddings",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=2000, help="documents in the sample")
    parser.add_argument("--threads", type=int, default=2, help="onnxruntime intra-op threads")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seed", type=int, default=minilm.DEFAULT_SEED)
    parser.add_argument("--batch", type=int, default=minilm.BATCH,
                        help="texts per model run, both engines (fastembed's default is 256)")
    parser.add_argument("--out", type=Path, default=default_out_dir() / "embeddings.json")
    args = parser.parse_args(argv)

    print(machine_banner())
    versions = {name: package_version(name)
                for name in ("onnxruntime", "tokenizers", "fastembed", minilm.MODEL_PACKAGE)}
    print("versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    try:
        texts = sample_texts(args.docs, args.seed)
        model, tokenizer = minilm.model_files()
    except DatasetMissingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    lengths = np.array([len(t) for t in texts])
    print(f"documents: {len(texts)} Debian package descriptions (seed {args.seed}), "
          f"{int(np.median(lengths))} characters at the median, {lengths.max()} at most")
    from tokenizers import Tokenizer

    counter = Tokenizer.from_file(str(tokenizer))
    counter.enable_truncation(max_length=minilm.MAX_TOKENS)
    counter.no_padding()
    tokens = [len(e.ids) for e in counter.encode_batch(texts)]
    padding = {"real_tokens": sum(tokens),
               "computed_sorted": padded_tokens(tokens, args.batch, sort=True),
               "computed_in_order": padded_tokens(tokens, args.batch, sort=False)}
    print(f"token positions computed / real tokens: {padding['computed_sorted'] / sum(tokens):.2f} "
          f"batching by length (OnnxEmbedding), "
          f"{padding['computed_in_order'] / sum(tokens):.2f} in document order (fastembed)")

    ours = OnnxEmbedding(model, tokenizer, max_length=minilm.MAX_TOKENS, threads=args.threads,
                         batch_size=args.batch)
    engines: dict[str, Embed] = {"augurdb OnnxEmbedding": ours,
                                 "augurdb add(documents=) end to end": add_documents_engine(ours)}
    with tempfile.TemporaryDirectory(prefix="augurdb-fastembed-") as scratch:
        fastembed = fastembed_embedder(fastembed_model_dir(model, tokenizer, Path(scratch)),
                                       args.threads, args.batch)
        if fastembed is not None:
            engines["fastembed TextEmbedding"] = fastembed
        best, outputs = race(engines, texts, args.rounds)

    rows, results = [], []
    for name, meter in best.items():
        rate = len(texts) / meter.seconds
        rows.append([name, str(args.threads), str(args.batch), f"{meter.seconds:.1f}",
                     f"{rate:.1f}", f"{meter.own_cores:.2f}", f"{meter.other_cores:.2f}"])
        results.append({"engine": name, "docs_per_s": rate, **meter.as_dict()})
    print(markdown_table(["engine", "threads", "batch", "seconds", "docs/s", "own cores",
                          "others' cores"], rows))
    summary: dict[str, Any] = {}
    rate = {r["engine"]: r["docs_per_s"] for r in results}
    end_to_end = rate["augurdb add(documents=) end to end"] / rate["augurdb OnnxEmbedding"]
    summary["add_documents_vs_embedding_alone"] = end_to_end
    print(f"add(documents=) end to end / embedding alone: {fmt_ratio(end_to_end)} documents/s")
    if "fastembed TextEmbedding" in outputs:
        cosines = np.einsum("ij,ij->i", outputs["augurdb OnnxEmbedding"],
                            outputs["fastembed TextEmbedding"])
        summary.update(ratio=rate["augurdb OnnxEmbedding"] / rate["fastembed TextEmbedding"],
                       min_cosine=float(cosines.min()))
        print(f"OnnxEmbedding / fastembed: {fmt_ratio(summary['ratio'])} documents/s; "
              f"outputs agree to cosine >= {summary['min_cosine']:.6f}")
    header = machine_header(benchmark="embeddings", docs=len(texts), threads=args.threads,
                            batch=args.batch, rounds=args.rounds, seed=args.seed,
                            padding=padding,
                            versions=versions, tokenizers_parallelism=os.environ.get(
                                "TOKENIZERS_PARALLELISM"))
    print(f"wrote {write_json(args.out, {'machine': header, 'results': results, **summary})}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
