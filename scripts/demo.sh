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

. scripts/sandbox-env.sh
sandbox_start demo

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
