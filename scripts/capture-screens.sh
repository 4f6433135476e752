#!/usr/bin/env bash
# Captures what ion-upload shows while it works, for docs/screens/:
#   terminal.txt  the display on a terminal (tmux pane of 100x24, captured
#                 mid-run with `tmux capture-pane -p`, and at the end)
#   log.txt       the same run with stderr to a file (log mode), progress
#                 lines every 2 s (--progress-interval 2) instead of 10
# Starts the sandbox, uploads 10 generated files of 30-250 MiB (1 GiB in all,
# sparse: nothing to read from disk) to run step 12, with the sandbox's
# storage holding each PUT 300 ms. Needs tmux and curl.
#   bash scripts/capture-screens.sh [OUTDIR]   (default docs/screens)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
LUA=${LUA:-lua5.4}
out=${1:-docs/screens}
mkdir -p "$out"
out=$(cd "$out" && pwd)
if [ ! -f build/ion/upload/core.so ]; then make --no-print-directory build; fi

. scripts/sandbox-env.sh
sandbox_start capture-screens

socket="ion-capture-$$" # a tmux server of our own, never the user's
tmuxc() { tmux -L "$socket" "$@"; }
cleanup() {
  tmuxc kill-server 2>/dev/null || true
  sandbox_stop
}
trap cleanup EXIT INT TERM

files="$sandbox_tmp/files"
mkdir -p "$files"
names=()
i=0
for mib in 30 250 60 150 40 200 80 120 50 40; do
  i=$((i + 1))
  name=$(printf "weld-scan-%02d.raw" "$i")
  truncate -s "${mib}M" "$files/$name"
  names+=("$name")
done

prepare() { # an empty sandbox whose storage holds each PUT 300 ms
  curl -sS -X POST "$ADMIN_URL/reset" >/dev/null
  curl -sS -X POST -H 'Content-Type: application/json' -d '{"storage_latency_ms": 300}' \
    "$ADMIN_URL/faults" >/dev/null
}
cmd=("$LUA" "$root/bin/ion-upload" --run-step 12 "${names[@]}")

# 1. On a terminal: a detached tmux session of fixed size.
prepare
printf -v line '%q ' "${cmd[@]}"
tmuxc new-session -d -s cap -x 100 -y 24 -c "$files" -e "ION_API_URL=$ION_API_URL" -e "ION_TOKEN=$ION_TOKEN" \
  "clear; $line; echo \"exit status \$?\"; tmux -L $socket wait-for -S cap-done; sleep 3600"
pane() { tmuxc capture-pane -p -t cap | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}'; }
# Mid-run: once a third of the files are attached and a third of the bytes sent.
mid=""
for _ in $(seq 1 600); do
  screen=$(pane)
  if [[ $screen =~ \]\ +([0-9]+)%\ +([0-9]+)/10\ files ]] &&
    [ "${BASH_REMATCH[1]}" -ge 35 ] && [ "${BASH_REMATCH[2]}" -ge 3 ] && [ "${BASH_REMATCH[2]}" -lt 10 ]; then
    mid=$screen
    break
  fi
  sleep 0.1
done
tmuxc wait-for cap-done
end=$(pane)
{
  echo "# ion-upload on a terminal: tmux capture-pane -p of a 100x24 pane (scripts/capture-screens.sh)"
  echo "# \$ ion-upload --run-step 12 weld-scan-*.raw   (10 files, 1 GiB; sandbox storage holds each PUT 300 ms)"
  echo "# --- mid-run"
  echo "$mid"
  echo "# --- at the end"
  echo "$end"
} >"$out/terminal.txt"

# 2. In a log: stderr to a file, progress lines every 2 s.
prepare
(cd "$files" && "${cmd[@]}" --progress-interval 2 2>"$out/log.raw" && echo "exit status 0" >>"$out/log.raw") ||
  echo "exit status $?" >>"$out/log.raw"
{
  echo "# ion-upload with stderr to a file (scripts/capture-screens.sh)"
  echo "# \$ ion-upload --run-step 12 --progress-interval 2 weld-scan-*.raw 2>log.txt   (the default interval is 10 s)"
  cat "$out/log.raw"
} >"$out/log.txt"
rm -f "$out/log.raw"
if grep -q $'\033' "$out/log.txt"; then
  echo "capture-screens: an escape byte in the log" >&2
  exit 1
fi
echo "capture-screens: wrote $out/terminal.txt and $out/log.txt"
