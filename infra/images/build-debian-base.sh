#!/usr/bin/env bash
# Builds sandfleet/debian:SUITE, a Debian minbase made with debootstrap + docker import (no
# registry needed):
#
#   bash infra/images/build-debian-base.sh bookworm   the base of every Sandfleet image (set-up builds it)
#   bash infra/images/build-debian-base.sh trixie     the base of the trixie agent toolbox only
#
# Idempotent: an existing image is kept unless SANDFLEET_REBUILD_IMAGES=1. SANDFLEET_DEBIAN_MIRROR
# overrides the mirror (default http://deb.debian.org/debian).
set -euo pipefail
suite=${1:-}
mirror=${SANDFLEET_DEBIAN_MIRROR:-http://deb.debian.org/debian}
rebuild=${SANDFLEET_REBUILD_IMAGES:-0}

log() { printf '[images] %s\n' "$*"; }

case $suite in
  bookworm | trixie) ;;
  *) printf '[images] error: usage: %s bookworm|trixie (got %s)\n' "$0" "'$suite'" >&2; exit 2 ;;
esac
tag=sandfleet/debian:$suite
if [ "$rebuild" != 1 ] && docker image inspect "$tag" >/dev/null 2>&1; then
  log "$tag present"
  exit 0
fi
command -v debootstrap >/dev/null || { log "debootstrap missing: apt-get install debootstrap"; exit 1; }
# The host's debootstrap must know the suite (bookworm's 1.0.128 knows trixie).
[ -e "/usr/share/debootstrap/scripts/$suite" ] || { log "debootstrap has no script for $suite: upgrade debootstrap"; exit 1; }
root=$(mktemp -d /var/tmp/sandfleet-rootfs.XXXXXX)
trap 'rm -rf "$root" "$root.log"' EXIT
log "debootstrap $suite into $root (a few minutes)"
started=$SECONDS
debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$root.log" 2>&1 || { tail -20 "$root.log"; exit 1; }
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
tar -C "$root" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["bash"]' - "$tag" >/dev/null
log "$tag built in $((SECONDS - started))s"
