#!/usr/bin/env bash
# Builds the stand-in base images the compose stack (docker-compose.yml) and the engine image
# (docker/Dockerfile) use on a machine that reaches no image registry, each from the local Debian
# base with Debian's packages:
#
#   sandfleet/node:22-bookworm      Node.js 22 + npm from the npm registry (pinned sha512)   docker/images/node
#   sandfleet/redis:7-bookworm      Debian's redis-server, entrypoint like the official one  docker/images/redis
#   sandfleet/postgres:15-bookworm  Debian's PostgreSQL 15, entrypoint like the official one docker/images/postgres
#
# Where the official images can be pulled, none of this is needed: point the compose file at them
# (REDIS_IMAGE, POSTGRES_IMAGE, SANDFLEET_NODE_IMAGE; see infra/DEPLOY.md).
#
# Idempotent: an image is kept when it exists with the same inputs (label sandfleet.inputs: a hash
# of its build folder, the Node installer, the extra CA certificates and the base image id), else
# rebuilt (the layer cache still applies). Environment, all optional:
#   SANDFLEET_REBUILD_IMAGES=1   rebuild even when the inputs are unchanged
#   SANDFLEET_COMPOSE_BASE_IMAGE Debian bookworm base (default sandfleet/debian:bookworm, made by
#                                infra/images/build-images.sh when missing)
#   SANDFLEET_CA_CERTS_DIR       extra CA certificates to trust (default /usr/local/share/ca-certificates)
#
#   bash infra/images/build-compose-bases.sh [node|redis|postgres ...]   (default: all three)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
context="$root/docker"
rebuild=${SANDFLEET_REBUILD_IMAGES:-0}
base=${SANDFLEET_COMPOSE_BASE_IMAGE:-sandfleet/debian:bookworm}
ca_source=${SANDFLEET_CA_CERTS_DIR:-/usr/local/share/ca-certificates}

log() { printf '[compose-bases] %s\n' "$*"; }
die() { printf '[compose-bases] error: %s\n' "$*" >&2; exit 1; }

declare -A tags=(
  [node]=sandfleet/node:22-bookworm
  [redis]=sandfleet/redis:7-bookworm
  [postgres]=sandfleet/postgres:15-bookworm
)
wanted=("$@")
[ ${#wanted[@]} -gt 0 ] || wanted=(node redis postgres)
for name in "${wanted[@]}"; do
  [ -n "${tags[$name]:-}" ] || die "unknown image '$name' (node, redis or postgres)"
done

command -v docker >/dev/null || die "docker is missing"
if ! docker image inspect "$base" >/dev/null 2>&1; then
  [ "$base" = sandfleet/debian:bookworm ] || die "base image $base missing"
  log "$base missing: building the local images first (infra/images/build-images.sh)"
  bash "$root/infra/images/build-images.sh"
fi

# The extra CA certificates of this machine, as a build input (the folder is gitignored; with no
# extra certificates it stays empty). The engine image (docker/Dockerfile) reads the same folder.
certs="$context/images/ca-certificates"
mkdir -p "$certs"
find "$certs" -maxdepth 1 -name '*.crt' -delete
if [ -d "$ca_source" ]; then
  find "$ca_source" -name '*.crt' -type f -exec cp -p -t "$certs/" {} +
fi
log "extra CA certificates: $(find "$certs" -maxdepth 1 -name '*.crt' | wc -l)"

# inputs_of NAME: the files a build reads, relative to the context (docker/).
inputs_of() {
  case $1 in
    node) printf '%s\n' images/node/Dockerfile agent-runtime/install-node.sh agent-runtime/fetch-verified.sh
          (cd "$context" && find images/ca-certificates -maxdepth 1 -name '*.crt' | LC_ALL=C sort) ;;
    *) (cd "$context" && find "images/$1" -type f | LC_ALL=C sort) ;;
  esac
}

inputs_hash() {
  local base_id; base_id=$(docker image inspect -f '{{.Id}}' "$base")
  {
    printf '%s\0' "$base_id"
    for file in $(inputs_of "$1"); do
      printf '%s\0' "$file"; cat "$context/$file"; printf '\0'
    done
  } | sha256sum | cut -c1-16
}

for name in "${wanted[@]}"; do
  tag=${tags[$name]}
  hash=$(inputs_hash "$name")
  if [ "$rebuild" != 1 ] && docker image inspect "$tag" >/dev/null 2>&1; then
    present=$(docker image inspect -f '{{index .Config.Labels "sandfleet.inputs"}}' "$tag")
    if [ "$present" = "$hash" ]; then
      log "$tag present"
      continue
    fi
    log "$tag has inputs '${present:-none}', now $hash: rebuilding"
  fi
  if [ "$name" = node ]; then build_context=$context; else build_context=$context/images/$name; fi
  log "building $tag"
  started=$SECONDS
  build_log=$(mktemp)
  if ! DOCKER_BUILDKIT=0 docker build --force-rm \
    --build-arg "BASE_IMAGE=$base" \
    --label "sandfleet.inputs=$hash" \
    -t "$tag" -f "$context/images/$name/Dockerfile" "$build_context" >"$build_log" 2>&1; then
    tail -40 "$build_log" >&2
    rm -f "$build_log"
    die "building $tag failed"
  fi
  rm -f "$build_log"
  size=$(docker image inspect -f '{{.Size}}' "$tag")
  log "$tag built in $((SECONDS - started))s, $((size / 1000000)) MB"
done
