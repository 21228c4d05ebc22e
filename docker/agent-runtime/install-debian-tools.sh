#!/bin/bash
# Installs the Debian part of the full toolbox (docker/README.md, "Tool matrix") on the image's
# Debian suite, from Debian packages only:
#
#   bookworm  Go from bookworm-backports; dust (du-dust) from trixie through apt pinning, and
#             nothing else from trixie (checked below). eza and delta stay absent: trixie's eza
#             needs trixie's libgit2-1.9, and that library and git-delta need a newer glibc
#             (2.38, 2.39) than bookworm's 2.36.
#   trixie    everything, delta, eza and dust included, from trixie itself.
#
# Environment: DEBIAN_SUITE (bookworm or trixie; the Dockerfile checked it against the base).
set -euo pipefail
suite=${DEBIAN_SUITE:?}

# Identical on both suites; rustc-web/cargo-web are Debian's current Rust in both (bookworm's
# plain rustc is 1.63, trixie's 1.85).
packages=(
  python3 python3-pip python3-venv python3-dev
  build-essential pkg-config make cmake autoconf automake libtool
  rustc-web cargo-web
  git-lfs gh openssh-client
  ripgrep fd-find bat fzf tree yq
  wget httpie
  netcat-openbsd socat bind9-dnsutils
  imagemagick
  sqlite3 postgresql-client redis-tools
  vim nano htop lsof strace
  less procps file patch unzip zip xz-utils bzip2
)

# The trixie source's packages are never candidates (priority -1) unless pinned up by name:
# with a positive default priority every package that only trixie has would be a candidate, and
# an unforeseen dependency (trixie's t64-renamed libraries replace bookworm's) would come
# silently; this way apt refuses instead. Only trixie itself: its -updates and -security suites
# are not added, so no unpinned trixie suite exists.
pin_trixie() {
  local name
  echo 'deb http://deb.debian.org/debian trixie main' >/etc/apt/sources.list.d/sandfleet-trixie.list
  {
    printf 'Package: *\nPin: release n=trixie\nPin-Priority: -1\n'
    for name in "$@"; do printf '\nPackage: %s\nPin: release n=trixie\nPin-Priority: 500\n' "$name"; done
  } >/etc/apt/preferences.d/sandfleet-trixie
}

# "name version" of every package version in the apt indexes of the releases whose codename
# matches the awk pattern $1 (bookworm's: bookworm, -updates, -security, -backports).
index_versions() {
  apt-get indextargets --format '$(CODENAME) $(FILENAME)' 'Identifier: Packages' \
    | awk -v codename="$1" '$1 ~ codename { print $2 }' \
    | xargs -r /usr/lib/apt/apt-helper cat-file \
    | awk '/^Package: / { name = $2 } /^Version: / { print name, $2 }' | sort -u
}

# Fails unless the installed package versions that no bookworm index carries are exactly
# trixie's "$@": the pinning must not have moved anything else, libc6 least of all. (apt list
# names suites by their moving alias, stable/oldstable, so the indexes are read by codename.)
check_trixie_packages() {
  local installed elsewhere from_trixie
  installed=$(dpkg-query -W -f '${Package} ${Version}\n' | sort -u)
  elsewhere=$(comm -23 <(echo "$installed") <(index_versions '^bookworm'))
  from_trixie=$(comm -12 <(echo "$elsewhere") <(index_versions '^trixie$') | cut -d' ' -f1 | xargs)
  echo "install-debian-tools: installed from trixie: ${from_trixie:-none}"
  if [ "$from_trixie" != "$*" ] || [ "$(echo "$elsewhere" | cut -d' ' -f1 | xargs)" != "$*" ]; then
    echo "install-debian-tools: expected exactly '$*' from trixie; not from bookworm: $(echo "$elsewhere" | xargs)" >&2
    exit 1
  fi
  echo "install-debian-tools: libc6 $(dpkg-query -W -f '${Version}' libc6), from bookworm"
}

case $suite in
  bookworm)
    pin_trixie du-dust
    apt-get update
    apt-get install -y --no-install-recommends "${packages[@]}"
    apt-get install -y --no-install-recommends -t bookworm-backports golang-1.23-go
    ln -s /usr/lib/go-1.23/bin/go /usr/lib/go-1.23/bin/gofmt /usr/local/bin/
    apt-get install -y --no-install-recommends du-dust
    check_trixie_packages du-dust
    ;;
  trixie)
    apt-get update
    apt-get install -y --no-install-recommends "${packages[@]}" golang-go git-delta eza du-dust
    ;;
  *)
    echo "install-debian-tools: DEBIAN_SUITE must be bookworm or trixie, not '$suite'" >&2
    exit 1
    ;;
esac

# Debian renames these two (name clashes with older packages); the toolbox offers the usual names.
ln -s /usr/bin/batcat /usr/local/bin/bat
ln -s /usr/bin/fdfind /usr/local/bin/fd
git lfs install --system
apt-get clean
rm -rf /var/lib/apt/lists/*
