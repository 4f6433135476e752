-- scripts/ensure-node.sh (run by scripts/deps.sh): a node older than 20 gets
-- node@<pinned> from the npm registry, or a clear failure. Unit spec: `node`
-- and `npm` are stubs first on PATH (no network, nothing installed); the npm
-- stub records its arguments and "installs" by switching what the node stub
-- reports.
local read = require("support.files").read
local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function write(path, text, mode)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  if mode then os.execute("chmod " .. mode .. " " .. q(path)) end
end

describe("scripts/ensure-node.sh", function()
  local dir

  before_each(function()
    local p = io.popen("mktemp -d")
    dir = p:read("*l")
    p:close()
    -- node: the installed version once npm "installed" one, else $STUB_NODE
    write(dir .. "/node", '#!/bin/sh\nif [ -f "$STUB_DIR/installed" ] && [ -z "$STUB_SHADOWED" ]; then '
      .. 'cat "$STUB_DIR/installed"; else echo "$STUB_NODE"; fi\n', "755")
    -- npm: records its arguments; installs unless STUB_NPM_FAILS is set
    write(dir .. "/npm", '#!/bin/sh\necho "$*" >>"$STUB_DIR/npm-calls"\n'
      .. '[ -n "$STUB_NPM_FAILS" ] && { echo "npm ERR! network" >&2; exit 1; }\n'
      .. 'case "$*" in *node@*) echo "$*" | sed "s/.*node@//" >"$STUB_DIR/installed" ;; esac\n'
      .. 'case "$*" in prefix*) echo /usr/local ;; esac\n', "755")
  end)

  after_each(function()
    os.execute("rm -rf " .. q(dir))
  end)

  -- Runs the script with the stubs: exit status and its output.
  local function run(env)
    local vars = { "STUB_DIR=" .. q(dir), "PATH=" .. q(dir .. ":" .. os.getenv("PATH")) }
    for k, v in pairs(env) do vars[#vars + 1] = k .. "=" .. q(v) end
    local p = io.popen(table.concat(vars, " ") .. " bash scripts/ensure-node.sh 2>&1; echo \"exit=$?\"")
    local out = p:read("*a")
    p:close()
    return tonumber(out:match("exit=(%d+)%s*$")), out
  end

  it("leaves a Node 20 alone (npm is not called)", function()
    local code, out = run({ STUB_NODE = "20.20.2" })
    assert.equal(0, code, out)
    assert.is_nil(read(dir .. "/npm-calls"))
  end)

  it("installs the pinned node@20 from the npm registry over Debian 12's Node 18", function()
    local code, out = run({ STUB_NODE = "18.20.4" })
    assert.equal(0, code, out)
    assert.matches("Node 18.20.4 is older than the sandbox needs", out, 1, true)
    assert.matches("install %-g .*node@20%.%d+%.%d+", read(dir .. "/npm-calls"))
    assert.matches("deps: Node 20%.%d+%.%d+ at " .. dir:gsub("%p", "%%%0") .. "/node", out)
  end)

  it("fails with what to do when npm cannot install it", function()
    local code, out = run({ STUB_NODE = "18.20.4", STUB_NPM_FAILS = "1" })
    assert.equal(1, code, out)
    assert.matches("could not install node@20", out, 1, true)
    assert.matches("Install Node 20 or newer", out, 1, true)
  end)

  it("fails when the installed node is not the one PATH finds", function()
    local code, out = run({ STUB_NODE = "18.20.4", STUB_SHADOWED = "1" })
    assert.equal(1, code, out)
    assert.matches("before it in PATH", out, 1, true)
  end)
end)
