#!/usr/bin/env bash
# Runs the reliability suite and prints its figures: the `reliability: NAME {json}` lines that RELIABILITY.md
# tabulates, each printed by the test that measured it, in this run. Fails if a test fails or if a figure line
# is missing (a test that stopped measuring must not leave an old number standing in RELIABILITY.md).
#
#   Scripts/reliability.sh                 # defaults: 1,000 seeds, 1,000 histories, 50 sync kills, 20 server kills
#   Scripts/reliability.sh --heavy         # 10,000 seeds and histories, 200 sync kills, 50 server kills, 60 s load
#   Scripts/with-postgres.sh Scripts/reliability.sh   # adds the kill test of reflectd on PostgreSQL
#
# Each size can also be set alone: REFLECT_SIM_SEEDS, REFLECT_PRIVACY_HISTORIES, REFLECT_CRASH_RUNS,
# REFLECT_CRASH_CYCLES, REFLECT_LOAD_SECONDS, REFLECT_MERGE_CASES; REFLECT_SIM_SEED=S replays one seed.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--heavy" ]; then
    export REFLECT_SIM_SEEDS="${REFLECT_SIM_SEEDS:-10000}" REFLECT_CRASH_RUNS="${REFLECT_CRASH_RUNS:-200}"
    export REFLECT_CRASH_CYCLES="${REFLECT_CRASH_CYCLES:-50}" REFLECT_LOAD_SECONDS="${REFLECT_LOAD_SECONDS:-60}"
    export REFLECT_MERGE_CASES="${REFLECT_MERGE_CASES:-20000}"
    export REFLECT_PRIVACY_HISTORIES="${REFLECT_PRIVACY_HISTORIES:-10000}"
fi
log=/tmp/reflections-reliability.log
swift build --build-tests
status=0
swift test --skip-build \
    --filter "ReliabilityTests|HostileInputTests|TLSTests|MergeLawTests|AttackTests|PrivacyPropertyTests" 2>&1 \
    | tee "$log" | grep -E "reliability:|✘|Test run" || status=$?
expected=("merge laws" "privacy property" "simulation" "crash: reflect sync killed"
    "crash: reflectd killed under 4 pushers" "tls: versions" "slow client" "load: 50 clients")
if [ -n "${REFLECT_TEST_POSTGRES_URL:-}" ]; then
    expected+=("crash: reflectd on PostgreSQL killed under 4 pushers")
fi
missing=0
for name in "${expected[@]}"; do
    if ! grep -q "^reliability: $name {" "$log"; then
        echo "reliability.sh: no figures for '$name' in this run" >&2
        missing=1
    fi
done
if ! grep -qE '^✔ Test run with [0-9]+ tests' "$log"; then
    echo "reliability.sh: the test run did not pass" >&2
    status=1
fi
[ "$missing" -eq 0 ] && [ "$status" -eq 0 ]
