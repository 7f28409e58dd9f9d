#!/usr/bin/env bash
# Runs pytest and fails when it collected no test (pytest exit code 5 must not pass silently).
set -uo pipefail
py="$1"; shift
"$py" -m pytest -q "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests: failing on purpose" >&2
  exit 1
fi
exit "$rc"
