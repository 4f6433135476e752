#!/usr/bin/env bash
# A host loop that sleeps in poll() on a session's fds() and timeout() against
# one that spins on step(0): examples/host/sleeping_host.c, one PUT (MD5 on, so
# the reader thread and its pauses are in play) of SIZE_MIB over loopback to
# the discarding sink (bench/sink.c). RUNS runs of each, interleaved; the
# median of the loop's own wall time (Lua start-up excluded) and of the CPU
# time it used, then the throughput ratio poll / spin.
#   SIZE_MIB=200 RUNS=7 bash bench/host_loop.sh
# Target: poll >= 0.90 x spin in throughput.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
size_mib=${SIZE_MIB:-200}
runs=${RUNS:-7}
out=bench/out
mkdir -p "$out"
export LUA_CPATH="$here/build/?.so;;"

make --no-print-directory build sleeping-host >/dev/null
cc -O2 -Wall -o "$out/sink" bench/sink.c

file="$out/put-${size_mib}mib.bin"
if [ ! -f "$file" ] || [ "$(stat -c %s "$file")" != $((size_mib * 1048576)) ]; then
  echo "bench: writing $file"
  head -c $((size_mib * 1048576)) /dev/urandom > "$file"
fi
cat "$file" > /dev/null # in the page cache for both alike

coproc SINK { exec "$out/sink"; }
sink_pid=$SINK_PID
trap 'kill $sink_pid 2>/dev/null || true' EXIT
read -r _ port <&"${SINK[0]}" # readiness: the sink prints its port once listening
url="http://127.0.0.1:$port/bench/object?X-Amz-Signature=x"

declare -A walls cpus
measure() { # name mode
  local line
  line=$(build/examples/sleeping_host $2 examples/host/sleeping_host.lua "$url" "$file" | head -1)
  # "sleeping_host (poll): 0.428 s wall, 0.486 s CPU, 770 steps, 770 waits"
  walls[$1]+="$(echo "$line" | awk '{print $3}') "
  cpus[$1]+="$(echo "$line" | awk '{print $6}') "
}

for ((i = 1; i <= runs; i++)); do
  measure spin --spin
  measure poll ""
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

{
  echo "PUT of ${size_mib} MiB over loopback, MD5 on, median of $runs runs ($(date -u +%F), $(nproc) cores)"
  printf "%-6s %8s %8s %10s   %s\n" loop wall_s cpu_s MiB_per_s "runs (wall s)"
  for n in spin poll; do
    w=$(echo "${walls[$n]}" | median)
    c=$(echo "${cpus[$n]}" | median)
    eval "w_$n=$w"
    printf "%-6s %8.3f %8.3f %10.0f   %s\n" "$n" "$w" "$c" "$(echo "$size_mib / $w" | bc -l)" "${walls[$n]}"
  done
  printf "throughput poll / spin = %.2f  (target >= 0.90)\n" "$(echo "$w_spin / $w_poll" | bc -l)"
} | tee "$out/host_loop.txt"
