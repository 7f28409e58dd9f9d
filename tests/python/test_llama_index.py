"""The LlamaIndex adapter, tested the way LlamaIndex's own integrations are (VectorStoreIndex over
the store with MockEmbedding: insert, retrieve, delete by ref_doc_id), every query mode, and every
filter operator against LlamaIndex's own reference evaluator (the one SimpleVectorStore uses)."""

from __future__ import annotations

import gc
import itertools
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("llama_index.core", reason="the [llama-index] extra is not installed")

import augurdb  # noqa: E402
from augurdb import errors  # noqa: E402
from augurdb.integrations.llama_index import AugurDBVectorStore, filters_to_where  # noqa: E402
from llama_index.core import Document, StorageContext, VectorStoreIndex  # noqa: E402
from llama_index.core.embeddings import MockEmbedding  # noqa: E402
from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode  # noqa: E402
from llama_index.core.vector_stores.types import (  # noqa: E402
    FilterCondition,
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
    VectorStoreQuery,
    VectorStoreQueryMode,
)
from llama_index.core.vector_stores.utils import build_metadata_filter_fn  # noqa: E402

WORDS = ["cat", "dog", "mat", "park", "stock", "market", "cake", "lemon"]
TEXTS = ["the cat sat on the mat", "a dog ran in the park", "the stock market fell",
         "lemon cake with a cat", "dog and cat in the park", "market for lemon cake"]


def embed(text: str) -> list[float]:
    """One dimension per known word, unit length: enough meaning for ranking tests."""
    v = np.array([text.lower().split().count(w) for w in WORDS], dtype=np.float64) + 0.01
    return (v / np.linalg.norm(v)).tolist()


def nodes(texts: list[str] = TEXTS, doc: str | None = None) -> list[TextNode]:
    out = []
    for i, text in enumerate(texts):
        metadata = {"i": i, "even": i % 2 == 0, "parity": "odd" if i % 2 else "even",
                    "tags": [w for w in WORDS if w in text]}
        node = TextNode(id_=f"n{i}", text=text, embedding=embed(text), metadata=metadata)
        if doc is not None:
            node.relationships[NodeRelationship.SOURCE] = RelatedNodeInfo(node_id=doc)
        out.append(node)
    return out


def query(text: str, k: int = 3, **kw: Any) -> VectorStoreQuery:
    return VectorStoreQuery(query_embedding=embed(text), query_str=text, similarity_top_k=k, **kw)


# ---- the framework's own path: VectorStoreIndex + MockEmbedding ----

def test_vector_store_index_insert_retrieve_delete(tmp_path: Path) -> None:
    store = AugurDBVectorStore(tmp_path / "db")
    docs = [Document(text=t, id_=f"doc{i}", metadata={"n": i}) for i, t in enumerate(TEXTS)]
    index = VectorStoreIndex.from_documents(
        docs, storage_context=StorageContext.from_defaults(vector_store=store),
        embed_model=MockEmbedding(embed_dim=8))
    assert len(store.client) == len(TEXTS) and store.client.dim == 8
    hits = index.as_retriever(similarity_top_k=len(TEXTS)).retrieve("cat")
    assert sorted(h.node.ref_doc_id for h in hits) == sorted(d.id_ for d in docs)
    assert all(h.score == pytest.approx(1.0, abs=1e-5) for h in hits)  # MockEmbedding: all equal
    hits = index.as_retriever(vector_store_query_mode="text_search",
                              similarity_top_k=2).retrieve("stock market")
    assert hits[0].node.get_content() == TEXTS[2] and hits[0].node.metadata == {"n": 2}
    index.delete_ref_doc("doc2")
    assert len(store.client) == len(TEXTS) - 1
    assert all(h.node.ref_doc_id != "doc2" for h in
               index.as_retriever(similarity_top_k=10).retrieve("market"))
    index.insert(Document(text="a new lemon", id_="doc9"))
    assert store.get_nodes(filters=MetadataFilters(filters=[
        MetadataFilter(key="ref_doc_id", value="doc9")]))[0].get_content() == "a new lemon"
    store.close()

    # Reopened without the index: same nodes, relationships and all.
    again = AugurDBVectorStore(tmp_path / "db")
    index2 = VectorStoreIndex.from_vector_store(again, embed_model=MockEmbedding(embed_dim=8))
    got = index2.as_retriever(vector_store_query_mode="text_search").retrieve("lemon")
    assert {h.node.ref_doc_id for h in got} >= {"doc9"}
    assert got[0].node.relationships[NodeRelationship.SOURCE].node_id == got[0].node.ref_doc_id
    again.close()


# ---- modes ----

@pytest.fixture()
def store() -> AugurDBVectorStore:
    s = AugurDBVectorStore(metric="cosine")
    s.add(nodes(doc="docA")[:3])
    s.add(nodes(doc="docB")[3:])
    return s


def test_default_mode_is_exact_cosine(store: AugurDBVectorStore) -> None:
    res = store.query(query("cat park", k=4))
    q = np.array(embed("cat park"))
    sims = {f"n{i}": float(np.dot(embed(t), q)) for i, t in enumerate(TEXTS)}
    want = sorted(sims, key=lambda i: -sims[i])[:4]
    assert res.ids == want
    np.testing.assert_allclose(res.similarities, [sims[i] for i in want], atol=1e-5)
    assert [n.node_id for n in res.nodes] == want
    assert res.nodes[0].get_content() == TEXTS[int(want[0][1:])]


def test_text_and_sparse_modes_are_bm25(store: AugurDBVectorStore) -> None:
    for mode in (VectorStoreQueryMode.TEXT_SEARCH, VectorStoreQueryMode.SPARSE):
        res = store.query(query("lemon cake", k=3, mode=mode))
        hits = store.client.search(text="lemon cake", k=3)
        assert res.ids == [h.id for h in hits]
        assert res.similarities == pytest.approx([h.score for h in hits])
    with pytest.raises(errors.InvalidArgument, match="needs query_str"):
        store.query(VectorStoreQuery(query_embedding=embed("x"), mode="text_search"))


def test_hybrid_alpha_spans_bm25_to_vectors(store: AugurDBVectorStore) -> None:
    text = "cat park"
    vector_only = store.query(query(text, k=6))
    bm25 = store.client.search(text=text, k=6)
    hybrid = store.query(query(text, k=3, mode="hybrid", alpha=0.5))
    assert len(hybrid.ids) == 3 and hybrid.similarities == sorted(hybrid.similarities,
                                                                   reverse=True)
    assert store.query(query(text, k=1, mode="hybrid", alpha=1.0)).ids == vector_only.ids[:1]
    assert store.query(query(text, k=1, mode="hybrid", alpha=0.0)).ids == [bm25[0].id]
    fused = store.client.search(embed(text), 3, text=text, fusion="weighted", alpha=0.5)
    assert hybrid.ids == [h.id for h in fused]


def test_mmr_diversifies(store: AugurDBVectorStore) -> None:
    plain = store.query(query("cat", k=3, mode="mmr", mmr_threshold=1.0))
    assert plain.ids == store.query(query("cat", k=3)).ids  # threshold 1: relevance only
    diverse = store.query(query("cat", k=3, mode="mmr", mmr_threshold=0.1))
    assert len(diverse.ids) == 3 and diverse.ids[0] == plain.ids[0]
    assert diverse.ids != plain.ids


def test_doc_ids_and_node_ids_restrict(store: AugurDBVectorStore) -> None:
    res = store.query(query("cat", k=6, doc_ids=["docB"]))
    assert set(res.ids) == {"n3", "n4", "n5"}
    res = store.query(query("cat", k=2, node_ids=["n1", "n3", "n5", "missing"]))
    sims = {i: float(np.dot(embed("cat"), embed(TEXTS[i]))) for i in (1, 3, 5)}
    assert res.ids == [f"n{i}" for i in sorted(sims, key=lambda i: -sims[i])[:2]]  # exact
    assert res.similarities == pytest.approx(sorted(sims.values(), reverse=True)[:2], abs=1e-5)
    res = store.query(query("cat", k=5, node_ids=["n0", "n1", "n3"], filters=MetadataFilters(
        filters=[MetadataFilter(key="parity", value="even")])))
    assert res.ids == ["n0"]
    with pytest.raises(errors.NotSupported, match="query mode 'svm'"):
        store.query(query("cat", mode="svm"))


def test_reads_deletes_and_clear(store: AugurDBVectorStore) -> None:
    got = store.get_nodes(node_ids=["n4", "nope", "n0"])
    assert [n.node_id for n in got] == ["n4", "n0"]
    assert got[0].metadata == {"i": 4, "even": True, "parity": "even",
                               "tags": ["cat", "dog", "park"]}
    assert got[0].ref_doc_id == "docB" and got[0].get_content() == TEXTS[4]
    even = MetadataFilters(filters=[MetadataFilter(key="parity", value="even")])
    assert {n.node_id for n in store.get_nodes(filters=even)} == {"n0", "n2", "n4"}
    store.delete_nodes(node_ids=["n0", "n1"], filters=even)  # only n0 matches both
    assert set(store.client.ids()) == {"n1", "n2", "n3", "n4", "n5"}
    store.delete_nodes(filters=even)
    assert set(store.client.ids()) == {"n1", "n3", "n5"}
    store.delete("docA")
    assert set(store.client.ids()) == {"n3", "n5"}
    store.clear()
    assert len(store.client) == 0 and store.get_nodes() == []
    assert store.query(query("cat")).ids == []


def test_bad_nodes_write_nothing(store: AugurDBVectorStore) -> None:
    before = len(store.client)
    bad = nodes(["fresh text"])[0]
    bad.id_ = "fresh"
    bad.embedding = None
    with pytest.raises(errors.InvalidArgument, match="'fresh' has no embedding"):
        store.add([nodes(["ok"])[0], bad])
    clash = TextNode(id_="c", text="x", embedding=embed("x"), metadata={"ref_doc_id": "mine"})
    with pytest.raises(errors.InvalidArgument, match="reserves"):
        store.add([clash])
    nested = TextNode(id_="d", text="x", embedding=embed("x"), metadata={"a": {"b": 1}})
    with pytest.raises(errors.InvalidArgument, match="nested"):
        store.add([nested])
    assert len(store.client) == before


def test_re_adding_an_id_replaces_it(store: AugurDBVectorStore) -> None:
    node = TextNode(id_="n0", text="now about stock", embedding=embed("stock"), metadata={"v": 2})
    assert store.add([node]) == ["n0"]
    assert store.get_nodes(["n0"])[0].get_content() == "now about stock"
    assert store.get_nodes(["n0"])[0].metadata == {"v": 2}
    assert len(store.client) == len(TEXTS)


async def test_async_methods(tmp_path: Path) -> None:
    s = AugurDBVectorStore(tmp_path / "db")
    assert await s.async_add(nodes(doc="d")) == [f"n{i}" for i in range(len(TEXTS))]
    res = await s.aquery(query("lemon", k=2))
    assert res.ids == s.query(query("lemon", k=2)).ids
    assert len(await s.aget_nodes(["n1"])) == 1
    await s.adelete_nodes(["n1"])
    await s.adelete("nothing")
    assert len(s.client) == len(TEXTS) - 1
    await s.aclear()
    assert len(s.client) == 0
    s.close()


def test_lock_released_when_store_is_dropped(tmp_path: Path) -> None:
    s = AugurDBVectorStore(tmp_path / "db")
    s.add(nodes()[:2])
    with pytest.raises(errors.DatabaseLocked):
        augurdb.open(tmp_path / "db")
    del s
    gc.collect()
    with AugurDBVectorStore(tmp_path / "db") as again:
        assert len(again.client) == 2 and again.client.metric == "cosine"
    with augurdb.open(tmp_path / "db") as col:  # closed by the context manager
        assert len(col) == 2


def test_collection_argument_and_metrics(tmp_path: Path) -> None:
    col = augurdb.open(dim=8, metric="l2")
    s = AugurDBVectorStore(collection=col)
    s.add(nodes())
    res = s.query(query("cat", k=1))
    d = float(np.sum((np.array(embed("cat")) - np.array(embed(TEXTS[0]))) ** 2))
    assert res.ids == ["n0"] and res.similarities[0] == pytest.approx(1 / (1 + np.sqrt(d)),
                                                                      rel=1e-4)
    s.close()  # does not close a collection it did not open
    assert len(col) == len(TEXTS)
    with pytest.raises(errors.InvalidArgument, match="not both"):
        AugurDBVectorStore(tmp_path, collection=col)
    ip = AugurDBVectorStore(metric="ip")
    ip.add(nodes())
    top = ip.query(query("cat", k=1))
    assert top.similarities[0] == pytest.approx(float(np.dot(embed("cat"), embed(TEXTS[0]))),
                                                rel=1e-4)


# ---- every filter operator against LlamaIndex's reference evaluator ----

def random_metadata(rng: random.Random, i: int) -> dict[str, Any]:
    m: dict[str, Any] = {"n": i}
    choices: dict[str, list[Any]] = {
        "genre": ["news", "sport", "tech", None],
        "year": [1999, 2005, 2010, 2020, None],
        "score": [0.1, 0.5, 2.5, -1.0],
        "tags": [[], ["a"], ["a", "b"], ["b", "c"], ["c"], None],
        "title": ["", "Café Noir", "café au lait", "TEA time", "tea", None],
    }
    for key, values in choices.items():
        if rng.random() < 0.8:  # otherwise the field is missing
            m[key] = rng.choice(values)
    return m


# (operator, key, values): each an operator on fields whose values the reference evaluator
# handles without a TypeError, so it answers for every record.
LEAVES: list[tuple[FilterOperator, str, list[Any]]] = [
    (FilterOperator.EQ, "genre", ["news", "tech", "none"]),
    (FilterOperator.EQ, "year", [2005, 2010.0]),
    (FilterOperator.NE, "genre", ["news"]),
    (FilterOperator.NE, "year", [2020]),
    (FilterOperator.GT, "year", [2005, 1999.5]),
    (FilterOperator.GTE, "score", [0.5]),
    (FilterOperator.LT, "score", [0.5, 0]),
    (FilterOperator.LTE, "year", [2010]),
    (FilterOperator.IN, "genre", [["news", "sport"], []]),
    (FilterOperator.IN, "year", [[2005, 2020]]),
    (FilterOperator.NIN, "genre", [["news"], []]),
    (FilterOperator.NIN, "year", [[1999, 2010]]),
    (FilterOperator.ANY, "tags", [["a", "c"], ["z"], []]),
    (FilterOperator.ANY, "title", [["tea", "Noir"]]),
    (FilterOperator.ALL, "tags", [["a", "b"], ["c"], []]),
    (FilterOperator.ALL, "title", [["t", "e"]]),
    (FilterOperator.CONTAINS, "tags", ["a", "b"]),
    (FilterOperator.CONTAINS, "title", ["tea", "é"]),
    (FilterOperator.TEXT_MATCH, "title", ["tea", "Caf", ""]),
    (FilterOperator.TEXT_MATCH_INSENSITIVE, "title", ["TEA", "CAFÉ"]),
    (FilterOperator.IS_EMPTY, "tags", [None]),
    (FilterOperator.IS_EMPTY, "title", [None]),
    (FilterOperator.IS_EMPTY, "missing_everywhere", [None]),
]


def test_every_operator_is_covered() -> None:
    assert {op for op, _, _ in LEAVES} == set(FilterOperator)


def reference(filters: MetadataFilters, metadata: dict[str, Any]) -> bool:
    """LlamaIndex's evaluator per leaf; nesting (which it rejects) combined the same way."""
    results = []
    for f in filters.filters:
        if isinstance(f, MetadataFilters):
            results.append(reference(f, metadata))
        else:
            leaf = MetadataFilters(filters=[f])
            results.append(build_metadata_filter_fn(lambda _: metadata, leaf)("x"))
    if filters.condition == FilterCondition.OR:
        return any(results)
    if filters.condition == FilterCondition.NOT:
        return not any(results)
    return all(results)


@pytest.fixture(scope="module")
def filter_world() -> tuple[AugurDBVectorStore, dict[str, dict[str, Any]]]:
    rng = random.Random(7)
    metas = {f"r{i}": random_metadata(rng, i) for i in range(300)}
    s = AugurDBVectorStore(dim=4, metric="l2")
    s.add([TextNode(id_=i, text="x", embedding=[rng.random() for _ in range(4)], metadata=m)
           for i, m in metas.items()])
    return s, metas


def check(store: AugurDBVectorStore, metas: dict[str, dict[str, Any]],
          filters: MetadataFilters) -> None:
    want = {i for i, m in metas.items() if reference(filters, m)}
    got = {n.node_id for n in store.get_nodes(filters=filters)}
    assert got == want, (filters, filters_to_where(filters))
    res = store.query(VectorStoreQuery(query_embedding=[0.5] * 4, similarity_top_k=len(metas),
                                       filters=filters))
    assert set(res.ids or []) == want


@pytest.mark.parametrize("op, key, values", LEAVES, ids=lambda v: getattr(v, "value", None))
def test_each_operator_matches_the_reference(filter_world: Any, op: FilterOperator, key: str,
                                             values: list[Any]) -> None:
    store, metas = filter_world
    for value in values:
        check(store, metas, MetadataFilters(filters=[MetadataFilter(key=key, value=value,
                                                                    operator=op)]))


def test_nested_conditions_match_the_reference(filter_world: Any) -> None:
    store, metas = filter_world
    rng = random.Random(3)
    leaves = [MetadataFilter(key=key, value=value, operator=op)
              for op, key, values in LEAVES for value in values]

    def random_filters(depth: int) -> MetadataFilters:
        parts: list[MetadataFilter | MetadataFilters] = []
        for _ in range(rng.randint(1, 3)):
            parts.append(random_filters(depth + 1) if depth < 2 and rng.random() < 0.3
                         else rng.choice(leaves))
        return MetadataFilters(filters=parts, condition=rng.choice(list(FilterCondition)))

    for _ in range(60):
        check(store, metas, random_filters(0))
    for a, b in itertools.product(leaves[:4], leaves[-6:]):
        check(store, metas, MetadataFilters(filters=[a, b], condition=FilterCondition.OR))


def test_bad_filter_values_are_clear_errors(filter_world: Any) -> None:
    store, _ = filter_world
    for op, value, match in [(FilterOperator.IN, "news", "needs a list"),
                             (FilterOperator.EQ, ["a"], "not a list"),
                             (FilterOperator.TEXT_MATCH, 3, "needs a str")]:
        with pytest.raises(errors.InvalidArgument, match=match):
            store.get_nodes(filters=MetadataFilters(filters=[
                MetadataFilter(key="genre", value=value, operator=op)]))
