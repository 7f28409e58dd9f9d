#!/usr/bin/env python3
"""Rejects #includes that point up the layer stack (STYLE.md section 1).

Layers, lowest first: util, simd, quant, {index, storage, filter, text}, db, bindings. A file may
include its own layer and any layer below (quant sits under index: the graph walks on codes). Public headers (include/augurdb/) may include only
other public headers and the standard library.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

RANK = {"util": 0, "simd": 1, "quant": 2, "index": 3, "storage": 3, "filter": 3, "text": 3, "db": 4,
        "bindings": 5}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/', re.MULTILINE)


def main() -> int:
    root = Path(__file__).resolve().parent.parent
    errors: list[str] = []
    for path in sorted((root / "src").rglob("*")):
        if path.suffix not in (".h", ".cc"):
            continue
        layer = path.relative_to(root / "src").parts[0]
        for target in INCLUDE.findall(path.read_text()):
            if target in RANK and RANK[target] > RANK.get(layer, 99):
                errors.append(f"{path.relative_to(root)}: includes {target}/ from layer {layer}/")
            # Siblings of equal rank stay independent (index/ knows nothing about storage/).
            if target in RANK and target != layer and RANK[target] == RANK.get(layer):
                errors.append(f"{path.relative_to(root)}: {layer}/ must not include {target}/")
    for path in sorted((root / "include" / "augurdb").glob("*.h")):
        if INCLUDE.search(path.read_text()):
            errors.append(f"{path.relative_to(root)}: public header includes a src/ header")
    for e in errors:
        print(e, file=sys.stderr)
    if not errors:
        print("layer check: ok")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
