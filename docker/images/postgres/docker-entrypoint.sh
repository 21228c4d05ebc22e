#!/usr/bin/env bash
# Entrypoint of sandfleet/postgres, behaving like the official image's as far as compose needs:
# first start initialises the cluster in PGDATA, every start runs postgres in the foreground.
set -Eeuo pipefail

say() { printf 'postgres-entrypoint: %s\n' "$*" >&2; }

# `docker run sandfleet/postgres -c shared_buffers=256MB`: options for postgres.
if [ "${1:0:1}" = - ]; then
  set -- postgres "$@"
fi

if [ "$1" = postgres ] && [ "$(id -u)" = 0 ]; then
  # A fresh volume belongs to root: give PGDATA and the socket folder to postgres, drop privileges.
  mkdir -p "$PGDATA" /var/run/postgresql
  chown postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 0700 "$PGDATA"
  chmod 3777 /var/run/postgresql
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$BASH_SOURCE" "$@"
fi

if [ "$1" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
  POSTGRES_USER=${POSTGRES_USER:-postgres}
  POSTGRES_DB=${POSTGRES_DB:-$POSTGRES_USER}
  POSTGRES_HOST_AUTH_METHOD=${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}
  if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
    say 'error: the database is uninitialised and POSTGRES_PASSWORD is empty; set it (or'
    say 'POSTGRES_HOST_AUTH_METHOD=trust, which lets anyone who reaches the port in).'
    exit 1
  fi

  say "initialising the cluster in $PGDATA (superuser $POSTGRES_USER)"
  # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of options, as in the official image
  initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "${POSTGRES_PASSWORD:-}") \
    --auth-local=trust --auth-host="$POSTGRES_HOST_AUTH_METHOD" ${POSTGRES_INITDB_ARGS:-} >/dev/null
  printf '\n%s\n' "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"
  printf '%s\n' "host all all all $POSTGRES_HOST_AUTH_METHOD" >>"$PGDATA/pg_hba.conf"

  # A server on the Unix socket only, so nobody connects before the database exists.
  pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p 5432" -w start >/dev/null
  psql_init=(psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc)
  if [ "$POSTGRES_DB" != postgres ]; then
    exists=$("${psql_init[@]}" --dbname postgres -qtAX -v db="$POSTGRES_DB" \
      <<<"select 1 from pg_database where datname = :'db'")
    if [ "$exists" != 1 ]; then
      "${psql_init[@]}" --dbname postgres -q -v db="$POSTGRES_DB" <<<'create database :"db"'
      say "database $POSTGRES_DB created"
    fi
  fi
  for file in /docker-entrypoint-initdb.d/*; do
    case $file in
      *.sh) say "running $file"; . "$file" ;;
      *.sql) say "running $file"; "${psql_init[@]}" --dbname "$POSTGRES_DB" -f "$file" ;;
      *) [ -e "$file" ] && say "ignoring $file" ;;
    esac
  done
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  say 'initialised'
fi

exec "$@"
