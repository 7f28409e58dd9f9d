"""Writes tests/data/debian_descriptions.jsonl.gz, the corpus of the BM25 oracle test.

Source: Debian's English package descriptions (bookworm main, the Translation-en file that
`apt-get update -o Acquire::Languages=en` fetches into /var/lib/apt/lists/). Every 20th package
in name order is kept (about 3,000), one JSON object per line: {"package": ..., "text": ...},
the short description and the long one joined, paragraph marks (" .") as blank lines.

    python3 tools/make_text_fixture.py [/var/lib/apt/lists/*bookworm_main_i18n_Translation-en.lz4]
"""

from __future__ import annotations

import glob
import gzip
import json
import subprocess
import sys

STEP = 20


def stanzas(text: str):
    package, lines = None, []
    for line in text.splitlines() + [""]:
        if not line:
            if package and lines:
                yield package, "\n".join(lines)
            package, lines = None, []
        elif line.startswith("Package: "):
            package = line[len("Package: "):]
        elif line.startswith("Description-en: "):
            lines.append(line[len("Description-en: "):])
        elif line.startswith(" ") and lines:
            body = line[1:]
            lines.append("" if body == "." else body)


def main() -> int:
    paths = sys.argv[1:] or glob.glob("/var/lib/apt/lists/*bookworm_main_i18n_Translation-en*")
    if not paths:
        print("no Translation-en file: run apt-get update -o Acquire::Languages=en", file=sys.stderr)
        return 1
    raw = subprocess.run(["lz4cat", paths[0]], check=True, capture_output=True).stdout
    docs = sorted(dict(stanzas(raw.decode("utf-8"))).items())
    picked = docs[::STEP]
    # mtime=0: the same input gives the same bytes.
    with gzip.GzipFile("tests/data/debian_descriptions.jsonl.gz", "wb", mtime=0) as out:
        for package, text in picked:
            out.write((json.dumps({"package": package, "text": text}, ensure_ascii=False) + "\n")
                      .encode("utf-8"))
    print(f"{len(picked)} of {len(docs)} descriptions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
