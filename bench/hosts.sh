#!/usr/bin/env bash
# One upload job in each host loop people have (issue 15): the spinning C
# host (examples/host/host.c, 10 ms tick, step(0.004)), the sleeping C host
# (examples/host/sleeping_host.c: poll() on fds() with timeout()), luv
# (ion.upload.luv), cqueues (ion.upload.cqueues) and Neovim (ion.upload.luv
# on vim.loop), each beside a 10 ms timer of the host's own. In the same run:
#   put:  SIZE_MIB (256) to the sandbox: throughput relative to the spinning
#         C host (target >= 0.90) and the timer's worst lateness (<= 50 ms);
#   idle: a job waiting on a 2 s Retry-After (the sandbox answers 429 to
#         every GraphQL call): CPU over the job's life, % of a core (< 1 %).
# Medians of RUNS (3) runs, the hosts in turn. The drivers: bench/hosts/.
#   RUNS=3 SIZE_MIB=256 bash bench/hosts.sh
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
runs=${RUNS:-3}
size_mib=${SIZE_MIB:-256}
hosts=(c_spin c_sleep luv cqueues nvim)
out=bench/out
mkdir -p "$out"
LUA=lua5.4

make --no-print-directory build host sleeping-host >/dev/null
make --no-print-directory BUILD=build/jit LUA_PC=luajit build >/dev/null # Neovim embeds LuaJIT
export LUA_PATH="$here/lua/?.lua;$here/lua/?/init.lua;$here/bench/?.lua;;"
export LUA_CPATH="$here/build/?.so;;"

# The sandbox stands in for a remote ION and S3: niced, as for the C host in
# examples/run_all.sh, so that it does not take the cores being measured.
. scripts/sandbox-env.sh
sandbox_start hosts nice
file="$sandbox_tmp/big.bin"
truncate -s "${size_mib}M" "$file" # sparse: reads as zeros, costs no disk

admin() { curl -fsS -X POST -H 'Content-Type: application/json' -d "${2:-{\}}" "$ADMIN_URL$1" >/dev/null; }

# One run: prints "wall cpu late_ms outcome".
one() { # host mode
  local o late
  case $1 in
    c_spin)
      o=$(build/examples/host bench/hosts/c_spin.lua "$2" "$file" 2>&1 || true)
      late=$(echo "$o" | sed -n 's/.*lateness max \([0-9.]*\) ms.*/\1/p') ;;
    c_sleep)
      o=$(build/examples/sleeping_host --timer-ms 10 bench/hosts/c_sleep.lua "$2" "$file" 2>&1 || true)
      late=$(echo "$o" | sed -n 's/.*timer of 10 ms: .* lateness max \([0-9.]*\) ms.*/\1/p') ;;
    luv | cqueues)
      o=$("$LUA" "bench/hosts/$1.lua" "$2" "$file" 2>&1 || true) ;;
    nvim)
      o=$(LUA_CPATH="$here/build/jit/?.so;;" BENCH_MODE=$2 BENCH_FILE=$file \
        nvim --headless --clean -u NONE -c "luafile bench/hosts/nvim.lua" </dev/null 2>&1 || true) ;;
  esac
  local line
  line=$(echo "$o" | grep '^hosts: ' || true)
  if [ -z "$line" ]; then
    echo "hosts: $1 $2 gave no result:" >&2
    echo "$o" >&2
    exit 1
  fi
  [ -n "${late:-}" ] || late=$(echo "$line" | sed -n 's/.* late_ms=\([0-9.]*\) .*/\1/p')
  echo "$line" | sed -n "s/.* wall=\([0-9.]*\) cpu=\([0-9.]*\) .* outcome=\(.*\)/\1 \2 $late \3/p"
}

declare -A wall cpu late idle outcome
for ((i = 1; i <= runs; i++)); do
  for h in "${hosts[@]}"; do
    admin /reset
    read -r w c l o < <(one "$h" put)
    wall[$h]+="$w " cpu[$h]+="$c " late[$h]+="$l " outcome[$h]+="$o "
  done
  for h in "${hosts[@]}"; do
    admin /reset
    admin /faults '{"graphql_429_rate":1,"retry_after_s":2}'
    read -r w c _ o < <(one "$h" idle)
    idle[$h]+="$(echo "$c / $w * 100" | bc -l) "
    [ "$o" = rate_limited ] || { echo "hosts: $h idle run ended with $o, not rate_limited" >&2; exit 1; }
  done
  echo "hosts: run $i of $runs done" >&2
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
maxof() { tr ' ' '\n' | grep -v '^$' | sort -g | tail -n 1; }

ref=$(echo "${wall[c_spin]}" | median)
{
  echo "$size_mib MiB upload to the sandbox, and a job waiting on a 2 s Retry-After; median of $runs runs"
  echo "($(date -u +%F), $(nproc) cores; load: $(uptime | sed 's/.*load average: //'))"
  echo
  echo "| host | wall s | MiB/s | throughput vs spinning C host | worst lateness of its 10 ms timer, ms (median / max of runs) | idle CPU, % of a core | outcomes | runs (wall s) |"
  echo "|---|---|---|---|---|---|---|---|"
  for h in "${hosts[@]}"; do
    w=$(echo "${wall[$h]}" | median)
    printf "| %s | %.3f | %.0f | %.2f | %.1f / %.1f | %.2f | %s | %s|\n" "$h" "$w" "$(echo "$size_mib / $w" | bc -l)" \
      "$(echo "$ref / $w" | bc -l)" "$(echo "${late[$h]}" | median)" "$(echo "${late[$h]}" | maxof)" \
      "$(echo "${idle[$h]}" | median)" "$(echo "${outcome[$h]}" | tr ' ' '\n' | grep -v '^$' | sort | uniq -c | awk '{printf "%s×%s ", $1, $2}')" \
      "${wall[$h]}"
  done
  echo
  echo "targets: throughput >= 0.90, lateness <= 50 ms, idle < 1 % (the spinning C host is the reference)"
} | tee "$out/hosts.txt"
