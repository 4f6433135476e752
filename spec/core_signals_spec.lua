-- core.catch_interrupt: the first SIGINT or SIGTERM is a flag (the graceful
-- stop); a second one, of the same kind or the other, ends the process at
-- once. In a child Lua process that signals itself; the shell reports how
-- it ended (128 + the signal's number).
local interpreter = require("support.interpreter")
local fixture = require("support.fixture")

local SIGNUM = { INT = 2, TERM = 15 }

-- Runs the child: first signal, flag seen, second signal. Returns the
-- child's output and its exit status as the shell saw it.
local function two_signals(first, second)
  local script = string.format([[
    local core = require("ion.upload.core")
    assert(core.catch_interrupt())
    local pid = io.open("/proc/self/stat"):read("*n")
    -- not os.execute: system() ignores SIGINT while it waits
    io.popen("kill -%s " .. pid):close()
    local t0 = core.now()
    while not core.interrupted() and core.now() - t0 < 5 do core.sleep(0.01) end
    io.write("flag ", tostring(core.interrupted()), "\n")
    io.flush()
    io.popen("kill -%s " .. pid):close()
    t0 = core.now()
    while core.now() - t0 < 5 do core.sleep(0.01) end
    io.write("still alive\n")
  ]], first, second)
  local file = fixture.tmpname(".lua")
  local f = assert(io.open(file, "w"))
  f:write(script)
  f:close()
  local cmd = string.format("LUA_CPATH='%s' %s %s; echo \"status $?\"", package.cpath, interpreter, file)
  local h = assert(io.popen(cmd))
  local out = h:read("*a")
  h:close()
  os.remove(file)
  return out, tonumber(out:match("status (%d+)"))
end

describe("core.catch_interrupt, a second signal", function()
  for _, order in ipairs({ { "TERM", "TERM" }, { "INT", "INT" }, { "TERM", "INT" }, { "INT", "TERM" } }) do
    it("SIG" .. order[2] .. " after SIG" .. order[1] .. " ends the process at once", function()
      local out, status = two_signals(order[1], order[2])
      assert.matches("flag true\n", out, 1, true)
      assert.is_nil(out:find("still alive", 1, true), out)
      assert.equal(128 + SIGNUM[order[2]], status, out)
    end)
  end
end)
