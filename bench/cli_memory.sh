#!/usr/bin/env bash
# The CLI's peak RSS (/usr/bin/time -f %M) over N tiny files uploaded from a
# manifest through a sandbox of its own (bench/sandbox.sh), at N = 1,000 and
# 10,000 (BENCH_NS to change), for this checkout and, when BENCH_OLD names a
# commit, for that commit's Lua code (same core build) beside it. Issue 16:
# a streaming CLI's peak RSS does not grow with N.
#   bash bench/cli_memory.sh                 # this checkout
#   BENCH_OLD=2d632c9 bash bench/cli_memory.sh   # and the CLI before streaming
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/sandbox.sh
out=${BENCH_OUT:-bench/out/cli_memory}
rm -rf "$out"
mkdir -p "$out"
trap sandbox_stop EXIT
sandbox_start "$out"
load_line

# old/: bin/ and lua/ of BENCH_OLD beside this build (bin/ion-upload finds lua/ and build/ beside it)
if [ -n "${BENCH_OLD:-}" ]; then
  mkdir -p "$out/old"
  git archive "$BENCH_OLD" bin lua | tar -x -C "$out/old"
  ln -s "$PWD/build" "$out/old/build"
fi

targets=("run_step,12" "run,7" "part,50")
printf '%-8s %-6s %10s %8s\n' files code "peak KiB" seconds
for n in ${BENCH_NS:-1000 10000}; do
  dir="$out/$n"
  mkdir -p "$dir/files"
  python3 - "$dir" "$n" "${targets[@]}" <<'PY'
import os, sys
d, n, targets = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
with open(os.path.join(d, "manifest.csv"), "w") as m:
    m.write("path,target,id,filename\n")
    for i in range(n):
        p = os.path.abspath(os.path.join(d, "files", "f%06d.txt" % i))
        with open(p, "w") as f:
            f.write("tiny file %d\n" % i)
        m.write("%s,%s,\n" % (p, targets[i % len(targets)]))
PY
  for code in new ${BENCH_OLD:+old}; do
    bin=bin/ion-upload
    [ "$code" = old ] && bin="$out/old/bin/ion-upload"
    sandbox_reset
    /usr/bin/time -f "%M %e" -o "$dir/$code.time" lua5.4 "$bin" --manifest "$dir/manifest.csv" --concurrency 8 \
      --quiet --json >"$dir/$code.jsonl" 2>"$dir/$code.err" || { echo "bench: $code failed at N=$n:" >&2; tail -3 "$dir/$code.err" >&2; exit 1; }
    lines=$(wc -l <"$dir/$code.jsonl")
    [ "$lines" -eq "$n" ] || { echo "bench: $code printed $lines lines for $n files" >&2; exit 1; }
    read -r kib secs <"$dir/$code.time"
    printf '%-8s %-6s %10s %8s\n' "$n" "$code" "$kib" "$secs"
  done
done
