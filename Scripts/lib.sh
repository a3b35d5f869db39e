# Shared by the scripts: start_reflectd BIN DATA [ARGS…] starts `reflectd serve` on a free port in the
# background, waits until it listens, and sets $reflectd_pid, $reflectd_port and $reflectd_url.
start_reflectd() {
    local bin="$1" data="$2"
    shift 2
    LOG_LEVEL="${LOG_LEVEL:-warning}" "$bin/reflectd" serve --data "$data" --port 0 "$@" > "$data/server.log" 2>&1 &
    reflectd_pid=$!
    reflectd_port=""
    for _ in $(seq 1 300); do
        reflectd_port=$(grep -o 'serving https://127.0.0.1:[0-9]*' "$data/server.log" 2>/dev/null | grep -o '[0-9]*$' || true)
        [ -n "$reflectd_port" ] && break
        sleep 0.1
    done
    if [ -z "$reflectd_port" ]; then
        echo "reflectd did not start:" >&2
        cat "$data/server.log" >&2
        return 1
    fi
    reflectd_url="https://127.0.0.1:$reflectd_port"
}
