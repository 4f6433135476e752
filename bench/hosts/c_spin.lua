-- bench/hosts.sh, the spinning C host (examples/host/host.c): a 10 ms tick
-- of its own, each giving the job a step(0.004), as examples/host/host.lua.
--   host bench/hosts/c_spin.lua MODE FILE
local common = require("hosts.common")
local core = require("ion.upload.core")
local mode, path = ...
local t
local app = {}
function app.tick()
  t = t or common.start(mode, path, core.now)
  if t.job:step(0.004) then
    common.stop(t)
    return true
  end
  return false
end
function app.finish()
  common.report("c_spin", t) -- the host prints its own lateness
  return true
end
return app
