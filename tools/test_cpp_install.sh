#!/usr/bin/env bash
# Checks the installed C++ package the way a user meets it (make test-install):
#   1. configure + build the library (Release, no tests, no Python) in a temp build dir;
#   2. `cmake --install` it into a temp prefix;
#   3. check what was installed: the public headers of include/augurdb/ (identical to the source
#      tree, self-contained, including only <augurdb/...> and standard headers), libaugurdb.a and
#      the CMake package files -- nothing else;
#   4. check the symbols of the installed libaugurdb.a: every defined global text symbol is in
#      namespace augurdb (or compiler-generated), and list what has default visibility, i.e.
#      what a shared library linking the archive would export;
#   5. build examples/cpp against the prefix with only -DCMAKE_PREFIX_PATH (find_package +
#      target_link_libraries) and run the quickstart, which exits non-zero on a wrong answer.
# Every problem is reported; the script exits 1 if there was any.
#
# Environment: CMAKE (default: .venv/bin/cmake if present, else cmake in PATH), JOBS,
# KEEP_TMP=1 to keep the temp dir for inspection.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -d "$ROOT/.venv/bin" ]; then
  export PATH="$ROOT/.venv/bin:$PATH"  # like the Makefile: cmake and ninja from the venv first
fi
CMAKE="${CMAKE:-cmake}"
JOBS="${JOBS:-$(nproc 2>/dev/null || echo 2)}"
GENERATOR=()
if command -v ninja >/dev/null 2>&1; then GENERATOR=(-G Ninja); fi

TMP="$(mktemp -d "${TMPDIR:-/tmp}/augurdb_install_test.XXXXXX")"
cleanup() {
  if [ "${KEEP_TMP:-0}" = 1 ]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

PROBLEMS=()
problem() {
  PROBLEMS+=("$1")
  echo "PROBLEM: $1" >&2
}
step() { echo; echo "== $*"; }
# Runs a command quietly, showing its log only if it fails.
run_logged() {
  local log="$1"
  shift
  if ! "$@" >"$log" 2>&1; then
    tail -n 60 "$log" >&2
    return 1
  fi
}

command -v "$CMAKE" >/dev/null 2>&1 || { echo "FAIL: cmake not found (tried '$CMAKE')" >&2; exit 1; }
for tool in nm readelf c++filt; do
  command -v "$tool" >/dev/null 2>&1 || { echo "FAIL: $tool not found (binutils)" >&2; exit 1; }
done

BUILD="$TMP/build"
PREFIX="$TMP/prefix"

# ---- 1-2. build and install ---------------------------------------------------------------
step "configure + build the library (Release) in $BUILD"
run_logged "$TMP/configure.log" "$CMAKE" -S "$ROOT" -B "$BUILD" "${GENERATOR[@]}" \
  -DCMAKE_BUILD_TYPE=Release -DAUGURDB_BUILD_TESTS=OFF -DAUGURDB_BUILD_BENCH=OFF \
  -DAUGURDB_BUILD_PYTHON=OFF -DCMAKE_INSTALL_PREFIX="$PREFIX" \
  || { echo "FAIL: configuring the library failed" >&2; exit 1; }
run_logged "$TMP/build.log" "$CMAKE" --build "$BUILD" -j "$JOBS" \
  || { echo "FAIL: building the library failed" >&2; exit 1; }

step "install into $PREFIX"
run_logged "$TMP/install.log" "$CMAKE" --install "$BUILD" --prefix "$PREFIX" \
  || { echo "FAIL: cmake --install failed" >&2; exit 1; }

# ---- 3. installed files --------------------------------------------------------------------
step "installed files"
(cd "$PREFIX" && find . \( -type f -o -type l \) | sed 's|^\./||' | sort) >"$TMP/files.txt"
sed 's/^/  /' "$TMP/files.txt"

LIB=""
while IFS= read -r f; do
  case "$f" in
    include/augurdb/*.h) ;;
    lib/libaugurdb.a | lib64/libaugurdb.a) LIB="$PREFIX/$f" ;;
    lib/cmake/augurdb/augurdbConfig.cmake | lib64/cmake/augurdb/augurdbConfig.cmake) ;;
    lib/cmake/augurdb/augurdbConfigVersion.cmake | lib64/cmake/augurdb/augurdbConfigVersion.cmake) ;;
    lib/cmake/augurdb/augurdbTargets*.cmake | lib64/cmake/augurdb/augurdbTargets*.cmake) ;;
    *) problem "unexpected installed file: $f (only include/augurdb/*.h, libaugurdb.a and the CMake package files belong in the package)" ;;
  esac
done <"$TMP/files.txt"
[ -n "$LIB" ] || problem "libaugurdb.a was not installed"
grep -q 'augurdbConfig.cmake$' "$TMP/files.txt" || problem "augurdbConfig.cmake was not installed"
grep -q 'augurdbConfigVersion.cmake$' "$TMP/files.txt" || problem "augurdbConfigVersion.cmake was not installed"

# The installed headers are exactly the source tree's public headers.
(cd "$ROOT/include/augurdb" && ls -1 *.h | sort) >"$TMP/src_headers.txt"
(cd "$PREFIX/include/augurdb" 2>/dev/null && ls -1 *.h | sort) >"$TMP/inst_headers.txt"
if ! diff -u "$TMP/src_headers.txt" "$TMP/inst_headers.txt" >"$TMP/headers.diff"; then
  problem "installed headers differ from include/augurdb/: $(tr '\n' ' ' <"$TMP/headers.diff")"
fi
for h in $(cat "$TMP/inst_headers.txt"); do
  cmp -s "$ROOT/include/augurdb/$h" "$PREFIX/include/augurdb/$h" \
    || problem "installed include/augurdb/$h differs from the source tree"
  # Public headers include only public headers and the standard library (STYLE.md section 1).
  while IFS= read -r line; do
    inc="$(sed -E 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*//' <<<"$line")"
    if [[ ! "$inc" =~ ^\<augurdb/[a-z_]+\.h\>$ && ! "$inc" =~ ^\<[a-z_]+\>$ ]]; then
      problem "include/augurdb/$h includes $inc (only <augurdb/...> and standard headers allowed)"
    fi
  done < <(grep -E '^[[:space:]]*#[[:space:]]*include' "$PREFIX/include/augurdb/$h")
done

# Each header compiles on its own against the prefix.
CXX_BIN="$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$BUILD/CMakeCache.txt")"
CXX_BIN="${CXX_BIN:-c++}"
for h in $(cat "$TMP/inst_headers.txt"); do
  if ! echo "#include <augurdb/$h>" | "$CXX_BIN" -std=c++20 -Wall -Wextra -Werror -fsyntax-only \
      -I "$PREFIX/include" -x c++ - >"$TMP/header_$h.log" 2>&1; then
    cat "$TMP/header_$h.log" >&2
    problem "installed <augurdb/$h> does not compile on its own (-std=c++20 -Wall -Wextra -Werror)"
  fi
done

# The exported target must carry what consumers need to compile the headers (C++20).
TARGETS_FILE="$(find "$PREFIX" -name augurdbTargets.cmake | head -n 1)"
if [ -n "$TARGETS_FILE" ] && ! grep -q 'INTERFACE_COMPILE_FEATURES.*cxx_std_20' "$TARGETS_FILE"; then
  problem "the exported target augurdb::augurdb has no INTERFACE_COMPILE_FEATURES cxx_std_20, so a consumer that does not set CMAKE_CXX_STANDARD compiles the C++20 headers as C++17 and fails (fix: target_compile_features(augurdb PUBLIC cxx_std_20) in src/CMakeLists.txt)"
fi

# ---- 4. symbols ----------------------------------------------------------------------------
if [ -n "$LIB" ]; then
  step "symbols of $(basename "$LIB")"
  # nm -C: "<addr> <type> <demangled name>"; global defined symbols only.
  nm -C --defined-only -g "$LIB" 2>/dev/null \
    | awk 'NF >= 3 { t = $2; sub(/^[^ ]+ [^ ]+ /, ""); print t "\t" $0 }' | sort -u >"$TMP/nm.txt"
  echo "  defined global symbols by nm type: $(cut -f1 "$TMP/nm.txt" | sort | uniq -c | tr -s ' ' | tr '\n' ';')"
  # Compiler-generated wrappers name the entity they belong to after a fixed prefix.
  strip_generated() {
    sed -E 's/^(non-virtual thunk to |virtual thunk to |covariant return thunk to |vtable for |construction vtable for |VTT for |typeinfo for |typeinfo name for |guard variable for |TLS init function for |TLS wrapper function for |transaction clone for )+//'
  }
  # Strong definitions (text T, data D/B/R): each must belong to namespace augurdb.
  awk -F'\t' '$1 ~ /^[TDBRGS]$/ { print $2 }' "$TMP/nm.txt" | strip_generated \
    | grep -v '^augurdb::' >"$TMP/foreign_strong.txt" || true
  n_text="$(awk -F'\t' '$1 == "T"' "$TMP/nm.txt" | wc -l)"
  if [ -s "$TMP/foreign_strong.txt" ]; then
    problem "$(wc -l <"$TMP/foreign_strong.txt") strong global symbols outside namespace augurdb: $(head -n 20 "$TMP/foreign_strong.txt" | tr '\n' ';')"
  else
    echo "  ok: all $n_text global text (T) symbols and every strong data symbol are in namespace augurdb"
  fi
  # Weak/unique definitions (W, V, u) are template instantiations, inline functions, typeinfo
  # and DWARF helpers that the compiler emits in every user's object too. They may be std:: or
  # augurdb:: (or DW.ref.*); anything else is an inline function outside our namespace.
  awk -F'\t' '$1 ~ /^[WVvu]$/ { print $2 }' "$TMP/nm.txt" | strip_generated \
    | grep -Ev '^(augurdb::|std::|__gnu_cxx::|DW\.ref\.)' \
    | grep -Ev '^[^(]* (augurdb|std|__gnu_cxx)::' >"$TMP/foreign_weak.txt" || true
  n_weak="$(awk -F'\t' '$1 ~ /^[WVvu]$/' "$TMP/nm.txt" | wc -l)"
  n_weak_std="$(awk -F'\t' '$1 ~ /^[WVvu]$/ { print $2 }' "$TMP/nm.txt" | strip_generated | grep -cv '^augurdb::')"
  echo "  compiler-generated weak/unique symbols (W/V/u): $n_weak, of which $n_weak_std std:: template instantiations, typeinfo or DWARF helpers"
  if [ -s "$TMP/foreign_weak.txt" ]; then
    problem "weak symbols outside namespace augurdb and std: $(head -n 20 "$TMP/foreign_weak.txt" | tr '\n' ';')"
  fi

  # Visibility: what a shared library built from this archive would export.
  readelf -Ws --wide "$LIB" 2>/dev/null \
    | awk '($5 == "GLOBAL" || $5 == "WEAK" || $5 == "UNIQUE") && $6 == "DEFAULT" && $7 != "UND" { print $8 }' \
    | sort -u | c++filt >"$TMP/default_vis.txt"
  sed -E 's/\(.*//' "$TMP/default_vis.txt" | sort -u >"$TMP/default_vis_names.txt"
  n_hidden_text="$(readelf -Ws --wide "$LIB" 2>/dev/null | awk '$4 == "FUNC" && ($5 == "GLOBAL" || $5 == "WEAK") && $6 == "HIDDEN" && $7 != "UND"' | wc -l)"
  echo "  visibility: $n_hidden_text global functions hidden; default visibility (would be exported from a shared library):"
  grep '^augurdb::' "$TMP/default_vis_names.txt" | sed 's/^/    /'
  echo "    + $(grep -vc '^augurdb::' "$TMP/default_vis_names.txt") std:: template instantiations / typeinfo (libstdc++ declares namespace std with default visibility)"
  grep -v '^augurdb::' "$TMP/default_vis_names.txt" \
    | grep -Ev '^(std::|__gnu_cxx::|typeinfo (name )?for std::|vtable for std::|DW\.ref\.)' \
    | grep -Ev '^[^(]* (std|__gnu_cxx)::' >"$TMP/foreign_default.txt" || true
  if [ -s "$TMP/foreign_default.txt" ]; then
    problem "default-visibility symbols outside namespaces augurdb and std: $(head -n 20 "$TMP/foreign_default.txt" | tr '\n' ';')"
  fi
  if grep -q '^augurdb::Collection::Impl::' "$TMP/default_vis_names.txt"; then
    echo "  NOTE: augurdb::Collection::Impl members have default visibility: Impl is nested in the"
    echo "        exported class Collection and inherits its visibility (internal, not API)."
  fi
fi

# ---- 5. the example, built against the installed package only -----------------------------
step "build examples/cpp against $PREFIX"
EXAMPLE_BUILD="$TMP/example"
if ! run_logged "$TMP/example_configure.log" "$CMAKE" -S "$ROOT/examples/cpp" -B "$EXAMPLE_BUILD" \
    "${GENERATOR[@]}" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$PREFIX"; then
  problem "configuring examples/cpp with -DCMAKE_PREFIX_PATH=$PREFIX failed (find_package(augurdb CONFIG))"
elif ! run_logged "$TMP/example_build.log" "$CMAKE" --build "$EXAMPLE_BUILD" -j "$JOBS"; then
  problem "examples/cpp does not build against the installed package with find_package + target_link_libraries alone"
  # Retry with the standard set by hand, so the remaining checks still run.
  echo "  retrying with -DCMAKE_CXX_STANDARD=20 to run the remaining checks" >&2
  rm -rf "$EXAMPLE_BUILD"
  run_logged "$TMP/example_configure2.log" "$CMAKE" -S "$ROOT/examples/cpp" -B "$EXAMPLE_BUILD" \
      "${GENERATOR[@]}" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$PREFIX" \
      -DCMAKE_CXX_STANDARD=20 -DCMAKE_CXX_STANDARD_REQUIRED=ON \
    && run_logged "$TMP/example_build2.log" "$CMAKE" --build "$EXAMPLE_BUILD" -j "$JOBS" \
    || problem "examples/cpp does not build even with CMAKE_CXX_STANDARD=20"
fi
# The example must have taken its headers from the prefix, never from the source tree.
if grep -rq -- "-I$ROOT/include\|-isystem $ROOT/include" "$EXAMPLE_BUILD" 2>/dev/null; then
  problem "examples/cpp was compiled against the source tree's include/, not the installed headers"
fi

if [ -x "$EXAMPLE_BUILD/quickstart" ]; then
  step "run the quickstart"
  if "$EXAMPLE_BUILD/quickstart" "$TMP/quickstart_db" >"$TMP/quickstart.log" 2>&1; then
    sed 's/^/  /' "$TMP/quickstart.log"
    # Twice on the same directory: the second run reopens a database the first one wrote.
    "$EXAMPLE_BUILD/quickstart" "$TMP/quickstart_db" >"$TMP/quickstart2.log" 2>&1 \
      || { cat "$TMP/quickstart2.log" >&2; problem "quickstart failed on reopening its own database"; }
  else
    cat "$TMP/quickstart.log" >&2
    problem "the quickstart exited non-zero"
  fi
fi

echo
if [ ${#PROBLEMS[@]} -ne 0 ]; then
  echo "FAIL: test_cpp_install.sh found ${#PROBLEMS[@]} problem(s):" >&2
  for p in "${PROBLEMS[@]}"; do echo "  - $p" >&2; done
  exit 1
fi
echo "OK: installed package, headers, symbols and examples/cpp quickstart all check out"
