#!/usr/bin/env bash
# Run the tap suite and end with one summary line, "tests: N passed, N failed, N skipped",
# that CI systems can read. The exit code is tap's.
set -uo pipefail
cd "$(dirname "$0")/.."

log="$(mktemp)"
trap 'rm -f "$log"' EXIT

npx tap "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

summary="$(grep -E '^# \{ total: ' "$log" | tail -1)"
total=$(sed -nE 's/.*total: ([0-9]+).*/\1/p' <<<"$summary")
pass=$(sed -nE 's/.*pass: ([0-9]+).*/\1/p' <<<"$summary")
fail=$(sed -nE 's/.*fail: ([0-9]+).*/\1/p' <<<"$summary")
skip=$(sed -nE 's/.*skip: ([0-9]+).*/\1/p' <<<"$summary")
todo=$(sed -nE 's/.*todo: ([0-9]+).*/\1/p' <<<"$summary")
# A CI log may keep only its tail, so repeat each failing test and its diagnostic here.
if [[ "${fail:-0}" != 0 ]]; then
  echo "failures:"
  awk '
    /^ *not ok / { print; inyaml = 0; want = 1; next }
    want && /^ *---$/ { inyaml = 1 }
    inyaml { print; if ($0 ~ /^ *\.\.\.$/) { inyaml = 0; want = 0 }; next }
    { want = 0 }
  ' "$log" | head -n 200
fi
echo "tests: ${pass:-0} passed, ${fail:-0} failed, $(( ${skip:-0} + ${todo:-0} )) skipped"

if [[ -z "$total" || "$total" == 0 ]]; then
  echo "no tests ran" >&2
  exit 1
fi
exit "$status"
