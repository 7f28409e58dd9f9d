"""The LangChain adapter: LangChain's own standard vector-store suite (langchain-tests,
``VectorStoreIntegrationTests``, every sync and async test, none overridden) in memory and on
disk, then what the suite leaves out: scores, MMR, filters, hybrid search, persistence."""

from __future__ import annotations

import gc
from collections.abc import Generator
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("langchain_core", reason="the [langchain] extra is not installed")
langchain_tests = pytest.importorskip("langchain_tests", reason="langchain-tests not installed")

import augurdb  # noqa: E402
from augurdb import errors  # noqa: E402
from augurdb.integrations.langchain import AugurDBVectorStore  # noqa: E402
from langchain_core.embeddings import DeterministicFakeEmbedding, Embeddings  # noqa: E402
from langchain_tests.integration_tests import VectorStoreIntegrationTests  # noqa: E402


class TestStandardInMemory(VectorStoreIntegrationTests):
    @pytest.fixture()
    def vectorstore(self) -> Generator[AugurDBVectorStore, None, None]:  # type: ignore[override]
        store = AugurDBVectorStore(self.get_embeddings())
        try:
            yield store
        finally:
            store.close()


class TestStandardOnDisk(VectorStoreIntegrationTests):
    @pytest.fixture()
    def vectorstore(self, tmp_path: Path) -> Generator[AugurDBVectorStore, None, None]:  # type: ignore[override]
        store = AugurDBVectorStore(self.get_embeddings(), tmp_path / "db")
        try:
            yield store
        finally:
            store.close()


class WordEmbeddings(Embeddings):
    """Meaningful enough for ranking tests: one dimension per known word, unit length."""

    WORDS = ["cat", "dog", "mat", "park", "stock", "market", "cake", "lemon"]

    def _embed(self, text: str) -> list[float]:
        v = np.array([text.lower().split().count(w) for w in self.WORDS], dtype=np.float64) + 0.01
        return (v / np.linalg.norm(v)).tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._embed(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._embed(text)


TEXTS = ["cat on the mat", "dog in the park", "cat and dog", "stock market news",
         "lemon cake", "cat cat cat"]
METAS = [{"kind": "pet", "n": 1, "tags": ["a", "b"]}, {"kind": "pet", "n": 2, "w": 1.5},
         {"kind": "pet", "n": 3, "ok": True}, {"kind": "money", "n": 4, "none": None},
         {"kind": "food", "n": 5}, {"kind": "pet", "n": 6}]


@pytest.fixture
def store() -> Generator[AugurDBVectorStore, None, None]:
    with AugurDBVectorStore.from_texts(TEXTS, WordEmbeddings(), METAS,
                                       ids=[f"d{i}" for i in range(len(TEXTS))]) as s:
        yield s


def test_metadata_round_trips_exactly(store):
    docs = store.get_by_ids([f"d{i}" for i in range(len(TEXTS))])
    assert [d.metadata for d in docs] == METAS
    assert type(docs[1].metadata["w"]) is float and docs[2].metadata["ok"] is True


def test_scores_and_relevance(store):
    hits = store.similarity_search_with_score("cat cat cat", k=3)
    assert hits[0][0].id == "d5" and hits[0][1] == pytest.approx(0.0, abs=1e-6)
    assert [s for _, s in hits] == sorted(s for _, s in hits)
    relevance = store.similarity_search_with_relevance_scores("cat cat cat", k=3)
    assert relevance[0][1] == pytest.approx(1.0, abs=1e-6)
    assert all(0.0 <= r <= 1.0 for _, r in relevance)
    for metric in ("l2", "ip"):
        with AugurDBVectorStore.from_texts(TEXTS, WordEmbeddings(), metric=metric) as s:
            top = s.similarity_search_with_relevance_scores("cat cat cat", k=2)
            assert top[0][0].page_content == "cat cat cat"
            assert top[0][1] == pytest.approx(1.0, abs=1e-5)


def test_filters_and_document_filters(store):
    hits = store.similarity_search("cat", k=10, filter={"kind": "pet", "n": {"$gte": 3}})
    assert {d.id for d in hits} == {"d2", "d5"}
    hits = store.similarity_search("cat", k=10, where_document={"$contains": "mat"})
    assert [d.id for d in hits] == ["d0"]
    with pytest.raises(errors.InvalidFilter):
        store.similarity_search("cat", filter={"n": {"$regex": "x"}})


def test_mmr_prefers_diverse_results(store):
    plain = store.similarity_search("cat", k=2)
    assert {d.id for d in plain} <= {"d0", "d2", "d5"}
    mmr = store.max_marginal_relevance_search("cat", k=2, fetch_k=6, lambda_mult=0.1)
    assert mmr[0].id == plain[0].id and mmr[1].id not in {"d0", "d5"}
    assert store.max_marginal_relevance_search("cat", k=3, filter={"kind": "food"})[0].id == "d4"


def test_hybrid_uses_bm25(store):
    # "news" is not in WordEmbeddings' vocabulary: only BM25 sees it.
    plain = store.similarity_search("news", k=1)
    hybrid = store.similarity_search("news", k=1, hybrid=True)
    assert hybrid[0].id == "d3" and plain[0].id != "d3"
    weighted = store.similarity_search("news", k=1, hybrid=True, fusion="weighted", alpha=0.2)
    assert weighted[0].id == "d3"


def test_persistence_and_lock_release_on_garbage_collection(tmp_path):
    path = tmp_path / "kb"
    store = AugurDBVectorStore(WordEmbeddings(), path)
    ids = store.add_texts(TEXTS, METAS)
    del store
    gc.collect()  # the dropped store released the writer lock
    again = AugurDBVectorStore(WordEmbeddings(), path)
    assert again.get_by_ids(ids[:2])[1].page_content == "dog in the park"
    assert again.similarity_search("lemon cake", k=1)[0].metadata == {"kind": "food", "n": 5}
    again.close()
    col = augurdb.open(path)  # closed: reopenable by anyone
    assert len(col) == len(TEXTS) and col.stats()["documents"] == len(TEXTS)
    col.close()


def test_existing_collection_and_bad_input(tmp_path):
    col = augurdb.open(metric="cosine")
    store = AugurDBVectorStore(DeterministicFakeEmbedding(size=4), collection=col)
    store.add_texts(["a", "b"], ids=["x", "y"])
    store.close()  # does not close a collection it did not open
    assert len(col) == 2
    with pytest.raises(errors.InvalidArgument, match="not both"):
        AugurDBVectorStore(DeterministicFakeEmbedding(size=4), tmp_path, collection=col)
    with pytest.raises(errors.InvalidArgument, match="2 metadatas for 1 texts"):
        store.add_texts(["a"], [{}, {}])
    with pytest.raises(errors.InvalidArgument):
        store.add_texts(["nested"], [{"a": {"b": 1}}])
    assert store.delete() is True and len(col) == 0
