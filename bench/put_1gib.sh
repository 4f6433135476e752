#!/usr/bin/env bash
# PUT a big file over loopback to a sink that discards the body (bench/sink.c),
# with ion.upload.core (MD5 off and on), beside `curl -T` to the same sink and
# `openssl md5` of the same file, in the same run; and the PUT that also
# computes SHA-256 (sha256 = true, what --receipts asks for) beside `openssl
# sha256`. Reports the median wall time, CPU time (user + system) and peak
# RSS (from /usr/bin/time) of RUNS runs each, interleaved.
#   SIZE_MIB=1024 RUNS=3 bash bench/put_1gib.sh
# Targets: core (MD5 off) <= 1.1 x curl; core (MD5 on) <= 1.1 x openssl md5;
# peak RSS <= 24 MiB at any size. SHA-256: its cost is recorded, no target.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
size_mib=${SIZE_MIB:-1024}
runs=${RUNS:-3}
out=bench/out
mkdir -p "$out"
lua=${LUA:-lua5.4}
export LUA_CPATH="$here/build/?.so;;"

cc -O2 -Wall -o "$out/sink" bench/sink.c

file="$out/put-${size_mib}mib.bin"
if [ ! -f "$file" ] || [ "$(stat -c %s "$file")" != $((size_mib * 1048576)) ]; then
  echo "bench: writing $file"
  head -c $((size_mib * 1048576)) /dev/urandom > "$file"
fi
cat "$file" > /dev/null # in the page cache for everyone alike

coproc SINK { exec "$out/sink"; }
sink_pid=$SINK_PID
trap 'kill $sink_pid 2>/dev/null || true' EXIT
read -r _ port <&"${SINK[0]}" # readiness: the sink prints its port once listening
url="http://127.0.0.1:$port/bench/object?X-Amz-Signature=x"

declare -A walls rss cpus
measure() { # name command...
  local name=$1 t
  shift
  /usr/bin/time -o "$out/time.txt" -f "%e %M %U %S" "$@" >/dev/null 2>"$out/stderr.txt" || {
    echo "bench: $name failed: $(cat "$out/stderr.txt")" >&2
    exit 1
  }
  read -r w m u s < <(tail -1 "$out/time.txt")
  walls[$name]+="$w "
  rss[$name]+="$m "
  cpus[$name]+="$(echo "$u + $s" | bc -l) "
}

for ((i = 1; i <= runs; i++)); do
  measure curl curl -sS --fail -o /dev/null -H 'Expect:' -H 'Content-Type: application/octet-stream' -T "$file" "$url"
  measure core_nomd5 "$lua" bench/put.lua "$url" "$file" false
  measure openssl_md5 openssl md5 "$file"
  measure core_md5 "$lua" bench/put.lua "$url" "$file" true
  measure openssl_sha256 openssl sha256 "$file"
  measure core_md5_sha256 "$lua" bench/put.lua "$url" "$file" true true
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

report="$out/put_${size_mib}mib.txt"
{
  echo "PUT of ${size_mib} MiB over loopback, median of $runs runs ($(date -u +%F), $(nproc) cores)"
  echo "load: $(uptime | sed 's/.*load average/load average/')"
  printf "%-16s %8s %8s %10s   %s\n" tool wall_s cpu_s peak_rss_mib "runs (wall s)"
  for n in curl core_nomd5 openssl_md5 core_md5 openssl_sha256 core_md5_sha256; do
    w=$(echo "${walls[$n]}" | median)
    c=$(echo "${cpus[$n]}" | median)
    r=$(echo "${rss[$n]}" | median)
    eval "w_$n=$w c_$n=$c"
    printf "%-16s %8.2f %8.2f %10.1f   %s\n" "$n" "$w" "$c" "$(echo "$r / 1024" | bc -l)" "${walls[$n]}"
  done
  printf "core (MD5 off) / curl -T      = %.2f  (target <= 1.10)\n" "$(echo "$w_core_nomd5 / $w_curl" | bc -l)"
  printf "core (MD5 on) / openssl md5   = %.2f  (target <= 1.10)\n" "$(echo "$w_core_md5 / $w_openssl_md5" | bc -l)"
  printf "SHA-256 added: wall x %.2f, CPU x %.2f (core MD5+SHA-256 / core MD5)\n" \
    "$(echo "$w_core_md5_sha256 / $w_core_md5" | bc -l)" "$(echo "$c_core_md5_sha256 / $c_core_md5" | bc -l)"
} | tee "$report"
