#!/usr/bin/env bash
# A day's worth of files through one watcher: `ion-upload watch DIR
# --run-step 1 --journal J` (default --settle) while N files (1 KiB) arrive
# at RATE a second, then until all N are registered in the sandbox. Every
# EVERY seconds, the watcher's VmRSS (/proc/PID/status) and open fds
# (/proc/PID/fd) go to bench/out/watch_soak/samples.csv; reported: at the
# first sample after WARM files attached (the warm-up), at the end, and the
# largest in between.
#   bash bench/watch_soak.sh            # N=10000 RATE=75 EVERY=2 WARM=1000
#   bash bench/watch_soak.sh 2000       # a shorter soak (WARM is then N/10)
#   HEAP=1 bash bench/watch_soak.sh     # the host is bench/watch_heap.lua
#     (client:watch as the CLI runs it), which prints the live Lua heap and
#     the tables that grow with the files, every WARM files
# Target (the issue's "Resources"): RSS growth after the warm-up <= 2 MiB;
# fds flat: at the end at most 2 more than at the warm-up (a connection
# pool may be holding one more; a leak of one fd in 100 files would be +90).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
. bench/watch_common.sh
files=${1:-${N:-10000}}
rate=${RATE:-75}
every=${EVERY:-2}
warm=${WARM:-$((files < 10000 ? files / 10 : 1000))}
fresh_out watch_soak
mkdir -p "$out/in"
scratch="$out/in"
sandbox_start "$out"

load_line
if [ -n "${HEAP:-}" ]; then
  LUA_PATH="$here/lua/?.lua;;" LUA_CPATH="$here/build/?.so;;" \
    lua5.4 bench/watch_heap.lua "$out/in" "$out/journal" "$warm" >"$out/stdout" 2>"$out/stderr" &
else
  # shellcheck disable=SC2086
  lua5.4 bin/ion-upload watch "$out/in" --run-step 1 --journal "$out/journal" --quiet ${WATCH_FLAGS:-} \
    >"$out/stdout" 2>"$out/stderr" &
fi
watcher_pid=$!
$tool ready "$watcher_pid" 30 inotify
t0=$(date +%s.%N)
$tool write "$out/in" "$files" "$rate" "$out/closes.json" --pid "$watcher_pid" --samples "$out/samples.csv" \
  --every "$every" --admin "$admin" --timeout $((files / rate + 600))
t1=$(date +%s.%N)
stop_watcher
load_line
if [ -n "${HEAP:-}" ]; then cat "$out/stderr"; fi

python3 - "$out/samples.csv" "$files" "$warm" "$rate" "$t0" "$t1" "$(wc -l <"$out/journal")" <<'PY'
import csv, sys
path, files, warm, rate, t0, t1, journal_lines = sys.argv[1:]
files, warm = int(files), int(warm)
rows = [{k: float(v) for k, v in r.items()} for r in csv.DictReader(open(path))]
w = next(r for r in rows if r["attached"] >= warm)
after = [r for r in rows if r["t"] >= w["t"]]
end = rows[-1]
mib = lambda kib: kib / 1024
print("%d files at %s/s, %d samples over %.0f s (journal: %s lines)"
      % (files, rate, len(rows), float(t1) - float(t0), journal_lines))
print("RSS: start %.2f MiB, at warm-up (%d attached) %.2f MiB, end %.2f MiB, largest after warm-up %.2f MiB"
      % (mib(rows[0]["rss_kib"]), w["attached"], mib(w["rss_kib"]), mib(end["rss_kib"]),
         mib(max(r["rss_kib"] for r in after))))
print("fds: start %d, at warm-up %d, end %d, after warm-up %d..%d"
      % (rows[0]["fds"], w["fds"], end["fds"], min(r["fds"] for r in after), max(r["fds"] for r in after)))
growth = mib(end["rss_kib"] - w["rss_kib"])
checks = [("RSS growth after warm-up <= 2 MiB", growth <= 2, "%+.2f MiB" % growth),
          ("fds at the end <= at warm-up + 2", end["fds"] <= w["fds"] + 2, "%d <= %d + 2" % (end["fds"], w["fds"]))]
for name, ok, value in checks:
    print("  %-34s %-6s %s" % (name, "ok" if ok else "MISSED", value))
sys.exit(0 if all(c[1] for c in checks) else 1)
PY
