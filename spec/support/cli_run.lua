-- Runs bin/ion-upload as a child process for the CLI and resume specs:
-- captures stdout, stderr and the exit status, or starts it in the
-- background and returns its pid.
local sandbox = require("support.sandbox")
local interpreter = require("support.interpreter")

local run = {}

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
run.quote = q

local function read(path)
  local f = io.open(path, "rb")
  if not f then return "" end
  local s = f:read("*a")
  f:close()
  return s
end
run.read = read

-- The environment of a run against the sandbox: ION_API_URL and ION_TOKEN
-- (env may override or remove: { ION_TOKEN = false }).
function run.env_prefix(env)
  local s = sandbox.get()
  local vars = { ION_API_URL = s.graphql, ION_TOKEN = s.tokens.rw }
  for k, v in pairs(env or {}) do vars[k] = v end
  -- and none of the proxy variables the CLI reads, unless env gives them
  local parts = { "env -u ION_CLIENT_ID -u ION_CLIENT_SECRET -u ION_AUTH_URL -u http_proxy -u https_proxy"
    .. " -u HTTPS_PROXY -u all_proxy -u ALL_PROXY -u no_proxy -u NO_PROXY" }
  for k, v in pairs(vars) do
    if v == false then
      parts[#parts + 1] = "-u " .. k
    end
  end
  for k, v in pairs(vars) do
    if v ~= false then parts[#parts + 1] = k .. "=" .. q(v) end
  end
  return table.concat(parts, " ")
end

local function command(args)
  local words = {}
  for _, a in ipairs(args) do words[#words + 1] = q(a) end
  return interpreter .. " " .. q(sandbox.root .. "/bin/ion-upload") .. " " .. table.concat(words, " ")
end
run.command = command

-- Runs to completion: { code =, stdout =, stderr = }.
function run.cli(args, env, dir)
  local out, err = os.tmpname(), os.tmpname()
  local sh = string.format("cd %s && %s %s >%s 2>%s; echo $?", q(dir or sandbox.root), run.env_prefix(env),
    command(args), q(out), q(err))
  local p = io.popen(sh)
  local code = tonumber(p:read("*l"))
  p:close()
  local r = { code = code, stdout = read(out), stderr = read(err) }
  os.remove(out)
  os.remove(err)
  return r
end

-- Runs to completion with stdout and stderr on a pseudo-terminal (util-linux
-- `script`, 100 columns): { code =, screen = } (both streams, as drawn).
function run.terminal(args, env)
  local out = os.tmpname()
  local sh = string.format("cd %s && script -qfec %s /dev/null > %s 2>&1; echo $?", q(sandbox.root),
    q("stty cols 100 rows 30; " .. run.env_prefix(env) .. " " .. command(args)), q(out))
  local p = io.popen(sh)
  local code = tonumber(p:read("*l"))
  p:close()
  local screen = read(out)
  os.remove(out)
  return { code = code, screen = screen }
end

-- Starts in the background: pid (of ion-upload itself), stdout path, stderr
-- path, and a function returning the exit status once it has exited.
function run.background(args, env, dir)
  local out, err, pidfile, codefile = os.tmpname(), os.tmpname(), os.tmpname(), os.tmpname()
  os.remove(pidfile)
  os.remove(codefile)
  local sh = string.format("cd %s && ( %s %s >%s 2>%s & echo $! >%s; wait $!; echo $? >%s ) >/dev/null 2>&1 &",
    q(dir or sandbox.root), run.env_prefix(env), command(args), q(out), q(err), q(pidfile .. ".tmp"), q(codefile))
  -- (the pid file is renamed into place so that it is never read half written)
  sh = sh:gsub(">" .. q(pidfile .. ".tmp") .. ";", ">" .. q(pidfile .. ".tmp") .. " && mv " .. q(pidfile .. ".tmp")
    .. " " .. q(pidfile) .. ";")
  os.execute(sh)
  assert(run.wait_for(function() return read(pidfile) ~= "" end, 10), "background run did not start")
  local pid = tonumber(read(pidfile):match("%d+"))
  os.remove(pidfile)
  local function code()
    run.wait_for(function() return read(codefile) ~= "" end, 10)
    local c = tonumber(read(codefile):match("%d+"))
    os.remove(codefile)
    return c
  end
  return pid, out, err, code
end

function run.alive(pid)
  local r = os.execute("kill -0 " .. pid .. " 2>/dev/null")
  return r == true or r == 0
end

-- Waits (polling, bounded) until pred() is true; returns whether it was.
function run.wait_for(pred, seconds)
  local core = require("ion.upload.core")
  local deadline = core.now() + (seconds or 20)
  while core.now() < deadline do
    if pred() then return true end
    core.sleep(0.01)
  end
  return pred()
end

-- Waits for a background child to exit; returns true when it did.
function run.wait_exit(pid, seconds)
  return run.wait_for(function() return not run.alive(pid) end, seconds)
end

function run.lines(path)
  local n = 0
  for _ in read(path):gmatch("[^\n]*\n") do n = n + 1 end
  return n
end

return run
