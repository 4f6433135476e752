-- One sandbox (sandbox/server.js) per busted run, started on the first
-- sandbox.get() and stopped when the suite ends (spec/support/helper.lua).
-- Integration specs call sandbox.reset() in before_each. A spec that needs a
-- differently started one (--tls) calls sandbox.spawn(flags) and stops it.
--
-- Every sandbox writes what it issued (tokens, the client secret, each
-- X-Amz-Signature) to a secrets log: ION_SECRETS_LOG when set (scripts/
-- scan_secrets.sh then scans the run's output for them), else a file in its
-- own temp dir. Its own log is appended to ION_SECRETS_LOG .. ".sandbox.log".
local cjson = require("cjson")

local sandbox = {}

local here = debug.getinfo(1, "S").source:match("^@(.*)/spec/support/sandbox%.lua$")
sandbox.root = here or "."

local default -- the shared instance

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

local Instance = {}
Instance.__index = Instance

function Instance:stop()
  if self.pid then
    os.execute("kill " .. self.pid .. " 2>/dev/null")
    local c = package.loaded["ion.upload.core"]
    for _ = 1, 150 do
      if not alive(self.pid) then break end
      if c then c.sleep(0.02) else os.execute("sleep 0.02") end
    end
  end
  local shared = os.getenv("ION_SECRETS_LOG")
  if shared and self.dir then
    -- A sandbox started with --print (make sandbox's quick start) prints
    -- `export ION_TOKEN=…` for a person to paste, on purpose: that line is
    -- left out, the rest of its log is scanned like any other's.
    local log = read(self.dir .. "/sandbox.log") or ""
    local kept = {}
    for line in log:gmatch("[^\n]*\n?") do
      if line ~= "" and not line:find("^%s*export ION_TOKEN=") then kept[#kept + 1] = line end
    end
    local fh = io.open(shared .. ".sandbox.log", "a")
    if fh then
      fh:write(table.concat(kept))
      fh:close()
    end
  end
  if self.dir then os.execute("rm -rf " .. sh_quote(self.dir)) end
  self.state, self.pid, self.dir = nil, nil, nil
end

-- A request to /admin: the decoded JSON answer (raises on failure: a spec bug).
function Instance:admin(method, path, body)
  local res, err = core().request({
    url = self.state.admin .. path,
    method = method,
    body = body and cjson.encode(body) or (method == "POST" and "{}" or nil),
    headers = { ["Content-Type"] = "application/json" },
    timeout = 10,
    ca_file = self.state.ca_file,
  })
  if not res then error("sandbox admin " .. method .. " " .. path .. ": " .. tostring(err.message), 2) end
  if res.status ~= 200 then
    error("sandbox admin " .. method .. " " .. path .. ": HTTP " .. res.status .. " " .. tostring(res.body), 2)
  end
  return cjson.decode(res.body)
end

-- Every token, client secret and signature this sandbox issued so far.
function Instance:secrets()
  local out = {}
  for line in (read(self.secrets_log) or ""):gmatch("[^\n]+") do out[#out + 1] = line end
  return out
end

-- An ion.upload client for this sandbox (rw token unless cfg says otherwise).
function Instance:client(cfg)
  local s = self.state
  local c = { endpoint = s.graphql, token = s.tokens.rw, retries = 2 }
  for k, v in pairs(cfg or {}) do c[k] = v end
  if c.token == false then c.token = nil end
  return assert(require("ion.upload").new(c))
end

-- Starts a sandbox; extra: a list of flags for server.js.
local function launch(extra)
  local root = sandbox.root
  if not exists(root .. "/sandbox/node_modules/.package-lock.json") then
    error("sandbox: sandbox/node_modules is missing: run `bash scripts/deps.sh` (or `make deps`) first", 0)
  end
  local self = setmetatable({}, Instance)
  local p = io.popen("mktemp -d 2>/dev/null || echo /tmp/ion-upload-sbx-$$")
  self.dir = p:read("*l")
  p:close()
  os.execute("mkdir -p " .. sh_quote(self.dir))
  local state_file = self.dir .. "/state.json"
  self.secrets_log = os.getenv("ION_SECRETS_LOG") or (self.dir .. "/secrets.log")
  -- --parent-pid $PPID: the sandbox exits on its own if this process dies.
  -- env -u LD_PRELOAD: under `make sanitize` the sanitizer runtimes are
  -- preloaded for Lua's sake; node must not inherit them.
  local cmd = string.format("cd %s && (env -u LD_PRELOAD node sandbox/server.js --state %s --seed 1"
    .. " --secrets-log %s --parent-pid $PPID %s >%s 2>&1 & echo $!)",
    sh_quote(root), sh_quote(state_file), sh_quote(self.secrets_log), table.concat(extra or {}, " "),
    sh_quote(self.dir .. "/sandbox.log"))
  p = io.popen(cmd)
  self.pid = tonumber(p:read("*l"))
  p:close()
  -- Readiness: the state file appears (written atomically once both servers
  -- accept connections); bounded to ~20 s (--tls makes a CA first).
  local deadline = core().now() + 20
  while not exists(state_file) do
    if core().now() > deadline or (self.pid and not alive(self.pid)) then
      local log = read(self.dir .. "/sandbox.log") or ""
      self:stop()
      error("sandbox did not start:\n" .. log, 0)
    end
    core().sleep(0.02)
  end
  self.state = cjson.decode(read(state_file))
  self.pid = self.state.pid or self.pid
  self:admin("GET", "/counters")
  return self
end

-- A sandbox of its own, started with extra flags ({ "--tls" }); the caller
-- stops it (instance:stop()).
function sandbox.spawn(extra)
  return launch(extra)
end

-- The running shared sandbox's state: { graphql, storage, admin, tokens, oauth, pid }.
function sandbox.get()
  if not default then default = launch() end
  return default.state
end

function sandbox.instance()
  sandbox.get()
  return default
end

function sandbox.stop()
  if default then default:stop() end
  default = nil
end

function sandbox.admin(method, path, body)
  return sandbox.instance():admin(method, path, body)
end

function sandbox.reset() return sandbox.admin("POST", "/reset") end
function sandbox.faults(t) return sandbox.admin("POST", "/faults", t) end
function sandbox.counters() return sandbox.admin("GET", "/counters") end
function sandbox.attachments() return sandbox.admin("GET", "/attachments") end

-- The attachments counted by filename, and their total.
function sandbox.attached_by_name()
  local by, total = {}, 0
  for _, a in ipairs(sandbox.attachments()) do
    by[a.filename] = (by[a.filename] or 0) + 1
    total = total + 1
  end
  return by, total
end
function sandbox.dataset() return sandbox.admin("GET", "/dataset") end
function sandbox.secrets() return sandbox.instance():secrets() end

-- An ion.upload client for the shared sandbox.
function sandbox.client(cfg)
  return sandbox.instance():client(cfg)
end

return sandbox
