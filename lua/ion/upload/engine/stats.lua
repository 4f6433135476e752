-- The figures of a run that job:stats() reports (docs/api.md, "job:stats()"):
-- what the summary does not keep already (failures by code, retries, the last
-- success, the time from queued to attached). One object per run, kept by
-- its outcomes; counting is a few additions, so a job that nobody asks pays
-- nearly nothing.
local M = {}

-- Upper bounds (seconds) of the histogram's buckets: from a quick upload on
-- a LAN to a file that waited out an hour's outage.
M.buckets = { 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600 }

local Histogram = {}
Histogram.__index = Histogram

--- A histogram over M.buckets: counts[i] holds the observations <= buckets[i]
-- (not cumulative: snapshot() adds them up), plus their sum and count.
function M.histogram()
  local counts = {}
  for i = 1, #M.buckets do counts[i] = 0 end
  return setmetatable({ counts = counts, sum = 0, count = 0 }, Histogram)
end

function Histogram:observe(v)
  if v ~= v or v < 0 then v = 0 end -- a clock that went back counts as no wait
  self.sum, self.count = self.sum + v, self.count + 1
  for i = 1, #M.buckets do
    if v <= M.buckets[i] then
      self.counts[i] = self.counts[i] + 1
      return
    end
  end
end

--- { buckets = { { le = seconds, count = cumulative }, ... }, sum, count }:
-- the Prometheus shape (the +Inf bucket is `count`).
function Histogram:snapshot()
  local out, acc = {}, 0
  for i = 1, #M.buckets do
    acc = acc + self.counts[i]
    out[i] = { le = M.buckets[i], count = acc }
  end
  return { buckets = out, sum = self.sum, count = self.count }
end

local Stats = {}
Stats.__index = Stats

function M.new()
  return setmetatable({ failed = {}, retries = 0, live = 0, latency = M.histogram() }, Stats)
end

-- A file failed (its error's code; "unknown" for a code-less error).
function Stats:failed_with(code)
  code = type(code) == "string" and code or "unknown"
  self.failed[code] = (self.failed[code] or 0) + 1
end

-- A file was attached `waited` seconds after it was queued.
function Stats:attached(waited)
  self.last_success = os.time()
  if waited then self.latency:observe(waited) end
end

function Stats:retried()
  self.retries = self.retries + 1
end

-- n (1 or -1) more files not yet final.
function Stats:queued(n)
  self.live = self.live + n
end

-- A shallow copy (a snapshot's tables are the caller's).
function M.copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end

--- s (a job:stats() table) with these counts in place of its own failures
-- and histogram, and these retries added: a watch's figures over those of
-- its engine job (status/stats.lua).
function Stats:over(s)
  s.files_failed, s.files_failed_by_code = 0, M.copy(self.failed)
  for _, n in pairs(self.failed) do s.files_failed = s.files_failed + n end
  s.retries = s.retries + self.retries
  s.attach_seconds = self.latency:snapshot()
  return s
end

--- The plain table of job:stats() from a run's summary (ok, failed,
-- skipped, in_doubt, bytes), its GraphQL requests and these figures.
function Stats:snapshot(summary, requests)
  return {
    files_attached = summary.ok, files_failed = summary.failed, files_failed_by_code = M.copy(self.failed),
    files_skipped = summary.skipped, files_in_doubt = summary.in_doubt, bytes_sent = summary.bytes,
    graphql_requests = requests, retries = self.retries, files_queued = self.live,
    waiting_for_ion = 0, waiting_since = nil, last_success = self.last_success,
    attach_seconds = self.latency:snapshot(),
  }
end

return M
