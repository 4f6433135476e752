-- ion-upload's progress off a terminal (cron, systemd, CI): one plain line
-- every `interval` seconds (10 by default) with the files and bytes done,
-- the rate and the time left, beside the per-file lines the CLI prints. No
-- terminal control sequence ever: a log keeps every byte it is given.
--
-- Lines come as events arrive (upload_many calls back several times a
-- second while bytes move); the clock is opts.now, so specs can step it.
local output = require("ion.upload.cli.output")
local tally = require("ion.upload.cli.tally")

local log_progress = {}

log_progress.DEFAULT_INTERVAL = 10

local Log = {}
Log.__index = Log

-- opts: { out = file (stderr), now = clock, interval = seconds (0: a line
-- at every event, for tests), files = n, bytes = total }
function log_progress.new(opts)
  local t = tally.new(opts)
  local interval = opts.interval or log_progress.DEFAULT_INTERVAL
  return setmetatable({ out = opts.out, now = opts.now, interval = interval, tally = t,
    next_at = t.started + interval }, Log)
end

--- The line as it would be printed now.
function Log:line()
  local t = self.tally
  local s = t:stats()
  return string.format("progress  %s  %s  %s/%s (%d%%)  %s/s  ETA %s", tally.clock(s.elapsed), t:files_text(),
    output.size(s.bytes_done), output.size(t.bytes), math.floor(s.fraction * 100), output.size(s.rate),
    tally.clock(s.eta))
end

-- Prints a line when the interval has passed since the last one (or the start).
function Log:tick()
  local now = self.now()
  if now < self.next_at then return end
  self.next_at = now + self.interval
  self.out:write(self:line(), "\n")
  if self.out.flush then self.out:flush() end
end

--- Feeds one upload_many event (index: the position in the CLI's list).
function Log:event(ev, index)
  self.tally:event(ev, index)
  self:tick()
end

function Log:set_size(i, size)
  self.tally:set_size(i, size)
end

-- One more file (and its size) to count, as the input streams in.
function Log:add_file(i, size)
  self.tally:add_file(i, size)
end

--- Checks --progress-interval's value: seconds | nil, message.
function log_progress.parse_interval(s)
  local n = tonumber(s)
  if not n or n ~= n or n < 0 or n == math.huge then
    return nil, "--progress-interval expects seconds (a number, 0 or more), got '" .. tostring(s) .. "'"
  end
  return n
end

return log_progress
