#!/usr/bin/env bash
# A throwaway PostgreSQL for the store tests, for when you want one server across many test runs.
# (tests/store/conftest.py starts its own when MATCHER_TEST_PG_URL is unset or does not answer.)
#
#   scripts/postgres_test_server.sh start [DIR] [PORT]   # prints: export MATCHER_TEST_PG_URL=...
#   scripts/postgres_test_server.sh stop  [DIR]
#
# Installs PostgreSQL with apt-get when pg_ctl is missing (needs root). Root may not run the
# server, so it runs as the `postgres` OS user. Listens on 127.0.0.1 only; trust auth: tests only.
set -euo pipefail

action=${1:-start}
dir=${2:-/tmp/matcher-pg-server}
port=${3:-55432}

find_bin() {
  if command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(readlink -f "$(command -v pg_ctl)")"
  else
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
  fi
}

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

bin=$(find_bin)
if [ -z "$bin" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "PostgreSQL is not installed and this is not root: install the postgresql package." >&2
    exit 1
  fi
  echo "installing PostgreSQL with apt-get ..." >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql >&2
  bin=$(find_bin)
fi

case "$action" in
  start)
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      as_postgres "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-locale -N >&2
    fi
    as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -h 127.0.0.1 -k $dir -F" start >&2
    echo "export MATCHER_TEST_PG_URL=postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    if [ -f "$dir/data/PG_VERSION" ]; then
      as_postgres "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
    fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start [DIR] [PORT] | stop [DIR]" >&2
    exit 2
    ;;
esac
