#!/usr/bin/env bash
# Builds reflectd and reflect-bench in release mode, then for each size starts a fresh reflectd on a temporary
# data folder, runs the benchmark against it over HTTPS, stops the server and prints the figures (a table and
# one JSON line per step). Results are appended to bench-results.jsonl.
#
# With --postgres the servers keep their data in PostgreSQL instead: a throw-away cluster on 127.0.0.1 with fsync
# on (Scripts/with-postgres.sh), a new database per size.
#
# Usage: Scripts/bench.sh [--postgres] [--n 1000,10000,100000] [--concurrency-seconds 30] [--seed 42] [--debug]
set -euo pipefail
cd "$(dirname "$0")/.."
. Scripts/lib.sh
sizes="1000,10000,100000"
config=release
engine=sqlite
extra=()
for argument in "$@"; do
    if [ "$argument" = "--postgres" ] && [ -z "${REFLECT_TEST_POSTGRES_URL:-}" ]; then
        exec env PG_FSYNC=on Scripts/with-postgres.sh "$0" "$@"
    fi
done
while [ $# -gt 0 ]; do
    case "$1" in
        --n) sizes="$2"; shift 2 ;;
        --debug) config=debug; shift ;;
        --postgres) engine=postgres; shift ;;
        *) extra+=("$1"); shift ;;
    esac
done
swift build -c "$config" --product reflectd
swift build -c "$config" --product reflect-bench
bin=$(swift build -c "$config" --show-bin-path)
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(date -u +%Y-%m-%dT%H:%M:%SZ); config $config; engine $engine"
for n in ${sizes//,/ }; do
    data=$(mktemp -d)
    database=()
    if [ "$engine" = postgres ]; then
        name="bench_${n}_$$"
        psql "$REFLECT_TEST_POSTGRES_URL" -q -c "CREATE DATABASE $name"
        database=(--database "${REFLECT_TEST_POSTGRES_URL%/*}/$name?sslmode=disable")
    fi
    start_reflectd "$bin" "$data" "${database[@]}"
    pid=$reflectd_pid
    pin=$("$bin/reflectd" fingerprint --data "$data")
    data_option=()
    [ "$engine" = sqlite ] && data_option=(--server-data "$data")
    "$bin/reflect-bench" --server "$reflectd_url" --pin "$pin" --n "$n" --server-pid "$pid" --engine "$engine" \
        "${data_option[@]}" "${extra[@]}" \
        | tee "$data/bench.out"
    grep '^{' "$data/bench.out" >> bench-results.jsonl || true
    kill -TERM "$pid"
    wait "$pid" || true
    rm -rf "$data"
done
