#!/usr/bin/env bash
# The start-up scan: FILES files (1 KiB) already in DIR, `ion-upload watch
# DIR --once --run-step 1` (default --settle, concurrency and window), under
# /usr/bin/time -v, against the sandbox with +20 ms per GraphQL request and
# +5 ms per storage request. Reports the wall time, the peak RSS, and the
# GraphQL requests the sandbox counted against FILES (one call per file would
# be FILES at least; planned in windows it is about 2 * FILES / window). The
# reference in the same run, on the same files: the batch command,
# `ion-upload --run-step 1 -r DIR`. RUNS runs of each, interleaved, medians.
#   bash bench/watch_scan.sh                 # FILES=10000 RUNS=3
#   SKIP_REFERENCE=1 bash bench/watch_scan.sh
# Target: every file attached; GraphQL requests per file <= 0.1.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
. bench/watch_common.sh
files=${FILES:-10000}
runs=${RUNS:-3}
fresh_out watch_scan
mkdir -p "$out/in"
scratch="$out/in"
sandbox_start "$out" --graphql-latency-ms 20 --storage-latency-ms 5
$tool write "$out/in" "$files" 0 "$out/closes.json"

load_line
# measure NAME COMMAND...: one run against a reset sandbox; appends
# "wall rss exit graphql puts registrations" to $out/NAME.txt.
measure() {
  local name=$1
  shift
  sandbox_reset
  /usr/bin/time -v -o "$out/$name.time" "$@" >"$out/$name.stdout" 2>"$out/$name.stderr" || true
  local timing counts
  timing=$($tool time-v "$out/$name.time")
  counts=$($tool counts "$admin")
  echo "$timing $counts" >>"$out/$name.txt"
  read -r wall rss code graphql puts regs <<<"$timing $counts"
  echo "$name: exit $code, wall $wall s, peak RSS $((rss / 1024)) MiB, GraphQL requests $graphql" \
    "for $files files, PUTs $puts, attached $regs"
}
for _ in $(seq "$runs"); do
  measure watch lua5.4 bin/ion-upload watch "$out/in" --once --run-step 1 --quiet
  if [ -z "${SKIP_REFERENCE:-}" ]; then
    measure batch lua5.4 bin/ion-upload --run-step 1 -r "$out/in" --quiet
  fi
done
load_line

python3 - "$out" "$files" <<'PY'
import os, statistics, sys
out, files = sys.argv[1], int(sys.argv[2])
def med(name):
    path = os.path.join(out, name + ".txt")
    if not os.path.exists(path):
        return None
    rows = [[float(x) for x in line.split()] for line in open(path)]
    return [statistics.median(col) for col in zip(*rows)] + [len(rows), min(r[5] for r in rows)]
w = med("watch")
b = med("batch")
print("watch --once, median of %d: wall %.2f s, peak RSS %.1f MiB, GraphQL requests %d (%.4f/file)"
      % (w[6], w[0], w[1] / 1024, w[3], w[3] / files))
if b:
    print("batch -r,     median of %d: wall %.2f s, peak RSS %.1f MiB, GraphQL requests %d (%.4f/file);"
          " watch/batch wall %.2f" % (b[6], b[0], b[1] / 1024, b[3], b[3] / files, w[0] / b[0]))
checks = [("every file attached, every run", w[7] >= files, "%d/%d (fewest in a run)" % (w[7], files)),
          ("GraphQL requests per file <= 0.1", w[3] / files <= 0.1, "%.4f" % (w[3] / files))]
for name, ok, value in checks:
    print("  %-34s %-6s %s" % (name, "ok" if ok else "MISSED", value))
sys.exit(0 if all(c[1] for c in checks) else 1)
PY
