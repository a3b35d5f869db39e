#!/usr/bin/env bash
# API fuzzing: schemathesis (from PyPI) against Schema/openapi.yaml and a live reflectd, bounded in examples.
# Checks: no 5xx, and every response (status, headers, body) conforms to the spec.
#
# Usage: Scripts/fuzz.sh [MAX_EXAMPLES]   (default 50 per operation; CI uses the default)
set -euo pipefail
cd "$(dirname "$0")/.."
examples="${1:-50}"
command -v schemathesis >/dev/null 2>&1 || python3 -m pip install -q "schemathesis>=4,<5"
swift build --product reflectd >/dev/null
bin=$(swift build --show-bin-path)
data=$(mktemp -d)
LOG_LEVEL=error "$bin/reflectd" serve --data "$data" --port 0 > "$data/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$data"' EXIT
port=""
for _ in $(seq 1 300); do
    port=$(grep -o 'serving https://127.0.0.1:[0-9]*' "$data/server.log" 2>/dev/null | grep -o '[0-9]*$' || true)
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || { echo "fuzz: reflectd did not start"; cat "$data/server.log"; exit 1; }
url="https://127.0.0.1:$port"
cert="$data/tls-cert.pem"
python3 - "$url" "$cert" > "$data/token" <<'PY'
import json, ssl, sys, urllib.request
url, cert = sys.argv[1], sys.argv[2]
ctx = ssl.create_default_context(cafile=cert)
def post(path, body):
    req = urllib.request.Request(url + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req, context=ctx))
post("/v1/accounts", {"handle": "fuzzer", "password": "fuzzing password 1"})
print(post("/v1/sessions", {"handle": "fuzzer", "password": "fuzzing password 1"})["token"])
PY
token=$(cat "$data/token")
schemathesis run Schema/openapi.yaml --url "$url" --tls-verify "$cert" -H "Authorization: Bearer $token" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --max-examples "$examples" --generation-deterministic --no-color
if grep -q "request failed" "$data/server.log"; then
    echo "fuzz: the server logged a failed request:"; grep "request failed" "$data/server.log"; exit 1
fi
echo "fuzz: no 5xx, every response matched the spec"
