#!/usr/bin/env bash
# make check-rock (and CI): the rockspec passes `luarocks lint`; the source
# rock `make dist` builds (scripts/dist.sh, no network) installs, under each
# Lua of CHECK_ROCK_LUAS (default 5.1 5.3 5.4), each time into a fresh tree:
#   a) from the file: luarocks install ./ion-upload-<version>.src.rock
#   b) by name from a local rocks server (a folder with the rock and the
#      manifest luarocks-admin make-manifest writes): --only-server=DIR,
#      so no other server (luarocks.org) is asked;
# and from each tree `require "ion.upload"` loads the tree's modules and
# the tree's ion-upload --version runs. lua-cjson and argparse are Debian's
# (scripts/deps.sh), found on the interpreter's own paths: --deps-mode=none.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
luas=(${CHECK_ROCK_LUAS:-5.1 5.3 5.4})
rockspec=$(ls ion-upload-*.rockspec)
want=$(sed -n 's/^version = "\([^-]*\)-.*"/\1/p' "$rockspec")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

luarocks lint "$rockspec"
echo "check-rock: luarocks lint $rockspec: ok"

rock=$(bash scripts/dist.sh "$tmp")
rockname=$(basename "$rock")
echo "check-rock: make dist: $rockname ($(wc -c <"$rock") bytes)"
mkdir "$tmp/server"
cp "$rock" "$tmp/server/"
luarocks-admin make-manifest "$tmp/server" >/dev/null
echo "check-rock: local rocks server $tmp/server: $(cd "$tmp/server" && echo *)"

# Runs luarocks quietly; its log when it fails.
rocks() { # log, args...
  local log=$1
  shift
  if ! luarocks "$@" >"$log" 2>&1; then
    cat "$log"
    echo "check-rock: luarocks $* failed" >&2
    return 1
  fi
}

# The tree's module and CLI work, away from this checkout.
check_tree() { # lua version, tree, label
  local v=$1 tree=$2 label=$3 version
  (
    eval "$(luarocks --lua-version="$v" path --tree "$tree")"
    cd /
    TREE="$tree" "lua$v" -e '
      for _, m in ipairs({ "ion.upload", "ion.upload.core", "ion.upload.job", "ion.upload.engine.run" }) do
        require(m)
        local path = package.path .. ";" .. package.cpath
        local found
        for t in path:gmatch("[^;]+") do
          local p = t:gsub("%?", (m:gsub("%.", "/")))
          local f = io.open(p)
          if f then f:close(); found = p; break end
        end
        assert(found and found:find(os.getenv("TREE"), 1, true) == 1, m .. " loaded from " .. tostring(found))
      end'
    version=$("$tree/bin/ion-upload" --version)
    case "$version" in
      *"$want"*) ;;
      *) echo "check-rock: Lua $v, $label: ion-upload --version said '$version', expected $want" >&2; exit 1 ;;
    esac
    echo "check-rock: Lua $v, $label: require \"ion.upload\" loads from the tree; ion-upload --version: $version"
  )
}

for v in "${luas[@]}"; do
  if ! command -v "lua$v" >/dev/null || ! pkg-config --exists "lua$v"; then
    echo "check-rock: lua$v or its headers are missing (scripts/deps.sh installs them)" >&2
    exit 1
  fi
  tree="$tmp/tree-file-$v"
  (cd "$tmp" && rocks "$tmp/file-$v.log" --lua-version="$v" install --deps-mode=none --tree "$tree" "./$rockname")
  grep -q "is now installed in $tree" "$tmp/file-$v.log"
  check_tree "$v" "$tree" "luarocks install ./$rockname"

  tree="$tmp/tree-server-$v"
  (cd / && rocks "$tmp/server-$v.log" --lua-version="$v" install --deps-mode=none --only-server="$tmp/server" \
    --tree "$tree" ion-upload)
  grep -q "Installing $tmp/server/$rockname" "$tmp/server-$v.log"
  check_tree "$v" "$tree" "luarocks install --only-server=DIR ion-upload"
done
echo "check-rock: the source rock installs from the file and from a rocks server under Lua ${luas[*]}"
