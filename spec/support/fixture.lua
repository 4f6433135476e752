-- Starts spec/support/http_fixture.js for one spec file and stops it:
-- readiness is the "PORT <port> <pid>" line it prints once listening.
local M = {}

function M.start()
  local h = assert(io.popen("exec node spec/support/http_fixture.js", "r"))
  local line = h:read("*l")
  local port, pid = (line or ""):match("^PORT (%d+) (%d+)$")
  assert(port, "fixture did not start: " .. tostring(line))
  local self = { port = tonumber(port), pid = tonumber(pid), handle = h }
  self.base = "http://127.0.0.1:" .. port
  function self.url(path) return self.base .. path end
  function self.stop()
    os.execute("kill " .. self.pid .. " 2>/dev/null")
    h:close()
  end
  return self
end

-- Temporary files, removed by cleanup().
local made = {}

function M.tmpname(suffix)
  local p = os.tmpname()
  os.remove(p)
  p = p .. (suffix or "")
  made[#made + 1] = p
  return p
end

-- A file of n bytes: pseudo-random content for small sizes, a fast
-- dd-written pattern for big ones.
function M.file(n)
  local p = M.tmpname()
  if n <= 8 * 1024 * 1024 then
    local f = assert(io.open(p, "wb"))
    local parts, seed = {}, n + 7
    for i = 1, n do
      seed = (seed * 1103515245 + 12345) % 2147483648
      parts[#parts + 1] = string.char(seed % 256)
      if #parts == 65536 or i == n then
        f:write(table.concat(parts))
        parts = {}
      end
    end
    f:close()
  else
    assert(os.execute(string.format(
      "head -c %d /dev/urandom > %s", n, p)))
  end
  return p
end

function M.md5(path)
  local h = assert(io.popen("md5sum " .. path))
  local out = h:read("*a")
  h:close()
  return out:match("^(%x+)")
end

function M.cleanup()
  for _, p in ipairs(made) do
    os.remove(p)
    os.remove(p .. ".part")
  end
  made = {}
end

return M
