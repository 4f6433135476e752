#!/usr/bin/env bash
# A hot folder's latency: `ion-upload watch DIR --settle 0.2 --run-step 1`
# while FILES files (1 KiB) are written into DIR at RATE a second, each
# opened, written and closed; the sandbox adds 20 ms to each GraphQL request
# and 5 ms to each storage request. Per file: from its close (the writer's
# clock) to its registration taking effect in the sandbox (GET
# /admin/registrations, registeredAtMs: same machine, same wall clock).
# RUNS runs, each with a new watcher, folder and journal and a reset
# sandbox; prints each run's p50, p99 and max, then the medians.
#   bash bench/watch_latency.sh          # RUNS=3 FILES=200 RATE=20 SETTLE=0.2
#   WATCH_FLAGS="--poll 0.5" bash bench/watch_latency.sh   # more watch flags
# Target: p50 <= settle + 0.15 s, p99 <= settle + 0.5 s.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
. bench/watch_common.sh
runs=${RUNS:-3}
files=${FILES:-200}
rate=${RATE:-20}
settle=${SETTLE:-0.2}
fresh_out watch_latency

sandbox_start "$out" --graphql-latency-ms 20 --storage-latency-ms 5
load_line
echo "$files files at $rate/s, --settle $settle, +20 ms GraphQL, +5 ms storage, ${WATCH_FLAGS:-inotify}"
: >"$out/runs.txt"
for run in $(seq "$runs"); do
  sandbox_reset
  dir="$out/run$run"
  mkdir -p "$dir/in"
  # shellcheck disable=SC2086
  lua5.4 bin/ion-upload watch "$dir/in" --settle "$settle" --run-step 1 --journal "$dir/journal" \
    ${WATCH_FLAGS:-} >"$dir/stdout" 2>"$dir/stderr" &
  watcher_pid=$!
  # Readiness: a warm-up file attached (the watcher takes files, and its
  # connections and its knowledge of the server are warm), not measured.
  echo warm >"$dir/in/warmup.csv"
  $tool wait-registered "$admin" 1 60 warmup
  $tool write "$dir/in" "$files" "$rate" "$dir/closes.json"
  $tool wait-registered "$admin" "$files" 120 f
  read -r n p50 p99 max < <($tool latency "$dir/closes.json" "$admin")
  stop_watcher
  echo "$p50 $p99 $max" >>"$out/runs.txt"
  echo "run $run: $n files, close -> attached p50 ${p50} s, p99 ${p99} s, max ${max} s"
done
load_line

python3 - "$out/runs.txt" "$settle" <<'PY'
import statistics, sys
rows = [[float(x) for x in line.split()] for line in open(sys.argv[1])]
settle = float(sys.argv[2])
p50, p99, mx = (statistics.median(col) for col in zip(*rows))
print("median of %d runs: p50 %.3f s, p99 %.3f s, max %.3f s" % (len(rows), p50, p99, mx))
checks = [("p50 <= settle + 0.15 s", p50 <= settle + 0.15, "%.3f <= %.3f" % (p50, settle + 0.15)),
          ("p99 <= settle + 0.5 s", p99 <= settle + 0.5, "%.3f <= %.3f" % (p99, settle + 0.5))]
for name, ok, value in checks:
    print("  %-28s %-6s %s" % (name, "ok" if ok else "MISSED", value))
sys.exit(0 if all(c[1] for c in checks) else 1)
PY
