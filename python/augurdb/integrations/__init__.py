"""Adapters for retrieval frameworks, each importing its framework only when imported itself:

- :mod:`augurdb.integrations.langchain` (``pip install "augurdb[langchain]"``):
  ``AugurDBVectorStore``, a ``langchain_core.vectorstores.VectorStore``.
- :mod:`augurdb.integrations.llama_index` (``pip install "augurdb[llama-index]"``):
  ``AugurDBVectorStore``, a ``llama_index.core.vector_stores.types.BasePydanticVectorStore``.
"""
