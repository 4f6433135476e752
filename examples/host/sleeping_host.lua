-- The Lua half of examples/host/sleeping_host.c: one PUT of FILE to URL
-- through a core session, stepped by the host's loop. The host sleeps on
-- fds() and timeout() (a job of ion.upload offers the same two), or with
-- --spin steps without sleeping.
--   sleeping_host [--spin] examples/host/sleeping_host.lua URL FILE
local core = require("ion.upload.core")

local url, path = ...
assert(url and path, "usage: sleeping_host [--spin] sleeping_host.lua URL FILE")

local s = core.session()
assert(s:add("put", { url = url, path = path, content_type = "application/octet-stream" }))
local result

local app = {}

function app.fds() return s:fds() end

function app.timeout() return s:timeout() end

-- Never waits: the host does the waiting.
function app.step()
  for _, d in ipairs(s:step(0)) do result = d end
  return result ~= nil
end

function app.finish()
  s:close()
  if result.err then
    io.stderr:write("sleeping_host.lua: ", tostring(result.err.code), ": ", tostring(result.err.message), "\n")
    return false
  end
  print(("sleeping_host.lua: PUT %d bytes, status %d, MD5 %s"):format(result.res.size, result.res.status,
    tostring(result.res.md5)))
  return result.res.status == 200
end

return app
