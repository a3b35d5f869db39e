#!/usr/bin/env bash
# Runs the reliability suite and prints its figures (the `reliability:` lines that RELIABILITY.md tabulates).
# The normal `swift test` runs the same tests at their default sizes; this script can run heavier variants:
#
#   Scripts/reliability.sh                 # defaults: 1,000 seeds, 50 sync kills, 20 server kills, 10 s load
#   Scripts/reliability.sh --heavy         # 10,000 seeds, 200 sync kills, 50 server kills, 60 s load
#
# Each size can also be set alone: REFLECT_SIM_SEEDS, REFLECT_CRASH_RUNS, REFLECT_CRASH_CYCLES,
# REFLECT_LOAD_SECONDS, REFLECT_MERGE_CASES; REFLECT_SIM_SEED=S replays one simulation seed.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--heavy" ]; then
    export REFLECT_SIM_SEEDS="${REFLECT_SIM_SEEDS:-10000}" REFLECT_CRASH_RUNS="${REFLECT_CRASH_RUNS:-200}"
    export REFLECT_CRASH_CYCLES="${REFLECT_CRASH_CYCLES:-50}" REFLECT_LOAD_SECONDS="${REFLECT_LOAD_SECONDS:-60}"
    export REFLECT_MERGE_CASES="${REFLECT_MERGE_CASES:-20000}"
fi
swift build --build-tests
swift test --skip-build --filter "ReliabilityTests|HostileInputTests|TLSTests|MergeLawTests" 2>&1 | tee /tmp/reflections-reliability.log \
    | grep -E "reliability:|✘|Test run"
