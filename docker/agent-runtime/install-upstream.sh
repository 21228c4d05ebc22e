#!/bin/bash
# Installs the tools that neither Debian bookworm (with backports) nor the npm registry carries,
# from pinned upstream release tarballs, each verified against a pinned sha256. Off unless
# UPSTREAM_DOWNLOADS=1: upstream release hosts are not reachable from every build machine.
#
# Environment: UPSTREAM_DOWNLOADS, and per tool <TOOL>_URL and <TOOL>_SHA256 (TOOL = DELTA, EZA, DUST).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

if [ "${UPSTREAM_DOWNLOADS:-0}" != 1 ]; then
  echo "install-upstream: UPSTREAM_DOWNLOADS=0, not installing delta, eza, dust"
  exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# install_tarball NAME URL SHA256: the archive's executable file called NAME goes to /usr/local/bin.
install_tarball() {
  local name=$1 url=$2 sha256=$3 dir="$tmp/$1"
  mkdir -p "$dir"
  "$here/fetch-verified.sh" "$url" sha256 "$sha256" "$dir.tar.gz"
  tar -xzf "$dir.tar.gz" -C "$dir"
  local bin
  bin=$(find "$dir" -type f -name "$name" -perm -u+x | head -n 1)
  [ -n "$bin" ] || { echo "install-upstream: no executable '$name' in $url" >&2; exit 1; }
  install -m 0755 "$bin" "/usr/local/bin/$name"
  echo "install-upstream: $("/usr/local/bin/$name" --version | head -n 1)"
}

install_tarball delta "$DELTA_URL" "$DELTA_SHA256"
install_tarball eza "$EZA_URL" "$EZA_SHA256"
install_tarball dust "$DUST_URL" "$DUST_SHA256"
