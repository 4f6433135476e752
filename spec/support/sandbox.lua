-- One sandbox (sandbox/server.js) per busted run, started on the first
-- sandbox.get() and stopped when the suite ends (spec/support/helper.lua).
-- Integration specs call sandbox.reset() in before_each.
local cjson = require("cjson")

local sandbox = {}

local here = debug.getinfo(1, "S").source:match("^@(.*)/spec/support/sandbox%.lua$")
sandbox.root = here or "."

local state, pid, dir

local function core()
  return require("ion.upload.core")
end

local function sh_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() return true end
  return false
end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

local function alive(p)
  local r = os.execute("kill -0 " .. p .. " 2>/dev/null")
  return r == true or r == 0
end

-- Starts the sandbox; extra: a list of flags for server.js.
local function start(extra)
  local root = sandbox.root
  if not exists(root .. "/sandbox/node_modules/.package-lock.json") then
    error("sandbox: sandbox/node_modules is missing: run `bash scripts/deps.sh` (or `make deps`) first", 0)
  end
  local p = io.popen("mktemp -d 2>/dev/null || echo /tmp/ion-upload-sbx-$$")
  dir = p:read("*l")
  p:close()
  os.execute("mkdir -p " .. sh_quote(dir))
  local state_file = dir .. "/state.json"
  -- --parent-pid $PPID: the sandbox exits on its own if this process dies.
  -- env -u LD_PRELOAD: under `make sanitize` the sanitizer runtimes are
  -- preloaded for Lua's sake; node must not inherit them.
  local cmd = string.format("cd %s && (env -u LD_PRELOAD node sandbox/server.js --state %s --seed 1"
    .. " --parent-pid $PPID %s >%s 2>&1 & echo $!)",
    sh_quote(root), sh_quote(state_file), table.concat(extra or {}, " "), sh_quote(dir .. "/sandbox.log"))
  p = io.popen(cmd)
  pid = tonumber(p:read("*l"))
  p:close()
  -- Readiness: the state file appears (written atomically once both servers
  -- accept connections); bounded to ~20 s.
  local deadline = core().now() + 20
  while not exists(state_file) do
    if core().now() > deadline or (pid and not alive(pid)) then
      local log = read(dir .. "/sandbox.log") or ""
      sandbox.stop()
      error("sandbox did not start:\n" .. log, 0)
    end
    core().sleep(0.02)
  end
  state = cjson.decode(read(state_file))
  pid = state.pid or pid
  sandbox.admin("GET", "/counters")
  return state
end

-- The running sandbox's state: { graphql, storage, admin, tokens, oauth, pid }.
function sandbox.get()
  if not state then start() end
  return state
end

function sandbox.stop()
  if pid then
    os.execute("kill " .. pid .. " 2>/dev/null")
    local c = package.loaded["ion.upload.core"]
    for _ = 1, 150 do
      if not alive(pid) then break end
      if c then c.sleep(0.02) else os.execute("sleep 0.02") end
    end
  end
  if dir then os.execute("rm -rf " .. sh_quote(dir)) end
  state, pid, dir = nil, nil, nil
end

-- A request to /admin: the decoded JSON answer (raises on failure: a spec bug).
function sandbox.admin(method, path, body)
  local s = state or sandbox.get()
  local res, err = core().request({
    url = s.admin .. path,
    method = method,
    body = body and cjson.encode(body) or (method == "POST" and "{}" or nil),
    headers = { ["Content-Type"] = "application/json" },
    timeout = 10,
  })
  if not res then error("sandbox admin " .. method .. " " .. path .. ": " .. tostring(err.message), 2) end
  if res.status ~= 200 then
    error("sandbox admin " .. method .. " " .. path .. ": HTTP " .. res.status .. " " .. tostring(res.body), 2)
  end
  return cjson.decode(res.body)
end

function sandbox.reset() return sandbox.admin("POST", "/reset") end
function sandbox.faults(t) return sandbox.admin("POST", "/faults", t) end
function sandbox.counters() return sandbox.admin("GET", "/counters") end
function sandbox.attachments() return sandbox.admin("GET", "/attachments") end
function sandbox.dataset() return sandbox.admin("GET", "/dataset") end

-- An ion.upload client for the sandbox (rw token unless cfg says otherwise).
function sandbox.client(cfg)
  local s = sandbox.get()
  local c = { endpoint = s.graphql, token = s.tokens.rw, retries = 2 }
  for k, v in pairs(cfg or {}) do c[k] = v end
  if c.token == false then c.token = nil end
  return assert(require("ion.upload").new(c))
end

return sandbox
