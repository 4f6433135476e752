-- Asking a watch's status server from a spec while the spec steps the
-- watch: each request is a background process (curl, or python3 for raw
-- sockets: spec/support/http_probe.py) whose output lands in a file; the
-- watch is stepped until the process wrote its exit code.
local files = require("support.files")
local core = require("ion.upload.core")

local M = {}

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
M.q = q

local dir
local n = 0

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

--- Runs the shell command `cmd` in the background while stepping w (every
-- 50 ms at most; on_step() after each) until it ends or `limit` seconds:
-- its stdout.
function M.run(w, cmd, limit, on_step)
  dir = dir or files.tmpdir()
  n = n + 1
  local out, rc = dir .. "/out" .. n, dir .. "/rc" .. n
  -- env -u LD_PRELOAD: under `make sanitize` the sanitizer runtimes are
  -- preloaded, and curl or python3 under them hang; they are not under test
  os.execute("( (env -u LD_PRELOAD " .. cmd .. ") > " .. q(out) .. " 2>/dev/null; echo $? > " .. q(rc .. ".tmp")
    .. "; mv " .. q(rc .. ".tmp") .. " " .. q(rc) .. " ) >/dev/null 2>&1 &")
  local deadline = core.now() + (limit or 20)
  while not exists(rc) do
    if core.now() > deadline then error("the request did not end: " .. cmd, 2) end
    w:step(0.05)
    if on_step then on_step() end
  end
  return files.read(out), tonumber((files.read(rc):match("%d+")))
end

--- GET url through curl: status, headers (lower-case names), body.
function M.get(w, url, extra)
  local text = M.run(w, "curl -s -i --max-time 15 " .. (extra or "") .. " " .. q(url))
  local head, body = text:match("^(.-)\r\n\r\n(.*)$")
  assert(head, "no response from " .. url .. ": " .. text)
  local status = tonumber(head:match("^HTTP/1%.1 (%d+)"))
  local headers = {}
  for name, value in head:gmatch("\r\n([^:\r\n]+): ([^\r\n]*)") do headers[name:lower()] = value end
  return status, headers, body
end

--- Runs spec/support/http_probe.py with its arguments: its output.
function M.probe(w, args, on_step)
  for i, a in ipairs(args) do args[i] = q(a) end
  return M.run(w, "python3 spec/support/http_probe.py " .. table.concat(args, " "), 40, on_step)
end

function M.cleanup()
  if dir then files.rmdir(dir) end
  dir = nil
end

return M
