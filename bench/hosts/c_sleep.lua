-- bench/hosts.sh, the sleeping C host (examples/host/sleeping_host.c): it
-- waits in poll() on the job's fds() with its timeout() (and its own 10 ms
-- timer, --timer-ms 10); the job only ever gets step(0).
--   sleeping_host --timer-ms 10 bench/hosts/c_sleep.lua MODE FILE
local common = require("hosts.common")
local core = require("ion.upload.core")
local mode, path = ...
local t = common.start(mode, path, core.now)
local app = {}
function app.fds() return t.job:fds() end
function app.timeout() return t.job:timeout() end
function app.step()
  if t.job:step(0) then
    common.stop(t)
    return true
  end
  return false
end
function app.finish()
  common.report("c_sleep", t)
  return true
end
return app
