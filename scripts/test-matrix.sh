#!/usr/bin/env bash
# make test-lua: the whole busted suite under every Lua given (default: 5.1 5.2
# 5.3 5.4 jit) that is installed with its headers. Each version's core is
# built into its own folder (5.4: build/, the others: build/<v>/) so builds
# never clobber each other. Prints each run's closing line, then one
# aggregate "busted: N passed, N failed, N skipped" line (read by CI), and
# fails when any run failed, did not finish, or no Lua was found.
# BUSTED_FLAGS: more flags for every busted run (make test: --exclude-tags=soak,slow).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

versions=("$@")
((${#versions[@]})) || versions=(5.1 5.2 5.3 5.4 jit)

passed=0 failed=0 skipped=0 ran=0 bad=0
summary=()
for v in "${versions[@]}"; do
  case "$v" in
    jit) lua=luajit pc=luajit build=build/jit ;;
    5.4) lua=lua5.4 pc=lua5.4 build=build ;;
    5.[123]) lua=lua$v pc=lua$v build=build/$v ;;
    *) echo "matrix: unknown Lua version $v (use 5.1 5.2 5.3 5.4 jit)" >&2; exit 2 ;;
  esac
  if ! command -v "$lua" >/dev/null || ! pkg-config --exists "$pc"; then
    echo "matrix: skipping Lua $v: $lua or its headers ($pc.pc) are not installed (scripts/deps.sh installs them)"
    summary+=("Lua $v: not installed")
    continue
  fi
  echo "matrix: Lua $v ($lua, core in $build/)${BUSTED_FLAGS:+, busted $BUSTED_FLAGS}"
  if ! make --no-print-directory BUILD="$build" LUA_PC="$pc" build >/dev/null; then
    echo "matrix: Lua $v: the core does not build" >&2
    summary+=("Lua $v: build failed")
    bad=1
    continue
  fi
  log=$(mktemp)
  # --cpath: .busted's own cpath (build/) would otherwise win. ION_LUA: specs
  # that start a child Lua use the same interpreter (spec/support/interpreter.lua).
  ION_LUA="$lua" LUA_CPATH="$root/$build/?.so;;" \
    "$lua" /usr/bin/busted --cpath="$build/?.so" ${BUSTED_FLAGS:-} 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  line=$(grep -E '^busted: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$log" | tail -n 1)
  rm -f "$log"
  ran=$((ran + 1))
  if [[ "$line" =~ ^busted:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed,\ ([0-9]+)\ skipped$ ]]; then
    passed=$((passed + BASH_REMATCH[1]))
    failed=$((failed + BASH_REMATCH[2]))
    skipped=$((skipped + BASH_REMATCH[3]))
    summary+=("Lua $v: ${line#busted: }")
  else
    summary+=("Lua $v: no closing line (busted exited $status)")
    failed=$((failed + 1))
  fi
  ((status == 0)) || bad=1
done

echo
echo "matrix:"
for s in "${summary[@]}"; do echo "  $s"; done
if ((ran == 0)); then
  echo "matrix: no Lua installed with its headers" >&2
  bad=1
fi
echo "busted: $passed passed, $failed failed, $skipped skipped"
((bad == 0 && failed == 0))
