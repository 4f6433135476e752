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

--- The watch's job:stats(): its engine job's, with the watch's own figures.
function M.of(w)
  local s = w.job:stats()
  local c = w.counts
  s.files_failed, s.files_failed_by_code = 0, engine_stats.copy(c.failed)
  for _, n in pairs(c.failed) do s.files_failed = s.files_failed + n end
  s.retries = s.retries + c.retries
  s.files_queued = w:queued()
  s.waiting_for_ion = w.down and 1 or 0
  s.waiting_since = w.down and w.down.since or nil
  s.attach_seconds = c.latency:snapshot()
  return s
end

return M
