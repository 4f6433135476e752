#!/usr/bin/env bash
# Opening a resume journal of N files (default 1,000,000; per file a put, a
# registering and an attached record, as runs write them), RUNS times
# (default 3) under /usr/bin/time: the median wall time and peak RSS of a
# process that opens it, looks a key up and closes it.
#   bash bench/journal_open.sh                # N=1000000 RUNS=3
#   PUTS=4 bash bench/journal_open.sh          # mostly superseded: the first open compacts
#   REF=1 N=100000 bash bench/journal_open.sh  # also the journal.lua before the index (REF_COMMIT)
# Target (issue 16): at most 5 s for 1,000,000 files.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
n=${N:-1000000}
runs=${RUNS:-3}
puts=${PUTS:-1}
lua=${LUA:-lua5.4}
make -s build >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export LUA_CPATH="$here/build/?.so;;"
lua_path="$here/lua/?.lua;$here/lua/?/init.lua;;"
$lua bench/journal_gen.lua "$tmp/journal" "$n" "$puts"
echo "journal: $n files, $(wc -l <"$tmp/journal") lines, $(du -m "$tmp/journal" | cut -f1) MiB; load $(cut -d' ' -f1 /proc/loadavg)"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# run NAME LUA_PATH: RUNS opens of a copy of the journal (PUTS>1: a fresh
# copy each time, so that each open compacts)
run() {
  local name=$1 path=$2 i
  : >"$tmp/$name.txt"
  for i in $(seq "$runs"); do
    cp "$tmp/journal" "$tmp/j.$name"
    sync "$tmp/j.$name"
    LUA_PATH="$path" /usr/bin/time -f "%e %M" -o "$tmp/time" $lua bench/journal_open.lua "$tmp/j.$name" >"$tmp/out"
    echo "$(cat "$tmp/time") $(cat "$tmp/out")" >>"$tmp/$name.txt"
  done
  printf '%-6s wall %s s (median of %s)  peak RSS %s MiB  | last: %s\n' "$name" \
    "$(cut -d' ' -f1 "$tmp/$name.txt" | median)" "$runs" \
    "$(cut -d' ' -f2 "$tmp/$name.txt" | median | awk '{printf "%.1f", $1/1024}')" \
    "$(tail -1 "$tmp/$name.txt" | cut -d' ' -f3-)"
  [ "$puts" = 1 ] || echo "       lines after compaction: $(wc -l <"$tmp/j.$name")"
}

run new "$lua_path"
if [ "${REF:-0}" = 1 ]; then
  mkdir -p "$tmp/ref/ion/upload"
  git show "${REF_COMMIT:-2d632c9}:lua/ion/upload/journal/file.lua" >"$tmp/ref/ion/upload/journal.lua"
  run old "$tmp/ref/?.lua;$lua_path"
fi
