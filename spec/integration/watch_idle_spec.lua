-- integration: an idle `ion-upload watch` (inotify, nothing arriving) sleeps
-- in one poll() until something is due (watch.idle_wait, 30 s). Counted
-- as the child's voluntary context switches (each sleep that ends is one),
-- summed over its threads, from /proc across a few seconds of idling.
local sandbox = require("support.sandbox")
local files = require("support.files")
local run = require("support.cli_run")
local core = require("ion.upload.core")
local slowdown = require("support.slowdown")

-- The voluntary context switches of every thread of pid.
local function switches(pid)
  local total = 0
  local p = io.popen("cat /proc/" .. pid .. "/task/*/status 2>/dev/null")
  for n in p:read("*a"):gmatch("\nvoluntary_ctxt_switches:%s*(%d+)") do total = total + tonumber(n) end
  p:close()
  return total
end

local function cpu_seconds(pid)
  local f = io.open("/proc/" .. pid .. "/stat")
  if not f then return nil end
  local line = f:read("*l")
  f:close()
  -- fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15
  local rest = line:match("%) (.*)$")
  local fields = {}
  for w in rest:gmatch("%S+") do fields[#fields + 1] = w end
  return (tonumber(fields[12]) + tonumber(fields[13])) / 100 -- clock ticks: 100 a second on Linux
end

describe("integration: ion-upload watch when idle", function()
  local dir
  setup(function() sandbox.get() end)
  before_each(function() dir = files.tmpdir() end)
  after_each(function() files.rmdir(dir) end)

  it("sleeps while idle (idle_wait 30 s), and SIGTERM still wakes it at once", function()
    if slowdown >= 50 then
      print("skipped under valgrind: the interpreter's own timers add wakeups of their own")
      return
    end
    local pid, _, err = run.background({ "watch", dir, "--run-step", "12" })
    assert.is_true(run.wait_for(function() return run.read(err):find("watching", 1, true) ~= nil end, 20))
    -- the first turns of the loop (start-up scan, the open job's first steps) are not idle yet
    core.sleep(1.5)
    local s0, c0, t0 = switches(pid), cpu_seconds(pid), core.now()
    core.sleep(4) -- the measurement window itself, not a synchronisation
    local s1, c1, t1 = switches(pid), cpu_seconds(pid), core.now()
    os.execute("kill -TERM " .. pid)
    -- well before the 30 s idle wait ends: the signal pipe woke the poll
    assert.is_true(run.wait_exit(pid, 10), "SIGTERM did not wake the idle watcher")
    local seconds = t1 - t0
    local wakeups = s1 - s0
    assert.is_true(wakeups <= 2, string.format("%d wakeups in %.1f s", wakeups, seconds))
    assert.is_true(c1 - c0 <= 0.05 * slowdown, string.format("%.2f s of CPU in %.1f s idle", c1 - c0, seconds))
  end)
end)
