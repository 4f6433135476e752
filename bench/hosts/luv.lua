-- bench/hosts.sh, luv: ion.upload.luv drives the job on the default loop
-- beside a repeating 10 ms luv timer of the host's own.
--   lua5.4 bench/hosts/luv.lua MODE FILE
local uv = require("luv")
local common = require("hosts.common")
local mode, path = ...
local now = function() return uv.hrtime() / 1e9 end
local late = common.lateness(10, now)
local timer = uv.new_timer()
timer:start(10, 10, late.fire)
local t = common.start(mode, path, now)
require("ion.upload.luv").drive(t.job, { loop = uv, on_done = function()
  common.stop(t)
  timer:stop()
  timer:close()
end })
uv.run()
common.report("luv", t, late.max)
