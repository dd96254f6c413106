#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests (tests/test_postgres.py).
#
#   source .ci/postgres.sh; cx_pg_start      # sets CX_PG_URL; cx_pg_stop removes everything again
#   .ci/postgres.sh CMD [ARG ...]            # runs CMD with CX_PG_URL set, then stops the cluster
#
# Installs Debian's `postgresql` when no server is found (without creating or starting its default
# cluster), creates an unprivileged system user when run as root (postgres refuses to run as root),
# puts the cluster in a fresh temporary folder, listens on 127.0.0.1 only (first free port from
# CX_PG_PORT, default 55432; the Unix socket lives in the cluster's folder), trusts local socket
# connections (for setting up) and asks TCP clients for a password. The password user `analyst`
# (password CX_PG_PASSWORD, default cx-test-pw) owns the database `cx`. Safe to run again: every
# start makes a new folder and port; nothing outside it is changed except the package and the user.

CX_PG_OS_USER="${CX_PG_OS_USER:-cxpg}"
CX_PG_PASSWORD="${CX_PG_PASSWORD:-cx-test-pw}"
CX_PG_DIR=""
CX_PG_BIN=""

_cx_pg_log() { echo "postgres.sh: $*" >&2; }

_cx_pg_find_bin() {
  local d
  CX_PG_BIN=""
  # newest version first
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -V -r); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/psql" ]; then CX_PG_BIN="$d"; return 0; fi
  done
  if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
    CX_PG_BIN="$(pg_config --bindir)"; return 0
  fi
  return 1
}

# Debian's package would create and start a default cluster on port 5432: not wanted here.
cx_pg_no_main_cluster() {
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo mkdir -p /etc/postgresql-common/createcluster.d
  echo "create_main_cluster = false" | $sudo tee /etc/postgresql-common/createcluster.d/cx-ci.conf >/dev/null
}

# True when no PostgreSQL server binaries are installed (the caller then installs `postgresql`).
cx_pg_missing() { ! _cx_pg_find_bin; }

_cx_pg_install() {
  _cx_pg_find_bin && return 0
  if ! command -v apt-get >/dev/null 2>&1; then
    _cx_pg_log "no PostgreSQL server (initdb) found and no apt-get to install one"; return 1
  fi
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  cx_pg_no_main_cluster
  _cx_pg_log "installing postgresql"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  _cx_pg_find_bin || { _cx_pg_log "postgresql installed but no initdb under /usr/lib/postgresql/*/bin"; return 1; }
}

# Run a server program as the cluster's owner (the unprivileged user when we are root), from / so
# that an unreadable working directory does not matter.
_cx_pg_as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    (cd / && runuser -u "$CX_PG_OS_USER" -- "$@")
  else
    (cd / && "$@")
  fi
}

_cx_pg_port_busy() {  # something accepts TCP connections on 127.0.0.1:$1
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

cx_pg_stop() {
  if [ -n "$CX_PG_DIR" ] && [ -d "$CX_PG_DIR" ]; then
    if [ -f "$CX_PG_DIR/data/postmaster.pid" ]; then
      _cx_pg_as_owner "$CX_PG_BIN/pg_ctl" -D "$CX_PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$CX_PG_DIR"
  fi
  CX_PG_DIR=""
}

cx_pg_start() {
  _cx_pg_install || return 1
  if [ "$(id -u)" -eq 0 ] && ! id -u "$CX_PG_OS_USER" >/dev/null 2>&1; then
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$CX_PG_OS_USER" \
      || { _cx_pg_log "could not create user $CX_PG_OS_USER"; return 1; }
  fi
  CX_PG_DIR="$(mktemp -d "${CX_PG_TMP:-/tmp}/cx-pg.XXXXXX")" || return 1
  chmod 700 "$CX_PG_DIR"
  [ "$(id -u)" -eq 0 ] && chown "$CX_PG_OS_USER": "$CX_PG_DIR"

  local port="${CX_PG_PORT:-55432}" tries=0
  while _cx_pg_port_busy "$port"; do
    port=$((port + 1)); tries=$((tries + 1))
    [ "$tries" -ge 50 ] && { _cx_pg_log "no free port from ${CX_PG_PORT:-55432}"; cx_pg_stop; return 1; }
  done

  if ! _cx_pg_as_owner "$CX_PG_BIN/initdb" -D "$CX_PG_DIR/data" -U postgres -E UTF8 --locale=C.UTF-8 \
        --auth-local=trust --auth-host=scram-sha-256 >"$CX_PG_DIR/initdb.log" 2>&1; then
    _cx_pg_log "initdb failed:"; cat "$CX_PG_DIR/initdb.log" >&2; cx_pg_stop; return 1
  fi
  # listen on loopback TCP only; the socket goes into our own folder (no /var/run/postgresql needed)
  if ! _cx_pg_as_owner "$CX_PG_BIN/pg_ctl" -D "$CX_PG_DIR/data" -l "$CX_PG_DIR/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $CX_PG_DIR -c fsync=off -c full_page_writes=off" \
        start >/dev/null; then
    _cx_pg_log "the server did not start:"; cat "$CX_PG_DIR/server.log" >&2; cx_pg_stop; return 1
  fi
  if ! _cx_pg_as_owner "$CX_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$CX_PG_DIR" -p "$port" -U postgres \
        -d postgres -v pw="$CX_PG_PASSWORD" >/dev/null <<'SQL'
CREATE ROLE analyst LOGIN PASSWORD :'pw';
CREATE DATABASE cx OWNER analyst;
SQL
  then
    _cx_pg_log "could not create the role and database"; cx_pg_stop; return 1
  fi
  CX_PG_PORT_USED="$port"
  export CX_PG_URL="postgres://analyst:${CX_PG_PASSWORD}@127.0.0.1:${port}/cx"
  _cx_pg_log "cluster in $CX_PG_DIR on 127.0.0.1:$port (database cx, user analyst)"
}

# Executed rather than sourced: run the given command with the cluster up.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  [ $# -gt 0 ] || { echo "usage: $0 CMD [ARG ...]   (or: source $0; cx_pg_start)" >&2; exit 2; }
  trap cx_pg_stop EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  cx_pg_start
  "$@"
fi
