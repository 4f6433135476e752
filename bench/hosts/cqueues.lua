-- bench/hosts.sh, cqueues: ion.upload.cqueues runs the job in a controller
-- beside a coroutine that sleeps 10 ms at a time (the host's own timer).
--   lua5.4 bench/hosts/cqueues.lua MODE FILE
local cqueues = require("cqueues")
local common = require("hosts.common")
local mode, path = ...
local now = cqueues.monotime
local late = common.lateness(10, now)
local cq = cqueues.new()
local t = common.start(mode, path, now)
local h = require("ion.upload.cqueues").wrap(cq, t.job, { on_done = function() common.stop(t) end })
cq:wrap(function()
  while not h:done() do
    cqueues.sleep(0.01)
    late.fire()
  end
end)
assert(cq:loop())
common.report("cqueues", t, late.max)
