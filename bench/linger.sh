#!/usr/bin/env bash
# Registrations go out promptly: the time from each file's PUT end to its
# attachment, for FILES files of 1 to 200 MiB (sizes spread evenly, shuffled)
# at CONCURRENCY 4, through upload_many against the sandbox (events timed
# in the client: bench/linger.lua). Prints p50, p99 and the longest.
#   bash bench/linger.sh            # FILES=20 CONCURRENCY=4 MAX_MIB=200
#   LUA_DIR=/other/checkout/lua bash bench/linger.sh   # the same bench, another version of the client
# Target: p99 <= 0.25 s plus one registration round trip (the engine's
# linger is 250 ms), where waiting for the window's slowest PUT took seconds.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
files=${FILES:-20}
concurrency=${CONCURRENCY:-4}
max_mib=${MAX_MIB:-200}
out=bench/out/linger
rm -rf "$out"
mkdir -p "$out/files"

node sandbox/server.js --state "$out/state.json" --parent-pid $$ >"$out/sandbox.log" 2>&1 &
sandbox_pid=$!
trap 'kill $sandbox_pid 2>/dev/null || true; rm -rf "$out/files"' EXIT
for _ in $(seq 200); do [ -f "$out/state.json" ] && break; sleep 0.05; done # readiness: the state file
[ -f "$out/state.json" ] || { echo "bench: the sandbox did not start: $(cat "$out/sandbox.log")" >&2; exit 1; }
state() { python3 -c "import json,sys; d=json.load(open('$out/state.json')); print(eval('d' + sys.argv[1]))" "$1"; }
export ION_API_URL=$(state "['graphql']")
export ION_TOKEN=$(state "['tokens']['rw']")

# Sizes 1..max_mib MiB, evenly spread, in a fixed shuffled order (so big and
# small files share windows).
mapfile -t sizes < <(python3 -c "
import random
n, top = $files, $max_mib
s = [max(1, round(1 + (top - 1) * i / max(1, n - 1))) for i in range(n)]
random.Random(7).shuffle(s)
print('\n'.join(str(x) for x in s))")
paths=()
for i in "${!sizes[@]}"; do
  f="$out/files/f$i.bin"
  head -c "$((sizes[i] * 1048576))" /dev/urandom >"$f"
  paths+=("$f")
done

t0=$(date +%s.%N)
LUA_PATH="${LUA_DIR:-$here/lua}/?.lua;;" LUA_CPATH="$here/build/?.so;;" lua5.4 bench/linger.lua "$concurrency" "${paths[@]}" \
  >"$out/linger.txt"
t1=$(date +%s.%N)
python3 - "$out/linger.txt" "$files" "$concurrency" "$t0" "$t1" <<'PY'
import sys
rows = [line.split() for line in open(sys.argv[1])]
waits = sorted(float(w) for _, w in rows)
total = sum(int(s) for s, _ in rows) / 1048576
def pct(p):
    k = max(0, min(len(waits) - 1, int(round(p / 100 * len(waits) + 0.5)) - 1))
    return waits[k]
print("%s files, %.0f MiB, concurrency %s, wall %.1f s" % (sys.argv[2], total, sys.argv[3],
      float(sys.argv[5]) - float(sys.argv[4])))
print("PUT end -> attachment: p50 %.3f s, p99 %.3f s, max %.3f s" % (pct(50), pct(99), waits[-1]))
PY
