#!/usr/bin/env bash
# Runs reflectd on the embedded default: SQLite in ./reflectd-data and a self-signed certificate made on the
# first start. Extra arguments go to `reflectd serve` (for example --port 9443 or --invite-only).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! dpkg -s libsqlite3-dev >/dev/null 2>&1; then
    echo "serve.sh: installing libsqlite3-dev"
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq libsqlite3-dev
fi
swift build --product reflectd
exec "$(swift build --show-bin-path)/reflectd" serve --data ./reflectd-data "$@"
