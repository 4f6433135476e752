#!/usr/bin/env bash
# CI, before scripts/deps.sh: every Makefile target that installs its own
# dependencies works on its first run on a bare machine. make computes the
# pkg-config flags when it reads the Makefile, before `deps` has installed
# pkg-config and the Lua headers, so such a target may run nothing itself
# but `deps` and a sub-make (which reads the Makefile again, after deps).
#
# For each target, `make -n -B` (as if nothing were built yet) runs with
# pkg-config absent from PATH (a stub that fails as a missing command does),
# MAKE=: (so the sub-make is shown, not run) and CC=guard-cc (so a compile
# command is easy to spot). Every command it would run must be
# scripts/deps.sh or the sub-make.
#
# Usage: scripts/check-makefile.sh [MAKEFILE]   (default: ./Makefile)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
makefile=$(cd "$(dirname "${1:-$root/Makefile}")" && pwd)/$(basename "${1:-Makefile}")
dir=$(dirname "$makefile")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# These must install their dependencies (README promises it): dropping `deps`
# from one fails here too. Any other target with a `deps` prerequisite is added.
required=(test test-all demo examples host valgrind bench soak check-rock sanitize sandbox)

command -v make >/dev/null || { echo "check-makefile: make is not installed (apt-get install make)" >&2; exit 1; }
mkdir "$tmp/bin"
printf '#!/bin/sh\necho "pkg-config: not installed (check-makefile)" >&2\nexit 127\n' >"$tmp/bin/pkg-config"
chmod 755 "$tmp/bin/pkg-config"
export PATH="$tmp/bin:$PATH"

# Targets whose prerequisites include deps, from make's own database.
found=$({ cd "$dir" && make -f "$makefile" -pRrq : 2>/dev/null || true; } |
  awk -F': ' '/^[A-Za-z0-9_-]+:/ && $0 !~ /^[^:]*:=/ { n = split($2, p, " "); for (i = 1; i <= n; i++) if (p[i] == "deps") print $1 }' |
  sort -u)
targets=$(printf '%s\n' "${required[@]}" $found | sort -u)

bad=0
for t in $targets; do
  if ! grep -qx "$t" <<<"$found"; then
    echo "check-makefile: FAIL $t: does not depend on deps (a bare machine has no pkg-config or Lua headers yet)"
    bad=1
    continue
  fi
  if ! (cd "$dir" && make --no-print-directory -f "$makefile" -n -B MAKE=: CC=guard-cc "$t") >"$tmp/out" 2>"$tmp/err"; then
    echo "check-makefile: FAIL $t: make -n failed"
    sed 's/^/    /' "$tmp/err"
    bad=1
    continue
  fi
  # Allowed: the deps script, then the sub-make (": <flags> _target").
  others=$(grep -v -e '^bash scripts/deps\.sh$' -e '^: ' "$tmp/out" || true)
  if [ -n "$others" ] || ! grep -q '^: ' "$tmp/out"; then
    echo "check-makefile: FAIL $t: runs commands in the make that ran deps (flags read before deps installed pkg-config):"
    if [ -n "$others" ]; then
      # sed alone (no head): under pipefail an early reader's exit is SIGPIPE
      sed -n '1,3{s/^/    /;p}' <<<"$others" | cut -c1-150
      n=$(wc -l <<<"$others")
      ((n <= 3)) || echo "    ... ($((n - 3)) more lines)"
    else
      echo "    (no sub-make)"
    fi
    c=$(grep -c '^guard-cc ' "$tmp/out" || true)
    ((c == 0)) || echo "    ^ $c compile/link commands with flags computed before deps ran"
    bad=1
    continue
  fi
  echo "check-makefile: ok   $t: deps, then $(grep '^: ' "$tmp/out" | head -n 1 | sed 's/^: /make /')"
done
((bad == 0)) || { echo "check-makefile: $makefile: targets above would fail on a bare machine's first run" >&2; exit 1; }
echo "check-makefile: every target that installs its dependencies defers its recipe to a sub-make"
