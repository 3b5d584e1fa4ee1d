#!/usr/bin/env bash
# Back-to-back `traft run`s for SOAK_MINUTES minutes (default 30), rotating workloads, fault sets
# and seeds, stopping at the first run that is not valid. Exit 0 when every run was valid, otherwise
# the exit code of the first failing run (1 anomalies, 2 unknown, 64 bad arguments).
#
# Environment: SOAK_MINUTES (total budget), SOAK_RUN_SECONDS (main phase of each run, default 60),
# SOAK_NODES (default 5), SOAK_STORE (default ./store), SOAK_SEED (first seed, default from the clock).
set -uo pipefail
cd "$(dirname "$0")/.."

minutes="${SOAK_MINUTES:-30}"
run_seconds="${SOAK_RUN_SECONDS:-60}"
nodes="${SOAK_NODES:-5}"
store="${SOAK_STORE:-./store}"
seed="${SOAK_SEED:-$(( $(date +%s) % 1000000 ))}"

if ! [[ "$minutes" =~ ^[0-9]+$ ]] || (( minutes < 1 )); then
  echo "soak: invalid SOAK_MINUTES \"$minutes\": pass a whole number of minutes, 1 or more" >&2
  exit 64
fi
if ! [[ "$run_seconds" =~ ^[0-9]+$ ]] || (( run_seconds < 5 )); then
  echo "soak: invalid SOAK_RUN_SECONDS \"$run_seconds\": pass a whole number of seconds, 5 or more" >&2
  exit 64
fi

workloads=(register set bank counter list-append)
nemeses=(kill,pause,partition partition kill pause kill,partition none)

deadline=$(( $(date +%s) + minutes * 60 ))
runs=0
echo "soak: ${minutes} min of ${run_seconds}-second runs on ${nodes} nodes, first seed ${seed}, store ${store}"

while (( $(date +%s) < deadline )); do
  # Leave room for setup, recovery and checking (about 60 s) after the main phase.
  remaining=$(( deadline - $(date +%s) ))
  if (( remaining < run_seconds + 60 )); then
    break
  fi
  workload="${workloads[$(( runs % ${#workloads[@]} ))]}"
  # The workload changes every run and the fault set every full round of workloads, so every
  # (workload, fault set) pair comes up once every 30 runs (5 workloads x 6 fault sets).
  nemesis="${nemeses[$(( (runs / ${#workloads[@]}) % ${#nemeses[@]} ))]}"
  run_seed=$(( seed + runs ))
  runs=$(( runs + 1 ))

  echo "soak: run ${runs}: ${workload}, nemesis ${nemesis}, seed ${run_seed}"
  node dist/controller/cli.js run "$workload" --nodes "$nodes" --time-limit "$run_seconds" \
    --nemesis "$nemesis" --seed "$run_seed" --store "$store"
  status=$?
  if (( status != 0 )); then
    echo "soak: run ${runs} (${workload}, nemesis ${nemesis}, seed ${run_seed}) exited ${status}; stopping. Report: ${store}/latest/report.html" >&2
    exit "$status"
  fi
done

if (( runs == 0 )); then
  echo "soak: SOAK_MINUTES=${minutes} leaves no room for one ${run_seconds}-second run (it needs about $(( run_seconds + 60 )) s); raise SOAK_MINUTES or lower SOAK_RUN_SECONDS" >&2
  exit 64
fi
echo "soak: ${runs} runs, all valid. Index: ${store}/index.html"
