"""The committed text corpus of the BM25 and hybrid tests: ~3,200 Debian English package
descriptions (tests/data/debian_descriptions.jsonl.gz, written by tools/make_text_fixture.py
from bookworm's Translation-en), and deterministic queries drawn from it."""

from __future__ import annotations

import gzip
import json
import random
from functools import lru_cache
from pathlib import Path

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "debian_descriptions.jsonl.gz"


@lru_cache(maxsize=1)
def descriptions() -> tuple[str, ...]:
    with gzip.open(FIXTURE, "rt", encoding="utf-8") as f:
        return tuple(json.loads(line)["text"] for line in f)


def queries(doc_tokens: list[list[str]], count: int, seed: int = 7) -> list[list[str]]:
    """`count` queries of 1-5 distinct tokens, each drawn from one document's tokens (so most
    match something) with one token in four drawn from the whole vocabulary (rare terms)."""
    rng = random.Random(seed)
    vocab = sorted({t for doc in doc_tokens for t in doc})
    out: list[list[str]] = []
    while len(out) < count:
        doc = doc_tokens[rng.randrange(len(doc_tokens))]
        if not doc:
            continue
        want = rng.randint(1, 5)
        picked: list[str] = []
        while len(picked) < want:
            token = rng.choice(vocab) if rng.random() < 0.25 else rng.choice(doc)
            if token not in picked:
                picked.append(token)
        out.append(picked)
    return out
