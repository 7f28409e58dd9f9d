#!/usr/bin/env python3
"""Writes the (word, stem) fixture that tests/cpp/unit/text/english_stemmer_test.cc replays.

Oracle: the PyPI package snowballstemmer (pure Python, generated from Snowball's english.sbl).
Words: tokens of Debian's English package descriptions (`apt-get update -o
Acquire::Languages=en` leaves /var/lib/apt/lists/*Translation-en*), tokenized as the "simple"
tokenizer does (runs of L*/N* code points, simple lower-casing), chosen to cover every suffix the
algorithm knows, plus the edge cases the Snowball English page documents.
    .venv/bin/python tools/gen_stem_fixture.py [--all] > tests/cpp/unit/text/testdata/snowball_english.tsv
--all writes every distinct word instead of the selection (for a one-off full check).
"""

from __future__ import annotations

import collections
import glob
import subprocess
import sys
import unicodedata

import snowballstemmer

# Documented on https://snowballstem.org/algorithms/english/stemmer.html and in english.sbl.
EDGE_CASES = """
skis skies dying lying tying idly gently ugly early only singly sky news howe atlas cosmos bias
andes inning innings outing outings canning cannings herring herrings earring earrings proceed
proceeding proceeds exceed exceeding succeed succeeded generate generous general generation
communism communication community arsenal arsenic past pasted paste pasting emergency emerge
organization organ organize university universe later lateral latest internal international
interest youth boy boyish boys sayings saying enjoy enjoying cry cried cries by say ties tie
hopping hoping fizzed failing filing luxuriate bled guarded caresses ponies cats gas this kiwis
gaps ssss dies died lied lies spied agreed feed bleed eed ed ing ly y yy yyy ayyy yes yelling
consign consigned consigning consignment consist consisted consistency consistent consolation
knack knackeries knavish kneel knelt abandon abandoned abilities ability able aboard sensational
sensationalism hopefulness triplicate formative formalize electriciti electrical harmfulness
goodness revival allowance inference airliner gyroscopic adjustable defensible irritant
replacement adjustment dependent adoption homologou communism activate angulariti homologous
effective bowdlerize probate rate cease controll roll anciently ogist geologist biology
apology analogies mathematically fluently happily bluntly fitly relationally sky's boy's 'tis
""".split()


def tokenize(text: str) -> list[str]:
    tokens, cur = [], []
    for ch in text:
        if unicodedata.category(ch)[0] in "LN":
            low = ch.lower()
            cur.append(low[0])
        elif cur:
            tokens.append("".join(cur))
            cur = []
    if cur:
        tokens.append("".join(cur))
    return tokens


def vocabulary() -> collections.Counter:
    counts: collections.Counter = collections.Counter()
    for path in sorted(glob.glob("/var/lib/apt/lists/*Translation-en*")):
        if path.endswith(".lz4"):
            data = subprocess.run(["lz4cat", path], check=True, capture_output=True).stdout
        else:
            data = open(path, "rb").read()
        for line in data.decode("utf-8", "replace").splitlines():
            if line.startswith(("Package:", "Description-md5:")):
                continue
            if line.startswith("Description-en:"):
                line = line[len("Description-en:"):]
            counts.update(t for t in tokenize(line) if any(c.isalpha() for c in t))
    return counts


def suffixes() -> list[str]:
    from snowballstemmer import english_stemmer
    ends = set()
    for name, value in vars(english_stemmer.EnglishStemmer).items():
        if name.startswith("a_"):
            ends.update(a.s for a in value if a.s)
    return sorted(ends)


def main() -> int:
    stemmer = snowballstemmer.stemmer("english")
    counts = vocabulary()
    by_freq = [w for w, _ in counts.most_common()]
    if "--all" in sys.argv:
        chosen = by_freq
    else:
        chosen = list(dict.fromkeys(EDGE_CASES))
        chosen += by_freq[:2000]
        for suffix in suffixes():
            chosen += [w for w in by_freq if w.endswith(suffix)][:60]
        chosen += [w for w in by_freq if not w.isascii()][:300]
        chosen += [w for w in by_freq if len(w) <= 3][:200]
        chosen = list(dict.fromkeys(chosen))
    for word in chosen:
        print(f"{word}\t{stemmer.stemWord(word)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
