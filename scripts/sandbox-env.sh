# Sourced (not run) by scripts that need a sandbox for their own run:
#   . scripts/sandbox-env.sh; sandbox_start NAME [nice]
# starts `node sandbox/server.js` with a state file in a temp folder, waits
# for it (readiness: the state file appears once both servers listen), and
# sets ION_API_URL and ION_TOKEN (exported), ADMIN_URL, CLIENT_ID,
# CLIENT_SECRET, AUTH_URL and sandbox_tmp (a scratch folder). The sandbox and
# the folder go away when the script exits. Needs LUA (an interpreter with
# cjson) and the current folder at the repository's root.

sandbox_pid=""
sandbox_tmp=""

sandbox_stop() {
  if [ -n "$sandbox_pid" ] && kill -0 "$sandbox_pid" 2>/dev/null; then
    kill "$sandbox_pid" 2>/dev/null || true
    wait "$sandbox_pid" 2>/dev/null || true
  fi
  [ -z "$sandbox_tmp" ] || rm -rf "$sandbox_tmp"
}

sandbox_start() { # name (for messages), then "nice" to run it at a lower priority
  local name=$1 prio=()
  [ "${2:-}" = nice ] && prio=(nice -n 10)
  sandbox_tmp=$(mktemp -d)
  trap sandbox_stop EXIT INT TERM
  "${prio[@]}" node sandbox/server.js --state "$sandbox_tmp/state.json" --parent-pid $$ \
    >"$sandbox_tmp/sandbox.log" 2>&1 &
  sandbox_pid=$!
  for _ in $(seq 1 1000); do
    [ -f "$sandbox_tmp/state.json" ] && break
    if ! kill -0 "$sandbox_pid" 2>/dev/null; then
      echo "$name: the sandbox did not start:" >&2
      cat "$sandbox_tmp/sandbox.log" >&2
      exit 1
    fi
    sleep 0.02
  done
  [ -f "$sandbox_tmp/state.json" ] || { echo "$name: the sandbox is not ready after 20 s" >&2; exit 1; }
  eval "$("$LUA" -e '
    local s = require("cjson").decode(io.read("*a"))
    local function q(v) return "\x27" .. tostring(v):gsub("\x27", "") .. "\x27" end
    print("ION_API_URL=" .. q(s.graphql)); print("ION_TOKEN=" .. q(s.tokens.rw))
    print("ADMIN_URL=" .. q(s.admin))
    print("CLIENT_ID=" .. q(s.oauth.client_id)); print("CLIENT_SECRET=" .. q(s.oauth.client_secret))
    print("AUTH_URL=" .. q(s.oauth.token_url))' <"$sandbox_tmp/state.json")"
  export ION_API_URL ION_TOKEN
}
