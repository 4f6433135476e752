#!/usr/bin/env bash
# make dist: ion-upload-<version>.src.rock from this checkout, with no network.
# `luarocks pack` would clone the rockspec's git URL; a source rock is only a
# zip of the rockspec and, beside it, the source folder luarocks derives from
# that URL (source.dir, default: the URL's last part without .git), which
# `luarocks install` / `luarocks build` enter without fetching anything.
# The folder holds the files git tracks, as they are in the checkout.
#
# Usage: scripts/dist.sh [OUTDIR]   (default: the checkout; prints the rock's path)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$(cd "${1:-$root}" && pwd)
cd "$root"
rockspecs=(ion-upload-*.rockspec)
if ((${#rockspecs[@]} != 1)); then
  echo "dist: expected one ion-upload-*.rockspec, found ${#rockspecs[@]}" >&2
  exit 1
fi
rockspec=${rockspecs[0]}
name_version=${rockspec%.rockspec}
command -v zip >/dev/null || { echo "dist: zip is missing (scripts/deps.sh installs it)" >&2; exit 1; }

# The folder name luarocks expects: source.dir, else from source.url.
lua=$(command -v lua5.4 || command -v lua5.3 || command -v lua5.1 || command -v luajit) ||
  { echo "dist: no Lua interpreter to read $rockspec" >&2; exit 1; }
srcdir=$(ROCKSPEC=$rockspec "$lua" -e '
  local env, file = {}, os.getenv("ROCKSPEC")
  local chunk = assert(setfenv and loadfile(file) or loadfile(file, "t", env))
  if setfenv then setfenv(chunk, env) end
  chunk()
  local s = env.source
  print(s.dir or (s.url:gsub("/+$", ""):match("([^/]+)$"):gsub("%.git$", "")))')
case "$srcdir" in
  "" | . | .. | */*) echo "dist: odd source folder name '$srcdir' from $rockspec" >&2; exit 1 ;;
esac

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/$srcdir"
if git rev-parse --git-dir >/dev/null 2>&1; then
  git ls-files -z | tar --null -T - -c | tar -x -C "$tmp/$srcdir"
else
  tar -c --exclude=./build --exclude='./build-*' --exclude=./sandbox/node_modules --exclude='./*.rock' . |
    tar -x -C "$tmp/$srcdir"
fi
# symlinks a checkout may hold (a shared node_modules) stay out
find "$tmp/$srcdir" -type l -delete
cp "$rockspec" "$tmp/"
rock="$out/$name_version.src.rock"
rm -f "$rock"
(cd "$tmp" && zip -q -r -X "$rock" "$rockspec" "$srcdir")
echo "$rock"
