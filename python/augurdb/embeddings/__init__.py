"""Embedding functions: turn texts into vectors for a collection.

Any callable ``fn(list[str]) -> (n, dim) float32 array`` is an embedding function. The built-ins
import their runtimes only when constructed, behind extras, and never download a model:

- :class:`OnnxEmbedding` (``augurdb[onnx]``: onnxruntime + tokenizers, no PyTorch);
- :class:`SentenceTransformerEmbedding` (``augurdb[sentence-transformers]``).

A function with ``name()`` and ``get_config()`` (:class:`EmbeddingFunction`) whose class is
registered with :func:`register_embedding_function` can be rebuilt from that stored identity
by :func:`build_embedding_function`.

>>> from augurdb.embeddings import OnnxEmbedding, build_embedding_function
>>> fn = OnnxEmbedding("model.onnx", "tokenizer.json")              # doctest: +SKIP
>>> same = build_embedding_function(fn.name(), fn.get_config())     # doctest: +SKIP
"""

from __future__ import annotations

from .base import (
    EmbeddingCallable,
    EmbeddingFunction,
    EmbeddingFunctionNotFound,
    build_embedding_function,
    check_embeddings,
    check_texts,
    embedding_identity,
    register_embedding_function,
    registered_embedding_functions,
)
from .onnx import OnnxEmbedding
from .sentence_transformer import SentenceTransformerEmbedding

__all__ = [
    "EmbeddingCallable",
    "EmbeddingFunction",
    "EmbeddingFunctionNotFound",
    "OnnxEmbedding",
    "SentenceTransformerEmbedding",
    "build_embedding_function",
    "check_embeddings",
    "check_texts",
    "embedding_identity",
    "register_embedding_function",
    "registered_embedding_functions",
]
