-- A datagram socket of the spec's own, to give a watch as $NOTIFY_SOCKET:
-- a python3 child binds it and writes each datagram it receives as a line
-- "<CLOCK_MONOTONIC seconds> <message, newlines as \n>" to a file the spec
-- reads (CLOCK_MONOTONIC is core.now()'s clock: the times compare). The core
-- has no receiving end of its own, and needs none outside the specs.
local core = require("ion.upload.core")
local run = require("support.cli_run")

local M = {}

local RECEIVER = [[
import socket, sys, time
name, out = sys.argv[1], open(sys.argv[2], "a")
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + name[1:] if name.startswith("@") else name)
out.write("0 BOUND\n"); out.flush()
while True:
    data = s.recv(65536).decode("utf-8", "replace").replace("\n", "\\n")
    out.write("%.6f %s\n" % (time.monotonic(), data)); out.flush()
]]

--- Whether python3 is there: true, or false and the reason to print.
function M.available()
  local r = os.execute("python3 -c 'import socket' >/dev/null 2>&1")
  if r == true or r == 0 then return true end
  return false, "python3 is not installed: the spec's notify socket needs it"
end

--- M.open([abstract]) -> receiver: { socket = the $NOTIFY_SOCKET value }.
function M.open(abstract)
  local tmp = os.tmpname()
  os.remove(tmp)
  local r = { file = tmp .. ".log", dir = tmp }
  assert(os.execute("mkdir -m 700 " .. run.quote(tmp)))
  r.socket = abstract and ("@ion-upload-spec-" .. tmp:match("[^/]+$")) or (tmp .. "/notify")
  local p = io.popen(string.format("python3 -c %s %s %s >/dev/null 2>&1 & echo $!", run.quote(RECEIVER),
    run.quote(r.socket), run.quote(r.file)))
  r.pid = tonumber(p:read("*l"))
  p:close()
  setmetatable(r, { __index = M })
  assert(run.wait_for(function() return run.read(r.file):find("BOUND", 1, true) ~= nil end, 10),
    "the notify socket was not bound")
  return r
end

--- The datagrams received so far: { { at = seconds, text = "READY=1" }, ... }.
function M:messages()
  local list = {}
  for at, text in run.read(self.file):gmatch("([%d.]+) ([^\n]*)\n") do
    if text ~= "BOUND" then list[#list + 1] = { at = tonumber(at), text = (text:gsub("\\n", "\n")) } end
  end
  return list
end

--- The messages whose text starts with prefix.
function M:with(prefix)
  local out = {}
  for _, m in ipairs(self:messages()) do
    if m.text:sub(1, #prefix) == prefix then out[#out + 1] = m end
  end
  return out
end

--- Waits (bounded) until a message starting with prefix has come (the
-- n-th, n default 1): that message, or nil.
function M:wait_for(prefix, seconds, n)
  local found
  run.wait_for(function()
    found = self:with(prefix)[n or 1]
    return found ~= nil
  end, seconds)
  return found
end

function M:close()
  if self.pid then os.execute("kill " .. self.pid .. " 2>/dev/null") end
  os.execute("rm -rf " .. run.quote(self.dir) .. " " .. run.quote(self.file))
  self.pid = nil
end

M.now = core.now

return M
