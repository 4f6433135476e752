#!/usr/bin/env bash
# make examples (and CI): runs every script in examples/ against a sandbox
# started for the run, as a user would (environment variables, exit status
# 0), then the C host (examples/host) uploading a large file inside its 10 ms
# loop. A script in examples/ that this file does not know fails the run, so
# none is forgotten. HOST_FILE_MB (default 512) sizes the host's file.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
LUA=${LUA:-lua5.4}
HOST=${HOST:-build/examples/host}
export LUA_PATH="$root/lua/?.lua;$root/lua/?/init.lua;${LUA_PATH:-;}"
export LUA_CPATH="$root/build/?.so;${LUA_CPATH:-;}"

# nice: the sandbox stands in for a remote ION and S3; sharing two cores with
# the host at the same priority it would steal the very ticks being measured.
. scripts/sandbox-env.sh
sandbox_start examples nice
tmp=$sandbox_tmp

failed=0
run() { # name, command...
  local name=$1
  shift
  local t0=$SECONDS
  if "$@" >"$tmp/out" 2>&1; then
    echo "examples: ok   $name ($((SECONDS - t0)) s)"
    sed 's/^/    /' "$tmp/out" | tail -n 8
  else
    echo "examples: FAIL $name (exit $?)"
    sed 's/^/    /' "$tmp/out"
    failed=1
  fi
}

for script in examples/*.lua; do
  case "$(basename "$script")" in
    upload_demo.lua) run "$script" "$LUA" "$script" ;;
    one_file.lua) run "$script" "$LUA" "$script" examples/files/report.pdf 12 ;;
    folder_of_photos.lua) run "$script" "$LUA" "$script" examples/files 3 ;;
    client_credentials.lua)
      run "$script" env -u ION_TOKEN ION_CLIENT_ID="$CLIENT_ID" ION_CLIENT_SECRET="$CLIENT_SECRET" \
        ION_AUTH_URL="$AUTH_URL" "$LUA" "$script" ;;
    nonblocking.lua) run "$script" "$LUA" "$script" 2 examples/files/report.pdf examples/files/measurements.csv ;;
    coroutines.lua) run "$script" "$LUA" "$script" 4 examples/files/inspection-photo.jpg examples/files/report.pdf ;;
    rules.lua | rules_by_serial.lua) # a rules file for ion-upload watch, not a script: it must load
      run "$script" "$LUA" -e "assert(require('ion.upload.watch.rules').load('$script'))" ;;
    station_by_serial.lua) run "$script" "$LUA" "$script" examples/files/measurements.csv SN004517 "Final test" ;;
    *) echo "examples: FAIL $script: not known to examples/run_all.sh (add how to run it)"; failed=1 ;;
  esac
done

# The host: a sparse file of HOST_FILE_MB MiB (reads as zeros, costs no disk).
big="$tmp/big.bin"
truncate -s "${HOST_FILE_MB:-512}M" "$big"
[ -x "$HOST" ] || make --no-print-directory host >/dev/null
run "examples/host ($((${HOST_FILE_MB:-512})) MiB)" "$HOST" examples/host/host.lua "$big" 1

exit $failed
