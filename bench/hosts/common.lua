-- bench/hosts.sh: what every host's driver shares. One upload job to the
-- sandbox (ION_API_URL, ION_TOKEN), timed over its own life (wall and the
-- process's CPU, utime + stime of every thread from /proc/self/stat), and
-- one result line the script reads:
--   hosts: host=luv mode=put wall=1.234 cpu=0.456 late_ms=12.3 outcome=ok
-- mode put: FILE to run step 12; mode idle: the same, against a sandbox that
-- answers 429 with a 2 s Retry-After (one retry: the job waits 2 s, then
-- fails with rate_limited), so the figure is the CPU of a job that waits.
local upload = require("ion.upload")

local common = {}

local clk_tck = 100 -- USER_HZ, the unit of /proc/<pid>/stat's times on Linux

--- Process CPU seconds so far (every thread).
function common.cpu()
  local f = assert(io.open("/proc/self/stat", "r"))
  local line = f:read("*l")
  f:close()
  local after = line:match("%) (.*)$") -- past the command name, which may hold spaces
  local fields = {}
  for w in after:gmatch("%S+") do fields[#fields + 1] = w end
  -- after ")": field 3 is the state, so utime (14) and stime (15) are 12 and 13 here
  return (tonumber(fields[12]) + tonumber(fields[13])) / clk_tck
end

--- common.start(mode, path, now) -> timed job: { job, t0, c0 }.
function common.start(mode, path, now)
  local client = assert(upload.new({ endpoint = os.getenv("ION_API_URL"), token = os.getenv("ION_TOKEN"),
    retries = mode == "idle" and 1 or nil }))
  local job = assert(client:start(path, { run_step = 12 }))
  return { job = job, mode = mode, now = now, t0 = now(), c0 = common.cpu() }
end

--- The job is done: its figures (call once, right away).
function common.stop(t)
  t.wall, t.cpu = t.now() - t.t0, common.cpu() - t.c0
  local att, err = t.job:result()
  t.outcome = att and "ok" or tostring(err and err.code)
  return t
end

--- The result line (late_ms: the host's own 10 ms timer, or nil when the
-- host prints it itself).
function common.report(host, t, late_ms)
  print(("hosts: host=%s mode=%s wall=%.3f cpu=%.3f late_ms=%s outcome=%s"):format(host, t.mode, t.wall, t.cpu,
    late_ms and ("%.1f"):format(late_ms) or "-", t.outcome))
end

--- A lateness recorder for a repeating timer of `period_ms`: r.fire() at
-- each firing; r.max is the worst gap beyond the period.
function common.lateness(period_ms, now)
  local r = { max = 0 }
  local last = now()
  function r.fire()
    local t = now()
    local late = (t - last) * 1000 - period_ms
    if late > r.max then r.max = late end
    last = t
  end
  return r
end

return common
