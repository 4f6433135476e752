-- integration: a host with more descriptors open than select() can name
-- (FD_SETSIZE, 1024). A child Lua with RLIMIT_NOFILE raised (ulimit -n 4096)
-- holds 1,100 files open, then uploads through the sandbox from a loop that
-- sleeps on job:fds() and job:timeout(), as a host loop does. libcurl's socket
-- then has a number above 1024, and fds() must still name it: a host that
-- waits on what fds() gives would otherwise never hear from that socket.
local sandbox = require("support.sandbox")
local files = require("support.files")
local fixture = require("support.fixture")
local interpreter = require("support.interpreter")

local CHILD = [[
local core = require("ion.upload.core")
local endpoint, token, path = ...
local held = {}
for i = 1, 1100 do held[i] = assert(io.open("/dev/null")) end
local client = assert(require("ion.upload").new({ endpoint = endpoint, token = token }))
local job = assert(client:start(path, { run_step = 12 }))
local top = 0 -- the highest socket fds() named (the wake pipe, last readable, left out)
while not job:step(0) do
  local r, w = job:fds()
  for i = 1, #r - 1 do top = math.max(top, r[i]) end
  for _, fd in ipairs(w) do top = math.max(top, fd) end
  core.poll(r, w, job:timeout())
end
local att, err = job:result()
io.write("held ", #held, " top socket ", top, " md5 ", tostring(att and att.md5), " err ", tostring(err), "\n")
]]

describe("integration: a host with over 1024 descriptors open", function()
  local dir
  setup(function()
    sandbox.get()
    dir = files.tmpdir()
  end)
  teardown(function() files.rmdir(dir) end)
  before_each(function() sandbox.reset() end)

  it("uploads, and fds() names libcurl's socket above FD_SETSIZE", function()
    local photo = files.write(dir, "photo.jpg", "\255\216\255\224JFIF" .. string.rep("x", 300000))
    local script = fixture.tmpname(".lua")
    local f = assert(io.open(script, "w"))
    f:write(CHILD)
    f:close()
    local s = sandbox.get()
    local cmd = string.format("ulimit -n 4096 && LUA_PATH='%s' LUA_CPATH='%s' timeout 60 %s %s %s %s %s 2>&1",
      package.path, package.cpath, interpreter, script, s.graphql, s.tokens.rw, photo)
    local h = assert(io.popen(cmd))
    local out = h:read("*a")
    h:close()
    os.remove(script)
    assert.matches("held 1100 ", out, 1, true)
    assert.matches(" md5 " .. files.md5(photo) .. " err nil", out, 1, true)
    local top = tonumber(out:match("top socket (%d+)"))
    assert.is_true(top ~= nil and top > 1024, out)
  end)
end)
