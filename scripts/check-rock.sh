#!/usr/bin/env bash
# make check-rock (and CI): the rockspec passes `luarocks lint`, builds and
# installs from a clean copy of the committed sources into a fresh tree, and
# the installed CLI runs from there. lua-cjson and argparse come from apt
# (scripts/deps.sh), hence --deps-mode=none.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
LUAV=${LUAV:-5.4}
rockspec=$(ls ion-upload-*.rockspec)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

luarocks lint "$rockspec"
echo "check-rock: luarocks lint $rockspec: ok"

# A clean copy: what a fresh clone holds, no build products of this checkout.
mkdir "$tmp/src"
if git rev-parse --git-dir >/dev/null 2>&1; then
  git archive HEAD | tar -x -C "$tmp/src"
else
  cp -a . "$tmp/src"
fi
(cd "$tmp/src" && luarocks --lua-version="$LUAV" make --deps-mode=none --tree "$tmp/tree" "$rockspec") \
  >"$tmp/make.log" 2>&1 || { cat "$tmp/make.log"; echo "check-rock: luarocks make failed" >&2; exit 1; }
grep -q "is now installed in $tmp/tree" "$tmp/make.log" || { cat "$tmp/make.log"; exit 1; }

# A tree of one's own is found through LUA_PATH/LUA_CPATH (`luarocks path`).
eval "$(luarocks --lua-version="$LUAV" path --tree "$tmp/tree")"
version=$(cd / && "$tmp/tree/bin/ion-upload" --version)
echo "check-rock: installed into a fresh tree; $tmp/tree/bin/ion-upload --version: $version"
want=$(sed -n 's/^version = "\([^-]*\)-.*"/\1/p' "$rockspec")
case "$version" in
  *"$want"*) ;;
  *) echo "check-rock: expected version $want" >&2; exit 1 ;;
esac
# Every module of the rock loads from the tree (not from this checkout).
(cd / && TREE="$tmp/tree" "lua$LUAV" -e '
  for _, m in ipairs({ "ion.upload", "ion.upload.core", "ion.upload.pending", "ion.upload.batch" }) do
    require(m)
    assert(package.searchpath(m, package.path .. ";" .. package.cpath):find(os.getenv("TREE"), 1, true), m)
  end
  print("check-rock: modules load from the tree")') 
