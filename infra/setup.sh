#!/usr/bin/env bash
# Provisions everything Sandfleet and its tests need on a Debian bookworm machine, as root:
# Node 22, pnpm, dependencies and build, the Docker engine, Redis, PostgreSQL (role + database +
# migrations) and the local images. Idempotent: each step checks first and skips what is in place,
# so a second run is fast and changes nothing.
#
#   bash infra/setup.sh              everything
#   SANDFLEET_SKIP_IMAGES=1 ...      all but the images
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

export PATH="/usr/local/bin:$PATH"
export DEBIAN_FRONTEND=noninteractive
NODE_MAJOR=22
PNPM_VERSION=$(sed -n 's/.*"packageManager": *"pnpm@\([^"]*\)".*/\1/p' package.json)
DB_NAME=${SANDFLEET_DB_NAME:-sandfleet}
DB_USER=${SANDFLEET_DB_USER:-sandfleet}
DB_PASSWORD=${SANDFLEET_DB_PASSWORD:-sandfleet}
# Redis's memory cap (redis.conf syntax: 512mb, 2gb, or bytes). Default: a quarter of RAM, at most
# 1gb. Headroom rule (infra/DEPLOY.md): at most half the memory Redis can have, for the fork of an
# append-only rewrite, fragmentation and client buffers.
REDIS_MAXMEMORY=${SANDFLEET_REDIS_MAXMEMORY:-$(awk '/^MemTotal:/ { kb = int($2 / 4); if (kb > 1048576) kb = 1048576; print kb "kb" }' /proc/meminfo)}

step() { printf '\n[setup] %s\n' "$*"; }
ok() { printf '[setup]   ok: %s\n' "$*"; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (sudo bash infra/setup.sh): it installs packages and starts services"

apt_updated=0
apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ $apt_updated = 0 ]; then apt-get update -q >/dev/null; apt_updated=1; fi
  echo "[setup]   apt-get install ${missing[*]}"
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
  local seconds=$1 what=$2; shift 2
  for _ in $(seq 1 "$((seconds * 4))"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.25; done
  die "$what did not come up within ${seconds}s"
}

step "Debian packages"
apt_install ca-certificates git curl procps iproute2 debootstrap busybox-static docker.io \
  postgresql postgresql-client redis-server redis-tools chromium
ok "system packages present"

step "Node.js $NODE_MAJOR"
node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(node_major)" != "$NODE_MAJOR" ]; then
  command -v npm >/dev/null || apt_install nodejs npm
  npm install -g --prefix /usr/local --no-fund --no-audit "node@$NODE_MAJOR" >/dev/null
  hash -r
  [ "$(node_major)" = "$NODE_MAJOR" ] || die "node $NODE_MAJOR did not install (node is $(node --version 2>&1))"
fi
ok "node $(node --version)"

step "pnpm $PNPM_VERSION"
if [ "$(pnpm --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
  npm install -g --prefix /usr/local --no-fund --no-audit "pnpm@$PNPM_VERSION" >/dev/null
  hash -r
fi
ok "pnpm $(pnpm --version)"

step "Docker engine"
# live-restore: containers keep running while the engine restarts (an upgrade, a crash), and the
# worker attaches to them again when it answers; without it the engine's shutdown kills every
# running step. Reloadable: a running engine takes it on SIGHUP.
daemon_json=/etc/docker/daemon.json
if [ "$(node -e 'try{process.stdout.write(String(require(process.argv[1])["live-restore"]))}catch{}' "$daemon_json")" != true ]; then
  mkdir -p /etc/docker
  node -e 'const fs=require("fs"),f=process.argv[1];let c={};try{c=JSON.parse(fs.readFileSync(f,"utf8"))}catch{}
    c["live-restore"]=true;fs.writeFileSync(f,JSON.stringify(c,null,2)+"\n")' "$daemon_json"
  echo "[setup]   $daemon_json: live-restore true"
  if pid=$(pidof dockerd); then kill -HUP $pid; fi
fi
if ! docker info >/dev/null 2>&1; then
  if [ -d /run/systemd/system ] && systemctl start docker 2>/dev/null; then :; else
    nohup dockerd >/var/log/sandfleet-dockerd.log 2>&1 &
  fi
  wait_for 60 "the Docker engine (log: /var/log/sandfleet-dockerd.log)" docker info
fi
wait_for 20 "the Docker engine to take live-restore" sh -c "docker info --format '{{.LiveRestoreEnabled}}' | grep -qx true"
ok "docker engine $(docker version --format '{{.Server.Version}}'), live-restore"

step "Redis"
# Accepted steps live in Redis until a worker takes them: Redis must keep them across restarts
# (append-only file, fsync every second) and never evict them. A Redis that set-up starts has that
# from its command line; one that already runs (this machine kind starts one that keeps nothing on
# disk) is switched to it at run time, and `sandfleet doctor` fails if it is ever started without.
# A full Redis refuses writes (noeviction) rather than drop jobs: enqueue then fails QUEUE_FULL.
redis_durable=(--appendonly yes --appendfsync everysec --maxmemory-policy noeviction)
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" "${redis_durable[@]}" \
    --maxmemory "$REDIS_MAXMEMORY" --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_for 20 "Redis" redis-cli -h 127.0.0.1 -p 6379 ping
fi
redis_get() { redis-cli -h 127.0.0.1 -p 6379 config get "$1" | sed -n 2p; }
redis_changed=0
for ((i = 0; i < ${#redis_durable[@]}; i += 2)); do
  name=${redis_durable[i]#--} value=${redis_durable[i + 1]}
  if [ "$(redis_get "$name")" != "$value" ]; then
    redis-cli -h 127.0.0.1 -p 6379 config set "$name" "$value" >/dev/null
    echo "[setup]   redis: $name $value"
    redis_changed=1
  fi
done
# CONFIG GET answers bytes: compare after the server itself has parsed the unit.
redis_bytes() { redis-cli -h 127.0.0.1 -p 6379 config set maxmemory "$1" >/dev/null && redis_get maxmemory; }
redis_maxmemory_was=$(redis_get maxmemory)
if [ "$(redis_bytes "$REDIS_MAXMEMORY")" != "$redis_maxmemory_was" ]; then
  echo "[setup]   redis: maxmemory $REDIS_MAXMEMORY (was $redis_maxmemory_was bytes)"
  redis_changed=1
fi
redis_used=$(redis-cli -h 127.0.0.1 -p 6379 info memory | sed -n 's/^used_memory:\([0-9]*\)\r$/\1/p')
redis_max=$(redis_get maxmemory)
if [ "$redis_max" != 0 ] && [ "${redis_used:-0}" -ge "$redis_max" ]; then
  echo "[setup]   warning: Redis already uses $redis_used bytes, over maxmemory: writes fail until it has room" >&2
fi
# A Redis started from a config file keeps the settings across its restarts only once written there.
redis_config_file=$(redis-cli -h 127.0.0.1 -p 6379 info server | sed -n 's/^config_file:\(.*\)\r$/\1/p')
if [ "$redis_changed" = 1 ] && [ -n "$redis_config_file" ]; then
  redis-cli -h 127.0.0.1 -p 6379 config rewrite >/dev/null ||
    echo "[setup]   warning: could not write the settings to $redis_config_file (CONFIG REWRITE)" >&2
fi
# Switching the append-only file on rewrites it in the background: wait until it is written.
wait_for 60 "Redis's append-only file" sh -c \
  "redis-cli -h 127.0.0.1 -p 6379 info persistence | grep -q '^aof_rewrite_in_progress:0'"
ok "redis $(redis-cli -h 127.0.0.1 info server | sed -n 's/^redis_version:\(.*\)\r$/\1/p'), append-only, noeviction, maxmemory $(redis_get maxmemory) bytes"

step "PostgreSQL"
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start
  wait_for 30 "PostgreSQL" pg_isready -q -h 127.0.0.1 -p 5432
fi
as_postgres() { runuser -u postgres -- psql -v ON_ERROR_STOP=1 -qtAX "$@"; }
if [ "$(as_postgres -c "select 1 from pg_roles where rolname = '$DB_USER'")" != 1 ]; then
  as_postgres -c "create role \"$DB_USER\" login password '$DB_PASSWORD'"
fi
if [ "$(as_postgres -c "select 1 from pg_database where datname = '$DB_NAME'")" != 1 ]; then
  as_postgres -c "create database \"$DB_NAME\" owner \"$DB_USER\""
elif [ "$(as_postgres -c "select pg_get_userbyid(datdba) from pg_database where datname = '$DB_NAME'")" != "$DB_USER" ]; then
  as_postgres -c "alter database \"$DB_NAME\" owner to \"$DB_USER\""
fi
# The owner needs the public schema too (PostgreSQL 15 no longer grants CREATE on it to everyone).
as_postgres -d "$DB_NAME" -c "alter schema public owner to \"$DB_USER\""
if ! PGPASSWORD=$DB_PASSWORD psql -h 127.0.0.1 -U "$DB_USER" -d "$DB_NAME" -qtAXc 'select 1' >/dev/null 2>&1; then
  die "cannot log in to PostgreSQL as $DB_USER over TCP on 127.0.0.1 (check pg_hba.conf allows md5/scram for 127.0.0.1)"
fi
ok "database $DB_NAME owned by $DB_USER"

step "dependencies and build"
pnpm install --frozen-lockfile --prefer-offline --reporter=silent
pnpm build --output-logs=errors-only
ok "workspace built"

step "migrations"
node apps/cli/dist/main.js migrate
ok "schema at latest"

if [ "${SANDFLEET_SKIP_IMAGES:-0}" != 1 ]; then
  step "local images"
  bash infra/images/build-images.sh
fi

printf '\n[setup] done in %ss (%s)\n' "$SECONDS" "$root"
