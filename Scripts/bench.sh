#!/usr/bin/env bash
# Builds reflectd and reflect-bench in release mode, then for each size starts a fresh reflectd on a temporary
# data folder, runs the benchmark against it over HTTPS, stops the server and prints the figures (a table and
# one JSON line per step). Results are appended to bench-results.jsonl.
#
# Usage: Scripts/bench.sh [--n 1000,10000,100000] [--concurrency-seconds 30] [--seed 42] [--debug]
set -euo pipefail
cd "$(dirname "$0")/.."
sizes="1000,10000,100000"
config=release
extra=()
while [ $# -gt 0 ]; do
    case "$1" in
        --n) sizes="$2"; shift 2 ;;
        --debug) config=debug; shift ;;
        *) extra+=("$1"); shift ;;
    esac
done
swift build -c "$config" --product reflectd
swift build -c "$config" --product reflect-bench
bin=$(swift build -c "$config" --show-bin-path)
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(date -u +%Y-%m-%dT%H:%M:%SZ); config $config"
for n in ${sizes//,/ }; do
    data=$(mktemp -d)
    LOG_LEVEL=warning "$bin/reflectd" serve --data "$data" --port 0 > "$data/server.log" 2>&1 &
    pid=$!
    port=""
    for _ in $(seq 1 300); do
        port=$(grep -o 'serving https://127.0.0.1:[0-9]*' "$data/server.log" 2>/dev/null | grep -o '[0-9]*$' || true)
        [ -n "$port" ] && break
        sleep 0.1
    done
    [ -n "$port" ] || { echo "bench: reflectd did not start"; cat "$data/server.log"; exit 1; }
    pin=$("$bin/reflectd" fingerprint --data "$data")
    "$bin/reflect-bench" --server "https://127.0.0.1:$port" --pin "$pin" --n "$n" --server-pid "$pid" "${extra[@]}" \
        | tee "$data/bench.out"
    grep '^{' "$data/bench.out" >> bench-results.jsonl || true
    kill -TERM "$pid"
    wait "$pid" || true
    rm -rf "$data"
done
