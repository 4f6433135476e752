#!/usr/bin/env bash
# Installs what building, testing and the demo need, and nothing that is
# already there: Debian packages (apt-get, as root or through sudo) and the
# sandbox's pinned npm packages (npm ci). Safe to run again and again.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

packages=(
  build-essential pkg-config
  lua5.4 liblua5.4-dev
  # make test's matrix: the suite also runs under Lua 5.1, 5.2, 5.3 and LuaJIT 2.1
  lua5.1 liblua5.1-0-dev lua5.2 liblua5.2-dev lua5.3 liblua5.3-dev luajit libluajit-5.1-dev
  libcurl4-openssl-dev libssl-dev
  lua-cjson lua-argparse lua-busted lua-check luarocks zip unzip
  nodejs npm curl openssl valgrind
  python3 python3-httpx
  # the event loops of issue 15's adapters and specs (ion.upload.luv, ion.upload.cqueues, examples/nvim)
  lua-luv lua-cqueues neovim
  # issue 25: systemd-analyze verify of examples/ion-upload-watch.service (spec/service_unit_spec.lua)
  systemd
  # the status server's specs: promtool checks /metrics, headless chromium renders the page
  prometheus chromium
  # issue 26's recipes: GNU parallel (spec/integration/shard_parallel_spec.lua), PyYAML
  # (spec/examples_shard_spec.lua checks the Kubernetes Job; systemd-analyze its unit)
  parallel python3-yaml
)
packages+=(${ION_EXTRA_PACKAGES:-})

missing=()
for p in "${packages[@]}"; do
  # Node from another source (e.g. nodesource's nodejs, which bundles npm and
  # conflicts with Debian's npm package) is fine as it is.
  case "$p" in
    nodejs) command -v node >/dev/null && continue ;;
    npm) command -v npm >/dev/null && continue ;;
  esac
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Node >= 20 (Debian 12's is 18): docs/testing.md, "Node".
bash "$here/scripts/ensure-node.sh"

# The sandbox: npm ci when node_modules is missing or older than the lock.
# A node_modules that is a symlink (an install shared between checkouts) is
# left alone: npm ci would empty the folder it points to.
sandbox="$here/sandbox"
if [ -f "$sandbox/package-lock.json" ]; then
  stamp="$sandbox/node_modules/.package-lock.json"
  if [ ! -f "$stamp" ] || [ "$sandbox/package-lock.json" -nt "$stamp" ]; then
    if [ -L "$sandbox/node_modules" ]; then
      echo "deps: sandbox/node_modules is a symlink to $(readlink "$sandbox/node_modules") and older than the lock:" \
        "not running npm ci through it (run it where the link points)"
    else
      echo "deps: npm ci in sandbox/"
      (cd "$sandbox" && npm ci --no-audit --no-fund --loglevel=error)
    fi
  fi
fi
