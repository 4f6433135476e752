# shellcheck shell=bash
# Sourced by the watch benches: starts a sandbox of their own on free ports.
#   . bench/sandbox.sh
#   sandbox_start OUT [SANDBOX FLAG ...]   # e.g. --graphql-latency-ms 20
# waits for its state file (the readiness probe), then sets ION_API_URL,
# ION_TOKEN (exported) and $admin; the sandbox exits with this shell
# (--parent-pid) or at sandbox_stop.
sandbox_start() {
  local out=$1
  shift
  node sandbox/server.js --state "$out/state.json" --parent-pid $$ "$@" >"$out/sandbox.log" 2>&1 &
  sandbox_pid=$!
  for _ in $(seq 200); do [ -f "$out/state.json" ] && break; sleep 0.05; done
  [ -f "$out/state.json" ] || { echo "bench: the sandbox did not start: $(cat "$out/sandbox.log")" >&2; exit 1; }
  ION_API_URL=$(sandbox_field "$out" graphql)
  ION_TOKEN=$(sandbox_field "$out" tokens rw)
  export ION_API_URL ION_TOKEN
  admin=$(sandbox_field "$out" admin)
}

# sandbox_field OUT KEY [KEY ...]: a value of the state file.
sandbox_field() {
  python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
for k in sys.argv[2:]: d = d[k]
print(d)' "$1/state.json" "${@:2}"
}

sandbox_stop() {
  # and wait: on SIGTERM it removes its stored objects, which for a big N
  # takes minutes of CPU that must not overlap the next measurement
  if [ -n "${sandbox_pid:-}" ]; then kill "$sandbox_pid" 2>/dev/null && wait "$sandbox_pid" 2>/dev/null || true; fi
}

# POST /admin/reset: no attachments, counters at zero.
sandbox_reset() { curl -sS -X POST "$admin/reset" >/dev/null; }

# The load beside every figure: the machine is shared.
load_line() { echo "load: $(uptime | sed 's/.*load average: //') ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores)"; }
