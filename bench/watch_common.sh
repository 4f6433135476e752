# shellcheck shell=bash
# Sourced by bench/watch_*.sh from the checkout's root: the sandbox helper,
# watch_tool.py ($tool), a fresh bench/out/NAME ($out), and the watcher a
# bench starts (its pid in $watcher_pid), stopped at exit with the sandbox;
# $scratch, when set, is removed then too (the files written).
. bench/sandbox.sh
# shellcheck disable=SC2034 # used by the scripts that source this file
tool="python3 bench/watch_tool.py"
watcher_pid=""
scratch=""

stop_watcher() {
  if [ -n "$watcher_pid" ]; then
    kill -TERM "$watcher_pid" 2>/dev/null || true
    wait "$watcher_pid" 2>/dev/null || true
    watcher_pid=""
  fi
}
trap 'stop_watcher; sandbox_stop; if [ -n "$scratch" ]; then rm -rf "$scratch"; fi' EXIT

# fresh_out NAME: an empty bench/out/NAME in $out.
fresh_out() {
  out=bench/out/$1
  rm -rf "$out"
  mkdir -p "$out"
}
