#!/usr/bin/env bash
# make demo: starts the sandbox (a local ION + S3 storage), runs the example a
# user would copy (examples/upload_demo.lua) against it, and stops the sandbox.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
LUA=${LUA:-lua5.4}
export LUA_PATH="$root/lua/?.lua;$root/lua/?/init.lua;${LUA_PATH:-;}"
export LUA_CPATH="$root/build/?.so;${LUA_CPATH:-;}"

if [ ! -d sandbox/node_modules ]; then bash scripts/deps.sh; fi
if [ ! -f build/ion/upload/core.so ]; then make --no-print-directory build; fi

tmp=$(mktemp -d)
pid=""
stop() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap stop EXIT INT TERM

node sandbox/server.js --state "$tmp/state.json" --parent-pid $$ >"$tmp/sandbox.log" 2>&1 &
pid=$!
for _ in $(seq 1 1000); do
  [ -f "$tmp/state.json" ] && break
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "demo: the sandbox did not start:" >&2
    cat "$tmp/sandbox.log" >&2
    exit 1
  fi
  sleep 0.02
done
[ -f "$tmp/state.json" ] || { echo "demo: the sandbox is not ready after 20 s" >&2; exit 1; }

# The state file holds the endpoints and tokens (JSON); read them with cjson.
eval "$("$LUA" -e '
  local s = require("cjson").decode(io.read("*a"))
  local function q(v) return "\x27" .. tostring(v):gsub("\x27", "") .. "\x27" end
  print("ION_API_URL=" .. q(s.graphql))
  print("ION_TOKEN=" .. q(s.tokens.rw))
  print("ADMIN_URL=" .. q(s.admin))' <"$tmp/state.json")"
export ION_API_URL ION_TOKEN

echo "sandbox: GraphQL at $ION_API_URL"
echo "uploading examples/files/ with examples/upload_demo.lua:"
echo
"$LUA" examples/upload_demo.lua
echo
echo "stored in the sandbox (GET /admin/attachments):"
curl -s "$ADMIN_URL/attachments" | "$LUA" -e '
  local list = require("cjson").decode(io.read("*a"))
  for _, a in ipairs(list) do
    print(string.format("  #%d %-21s entity %-4s %-16s %5d bytes  md5 %s",
      a.id, a.filename, a.entityId, a.contentType, a.size, a.md5))
  end'
