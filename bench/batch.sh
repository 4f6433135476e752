#!/usr/bin/env bash
# A batch over a slow WAN: FILES files of 16 KiB to 50 run steps, with the
# sandbox adding 20 ms to each GraphQL request and 5 ms to each storage
# request, by `ion-upload --manifest` and by the reference client that follows
# the upload guide's Python example (bench/reference/guide_client.py: one file
# after another, step by step), in the same run against the same sandbox.
#   bash bench/batch.sh                    # FILES=500 CONCURRENCY=8 WINDOW=50
#   SKIP_REFERENCE=1 bash bench/batch.sh   # ion-upload only (the reference takes ~2 minutes)
# Targets: wall >= 20x shorter than the reference; <= 0.1 GraphQL requests per
# file; no more GraphQL connections than --concurrency.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
files=${FILES:-500}
concurrency=${CONCURRENCY:-8}
window=${WINDOW:-50}
steps=50
out=bench/out/batch
rm -rf "$out"
mkdir -p "$out/files"

# SANDBOX_FLAGS: more sandbox flags, e.g. --partial-data false (a strict server).
# shellcheck disable=SC2086
node sandbox/server.js --state "$out/state.json" --graphql-latency-ms 20 --storage-latency-ms 5 \
  --parent-pid $$ ${SANDBOX_FLAGS:-} >"$out/sandbox.log" 2>&1 &
sandbox_pid=$!
trap 'kill $sandbox_pid 2>/dev/null || true' EXIT
for _ in $(seq 200); do [ -f "$out/state.json" ] && break; sleep 0.05; done # readiness: the state file
[ -f "$out/state.json" ] || { echo "bench: the sandbox did not start: $(cat "$out/sandbox.log")" >&2; exit 1; }
state() { python3 -c "import json,sys; d=json.load(open('$out/state.json')); print(eval('d' + sys.argv[1]))" "$1"; }
export ION_API_URL=$(state "['graphql']")
export ION_TOKEN=$(state "['tokens']['rw']")
admin=$(state "['admin']")

echo "path,target,id,filename" >"$out/manifest.csv"
for i in $(seq "$files"); do
  f="$out/files/photo-$i.jpg"
  head -c 16384 /dev/urandom >"$f"
  echo "$f,run_step,$((i % steps + 1)),"
done >>"$out/manifest.csv"

counters() { curl -sS "$admin/counters"; }
reset() { curl -sS -X POST "$admin/reset" >/dev/null; }
# From a counters snapshot: GraphQL requests, GraphQL connections (less the
# one the snapshot itself opened), attachments.
read_counts() {
  python3 -c 'import json,sys; c=json.load(sys.stdin)["graphql"]; print(c["requests"], c["connections"] - 1)'
}
attachments() { curl -sS "$admin/attachments" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
now() { date +%s.%N; }

# Warm-up (not measured): node's JIT and s3rver's first requests.
reset
lua5.4 bin/ion-upload --run-step 1 --quiet "$out/files/photo-1.jpg" "$out/files/photo-2.jpg"

reset
t0=$(now)
lua5.4 bin/ion-upload --manifest "$out/manifest.csv" --concurrency "$concurrency" --window "$window" \
  --journal "$out/batch.journal" --json --quiet >"$out/ion-upload.jsonl"
t1=$(now)
read -r ion_requests ion_connections < <(counters | read_counts)
ion_attached=$(attachments)
ion_wall=$(python3 -c "print(round($t1 - $t0, 3))")
ion_ok=$(grep -c '"ok":true' "$out/ion-upload.jsonl" || true)

echo "ion-upload:  $files files in ${ion_wall} s, ok $ion_ok, attached $ion_attached," \
  "GraphQL requests $ion_requests ($(python3 -c "print(round($ion_requests / $files, 3))")/file)," \
  "GraphQL connections $ion_connections (concurrency $concurrency, window $window)"

ref_wall=""
if [ -z "${SKIP_REFERENCE:-}" ]; then
  reset
  t0=$(now)
  for s in $(seq "$steps"); do
    mapfile -t group < <(awk -F, -v s="$s" 'NR > 1 && $3 == s { print $1 }' "$out/manifest.csv")
    /usr/bin/python3 bench/reference/guide_client.py --run-step "$s" "${group[@]}" >>"$out/reference.jsonl"
  done
  t1=$(now)
  read -r ref_requests ref_connections < <(counters | read_counts)
  ref_wall=$(python3 -c "print(round($t1 - $t0, 3))")
  echo "reference:   $files files in ${ref_wall} s, attached $(attachments)," \
    "GraphQL requests $ref_requests ($(python3 -c "print(round($ref_requests / $files, 3))")/file)," \
    "GraphQL connections $ref_connections"
fi

python3 - "$files" "$ion_wall" "$ion_requests" "$ion_connections" "$concurrency" "$ion_ok" "${ref_wall:-0}" <<'EOF'
import sys
files, wall, req, conns, conc, ok, ref = (float(x) for x in sys.argv[1:])
checks = [("all attached", ok == files, "%d/%d" % (ok, files)),
          ("GraphQL requests per file <= 0.1", req / files <= 0.1, "%.3f" % (req / files)),
          ("GraphQL connections <= concurrency", conns <= conc, "%d <= %d" % (conns, conc))]
if ref > 0:
    checks.append(("wall >= 20x shorter than the reference", ref / wall >= 20, "%.1fx" % (ref / wall)))
for name, ok_, value in checks:
    print("  %-40s %-6s %s" % (name, "ok" if ok_ else "MISSED", value))
sys.exit(0 if all(c[1] for c in checks) else 1)
EOF
