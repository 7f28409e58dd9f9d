"""SentenceTransformerEmbedding: any sentence-transformers model, for users who have PyTorch.

sentence-transformers (and so torch) is imported only when an instance is made. Models load
with ``local_files_only=True``: a name resolves only to a model already in the local Hugging
Face cache or to a directory, never to a download.

Thread safety: as sentence-transformers' ``encode`` (concurrent calls on one CPU model work;
on a GPU, give each thread its own instance).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from .base import FloatArray, check_embeddings, check_texts, register_embedding_function

_INSTALL_HINT = "pip install 'augurdb[sentence-transformers]'"


@register_embedding_function
class SentenceTransformerEmbedding:
    """Embeddings from ``sentence_transformers.SentenceTransformer(model_name_or_path)``.

    ``normalize``: L2-normalise each row. ``device``: torch device (None: its default).
    ``batch_size``: texts per forward pass. ``device`` and ``batch_size`` do not change the
    vectors and are not part of :meth:`get_config`.

    Raises ``ImportError`` naming the extra when sentence-transformers is not installed, and
    ``FileNotFoundError`` when the model is neither a directory nor in the local cache.
    """

    def __init__(self, model_name_or_path: str | os.PathLike[str], *, normalize: bool = True,
                 device: str | None = None, batch_size: int = 64) -> None:
        try:
            from sentence_transformers import (  # type: ignore[import-not-found, unused-ignore]
                SentenceTransformer,
            )
        except ImportError as error:
            raise ImportError(f"SentenceTransformerEmbedding needs sentence-transformers and "
                              f"torch ({error}); {_INSTALL_HINT}") from error
        self.model_name_or_path = os.fspath(model_name_or_path)
        self.normalize = bool(normalize)
        self.batch_size = batch_size
        try:
            self._model = SentenceTransformer(self.model_name_or_path, device=device,
                                              local_files_only=True)
        except OSError as error:  # huggingface_hub's "not in the cache" errors are OSErrors
            raise FileNotFoundError(
                f"SentenceTransformerEmbedding: model {self.model_name_or_path!r} is neither a "
                f"local directory nor in the Hugging Face cache, and AugurDB never downloads "
                f"models: pass a local path ({error})") from error

    @staticmethod
    def name() -> str:
        return "sentence-transformers"

    def get_config(self) -> dict[str, Any]:
        return {"model_name_or_path": self.model_name_or_path, "normalize": self.normalize}

    @classmethod
    def build_from_config(cls, config: dict[str, Any]) -> SentenceTransformerEmbedding:
        return cls(**config)

    @property
    def dim(self) -> int:
        return int(self._model.get_sentence_embedding_dimension())

    def __call__(self, texts: list[str]) -> FloatArray:
        """float32 ``(len(texts), dim)``, row i for ``texts[i]``."""
        texts = check_texts(texts)
        if not texts:  # encode([]) gives no usable shape
            return np.empty((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(texts, batch_size=self.batch_size, convert_to_numpy=True,
                                     normalize_embeddings=self.normalize,
                                     show_progress_bar=False)
        return check_embeddings(vectors, len(texts), who=f"SentenceTransformerEmbedding("
                                                        f"{self.model_name_or_path!r})")

    def __repr__(self) -> str:
        return (f"SentenceTransformerEmbedding({self.model_name_or_path!r}, "
                f"normalize={self.normalize})")
