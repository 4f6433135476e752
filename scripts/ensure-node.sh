#!/usr/bin/env bash
# scripts/deps.sh: the sandbox needs Node >= 20 (sandbox/package.json's
# engines, and the AWS SDK packages its lock pins declare >=20.0.0). Debian 12
# ships Node 18, so when the node on PATH is older, this installs the npm
# registry's `node` package at a pinned 20.x (a real node binary, through
# npm install -g) and checks again; otherwise it fails saying what to do.
set -euo pipefail
need_major=20
pinned=${ION_NODE_VERSION:-20.20.2}

node_version() { node -p 'process.versions.node' 2>/dev/null || true; }

major_ok() { # version
  local major=${1%%.*}
  [[ "$major" =~ ^[0-9]+$ ]] && ((major >= need_major))
}

have=$(node_version)
if major_ok "$have"; then
  exit 0
fi
echo "deps: Node ${have:-(none)} is older than the sandbox needs (>= $need_major); installing node@$pinned from the npm registry"
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
if ! $sudo npm install -g --no-audit --no-fund --loglevel=error "node@$pinned"; then
  echo "deps: could not install node@$pinned with npm. Install Node $need_major or newer" \
    "(e.g. from nodesource.com), then run scripts/deps.sh again." >&2
  exit 1
fi
hash -r
have=$(node_version)
if ! major_ok "$have"; then
  prefix=$($sudo npm prefix -g 2>/dev/null || echo "npm's global prefix")
  echo "deps: node@$pinned is installed in $prefix/bin, but the node on PATH ($(command -v node || echo none))" \
    "is ${have:-missing}: put $prefix/bin before it in PATH." >&2
  exit 1
fi
echo "deps: Node $have at $(command -v node)"
