-- The watch's side of job:stats(): what the engine's counts do not know.
-- The engine counts each attempt; a watch retries a transient failure
-- itself, so its failures are the final ones only, its retries add its
-- own, its queue is the files taken and not finished (waiting for a retry
-- included), and its histogram runs from a file settling to its attachment
-- (across retries), not from the latest attempt's start. The watch counts
-- them in an object of engine/stats.lua of its own (M.new).
local engine_stats = require("ion.upload.engine.stats")

local M = {}

M.new = engine_stats.new

--- The watch's job:stats(): its engine job's (s, taken over), with the
-- watch's own counts, its queue and its outage (watch/outage.lua).
function M.of(s, counts, queued, outage)
  counts:over(s)
  s.files_queued = queued
  s.waiting_for_ion = outage:waiting() and 1 or 0
  s.waiting_since = outage:since()
  return s
end

return M
