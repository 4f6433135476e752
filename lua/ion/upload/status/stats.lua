-- The watch's side of job:stats(): what the engine's counts do not know.
-- The engine counts each attempt; a watch retries a transient failure
-- itself, so its failures are the final ones only, its retries add its
-- own, its queue is the files taken and not finished (waiting for a retry
-- included), and its histogram runs from a file settling to its attachment
-- (across retries), not from the latest attempt's start.
local engine_stats = require("ion.upload.engine.stats")

local M = {}

local Counts = {}
Counts.__index = Counts

function M.new()
  return setmetatable({ failed = {}, n_failed = 0, retries = 0, latency = engine_stats.histogram() }, Counts)
end

function Counts:failed_with(code)
  code = type(code) == "string" and code or "unknown"
  self.failed[code] = (self.failed[code] or 0) + 1
  self.n_failed = self.n_failed + 1
end

function Counts:retried()
  self.retries = self.retries + 1
end

-- A file attached `waited` seconds after it settled (nil: not known).
function Counts:attached(waited)
  if waited then self.latency:observe(waited) end
end

--- The watch's job:stats(): its engine job's, with the watch's own figures.
function M.of(w)
  local s = w.job:stats()
  local c = w.counts
  s.files_failed, s.files_failed_by_code = c.n_failed, {}
  for code, n in pairs(c.failed) do s.files_failed_by_code[code] = n end
  s.retries = s.retries + c.retries
  s.files_queued = w:queued()
  s.waiting_for_ion = w.down and 1 or 0
  s.waiting_since = w.down and w.down.since or nil
  s.attach_seconds = c.latency:snapshot()
  return s
end

return M
