#!/usr/bin/env bash
# Starts (or finds) a private PostgreSQL server for the tests, its data under the project's data folder; prints
# nothing but errors. The Gateway's shared account store is tested against it (AIWF_TEST_POSTGRES_URL).
#   scripts/postgres.sh start   start it unless it runs, with a database `aiwf_test` for the user `aiwf`
#   scripts/postgres.sh stop    stop it
#   scripts/postgres.sh url     the URL the tests use
# Settings: AIWF_DATA_DIR (default ./data), AIWF_POSTGRES_PORT (default 54329).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
data=$(realpath -m "${AIWF_DATA_DIR:-$root/data}")/postgres
port=${AIWF_POSTGRES_PORT:-54329}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
url="postgres://aiwf:aiwf-test@127.0.0.1:$port/aiwf_test"

as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi
}

case "${1:-start}" in
start)
    if [ -z "$bin" ]; then echo "postgres: not installed (scripts/setup.sh --tests installs it)" >&2; exit 1; fi
    if as_postgres "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then exit 0; fi
    if [ ! -f "$data/PG_VERSION" ]; then
        mkdir -p "$data"
        chown postgres:postgres "$data"
        as_postgres "$bin/initdb" -D "$data" -A trust -U postgres >/dev/null
    fi
    as_postgres "$bin/pg_ctl" -D "$data" -l "$data/server.log" -o "-p $port -k /tmp -c listen_addresses=127.0.0.1" -w start >/dev/null
    psql() { as_postgres "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -v ON_ERROR_STOP=1 -qAt "$@"; }
    if [ "$(psql -c "SELECT 1 FROM pg_roles WHERE rolname = 'aiwf'")" != 1 ]; then
        psql -c "CREATE ROLE aiwf LOGIN CREATEDB PASSWORD 'aiwf-test'"
    fi
    psql -c "ALTER ROLE aiwf CREATEDB"  # the replica test makes a database of its own
    if [ "$(psql -c "SELECT 1 FROM pg_database WHERE datname = 'aiwf_test'")" != 1 ]; then
        psql -c "CREATE DATABASE aiwf_test OWNER aiwf"
    fi
    ;;
stop)
    as_postgres "$bin/pg_ctl" -D "$data" -m fast stop >/dev/null 2>&1 || true
    ;;
url)
    echo "$url"
    ;;
*)
    echo "usage: scripts/postgres.sh start|stop|url" >&2
    exit 2
    ;;
esac
