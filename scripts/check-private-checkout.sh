#!/usr/bin/env bash
# CI: the specs that run a child as nobody (those that require
# spec/support/as_nobody.lua), under lua5.4, from a copy of the checkout that
# only its owner can enter (mode 700, like a clone in /root): they must not
# rely on the checkout being readable by others. The rest of the suite does
# not care where the checkout is (make test-all runs it). Arguments given go
# to busted instead. Prints busted's closing line.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
copy=$(mktemp -d)
trap 'rm -rf "$copy"' EXIT
chmod 700 "$copy"
cd "$root"
if git rev-parse --git-dir >/dev/null 2>&1; then
  git ls-files -z | tar --null -T - -c | tar -x -C "$copy"
else
  tar -c --exclude=./build --exclude=./sandbox/node_modules . | tar -x -C "$copy"
fi
# the sandbox's packages, as installed here (node runs as this user)
rm -rf "$copy/sandbox/node_modules"
ln -s "$root/sandbox/node_modules" "$copy/sandbox/node_modules"
echo "private-checkout: $copy (mode $(stat -c %a "$copy"), owner $(id -un))"
cd "$copy"
make --no-print-directory build >/dev/null
if (($# == 0)); then
  mapfile -t specs < <(grep -rl --include='*_spec.lua' 'support.as_nobody' spec | sort)
  set -- "${specs[@]}"
fi
LUA_PATH="$copy/lua/?.lua;$copy/lua/?/init.lua;$copy/spec/?.lua;;" LUA_CPATH="$copy/build/?.so;;" \
  ION_LUA=lua5.4 lua5.4 /usr/bin/busted "$@"
