#!/usr/bin/env bash
# Runs a command with a throw-away PostgreSQL cluster: initdb in a temporary folder, a server on 127.0.0.1 on a
# free port, REFLECT_TEST_POSTGRES_URL (a superuser address) exported for the command; everything is stopped and
# removed afterwards, whatever the command's result.
#
#   Scripts/with-postgres.sh swift test                          # the suite, plus its PostgreSQL-only tests
#   Scripts/with-postgres.sh env REFLECT_TEST_ENGINE=postgres swift test --filter ReflectionsServerTests
#
# Needs PostgreSQL's server programs (Debian: apt-get install postgresql). The cluster is for tests: trust
# authentication on loopback only, and fsync off unless PG_FSYNC=on (benchmarks set it).
set -euo pipefail

bindir=""
for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$candidate/initdb" ]; then bindir="$candidate"; break; fi
done
if [ -z "$bindir" ] && command -v initdb >/dev/null; then bindir="$(dirname "$(command -v initdb)")"; fi
if [ -z "$bindir" ]; then
    echo "with-postgres: PostgreSQL's server programs (initdb, pg_ctl) are not installed (apt-get install postgresql)" >&2
    exit 69
fi

root="$(mktemp -d /tmp/reflect-pg.XXXXXX)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
as_owner=()
if [ "$(id -u)" = 0 ]; then
    # PostgreSQL refuses to run as root: run the cluster as the 'postgres' user (Debian's package creates it).
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin postgres
    chown postgres "$root"
    as_owner=(runuser -u postgres --)
fi

cleanup() {
    "${as_owner[@]}" "$bindir/pg_ctl" -D "$root/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$root"
}
trap cleanup EXIT

"${as_owner[@]}" "$bindir/initdb" -D "$root/data" -U reflect --auth=trust --no-locale -E UTF8 >"$root/initdb.log" 2>&1 \
    || { cat "$root/initdb.log" >&2; exit 1; }
"${as_owner[@]}" "$bindir/pg_ctl" -D "$root/data" -l "$root/server.log" -w -t 60 start \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $root -c max_connections=400 -c fsync=${PG_FSYNC:-off}" \
    >/dev/null || { cat "$root/server.log" >&2; exit 1; }

export REFLECT_TEST_POSTGRES_URL="postgres://reflect@127.0.0.1:$port/postgres?sslmode=disable"
echo "with-postgres: PostgreSQL $("$bindir/postgres" --version | grep -o '[0-9][0-9.]*' | head -1) on 127.0.0.1:$port" >&2
"$@"
