#!/usr/bin/env bash
# End-to-end test of the compose stack (docker-compose.yml) on this machine, as root. Slower than
# the unit suite (several minutes; most of it image builds the first time) and not part of
# `pnpm test`:
#
#   bash test/compose-e2e.sh
#
# It brings up its own stack, project sfe2e-<random>, with its own .env (in a temporary folder),
# queue prefix, agents network and API port, so a developer's `sandfleet` stack and workers on the
# same Docker engine are left alone. It checks:
#   - docker-compose (Debian's 1.29, installed when missing) validates the file;
#   - the stand-in bases, the engine image and a minimal agent-runtime image build; the stack comes
#     up with three workers and turns healthy; engine containers run as non-root; Redis runs with
#     appendonly and noeviction; only the worker has the Docker socket;
#   - 60 steps enqueued through the API all succeed, run by all three workers, and Bull Board
#     lists the three workers;
#   - `docker-compose stop worker` while 10 five-second steps run loses none: with one worker
#     started again every step ends succeeded, and no step container is left; with a 2 s drain,
#     10-second steps go back to the queue when the workers stop, and run again to success;
#   - a step on the agents network (network: egress) reaches the npm registry but not Redis,
#     PostgreSQL or the API: by name, by their control-network addresses, or through the API's
#     published port on the host.
# Whatever happens, `docker-compose down -v` removes the stack's containers, networks and volumes,
# and the run's images, agent volumes and temporary files are removed. Timings are printed.
#
# Environment: SANDFLEET_E2E_KEEP=1 leaves the stack up for inspection (remove it with the
# `docker-compose … down -v` line printed at the end).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="/usr/local/bin:$PATH"
export DOCKER_BUILDKIT=0 COMPOSE_DOCKER_CLI_BUILD=0

run_id=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
project=sfe2e-$run_id
prefix=sfe2e$run_id
fleet=$prefix.steps
agent_prefix=e2e-$run_id
engine_image=sandfleet/engine:e2e-$run_id
agent_image=sandfleet/agent-runtime:e2e-$run_id
workdir=$(mktemp -d "/tmp/$project.XXXXXX")
envfile=$workdir/env
started_all=$SECONDS

log() { printf '[e2e %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
fail() { printf '[e2e] FAILED: %s\n' "$*" >&2; exit 1; }
timings=()
timed() { # timed LABEL COMMAND...: runs it, records its duration, returns its status
  local label=$1 t0=$SECONDS status=0; shift
  "$@" || status=$?
  timings+=("$(printf '%-44s %5ss' "$label" "$((SECONDS - t0))")")
  return "$status"
}
dc() { docker-compose -p "$project" --env-file "$envfile" -f "$root/docker-compose.yml" "$@"; }
# json EXPRESSION: evaluates a JavaScript expression over `j`, the JSON on stdin; prints strings
# as they are, anything else as JSON.
json() {
  EXPR=$1 node -e '
    let text = "";
    process.stdin.on("data", (d) => (text += d)).on("end", () => {
      const j = JSON.parse(text);
      const r = new Function("j", `return (${process.env.EXPR});`)(j);
      console.log(typeof r === "string" ? r : JSON.stringify(r));
    });'
}
wait_until() { # wait_until SECONDS DESCRIPTION COMMAND...
  local seconds=$1 what=$2 deadline=$((SECONDS + $1)); shift 2
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || fail "$what: not within ${seconds}s"
    sleep 1
  done
}

vault_existed=0
docker volume inspect sandfleet-vault-shared >/dev/null 2>&1 && vault_existed=1

print_timings() {
  printf '\n[e2e] timings\n'
  printf '  %s\n' "${timings[@]}"
  printf '  %-44s %5ss\n' total "$((SECONDS - started_all))"
}

cleanup() {
  local rc=$?
  set +e
  if [ "${SANDFLEET_E2E_KEEP:-0}" = 1 ]; then
    print_timings
    log "kept; remove with: docker-compose -p $project --env-file $envfile down -v"
    return
  fi
  log "cleanup: docker-compose down -v"
  local t0=$SECONDS
  [ -f "$envfile" ] && dc down -v --remove-orphans --timeout 60 >"$workdir/down.log" 2>&1 \
    || cat "$workdir/down.log" 2>/dev/null
  timings+=("$(printf '%-44s %5ss' 'docker-compose down -v' "$((SECONDS - t0))")")
  docker ps -aq --filter "label=sandfleet.fleet=$fleet" | xargs -r docker rm -f >/dev/null
  docker volume ls -q --filter "name=sandfleet-home-$agent_prefix" | xargs -r docker volume rm >/dev/null
  # The shared vault volume is the engine's, not the stack's (not configurable per fleet):
  # removed only when this run created it and nothing uses it.
  [ "$vault_existed" = 1 ] || docker volume rm sandfleet-vault-shared >/dev/null 2>&1
  docker rmi --no-prune "$engine_image" >/dev/null 2>&1
  docker rmi "$agent_image" >/dev/null 2>&1
  local left
  left=$(docker ps -aq --filter "label=com.docker.compose.project=$project"; \
         docker network ls -q --filter "label=com.docker.compose.project=$project"; \
         docker volume ls -q --filter "label=com.docker.compose.project=$project")
  [ -z "$left" ] || { echo "[e2e] left behind: $left" >&2; rc=1; }
  rm -rf "$workdir"
  print_timings
  if [ "$rc" = 0 ]; then printf '\n[e2e] PASSED\n'; else printf '\n[e2e] FAILED (exit %s)\n' "$rc" >&2; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- tools -------------------------------------------------------------------------------------
[ "$(id -u)" = 0 ] || fail "run as root (it installs docker-compose and talks to Docker)"
docker info >/dev/null 2>&1 || fail "the Docker engine is not reachable (bash infra/setup.sh starts it)"
if ! command -v docker-compose >/dev/null; then
  log "installing docker-compose (Debian)"
  DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends docker-compose >/dev/null
fi
for tool in curl node openssl; do command -v "$tool" >/dev/null || fail "$tool is missing (bash infra/setup.sh)"; done
log "run $run_id: $(docker-compose version --short), Docker $(docker version -f '{{.Server.Version}}')"

# --- images ------------------------------------------------------------------------------------
timed "stand-in bases (node, redis, postgres)" bash infra/images/build-compose-bases.sh
if [ ! -d node_modules ] && [ ! -f packages/agent-runtime/dist/image/main.js ]; then
  timed "pnpm install (clean checkout)" pnpm install --frozen-lockfile --prefer-offline --reporter=silent
fi
timed "agent-runtime:minimal (build-agent-runtime.sh)" bash infra/images/build-agent-runtime.sh minimal

# --- this run's settings -----------------------------------------------------------------------
api_port=
for _ in $(seq 1 50); do
  candidate=$((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 30000))
  if ! ss -Htln "sport = :$candidate" | grep -q .; then api_port=$candidate; break; fi
done
[ -n "$api_port" ] || fail "no free port for the API"
token=$(openssl rand -hex 32)
cat >"$envfile" <<EOF
COMPOSE_PROJECT_NAME=$project
POSTGRES_PASSWORD=$(openssl rand -hex 24)
SANDFLEET_API_TOKENS=$token
SANDFLEET_DOCKER_GID=$(stat -c %g /var/run/docker.sock)
SANDFLEET_API_BIND=127.0.0.1
SANDFLEET_API_PORT=$api_port
SANDFLEET_AGENTS_NETWORK=${project}_agents
SANDFLEET_AGENTS_BRIDGE=$prefix
SANDFLEET_QUEUE_PREFIX=$prefix
SANDFLEET_IMAGE=$engine_image
SANDFLEET_AGENT_IMAGE=$agent_image
SANDFLEET_AGENT_TOOLBOX=minimal
SANDFLEET_IMAGE_ALLOWLIST=sandfleet/agent-runtime:*
SANDFLEET_WORKER_CONCURRENCY=4
SANDFLEET_DRAIN_GRACE_MS=30000
SANDFLEET_LOG_LEVEL=info
EOF
# The same values in the environment: a developer's exported SANDFLEET_* cannot leak in.
set -a
# shellcheck disable=SC1090
. "$envfile"
set +a
api="http://127.0.0.1:$api_port"
curl_api() { curl -fsS --max-time 10 -H "Authorization: Bearer $token" "$@"; }

# --- compose file ------------------------------------------------------------------------------
timed "docker-compose config" dc config -q
dc config --services | sort | tr '\n' ' ' | grep -qx 'agent-runtime api migrate postgres redis worker ' \
  || fail "unexpected services: $(dc config --services | tr '\n' ' ')"

# --- build -------------------------------------------------------------------------------------
# migrate, api and worker share one image: building it once is enough.
timed "engine image (docker-compose build migrate)" dc build migrate >"$workdir/build-engine.log" 2>&1 \
  || { tail -40 "$workdir/build-engine.log"; fail "engine image build"; }
# That build reads the extra CA certificates from docker/ca-certificates/ (gitignored), which
# build-agent-runtime.sh fills only when it builds: empty in a fresh checkout whose image exists.
# Copied without deleting anything, so a build running meanwhile never sees the folder empty.
ca_source=${SANDFLEET_CA_CERTS_DIR:-/usr/local/share/ca-certificates}
if [ -d "$ca_source" ]; then
  while IFS= read -r crt; do
    cmp -s "$crt" "docker/ca-certificates/${crt##*/}" || cp -p "$crt" docker/ca-certificates/
  done < <(find "$ca_source" -name '*.crt' -type f)
fi
timed "agent-runtime (docker-compose build, cached)" dc build agent-runtime >"$workdir/build-agent.log" 2>&1 \
  || { tail -40 "$workdir/build-agent.log"; fail "agent-runtime build"; }
log "engine image $(docker image inspect -f '{{.Size}}' "$engine_image" | awk '{printf "%d MB", $1/1e6}')," \
  "agent image $(docker image inspect -f '{{.Size}}' "$agent_image" | awk '{printf "%d MB", $1/1e6}')"

# --- up ----------------------------------------------------------------------------------------
timed "docker-compose up -d --scale worker=3" dc up -d --scale worker=3 >"$workdir/up.log" 2>&1 \
  || { cat "$workdir/up.log"; dc logs --tail 30; fail "docker-compose up"; }
cid() { dc ps -q "$1"; }
redis_c=$(cid redis); postgres_c=$(cid postgres); api_c=$(cid api); migrate_c=$(cid migrate)
mapfile -t workers < <(cid worker)
[ ${#workers[@]} = 3 ] || fail "expected 3 worker containers, got ${#workers[@]}"
health() { docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$1"; }
all_healthy() {
  local c
  for c in "$redis_c" "$postgres_c" "$api_c" "${workers[@]}"; do [ "$(health "$c")" = healthy ] || return 1; done
}
timed "stack healthy" wait_until 180 "api and three workers healthy" all_healthy
[ "$(docker inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$migrate_c")" = "exited 0" ] || fail "migrate did not exit 0"
log "healthy: redis, postgres, api, 3 workers; migrate exited 0"

psql() { docker exec "$postgres_c" psql -U sandfleet -d sandfleet -qtAX -v ON_ERROR_STOP=1 -c "$1"; }

# --- the containers ----------------------------------------------------------------------------
for c in "$api_c" "${workers[@]}"; do
  uid=$(docker exec "$c" id -u)
  [ "$uid" != 0 ] || fail "$(docker inspect -f '{{.Name}}' "$c") runs as root"
  pid1=$(docker exec "$c" cat /proc/1/comm)
  [ "$pid1" = tini ] || fail "PID 1 of $(docker inspect -f '{{.Name}}' "$c") is $pid1, not tini"
done
log "api and workers run as uid $(docker exec "$api_c" id -u) under tini"
[ "$(docker exec "$redis_c" redis-cli config get appendonly | tail -1)" = yes ] || fail "redis appendonly"
[ "$(docker exec "$redis_c" redis-cli config get maxmemory-policy | tail -1)" = noeviction ] || fail "redis maxmemory-policy"
for c in "$redis_c" "$postgres_c" "$api_c" "$migrate_c" "${workers[@]}"; do
  mounts=$(docker inspect -f '{{range .Mounts}}{{.Source}} {{end}}' "$c")
  case "$mounts $(docker inspect -f '{{.Name}}' "$c")" in
    *docker.sock*_worker_*) ;;
    *docker.sock*) fail "$(docker inspect -f '{{.Name}}' "$c") has the Docker socket" ;;
    *_worker_*) fail "worker $(docker inspect -f '{{.Name}}' "$c") lacks the Docker socket" ;;
  esac
done
agents_net=${project}_agents
on_agents=$(docker network inspect -f '{{range .Containers}}{{.Name}} {{end}}' "$agents_net")
[ -z "$on_agents" ] || fail "containers on the agents network at rest: $on_agents"
[ "$(docker network inspect -f '{{.Options}}' "$agents_net" | grep -o 'enable_icc:false')" = enable_icc:false ] \
  || fail "agents network allows inter-container traffic"
log "redis appendonly+noeviction; only workers mount the socket; nothing on $agents_net at rest"

# --- 60 steps through the API ------------------------------------------------------------------
enqueue() { # enqueue JSON → step id
  curl_api -H 'content-type: application/json' -d "$1" "$api/v1/steps" | json 'j.id'
}
t0=$SECONDS
ids=()
for i in $(seq 1 60); do
  ids+=("$(enqueue "{\"agentId\":\"$agent_prefix-$((i % 12))\",\"command\":[\"bash\",\"-c\",\"sleep 1; echo step $i\"],\"labels\":{\"e2e\":\"$run_id\",\"batch\":\"load\"}}")")
done
timings+=("$(printf '%-44s %5ss' 'enqueue 60 steps (curl, one by one)' "$((SECONDS - t0))")")
[ "${#ids[@]}" = 60 ] || fail "enqueued ${#ids[@]} steps"
batch_sql() { echo "labels @> '{\"e2e\":\"$run_id\",\"batch\":\"$1\"}'"; }
terminal="('succeeded','failed','timed_out','cancelled','error')"
batch_done() { [ "$(psql "select count(*) from steps where $(batch_sql "$1") and status not in $terminal")" = 0 ]; }
timed "60 steps finished (3 workers x 4)" wait_until 300 "60 steps terminal" batch_done load
summary=$(psql "select status || '=' || count(*) from steps where $(batch_sql load) group by status")
[ "$summary" = succeeded=60 ] || fail "60 steps: $summary"
via_api=$(curl_api "$api/v1/steps?label=e2e:$run_id&limit=500" | json 'j.items.filter((s) => s.labels.batch === "load" && s.status === "succeeded").length')
[ "$via_api" = 60 ] || fail "the API lists $via_api succeeded steps of 60"
first=$(curl_api "$api/v1/steps/${ids[0]}" | json '`${j.status} ${j.exitCode} ${j.output.trim()}`')
[ "$first" = "succeeded 0 step 1" ] || fail "step ${ids[0]}: $first"
mapfile -t step_workers < <(psql "select distinct worker_id from steps where $(batch_sql load) order by 1")
hostnames=$(for c in "${workers[@]}"; do docker inspect -f '{{.Config.Hostname}}' "$c"; done | sort)
step_hosts=$(printf '%s\n' "${step_workers[@]}" | sed 's/-[0-9]*$//' | sort -u)
[ "$step_hosts" = "$hostnames" ] || fail "steps ran on workers [${step_workers[*]}], the workers are [$hostnames]"
per_worker=$(psql "select worker_id || ':' || n from (select worker_id, count(*) as n from steps where $(batch_sql load) group by worker_id) w order by 1" | tr '\n' ' ')
log "60/60 succeeded (API and PostgreSQL agree); by worker: $per_worker"

queues=$(curl_api "$api/admin/queues/api/queues")
queue_name=$(json 'j.queues.map((q) => q.name).find((n) => n.endsWith("steps"))' <<<"$queues")
[ -n "$queue_name" ] || fail "Bull Board lists no steps queue: $queues"
[ "$(json "j.queues.find((q) => q.name === '$queue_name').hasWorkers" <<<"$queues")" = true ] \
  || fail "Bull Board says queue $queue_name has no workers"
board_workers=$(curl_api "$api/admin/queues/api/queues/$(node -p 'encodeURIComponent(process.argv[1])' "$queue_name")/workers" \
  | json '[...new Set(j.workers.map((w) => w.name))].sort().join(" ")')
[ "$board_workers" = "$(printf '%s\n' "${step_workers[@]}" | sort | tr '\n' ' ' | sed 's/ $//')" ] \
  || fail "Bull Board workers [$board_workers], steps ran on [${step_workers[*]}]"
log "Bull Board: queue $queue_name, workers $board_workers"

# --- stop the workers while steps run ----------------------------------------------------------
drain_ids=()
for i in $(seq 1 10); do
  drain_ids+=("$(enqueue "{\"agentId\":\"$agent_prefix-d$i\",\"command\":[\"bash\",\"-c\",\"sleep 5; echo drained $i\"],\"labels\":{\"e2e\":\"$run_id\",\"batch\":\"drain\"}}")")
done
running() { psql "select count(*) from steps where $(batch_sql drain) and status = 'running'"; }
all_running() { [ "$(running)" = 10 ]; }
wait_until 30 "10 steps running" all_running
step_containers() { docker ps -aq --filter label=sandfleet.managed=true --filter "label=sandfleet.fleet=$fleet"; }
log "10 steps running in $(step_containers | wc -l) containers; docker-compose stop worker"
timed "docker-compose stop worker (drain)" dc stop worker >"$workdir/stop.log" 2>&1
after_stop=$(psql "select status || '=' || count(*) from steps where $(batch_sql drain) group by status order by 1" | tr '\n' ' ')
log "after stop: $after_stop"
[ -z "$(step_containers)" ] || fail "step containers left after the workers stopped: $(step_containers | tr '\n' ' ')"
docker start "${workers[0]}" >/dev/null
timed "drained steps terminal (one worker)" wait_until 180 "10 drained steps terminal" batch_done drain
summary=$(psql "select status || '=' || count(*) from steps where $(batch_sql drain) group by status")
[ "$summary" = succeeded=10 ] || fail "10 steps stopped mid-run: $summary"
wait_until 30 "no step container left" test -z "$(step_containers)"
log "none lost: 10/10 succeeded; no step container of fleet $fleet left"

# --- steps outliving the drain are handed back --------------------------------------------------
# Workers again, with a 2 s drain: 10-second steps are stopped and must go back to the queue.
SANDFLEET_DRAIN_GRACE_MS=2000 timed "3 workers with a 2 s drain (recreated)" \
  dc up -d --no-deps --scale worker=3 worker >"$workdir/up2.log" 2>&1 || { cat "$workdir/up2.log"; fail "recreating workers"; }
mapfile -t workers < <(cid worker)
workers_healthy() { local c; for c in "${workers[@]}"; do [ "$(health "$c")" = healthy ] || return 1; done; }
timed "workers healthy" wait_until 120 "three workers healthy again" workers_healthy
for i in $(seq 1 6); do
  enqueue "{\"agentId\":\"$agent_prefix-h$i\",\"command\":[\"bash\",\"-c\",\"sleep 10; echo handed back $i\"],\"labels\":{\"e2e\":\"$run_id\",\"batch\":\"handback\"}}" >/dev/null
done
handback_running() { [ "$(psql "select count(*) from steps where $(batch_sql handback) and status = 'running'")" = 6 ]; }
wait_until 30 "6 steps running" handback_running
timed "docker-compose stop worker (2 s drain)" dc stop worker >"$workdir/stop2.log" 2>&1
after_stop=$(psql "select status || '=' || count(*) from steps where $(batch_sql handback) group by status")
[ "$after_stop" = queued=6 ] || fail "after a 2 s drain the 10-second steps should be queued again: $after_stop"
[ -z "$(step_containers)" ] || fail "step containers left after the drain: $(step_containers | tr '\n' ' ')"
docker start "${workers[0]}" >/dev/null
timed "handed-back steps terminal (one worker)" wait_until 180 "6 handed-back steps terminal" batch_done handback
summary=$(psql "select status || '=' || count(*) from steps where $(batch_sql handback) group by status")
[ "$summary" = succeeded=6 ] || fail "handed-back steps: $summary"
log "handed back: 6 steps stopped by the drain went back to the queue, ran again and succeeded"

# --- the agents network cannot reach the control plane -----------------------------------------
ip_on() { docker inspect -f "{{range \$k, \$v := .NetworkSettings.Networks}}{{if eq \$k \"${project}_control\"}}{{\$v.IPAddress}}{{end}}{{end}}" "$1"; }
gateway=$(docker network inspect -f '{{(index .IPAM.Config 0).Gateway}}' "$agents_net")
targets="redis:6379 postgres:5432 api:8080 $(ip_on "$redis_c"):6379 $(ip_on "$postgres_c"):5432 $(ip_on "$api_c"):8080 $gateway:$api_port"
# shellcheck disable=SC2016 # expanded in the step
probe_script='reached=0
for target in '"$targets"'; do
  if timeout 3 bash -c "exec 3<>/dev/tcp/${target%:*}/${target##*:}" 2>/dev/null; then
    echo "REACHED $target"; reached=1
  else
    echo "blocked $target"
  fi
done
if curl -sS -o /dev/null --max-time 20 https://registry.npmjs.org/; then echo "egress ok"; else echo "egress FAILED"; reached=1; fi
exit $reached'
spec=$(PROBE=$probe_script AGENT="$agent_prefix-net" RUN=$run_id node -p 'JSON.stringify({
  agentId: process.env.AGENT, network: "egress", command: ["bash", "-c", process.env.PROBE],
  labels: { e2e: process.env.RUN, batch: "egress" }, limits: { timeoutMs: 120000 } })')
net_id=$(enqueue "$spec")
t0=$SECONDS
wait_until 120 "egress step terminal" batch_done egress
timings+=("$(printf '%-44s %5ss' 'egress probe step' "$((SECONDS - t0))")")
result=$(curl_api "$api/v1/steps/$net_id")
printf '%s\n' "$(json 'j.output' <<<"$result")" | sed 's/^/[e2e]   /'
[ "$(json '`${j.status} ${j.exitCode}`' <<<"$result")" = "succeeded 0" ] \
  || fail "a step on the agents network reached the control plane, or had no egress: $(json '`${j.status} ${j.exitCode} ${j.error}`' <<<"$result")"
[ "$(docker network ls --format '{{.Name}}' | grep -cx "$agents_net")" = 1 ] || fail "more than one network named $agents_net"
log "agents network: control plane unreachable (by name, by address, via the host), egress works"
