#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster for the storage tests and print its URL.
#
#   eval "$(bash .ci/postgres.sh)"        # exports NETPOL_TEST_DATABASE_URL and NETPOL_PG_DIR
#   bash .ci/postgres.sh stop "$NETPOL_PG_DIR"
#
# Installs Debian's postgresql package when no server binaries are present,
# then runs initdb/pg_ctl from /usr/lib/postgresql/<version>/bin in a temporary
# directory, as the `postgres` user when run as root (the server refuses root).
# The cluster listens on 127.0.0.1 only, with a password (scram-sha-256) for
# TCP connections. Progress goes to standard error; only the export lines go
# to standard output.
set -euo pipefail

log() { echo "postgres.sh: $*" >&2; }

pg_bin() {
    local dir
    for dir in /usr/lib/postgresql/15/bin $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV); do
        if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then
            echo "$dir"
            return 0
        fi
    done
    return 1
}

as_owner() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

if [[ "${1:-}" == "stop" ]]; then
    dir="${2:?usage: postgres.sh stop DIR}"
    bin="$(pg_bin)"
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
    rm -rf "$dir"
    exit 0
fi

if ! bin="$(pg_bin)"; then
    log "installing postgresql"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
    bin="$(pg_bin)"
fi
log "using $bin"

if [[ $(id -u) -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
    useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
fi

port="${NETPOL_PG_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
dir="$(mktemp -d /tmp/netpol-pg.XXXXXX)"
password="$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
printf '%s\n' "$password" >"$dir/pwfile"
if [[ $(id -u) -eq 0 ]]; then
    chown -R postgres: "$dir"
fi
chmod 700 "$dir"

as_owner "$bin/initdb" -D "$dir/data" -U postgres --pwfile="$dir/pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 --no-sync >&2
rm -f "$dir/pwfile"
as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off" >&2
as_owner "$bin/psql" -h "$dir" -p "$port" -U postgres -v ON_ERROR_STOP=1 -q \
    -c "CREATE DATABASE netpol_test" >&2

log "PostgreSQL ready on 127.0.0.1:$port (data in $dir)"
echo "export NETPOL_TEST_DATABASE_URL='postgresql+psycopg://postgres:$password@127.0.0.1:$port/netpol_test'"
echo "export NETPOL_PG_DIR='$dir'"
