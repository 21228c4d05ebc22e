#!/usr/bin/env bash
# Builds the agent-runtime image from docker/Dockerfile.agent-runtime (see docker/README.md):
#
#   bash infra/images/build-agent-runtime.sh minimal          sandfleet/agent-runtime:minimal (CI, tests; ~1 min)
#   bash infra/images/build-agent-runtime.sh [full]           sandfleet/agent-runtime:latest  (~5 min)
#   bash infra/images/build-agent-runtime.sh full trixie      sandfleet/agent-runtime:trixie  (~5 min)
#   bash infra/images/build-agent-runtime.sh minimal trixie   sandfleet/agent-runtime:minimal-trixie
#
# The second argument is the Debian release of the base (default bookworm); docker/README.md says
# which tools each carries. The trixie base (sandfleet/debian:trixie) is made by
# build-debian-base.sh the first time it is needed.
#
# It first builds the agent runtime (packages/agent-runtime, with pnpm when present: one ES module
# bundled with @sandfleet/contracts and zod, dist/image/main.js) and stages it into
# docker/agent-runtime/dist/ (gitignored), the image's ENTRYPOINT; the image's label
# sandfleet.runtime-version is a hash of what was staged.
#
# Idempotent: an existing image with the same runtime version and Debian release is kept unless
# SANDFLEET_REBUILD_IMAGES=1. Needs the base image (infra/images/build-images.sh builds the
# bookworm one). Other knobs, all optional:
#   SANDFLEET_AGENT_BASE_IMAGE       base image (default sandfleet/debian:<release>; must be that release)
#   SANDFLEET_CA_CERTS_DIR           extra CA certificates to trust (default /usr/local/share/ca-certificates)
#   SANDFLEET_AGENT_IMAGE_TAG        tag to build instead of the one above (to try a runtime, e.g.
#                                    sandfleet/agent-runtime:dev, without replacing the tag tests use)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
context="$root/docker"
toolbox=${1:-full}
suite=${2:-bookworm}
rebuild=${SANDFLEET_REBUILD_IMAGES:-0}
base=${SANDFLEET_AGENT_BASE_IMAGE:-sandfleet/debian:$suite}
ca_source=${SANDFLEET_CA_CERTS_DIR:-/usr/local/share/ca-certificates}

log() { printf '[agent-runtime] %s\n' "$*"; }
die() { printf '[agent-runtime] error: %s\n' "$*" >&2; exit 1; }

usage="usage: $0 [minimal|full] [bookworm|trixie] (got '$*')"
case $toolbox/$suite in
  full/bookworm) tag=sandfleet/agent-runtime:latest ;;
  minimal/bookworm) tag=sandfleet/agent-runtime:minimal ;;
  full/trixie) tag=sandfleet/agent-runtime:trixie ;;
  minimal/trixie) tag=sandfleet/agent-runtime:minimal-trixie ;;
  *) die "$usage" ;;
esac
tag=${SANDFLEET_AGENT_IMAGE_TAG:-$tag}
[ $# -le 2 ] || die "$usage"

# The runtime: bundled (a second, from the sources of the runtime and of @sandfleet/contracts, so
# the image never carries a stale one), then staged: the bundle (self-contained, no node_modules),
# with a package.json making Node load it as an ES module.
runtime_pkg="$root/packages/agent-runtime"
runtime_bundle="$runtime_pkg/dist/image"
runtime_stage="$context/agent-runtime/dist"
if command -v pnpm >/dev/null 2>&1 && [ -d "$root/node_modules" ]; then
  pnpm --dir "$runtime_pkg" run --silent bundle
fi
[ -f "$runtime_bundle/main.js" ] || die "$runtime_bundle/main.js missing: run pnpm build"
rm -rf "$runtime_stage"
mkdir -p "$runtime_stage"
cp -p "$runtime_bundle"/*.js "$runtime_stage/"
printf '{ "type": "module", "private": true }\n' >"$runtime_stage/package.json"
# sha256 of each staged file's path and content (NUL-separated, in path order) and the launcher's.
runtime_version=$(
  cd "$context/agent-runtime"
  for file in $(LC_ALL=C ls dist | sed 's|^|dist/|') sandfleet-agent-runtime; do
    printf '%s\0' "$file"; cat "$file"; printf '\0'
  done | sha256sum | cut -c1-16
)
log "runtime version $runtime_version"

if [ "$rebuild" != 1 ] && docker image inspect "$tag" >/dev/null 2>&1; then
  present=$(docker image inspect -f \
    '{{index .Config.Labels "sandfleet.runtime-version"}} {{index .Config.Labels "sandfleet.debian-suite"}}' "$tag")
  if [ "$present" = "$runtime_version $suite" ]; then
    log "$tag present"
    exit 0
  fi
  log "$tag has runtime version and Debian release '$present': rebuilding"
fi
if [ "$base" = "sandfleet/debian:$suite" ]; then
  SANDFLEET_REBUILD_IMAGES=0 bash "$root/infra/images/build-debian-base.sh" "$suite"
fi
docker image inspect "$base" >/dev/null 2>&1 || die "base image $base missing"

# The build trusts exactly the host's extra CA certificates: HTTPS to the npm registry goes
# through them here. The folder is gitignored; with no extra certificates it stays empty.
mkdir -p "$context/ca-certificates"
find "$context/ca-certificates" -maxdepth 1 -name '*.crt' -delete
if [ -d "$ca_source" ]; then
  find "$ca_source" -name '*.crt' -type f -exec cp -p -t "$context/ca-certificates/" {} +
fi
log "extra CA certificates: $(find "$context/ca-certificates" -name '*.crt' | wc -l)"

log "building $tag (TOOLBOX=$toolbox, DEBIAN_SUITE=$suite, base $base)"
started=$SECONDS
DOCKER_BUILDKIT=0 docker build --force-rm \
  --build-arg "BASE_IMAGE=$base" \
  --build-arg "TOOLBOX=$toolbox" \
  --build-arg "DEBIAN_SUITE=$suite" \
  --build-arg "RUNTIME_VERSION=$runtime_version" \
  -t "$tag" -f "$context/Dockerfile.agent-runtime" "$context"
size=$(docker image inspect -f '{{.Size}}' "$tag")
log "$tag built in $((SECONDS - started))s, $((size / 1000000)) MB"
