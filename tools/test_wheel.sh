#!/usr/bin/env bash
# Checks what `make wheel` left in DIST as a user would meet it (`make test-wheel`):
#  1. the repaired manylinux wheel, installed into a fresh venv whose PATH holds no compiler
#     (and with --only-binary, so pip could not build anything even if it tried): import, a
#     search, the console script, and examples/typed_usage.py (every public call);
#  2. the sdist, installed by pip into another fresh venv (pip builds it, as a user without a
#     matching wheel would): the same smoke test.
# Each runs from a temp directory, so `import augurdb` can only find the installed package.
# Usage: tools/test_wheel.sh PYTHON DIST
set -euo pipefail
py="$1"
dist="$(cd "$2" && pwd)"
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

wheels=("$dist"/augurdb-*-manylinux*.whl)
sdists=("$dist"/augurdb-*.tar.gz)
if [ ${#wheels[@]} -ne 1 ] || [ ! -f "${wheels[0]}" ] || [ ${#sdists[@]} -ne 1 ] \
    || [ ! -f "${sdists[0]}" ]; then
  echo "test_wheel: expected one manylinux wheel and one sdist in $dist (run make wheel)" >&2
  exit 1
fi

# The only programs the smoke test needs besides the venv's own: no compiler among them.
mkdir "$work/bin"
for tool in grep rm; do ln -s "$(command -v "$tool")" "$work/bin/$tool"; done

# Runs the smoke test with VENV's interpreter and console script.
smoke() {
  local venv="$1" label="$2"
  (
    cd "$work"
    export PATH="$venv/bin:$work/bin" VIRTUAL_ENV_DIR="$venv"
    python - <<'EOF'
import os
import numpy as np
import augurdb

assert os.path.dirname(augurdb.__file__).startswith(os.environ["VIRTUAL_ENV_DIR"]), augurdb.__file__
rng = np.random.default_rng(1)
vectors = rng.random((2000, 32), dtype=np.float32)
with augurdb.open("smoke.adb", dim=32) as col:
    col.add(np.arange(2000), vectors, metadata=[{"even": i % 2 == 0} for i in range(2000)])
    hits = col.search(vectors[123], k=5)
    assert hits[0].id == 123 and hits[0].distance < 1e-4, hits
    assert all(h.metadata["even"] for h in col.search(vectors[7], k=5, where={"even": True}))
    batch = col.search_batch(vectors[:100], k=1)
    assert (batch.ids[:, 0] == np.arange(100)).mean() > 0.95
np.save("queries.npy", vectors[:3])
info = augurdb.build_info()
print(f"smoke ok: augurdb {augurdb.__version__}, {info['compiler']}, simd {info['simd']}")
EOF
    augurdb version
    augurdb search smoke.adb --from queries.npy --row 2 -k 1 --json | python -c \
        "import json, sys; assert json.load(sys.stdin)['hits'][0]['id'] == 2"
    printf 'not vectors\n' > notes.npy
    if augurdb import other.adb notes.npy 2> err.txt; then
      echo "import of a text file succeeded" >&2; exit 1
    fi
    grep -q "not a .npy file" err.txt
    python "$root/examples/typed_usage.py" "$work" > /dev/null
    rm -rf smoke.adb typed.adb queries.npy notes.npy err.txt
  )
  echo "test_wheel: $label passed"
}

# ---- 1. the repaired wheel, no compiler reachable
"$py" -m venv "$work/wheel-venv"
for cc in cc c++ gcc g++ clang clang++; do
  if PATH="$work/wheel-venv/bin:$work/bin" command -v "$cc" > /dev/null; then
    echo "test_wheel: $cc is reachable from the wheel venv's PATH" >&2
    exit 1
  fi
done
PATH="$work/wheel-venv/bin:$work/bin" CC=false CXX=false \
  "$work/wheel-venv/bin/python" -m pip install -q --only-binary=:all: "${wheels[0]}"
smoke "$work/wheel-venv" "wheel $(basename "${wheels[0]}")"

# ---- 2. the sdist, built by pip
"$py" -m venv "$work/sdist-venv"
"$work/sdist-venv/bin/python" -m pip install -q "${sdists[0]}"
smoke "$work/sdist-venv" "sdist $(basename "${sdists[0]}")"
