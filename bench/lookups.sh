#!/usr/bin/env bash
# Targets by what the station knows (issue 24): FILES files of 16 KiB over 50
# runs, each file's target named `title=SN9000NN final test/Final test` (a run
# found by title, a run step found by title in it), over a slow WAN (the
# sandbox adds 20 ms to each GraphQL request, 5 ms to each storage request).
# `ion-upload --manifest` with a journal, then a rerun with the same journal
# (nothing left to upload: lookups only), the same batch by run step id (a
# baseline: what the lookups add), then the reference client
# (bench/reference/lookup_client.py: each file finds its run and run step with
# its own two queries, then the guide's three steps, one file after another).
#   bash bench/lookups.sh                    # FILES=500 CONCURRENCY=8 WINDOW=50
#   SKIP_REFERENCE=1 bash bench/lookups.sh   # ion-upload only (the reference takes ~2 minutes)
# Targets: <= 0.1 GraphQL requests per file, every file on its run step's
# entity, a rerun that uploads nothing; the wall ratio reference/ion-upload
# is reported.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
files=${FILES:-500}
concurrency=${CONCURRENCY:-8}
window=${WINDOW:-50}
runs=50
out=bench/out/lookups
rm -rf "$out"
mkdir -p "$out/files"

. bench/sandbox.sh
sandbox_start "$out" --graphql-latency-ms 20 --storage-latency-ms 5
trap sandbox_stop EXIT
load_line

title() { printf 'SN9000%02d final test' "$1"; }
echo "path,target,id,filename" >"$out/manifest.csv"
for i in $(seq "$files"); do
  f="$out/files/photo-$i.jpg"
  head -c 16384 /dev/urandom >"$f"
  echo "$f,run_step,title=$(title $((i % runs + 1)))/Final test,"
done >>"$out/manifest.csv"

now() { date +%s.%N; }
# A reset drops created runs: create them again after each, same titles.
reset_and_create_runs() {
  sandbox_reset
  for r in $(seq "$runs"); do
    curl -sS -X POST "$admin/runs" -H 'Content-Type: application/json' \
      -d "{\"title\": \"$(title "$r")\", \"steps\": [\"Receiving inspection\", \"Final test\", \"Rework\"]}"
    echo
  done >"$out/runs.jsonl"
}
snap() { curl -sS "$admin/counters" >"$out/counters-$1.json"; }
# Between two snapshots: GraphQL requests, GraphQL connections (less the one
# the second snapshot opened), storage PUTs.
delta() {
  python3 - "$out/counters-$1.json" "$out/counters-$2.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
print(b["graphql"]["requests"] - a["graphql"]["requests"],
      b["graphql"]["connections"] - a["graphql"]["connections"] - 1,
      b["storage"]["puts"] - a["storage"]["puts"])
PY
}
# Attachments, and how many sit on the entity of their file's run step
# (`Final test` of the run the manifest row names), by filename.
check_attachments() {
  curl -sS "$admin/attachments" | python3 -c '
import csv, json, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
titles = [r["title"] for r in json.loads(open(sys.argv[3]).read())["runs"]]
entity = {}
for r in runs:
    assert titles.count(r["title"]) == 1, "run title not unique: " + r["title"]
    entity[r["title"]] = one = [s["entityId"] for s in r["steps"] if s["title"] == "Final test"]
    assert len(one) == 1
want = {row["path"].rsplit("/", 1)[1]: entity[row["id"][6:].rsplit("/", 1)[0]][0]
        for row in csv.DictReader(open(sys.argv[2]))}
atts = json.load(sys.stdin)
print(len(atts), sum(1 for a in atts if want.get(a["filename"]) == str(a["entityId"])))
' "$out/runs.jsonl" "$out/manifest.csv" <(curl -sS "$admin/dataset")
}
secs() { python3 -c "print(round($2 - $1, 3))"; }
per() { python3 -c "print(round($1 / $files, 3))"; }

# Warm-up (not measured): node's JIT and s3rver's first requests.
reset_and_create_runs
lua5.4 bin/ion-upload --run-step 1 --quiet "$out/files/photo-1.jpg" "$out/files/photo-2.jpg"

reset_and_create_runs
# ion NAME MANIFEST [FLAG ...]: one ion-upload run, measured between two
# counter snapshots; prints wall, GraphQL requests, connections, storage PUTs.
ion() {
  local name=$1 manifest=$2 t0 t1
  shift 2
  snap "$name-0"
  t0=$(now)
  lua5.4 bin/ion-upload --manifest "$manifest" --concurrency "$concurrency" --window "$window" --json --quiet \
    "$@" >"$out/$name.jsonl" 2>"$out/$name.stderr" || true
  t1=$(now)
  snap "$name-1"
  echo "$(secs "$t0" "$t1") $(delta "$name-0" "$name-1")"
}
read -r ion_wall ion_requests ion_connections ion_puts < <(ion ion-upload "$out/manifest.csv" --journal "$out/j")
read -r ion_attached ion_on_step < <(check_attachments)
ion_ok=$(grep -c '"ok":true' "$out/ion-upload.jsonl" || true)
echo "ion-upload:  $files files in ${ion_wall} s, ok $ion_ok, attached $ion_attached ($ion_on_step on their" \
  "run step's entity), GraphQL requests $ion_requests ($(per "$ion_requests")/file)," \
  "GraphQL connections $ion_connections, storage PUTs $ion_puts (concurrency $concurrency, window $window)"

read -r re_wall re_requests re_connections re_puts < <(ion rerun "$out/manifest.csv" --journal "$out/j")
read -r re_attached _ < <(check_attachments)
re_skipped=$(grep -c '"skipped":true' "$out/rerun.jsonl" || true)
echo "rerun:       $files files in ${re_wall} s, skipped $re_skipped, attachments $re_attached," \
  "GraphQL requests $re_requests ($(per "$re_requests")/file), GraphQL connections $re_connections," \
  "storage PUTs $re_puts"

# The same files to the same run steps named by id (fresh runs, no journal):
# what the lookups add to the batch, under the same load.
reset_and_create_runs
python3 - "$out/runs.jsonl" "$out/manifest.csv" >"$out/ids.csv" <<'PY'
import csv, json, sys
step = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    step[r["title"]] = [s["id"] for s in r["steps"] if s["title"] == "Final test"][0]
print("path,target,id,filename")
for row in csv.DictReader(open(sys.argv[2])):
    print("%s,run_step,%d," % (row["path"], step[row["id"][6:].rsplit("/", 1)[0]]))
PY
read -r ids_wall ids_requests ids_connections _ < <(ion ids "$out/ids.csv")
echo "by id:       $files files in ${ids_wall} s, ok $(grep -c '"ok":true' "$out/ids.jsonl" || true)," \
  "GraphQL requests $ids_requests ($(per "$ids_requests")/file), GraphQL connections $ids_connections"

ref_wall=0 ref_on_step=0
if [ -z "${SKIP_REFERENCE:-}" ]; then
  reset_and_create_runs
  snap ref-0
  t0=$(now)
  for r in $(seq "$runs"); do
    mapfile -t group < <(awk -F, -v t="title=$(title "$r")/Final test" 'NR > 1 && $3 == t { print $1 }' \
      "$out/manifest.csv")
    /usr/bin/python3 bench/reference/lookup_client.py --run-title "$(title "$r")" --step-title "Final test" \
      "${group[@]}" >>"$out/reference.jsonl"
  done
  t1=$(now)
  snap ref-1
  read -r ref_requests ref_connections ref_puts < <(delta ref-0 ref-1)
  read -r ref_attached ref_on_step < <(check_attachments)
  ref_wall=$(secs "$t0" "$t1")
  echo "reference:   $files files in ${ref_wall} s, attached $ref_attached ($ref_on_step on their run step's" \
    "entity), GraphQL requests $ref_requests ($(per "$ref_requests")/file), GraphQL connections" \
    "$ref_connections, storage PUTs $ref_puts"
fi

python3 - "$files" "$ion_wall" "$ion_requests" "$ion_ok" "$ion_attached" "$ion_on_step" \
  "$re_requests" "$re_skipped" "$re_attached" "$re_puts" "$ref_wall" "$ref_on_step" <<'EOF'
import sys
files, wall, req, ok, attached, on_step, re_req, re_skipped, re_att, re_puts, ref, ref_on = (
    float(x) for x in sys.argv[1:])
checks = [("all attached, each on its run step", ok == files and attached == files and on_step == files,
           "%d ok, %d on their step" % (ok, on_step)),
          ("GraphQL requests per file <= 0.1", req / files <= 0.1, "%.3f" % (req / files)),
          ("rerun: all skipped, nothing uploaded", re_skipped == files and re_att == attached and re_puts == 0,
           "%d skipped, %d PUTs" % (re_skipped, re_puts)),
          ("rerun: GraphQL requests per file <= 0.1", re_req / files <= 0.1, "%.3f" % (re_req / files))]
if ref > 0:
    checks.append(("reference: all on their run step", ref_on == files, "%d" % ref_on))
for name, ok_, value in checks:
    print("  %-40s %-6s %s" % (name, "ok" if ok_ else "MISSED", value))
if ref > 0:
    print("  %-40s %-6s %.1fx" % ("wall ratio reference / ion-upload", "", ref / wall))
sys.exit(0 if all(c[1] for c in checks) else 1)
EOF
