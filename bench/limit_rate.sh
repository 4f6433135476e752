#!/usr/bin/env bash
# The bandwidth cap (limit_rate) over a long run: `ion-upload --limit-rate 2M
# --concurrency 4` sends 4 files of SIZE_MIB MiB (default 15: 60 MiB, 30 s at
# 2 MiB/s) to the sandbox, RUNS times (default 3), each under /usr/bin/time -v.
# In the same run, as references: the same upload without a cap (the sandbox
# takes far more than 2 MiB/s, so the cap is what binds), and curl itself, 4
# processes with --limit-rate 512K each PUTting the same files to presigned
# URLs (curl caps each transfer, not the sum: 4 x 512K = 2M).
#   bash bench/limit_rate.sh            # RUNS=3 SIZE_MIB=15 RATE=2M
# Targets: the achieved rate (bytes / wall of the whole process, start-up and
# GraphQL included) within +-10 % of the cap; the process's CPU (user + sys)
# at most 5 % of one core.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
runs=${RUNS:-3}
size_mib=${SIZE_MIB:-15}
rate=${RATE:-2M}
out=bench/out/limit_rate
rm -rf "$out"
mkdir -p "$out/files"

node sandbox/server.js --state "$out/state.json" --parent-pid $$ >"$out/sandbox.log" 2>&1 &
sandbox_pid=$!
trap 'kill $sandbox_pid 2>/dev/null || true' EXIT
for _ in $(seq 200); do [ -f "$out/state.json" ] && break; sleep 0.05; done # readiness: the state file
[ -f "$out/state.json" ] || { echo "bench: the sandbox did not start: $(cat "$out/sandbox.log")" >&2; exit 1; }
state() { python3 -c "import json,sys; d=json.load(open('$out/state.json')); print(eval('d' + sys.argv[1]))" "$1"; }
export ION_API_URL=$(state "['graphql']")
export ION_TOKEN=$(state "['tokens']['rw']")
admin=$(state "['admin']")
reset() { curl -sS -X POST "$admin/reset" >/dev/null; }

files=()
for i in 1 2 3 4; do
  f="$out/files/part-$i.bin"
  dd if=/dev/urandom of="$f" bs=1M count="$size_mib" status=none
  files+=("$f")
done
bytes=$((4 * size_mib * 1024 * 1024))
rate_bytes=$(LUA_PATH="lua/?.lua;;" lua5.4 - "$rate" <<<'print(assert(require("ion.upload.cli.rate_value").parse(arg[1], "RATE")))')

# From /usr/bin/time -v's report: wall seconds, user + sys seconds, max RSS KiB.
read_time() {
  python3 - "$1" <<'EOF'
import re, sys
t = open(sys.argv[1]).read()
def field(name):
    return re.search(re.escape(name) + r": (.*)", t).group(1).strip()
parts = [float(p) for p in field("Elapsed (wall clock) time (h:mm:ss or m:ss)").split(":")]
wall = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
cpu = float(field("User time (seconds)")) + float(field("System time (seconds)"))
print(f"{wall:.3f} {cpu:.3f} {field('Maximum resident set size (kbytes)')}")
EOF
}

upload() { # label, extra flags...
  local label=$1
  shift
  reset
  /usr/bin/time -v -o "$out/$label.time" lua5.4 bin/ion-upload --run-step 1 --concurrency 4 --quiet --json "$@" \
    "${files[@]}" >"$out/$label.jsonl"
  [ "$(grep -c '"ok":true' "$out/$label.jsonl")" = 4 ] || { echo "bench: $label: not every file attached" >&2; exit 1; }
  read_time "$out/$label.time"
}

# Warm-up (not measured): node's JIT and s3rver's first requests.
reset
lua5.4 bin/ion-upload --run-step 1 --quiet "${files[0]}"

echo "ion-upload, 4 files of $size_mib MiB, --concurrency 4"
echo "run  load(1m)  cap        wall_s   rate_MiB/s  of_cap  cpu_s   cpu_%core  maxrss_KiB"
read -r wall cpu rss < <(upload uncapped)
awk -v w="$wall" -v c="$cpu" -v b="$bytes" -v r="$rss" -v l="$(cut -d' ' -f1 /proc/loadavg)" \
  'BEGIN { printf "ref  %-8s  none       %-7.2f  %-10.2f  -       %-6.2f  %-9.1f  %s\n", l, w, b / w / 1048576, c, 100 * c / w, r }'
: >"$out/capped.txt"
for n in $(seq "$runs"); do
  load=$(cut -d' ' -f1 /proc/loadavg)
  read -r wall cpu rss < <(upload "capped-$n" --limit-rate "$rate")
  echo "$wall $cpu $rss $load" >>"$out/capped.txt"
  awk -v n="$n" -v w="$wall" -v c="$cpu" -v b="$bytes" -v r="$rss" -v l="$load" -v cap="$rate_bytes" -v rl="$rate" \
    'BEGIN { printf "%-3d  %-8s  %-9s  %-7.2f  %-10.3f  %-6.3f  %-6.2f  %-9.2f  %s\n", n, l, rl, w, b / w / 1048576,
      b / w / cap, c, 100 * c / w, r }'
done

# curl: 4 processes, --limit-rate RATE/4 each, to presigned URLs asked for
# through the library (the URL request is not timed).
reset
per=$((rate_bytes / 4))
urls=$(LUA_PATH="lua/?.lua;;" LUA_CPATH="build/?.so;;" lua5.4 - "${files[@]}" <<<'
  local c = assert(require("ion.upload").new({ endpoint = os.getenv("ION_API_URL"), token = os.getenv("ION_TOKEN") }))
  for i = 1, #arg do
    local t = assert(c:request_upload_url(arg[i]))
    print(t.contentType .. " " .. t.uploadUrl)
  end')
i=0
pids=()
start=$(date +%s.%N)
while read -r ctype url; do
  /usr/bin/time -v -o "$out/curl-$i.time" curl -sS -f -o /dev/null -X PUT -T "${files[$i]}" -H "Content-Type: $ctype" \
    -H "Expect:" --limit-rate "$per" "$url" &
  pids+=($!)
  i=$((i + 1))
done <<<"$urls"
wait "${pids[@]}" # (not the sandbox)
end=$(date +%s.%N)
curl_cpu=0
for j in 0 1 2 3; do
  read -r _ c _ < <(read_time "$out/curl-$j.time")
  curl_cpu=$(awk -v a="$curl_cpu" -v b="$c" 'BEGIN { print a + b }')
done
awk -v s="$start" -v e="$end" -v c="$curl_cpu" -v b="$bytes" -v cap="$rate_bytes" -v per="$per" \
  -v l="$(cut -d' ' -f1 /proc/loadavg)" \
  'BEGIN { w = e - s; printf "curl 4 x --limit-rate %d: load %s, wall %.2f s, %.3f MiB/s (%.3f of the cap), cpu %.2f s (%.2f %% of a core, 4 processes)\n",
    per, l, w, b / w / 1048576, b / w / cap, c, 100 * c / w }'

python3 - "$out/capped.txt" "$bytes" "$rate_bytes" <<'EOF'
import statistics, sys
rows = [[float(v) for v in line.split()] for line in open(sys.argv[1])]
size, cap = int(sys.argv[2]), int(sys.argv[3])
wall = statistics.median(r[0] for r in rows)
cpu = statistics.median(100 * r[1] / r[0] for r in rows)
print(f"median of {len(rows)} capped runs: wall {wall:.2f} s, {size / wall / 1048576:.3f} MiB/s = "
      f"{size / wall / cap:.3f} of the cap; cpu {cpu:.2f} % of a core")
EOF
uptime
