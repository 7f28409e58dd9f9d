"""examples/retrieval_pipeline.py end to end: real Debian descriptions, the real MiniLM model,
LangChain and LlamaIndex on AugurDB databases on disk. Both frameworks must rank identically
(same embeddings, same engine) and find most packages from their synopsis."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

pytest.importorskip("langchain_core", reason="the [langchain] extra is not installed")
pytest.importorskip("llama_index.core", reason="the [llama-index] extra is not installed")

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "retrieval_pipeline.py"


def test_pipeline_through_both_frameworks(minilm_files, tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("retrieval_pipeline", EXAMPLE)
    assert spec is not None and spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    out = tmp_path / "figures.json"
    results = example.main(["--docs", "300", "--queries", "60", "--dir", str(tmp_path),
                            "--json", str(out)])
    for mode in ("vector", "hybrid"):
        assert results[f"langchain/{mode}"]["ranked"] == results[f"llama_index/{mode}"]["ranked"]
        assert all(len(r) == 10 for r in results[f"langchain/{mode}"]["ranked"])
    # Known-item search on 300 packages: MiniLM alone finds most; fusing BM25 does not lose.
    assert results["langchain/vector"]["recall_at_10"] >= 0.85
    assert results["langchain/hybrid"]["recall_at_10"] >= results["langchain/vector"][
        "recall_at_10"] - 0.02
    assert json.loads(out.read_text())["llama_index/hybrid"]["mrr_at_10"] > 0.5
    # The databases persisted: both directories exist with a checkpoint.
    assert any((tmp_path / "langchain").glob("checkpoint-*"))
    assert any((tmp_path / "llama_index").glob("checkpoint-*"))
