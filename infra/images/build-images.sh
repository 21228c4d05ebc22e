#!/usr/bin/env bash
# Builds the local images Sandfleet needs without any registry:
#   sandfleet/debian:bookworm   Debian bookworm base made with debootstrap + docker import
#                               (build-debian-base.sh; its trixie base only when asked for)
#   sandfleet/busybox:latest    busybox-static root file system, docker import
#   sandfleet/step:latest       small default step image (non-root agent user, bash, coreutils)
#   sandfleet/test-busybox:latest  tiny non-root image the tests run steps in
#   sandfleet/egress-proxy:latest  Squid, the only way out of `egress` steps (egress-proxy/)
#   sandfleet/agent-runtime:minimal  the agent image with the minimal toolbox (build-agent-runtime.sh)
# The full agent image (sandfleet/agent-runtime:latest) takes many minutes and is not built here:
#   bash infra/images/build-agent-runtime.sh full
# Idempotent: an image that exists is kept unless SANDFLEET_REBUILD_IMAGES=1.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
rebuild=${SANDFLEET_REBUILD_IMAGES:-0}

log() { printf '[images] %s\n' "$*"; }
have_image() { [ "$rebuild" != 1 ] && docker image inspect "$1" >/dev/null 2>&1; }

build_debian_base() {
  bash "$here/build-debian-base.sh" bookworm
}

build_busybox_base() {
  local tag=sandfleet/busybox:latest
  if have_image "$tag"; then log "$tag present"; return; fi
  # Debian's busybox-static installs a statically linked /bin/busybox: it runs in an empty root.
  local bb=/bin/busybox
  [ -x "$bb" ] || { log "busybox missing: apt-get install busybox-static"; exit 1; }
  local root; root=$(mktemp -d /var/tmp/sandfleet-busybox.XXXXXX)
  trap 'rm -rf "$root"' RETURN
  mkdir -p "$root"/{bin,etc,tmp,home,proc,sys,dev}
  cp "$bb" "$root/bin/busybox"
  for applet in $("$root/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
  done
  chmod 1777 "$root/tmp"
  printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
  printf 'root:x:0:\n' >"$root/etc/group"
  tar -C "$root" -c . | docker import --change 'ENV PATH=/bin' --change 'CMD ["sh"]' - "$tag" >/dev/null
  log "$tag built"
}

# An image built from a Dockerfile carries the file's hash (label sandfleet.source-hash): one
# built from an older version of the file is built again.
build_dockerfile() {
  local tag=$1 file=$2 hash built
  hash=$(sha256sum "$here/$file" | cut -c1-16)
  built=$(docker image inspect -f '{{index .Config.Labels "sandfleet.source-hash"}}' "$tag" 2>/dev/null || true)
  if have_image "$tag" && [ "$built" = "$hash" ]; then log "$tag present"; return; fi
  DOCKER_BUILDKIT=0 docker build -q --label "sandfleet.source-hash=$hash" -t "$tag" -f "$here/$file" "$here" >/dev/null
  log "$tag built"
}

build_debian_base
build_busybox_base
build_dockerfile sandfleet/test-busybox:latest Dockerfile.test-busybox
build_dockerfile sandfleet/step:latest Dockerfile.step
if have_image sandfleet/egress-proxy:latest; then log "sandfleet/egress-proxy:latest present"; else
  DOCKER_BUILDKIT=0 docker build -q -t sandfleet/egress-proxy:latest "$here/egress-proxy" >/dev/null
  log "sandfleet/egress-proxy:latest built"
fi
bash "$here/build-agent-runtime.sh" minimal
