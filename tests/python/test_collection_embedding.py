"""A collection with an embedding function: documents added without vectors, str queries, the
function's identity stored in the database and rebuilt on reopen, and every way it can go
wrong leaving nothing written. A small deterministic bag-of-words function stands in for a
model here; test_embeddings.py runs the same path on the real all-MiniLM-L6-v2."""

from __future__ import annotations

import zlib

import augurdb
import numpy as np
import pytest
from augurdb import _embedder, errors
from augurdb.embeddings import base, register_embedding_function

DIM = 16
DOCS = ["the cat sat on the mat", "dogs chase cats in the park", "stock markets fell sharply",
        "a recipe for lemon cake", "the kitten sleeps on a warm mat"]


def bag_of_words(texts: list[str], dim: int = DIM) -> np.ndarray:
    out = np.zeros((len(texts), dim), np.float32)
    for row, text in enumerate(texts):
        for word in text.lower().split():
            out[row, zlib.crc32(word.encode()) % dim] += 1.0
        norm = np.linalg.norm(out[row])
        if norm == 0:
            out[row, 0] = 1.0
        else:
            out[row] /= norm
    return out


@register_embedding_function
class BagOfWords:
    calls: list[int] = []  # texts per call, for the batching test

    def __init__(self, dim: int = DIM) -> None:
        self.dim = dim

    @staticmethod
    def name() -> str:
        return "test-bag-of-words"

    def get_config(self) -> dict:
        return {"dim": self.dim}

    @classmethod
    def build_from_config(cls, config: dict) -> BagOfWords:
        return cls(**config)

    def __call__(self, texts: list[str]) -> np.ndarray:
        BagOfWords.calls.append(len(texts))
        return bag_of_words(texts, self.dim)


@register_embedding_function
class OtherModel(BagOfWords):
    @staticmethod
    def name() -> str:
        return "test-other-model"


@pytest.fixture
def db(tmp_path):
    return tmp_path / "db"


def test_documents_without_vectors_are_embedded(db):
    with augurdb.open(db, embedding_function=BagOfWords()) as col:
        col.add(range(len(DOCS)), documents=DOCS, metadata=[{"n": i} for i in range(len(DOCS))])
        assert col.dim == DIM and len(col) == len(DOCS)
        records = col.get(list(range(len(DOCS))))
        np.testing.assert_allclose(np.stack([r.vector for r in records]), bag_of_words(DOCS))
        assert [r.document for r in records] == DOCS
        # A str query is embedded; the same words find the same document first.
        assert col.search("the cat sat on the mat", k=1)[0].id == 0
        hybrid = col.search("kitten sleeps", k=2, text="kitten sleeps")
        assert hybrid[0].id == 4 and hybrid[0].text_score > 0
        batch = col.search_batch(["stock markets fell sharply", "lemon cake"], k=1)
        assert batch.ids[:, 0].tolist() == [2, 3]
        batch = col.search_batch(np.array(["lemon cake"]), k=1, texts=["lemon cake"])
        assert batch.ids[0, 0] == 3
        # Vectors given explicitly win over the function.
        col.upsert([0], np.ones((1, DIM), np.float32), documents=["replaced"])
        np.testing.assert_allclose(col.get([0])[0].vector, np.ones(DIM))
        assert col.verify()


def test_identity_is_stored_and_rebuilt_on_reopen(db):
    with augurdb.open(db, embedding_function=BagOfWords()) as col:
        col.add(range(3), documents=DOCS[:3])
        assert col.embedding_function_identity == {"name": "test-bag-of-words",
                                                   "config": {"dim": DIM}}
    with augurdb.open(db) as col:  # no function: the stored one is rebuilt on first use
        assert col.embedding_function_identity["name"] == "test-bag-of-words"
        assert isinstance(col.embedding_function, BagOfWords)
        col.add([3, 4], documents=DOCS[3:])
        assert col.search("a recipe for lemon cake", k=1)[0].id == 3
    with augurdb.open(db, mode="r") as reader:
        assert reader.search("dogs chase cats in the park", k=1)[0].id == 1


def test_an_unbuildable_function_still_opens_and_names_itself(db, monkeypatch):
    with augurdb.open(db, embedding_function=BagOfWords()) as col:
        col.add(range(3), documents=DOCS[:3])
    registry = dict(base._REGISTRY)
    del registry["test-bag-of-words"]
    monkeypatch.setattr(base, "_REGISTRY", registry)
    with augurdb.open(db) as col:
        assert len(col) == 3
        assert col.search(bag_of_words(["the cat sat on the mat"])[0], k=1)[0].id == 0
        assert col.search(text="cat", k=1)[0].id == 0  # BM25 needs no function
        for attempt in (lambda: col.search("cat"), lambda: col.add([9], documents=["x"]),
                        lambda: col.embedding_function):
            with pytest.raises(errors.EmbeddingFunctionError, match="test-bag-of-words"):
                attempt()
        assert len(col) == 3
        # An explicit function of the same name works without the registry.
        col.close()
    with augurdb.open(db, embedding_function=BagOfWords()) as col:
        assert col.search("the cat sat on the mat", k=1)[0].id == 0


def test_a_conflicting_function_is_refused_and_changes_nothing(db):
    with augurdb.open(db, embedding_function=BagOfWords()) as col:
        col.add(range(2), documents=DOCS[:2])
    with pytest.raises(errors.EmbeddingFunctionError, match="test-bag-of-words.*test-other"):
        augurdb.open(db, embedding_function=OtherModel())
    with augurdb.open(db) as col:  # the lock was released and the identity kept
        assert col.embedding_function_identity["name"] == "test-bag-of-words"
    # The same name with another config (e.g. a moved model file) replaces the config.
    with augurdb.open(db, embedding_function=BagOfWords(dim=DIM)) as col:
        assert col.embedding_function_identity["config"] == {"dim": DIM}


def test_model_sha256_must_match():
    stored = {"name": "onnx", "config": {"model_sha256": "aa", "model_path": "/a"}}
    assert _embedder._conflict(stored, "onnx", {"model_sha256": "aa", "model_path": "/b"}) is None
    assert "sha256" in _embedder._conflict(stored, "onnx", {"model_sha256": "bb"})
    assert _embedder._conflict(stored, "other", {}) == "another name"


def test_plain_callables_are_used_but_not_stored(db):
    with augurdb.open(db, embedding_function=bag_of_words) as col:
        col.add(range(2), documents=DOCS[:2])
        assert col.embedding_function_identity is None
        assert col.embedding_function is bag_of_words
        assert col.search("the cat sat on the mat", k=1)[0].id == 0
    with augurdb.open(db) as col:
        assert col.embedding_function is None
        with pytest.raises(errors.EmbeddingFunctionError, match="no embedding function"):
            col.search("cat")


def test_read_only_open_uses_but_does_not_store(db):
    with augurdb.open(db, dim=DIM) as col:
        col.add(range(2), bag_of_words(DOCS[:2]), documents=DOCS[:2])
    with augurdb.open(db, mode="r", embedding_function=BagOfWords()) as reader:
        assert reader.search("the cat sat on the mat", k=1)[0].id == 0
    with augurdb.open(db) as col:
        assert col.embedding_function_identity is None


def _failing(message: str):
    # A fresh exception per call: one shared instance would keep every raising frame (and the
    # collection in it) alive in its __traceback__ until interpreter exit.
    def fn(texts: list[str]) -> np.ndarray:
        raise RuntimeError(message)
    return fn


@pytest.mark.parametrize("function, error, match", [
    (_failing("model crashed"), errors.EmbeddingFunctionError, "model crashed"),
    (lambda texts: np.full((len(texts), DIM), np.nan, np.float32),
     errors.EmbeddingFunctionError, "NaN"),
    (lambda texts: np.zeros((len(texts) + 1, DIM), np.float32),
     errors.EmbeddingFunctionError, "shape"),
    (lambda texts: bag_of_words(texts, dim=8), errors.DimensionMismatch, "8-d.*16-d"),
])
def test_a_failing_function_writes_nothing(db, function, error, match):
    with augurdb.open(db, dim=DIM, embedding_function=function) as col:
        col.add([100], np.ones((1, DIM), np.float32))
        with pytest.raises(error, match=match):
            col.add(range(3), documents=DOCS[:3])
        with pytest.raises(error, match=match):
            col.search("cat")
        assert len(col) == 1
    with augurdb.open(db) as col:
        assert len(col) == 1 and col.verify()


def test_bad_batches_fail_before_embedding(db):
    BagOfWords.calls.clear()
    with augurdb.open(db, embedding_function=BagOfWords()) as col:
        for kwargs, match in [({"documents": DOCS[:2]}, "2 entries for 3 ids"),
                              ({"documents": ["a", None, "c"]}, r"documents\[1\] is NoneType"),
                              ({"documents": DOCS[:3], "metadata": [{}]}, "metadata has 1"),
                              ({}, "needs vectors, or documents")]:
            with pytest.raises(errors.InvalidArgument, match=match):
                col.add(range(3), **kwargs)
        assert BagOfWords.calls == [] and len(col) == 0
        with pytest.raises(errors.InvalidArgument, match="must be callable"):
            augurdb.open(embedding_function="onnx")


def test_no_function_is_a_clear_error():
    col = augurdb.open(dim=4)
    with pytest.raises(errors.EmbeddingFunctionError, match="no embedding function"):
        col.add([1], documents=["text"])
    with pytest.raises(errors.EmbeddingFunctionError, match="no embedding function"):
        col.search("text")
    assert col.embedding_function is None and len(col) == 0


def test_large_adds_embed_in_batches(db):
    BagOfWords.calls.clear()
    n = 2 * _embedder.EMBED_BATCH + 88
    texts = [f"document number {i} about topic {i % 7}" for i in range(n)]
    with augurdb.open(db, embedding_function=BagOfWords()) as col:
        col.add(range(n), documents=texts)
        assert BagOfWords.calls == [_embedder.EMBED_BATCH, _embedder.EMBED_BATCH, 88]
        np.testing.assert_allclose(col.get([n - 1])[0].vector, bag_of_words(texts[-1:])[0])
