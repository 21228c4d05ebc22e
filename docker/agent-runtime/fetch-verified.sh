#!/bin/bash
# fetch-verified URL sha256|sha512 HEX OUTPUT
# Downloads URL to OUTPUT and fails (removing it) unless its digest is HEX. An empty HEX fails too:
# nothing from outside Debian's archive is installed without a pinned checksum.
set -euo pipefail
url=$1 algo=$2 want=$3 out=$4

case $algo in
  sha256 | sha512) ;;
  *) echo "fetch-verified: unsupported digest '$algo'" >&2; exit 2 ;;
esac
if [ -z "$want" ]; then
  echo "fetch-verified: no $algo pinned for $url; pin it (see docker/README.md)" >&2
  exit 2
fi

curl -fsSL --retry 3 --retry-connrefused -o "$out" "$url"
got=$("${algo}sum" "$out" | cut -d' ' -f1)
if [ "$got" != "$want" ]; then
  echo "fetch-verified: $algo of $url is $got, expected $want" >&2
  rm -f "$out"
  exit 1
fi
