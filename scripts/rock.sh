#!/usr/bin/env bash
# make rock: installs ion-upload with luarocks, for the Lua named by
# LUA_VERSION (5.1 to 5.4, default 5.4), into ROCK_TREE (default ~/.luarocks,
# a tree `luarocks path` always lists).
#
# Built from make dist's source rock (scripts/dist.sh, into build/rock/), which
# luarocks unpacks and compiles in a temporary folder of its own: `luarocks
# make` in the checkout would leave csrc/*.o and ./ion/upload/core.so there,
# and Lua's default cpath (./?.so) loads that core, built for another Lua,
# into `lua5.4 bin/ion-upload` run from the checkout.
#
# lua-cjson and argparse: when the interpreter loads them already (Debian's
# lua-cjson and lua-argparse), a project config in build/rock/.luarocks/
# declares them provided, at the versions the interpreter reports, and nothing
# is fetched (without it luarocks, which only counts rocks, would end with
# "Missing dependencies"). Otherwise luarocks fetches both from luarocks.org.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
v=${LUA_VERSION:-5.4}
case "$v" in
  5.1 | 5.2 | 5.3 | 5.4) ;;
  *) echo "rock: LUA_VERSION=$v: luarocks installs for 5.1, 5.2, 5.3 or 5.4" >&2; exit 2 ;;
esac
tree=${ROCK_TREE:-$HOME/.luarocks}
need() { # command, Debian package
  command -v "$1" >/dev/null || { echo "rock: $1 is missing (apt-get install $2, or bash scripts/deps.sh)" >&2; exit 1; }
}
need "lua$v" "lua$v"
need luarocks luarocks
need zip zip
[ -f "/usr/include/lua$v/lua.h" ] || pkg-config --exists "lua$v" 2>/dev/null ||
  { echo "rock: the Lua $v headers are missing (apt-get install liblua$v-dev)" >&2; exit 1; }

work=$root/build/rock
rm -rf "$work"
mkdir -p "$work/.luarocks" "$work/lua_modules"
rock=$(bash scripts/dist.sh "$work")

args=(--lua-version "$v")
if found=$("lua$v" -e 'io.write(require("cjson")._VERSION, " ", require("argparse").version)' 2>/dev/null); then
  read -r cjson argparse <<<"$found"
  printf 'rocks_provided = { ["lua-cjson"] = "%s-1", argparse = "%s-1" }\n' "$cjson" "$argparse" \
    >"$work/.luarocks/config-$v.lua"
  # --project-tree only names the folder whose .luarocks/ config is read;
  # --tree still says where to install.
  args+=(--project-tree "$work/lua_modules")
  install=(install --deps-mode=none)
  echo "rock: lua$v loads lua-cjson $cjson and argparse $argparse already: not fetched"
else
  install=(install)
  echo "rock: lua$v has no lua-cjson or argparse: luarocks fetches them"
fi
(cd "$work" && luarocks "${args[@]}" "${install[@]}" --tree "$tree" "$rock")
echo "rock: installed for Lua $v in $tree. To use it:"
echo "  eval \"\$(luarocks --lua-version $v path)\"   # LUA_PATH, LUA_CPATH and PATH for the trees, $tree included"
echo "  ion-upload --version                      # the CLI is in $tree/bin"
