#!/usr/bin/env python3
"""The layer order of src/, stated once (LAYERS below), and its check (STYLE.md section 1).

Rejects an #include that points up or sideways, "layer/..." and <augurdb/...> alike (a public
header belongs to the layer that implements it: PUBLIC_HEADERS), and a src/CMakeLists.txt whose
`augurdb_layer(... BELOW ...)` lists differ from LAYERS. The build then enforces the same order at
link time (augurdb_linkcheck_<layer> targets). Public headers may include only other public
headers and the standard library.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

# Each layer and every layer it may use, lowest first. quant sits under index (the graph walks on
# codes); index, storage, filter and text are siblings that know nothing of each other.
LAYERS: dict[str, list[str]] = {
    "util": [],
    "simd": ["util"],
    "quant": ["simd", "util"],
    "index": ["quant", "simd", "util"],
    "storage": ["util"],
    "filter": ["util"],
    "text": ["util"],
    "db": ["index", "quant", "simd", "storage", "filter", "text", "util"],
    "bindings": ["db", "index", "quant", "simd", "storage", "filter", "text", "util"],
}
# include/augurdb/<name> -> the layer whose sources define it (default util: status, metric, ...).
PUBLIC_HEADERS = {"collection.h": "db", "value.h": "filter"}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/', re.MULTILINE)
PUBLIC_INCLUDE = re.compile(r'^\s*#\s*include\s+<augurdb/([a-z_]+\.h)>', re.MULTILINE)
CMAKE_LAYER = re.compile(r'augurdb_layer\((\w+)\s+SOURCES\s+\$\{\w+\}(?:\s+BELOW\s+([\w\s]+?))?\)')


def include_errors(root: Path) -> list[str]:
    errors: list[str] = []
    for path in sorted((root / "src").rglob("*")):
        if path.suffix not in (".h", ".cc"):
            continue
        layer = path.relative_to(root / "src").parts[0]
        if layer not in LAYERS:
            errors.append(f"{path.relative_to(root)}: folder {layer}/ is not a layer in LAYERS")
            continue
        text = path.read_text()
        targets = [(t, f'"{t}/..."') for t in INCLUDE.findall(text) if t in LAYERS]
        targets += [(PUBLIC_HEADERS.get(h, "util"), f"<augurdb/{h}>")
                    for h in PUBLIC_INCLUDE.findall(text)]
        for target, spelled in targets:
            if target != layer and target not in LAYERS[layer]:
                errors.append(f"{path.relative_to(root)}: {layer}/ may not include {spelled} "
                              f"(layer {target}/; {layer}/ uses only {LAYERS[layer] or 'nothing'})")
    for path in sorted((root / "include" / "augurdb").glob("*.h")):
        if INCLUDE.search(path.read_text()):
            errors.append(f"{path.relative_to(root)}: public header includes a src/ header")
    return errors


def cmake_errors(root: Path) -> list[str]:
    cmake = (root / "src" / "CMakeLists.txt").read_text()
    declared = {m.group(1): sorted((m.group(2) or "").split()) for m in CMAKE_LAYER.finditer(cmake)}
    expected = {k: sorted(v) for k, v in LAYERS.items() if k != "bindings"}
    if declared == expected:
        return []
    return [f"src/CMakeLists.txt: augurdb_layer {name} BELOW {declared.get(name)} but LAYERS says "
            f"{expected.get(name)}" for name in sorted(set(declared) | set(expected))
            if declared.get(name) != expected.get(name)]


def main() -> int:
    root = Path(__file__).resolve().parent.parent
    errors = include_errors(root) + cmake_errors(root)
    for e in errors:
        print(e, file=sys.stderr)
    if not errors:
        print("layer check: ok")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
