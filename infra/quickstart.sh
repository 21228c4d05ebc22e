#!/usr/bin/env bash
# Sets up Sandfleet on this machine (infra/setup.sh), starts a worker in the background and runs a
# first step through it. Safe to run again: a worker started by an earlier run is reused.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/bin:$PATH"

bash infra/setup.sh

pidfile=/run/sandfleet-worker.pid
log=/var/log/sandfleet-worker.log
if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  echo "[quickstart] worker already running (pid $(cat "$pidfile"), log $log)"
else
  nohup node apps/cli/dist/main.js worker >>"$log" 2>&1 &
  echo $! >"$pidfile"
  echo "[quickstart] worker started (pid $!, log $log); stop it with: kill \$(cat $pidfile)"
fi

echo "[quickstart] first step: pnpm sandfleet run -- echo hello from sandfleet"
node apps/cli/dist/main.js run -- echo hello from sandfleet
