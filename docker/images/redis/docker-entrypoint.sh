#!/bin/sh
# Entrypoint of sandfleet/redis, behaving like the official image's as far as compose needs.
set -e

# `docker run sandfleet/redis --appendonly yes` or `… /path/redis.conf`: run redis-server with them.
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
  set -- redis-server "$@"
fi

if [ "$1" = redis-server ] && [ "$(id -u)" = 0 ]; then
  # A fresh volume may belong to root: hand the data directory to redis, then drop privileges.
  find . \! -user redis -exec chown redis:redis '{}' +
  exec setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
fi

# Data files readable by redis only, unless the caller chose a umask.
[ "$(umask)" != 0022 ] || umask 0077

if [ "$1" = redis-server ]; then
  # Redis' own default is protected mode on, which refuses every client from another container
  # when no password is set; the official image turns it off. It goes first, so a
  # --protected-mode argument, or a config file (the first argument) that sets it, wins.
  shift
  config=
  if [ -f "${1:-}" ]; then config=$1; shift; fi
  if [ -n "$config" ] && grep -q '^protected-mode' "$config"; then
    set -- redis-server "$config" "$@"
  elif [ -n "$config" ]; then
    set -- redis-server "$config" --protected-mode no "$@"
  else
    set -- redis-server --protected-mode no "$@"
  fi
fi

exec "$@"
