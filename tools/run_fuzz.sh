#!/usr/bin/env bash
# Runs the libFuzzer targets built in build/fuzz (make fuzz), one at a time, one process each.
#   FUZZ_RUNS     executions per target (default 100000; -runs)
#   FUZZ_SECONDS  time limit per target in seconds (default 120; 0 = none; -max_total_time)
#   FUZZ_TARGETS  which targets (default: wal_reader checkpoint filter db_open tokenizer)
# The seed corpus in fuzz/corpus/<target> is read, never written: new inputs go to
# build/fuzz/corpus/<target>, crashes to build/fuzz/artifacts/. Exits non-zero on any crash.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${FUZZ_BUILD:-build/fuzz}
RUNS=${FUZZ_RUNS:-100000}
SECONDS_LIMIT=${FUZZ_SECONDS:-120}
TARGETS=${FUZZ_TARGETS:-"wal_reader checkpoint filter db_open tokenizer"}
mkdir -p "$BUILD/artifacts" "$BUILD/logs"
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
status=0
for target in $TARGETS; do
  bin="$BUILD/fuzz/${target}_fuzzer"
  work="$BUILD/corpus/$target"
  mkdir -p "$work"
  args=(-runs="$RUNS" -max_total_time="$SECONDS_LIMIT" -timeout=10 -rss_limit_mb=2048
        -malloc_limit_mb=512 -print_final_stats=1 -artifact_prefix="$BUILD/artifacts/$target-")
  [ -f "fuzz/$target.dict" ] && args+=(-dict="fuzz/$target.dict")
  echo "== $target: $bin ${args[*]} $work fuzz/corpus/$target"
  log="$BUILD/logs/$target.log"
  if "$bin" "${args[@]}" "$work" "fuzz/corpus/$target" >"$log" 2>&1; then
    grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' "$log" || true
    grep -E '^#[0-9]+.*(DONE|INITED)' "$log" | tail -n 2 || true
  else
    status=1
    echo "!! $target failed; last lines of $log:"
    tail -n 40 "$log"
  fi
done
exit $status
