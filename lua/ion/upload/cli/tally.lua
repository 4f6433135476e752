-- What ion-upload's progress reports count, fed by upload_many's events:
-- files done (and failed) of the total, bytes sent of the total, the rate
-- and the time left, and which files are moving. Bytes count as the
-- summary counts them: those of PUTs that storage took. A file that ends
-- without one (failed, skipped per the journal, stored by an earlier run)
-- leaves both the bytes sent and the bytes to send. The terminal display (cli_progress) and
-- the log lines (log_progress) both read one tally.
local output = require("ion.upload.cli.output")

local tally = {}

local Tally = {}
Tally.__index = Tally

-- A file whose bytes arrived within this many seconds counts as moving.
local RECENT = 2

-- opts: { now = clock, files = n, bytes = total }
function tally.new(opts)
  return setmetatable({
    now = opts.now, files = opts.files or 0, bytes = opts.bytes or 0, started = opts.now(),
    done_files = 0, failed = 0, done_bytes = 0, sent = {}, stored = {}, sizes = {}, active = {}, starts = 0,
  }, Tally)
end

--- The sizes of the files to send (indexes in the CLI's list, a stat each):
-- sizes, total bytes. A file that is not there counts 0.
function tally.sizes(items, where, stat)
  local sizes, total = {}, 0
  for k, item in ipairs(items) do
    local st = stat(item.path)
    local size = st and st.type == "file" and st.size or 0
    sizes[where and where[k] or k] = size
    total = total + size
  end
  return sizes, total
end

--- m:ss (or h:mm:ss); "--:--" when unknown.
function tally.clock(seconds)
  if not seconds or seconds ~= seconds or seconds == math.huge or seconds < 0 then return "--:--" end
  seconds = math.floor(seconds + 0.5)
  if seconds >= 3600 then
    return string.format("%d:%02d:%02d", math.floor(seconds / 3600), math.floor(seconds % 3600 / 60), seconds % 60)
  end
  return string.format("%d:%02d", math.floor(seconds / 60), seconds % 60)
end

-- Sizes per index: a file that ends takes its size off the bytes to send.
function Tally:set_size(i, size)
  self.sizes[i] = size
end

--- One more file to count (a run that streams its input learns of its
-- files as it goes: the totals grow until the input ends).
function Tally:add_file(i, size)
  self.files = self.files + 1
  self.bytes = self.bytes + (size or 0)
  self.sizes[i] = size
end

-- Bytes of the finished files (counted once, then forgotten) and of those
-- moving: a run of a million files holds only the files in flight.
function Tally:bytes_done()
  local n = self.done_bytes
  for _, v in pairs(self.sent) do n = n + v end
  return n
end

--- { elapsed, bytes_done, fraction, rate (bytes/s), eta (s or nil) }
function Tally:stats()
  local elapsed = self.now() - self.started
  local done = self:bytes_done()
  local fraction = self.bytes > 0 and math.min(1, done / self.bytes) or (self.done_files / math.max(1, self.files))
  local rate = elapsed > 0 and done / elapsed or 0
  return { elapsed = elapsed, bytes_done = done, fraction = fraction, rate = rate,
    eta = rate > 0 and math.max(0, self.bytes - done) / rate or nil }
end

--- "2/3 files", or "3/3 files, 1 failed": the failed ones are done too, with no bytes sent.
function Tally:files_text()
  local s = string.format("%d/%d files", self.done_files, self.files)
  if self.failed > 0 then s = s .. string.format(", %d failed", self.failed) end
  return s
end

function Tally:settle(i)
  self.active[i] = nil
end

--- Feeds one upload_many event (i: the position in the CLI's list).
function Tally:event(ev, i)
  i = i or ev.index
  if ev.type == "start" then
    self.starts = self.starts + 1
    self.sizes[i] = self.sizes[i] or ev.total -- counted in opts.bytes when not given apart
    self.active[i] = { path = output.printable(ev.path), total = self.sizes[i] or ev.total, seq = self.starts }
    self.sent[i] = 0
  elseif ev.type == "progress" then
    -- not started, or finished (counted in done_bytes and forgotten)
    if self.sent[i] == nil then return end
    local before = self.sent[i]
    self.sent[i] = ev.bytes or 0
    if ev.stored then self.stored[i] = ev.bytes end
    local a = self.active[i]
    if not a then return end
    -- libcurl reports 0 of 0 before a PUT's first byte: not "all sent".
    if ev.total and ev.total > 0 then a.total = ev.total end
    if self.sent[i] > before then
      a.moved_at = self.now()
      a.first_moved = a.first_moved or a.moved_at
    end
    -- All its bytes sent: it waits for its registration, no longer moving.
    if a.total and self.sent[i] >= a.total then self:settle(i) end
  elseif ev.type == "done" or ev.type == "error" then
    -- its size, counted in the bytes to send, gives way to what storage took of it
    local stored = self.stored[i] or 0
    self.done_files = self.done_files + 1
    if ev.type == "error" then self.failed = self.failed + 1 end
    self.done_bytes = self.done_bytes + stored
    self.bytes = self.bytes - (self.sizes[i] or 0) + stored
    self.sent[i], self.stored[i], self.sizes[i] = nil, nil, nil
    self:settle(i)
  end
end

--- Up to n files sending, for the per-file lines: those whose bytes arrived
-- lately first (in the order they started moving, so lines do not jump),
-- then those that stalled, then those still waiting for their turn.
-- Each: { path =, total =, sent =, state = "moving" | "stalled" | "waiting" }.
function Tally:moving(n)
  local now, list = self.now(), {}
  for i, a in pairs(self.active) do
    local state = "waiting"
    if a.moved_at then state = now - a.moved_at <= RECENT and "moving" or "stalled" end
    list[#list + 1] = { path = a.path, total = a.total, sent = self.sent[i] or 0, state = state,
      rank = state == "moving" and 1 or state == "stalled" and 2 or 3, first = a.first_moved or 0, seq = a.seq }
  end
  table.sort(list, function(x, y)
    if x.rank ~= y.rank then return x.rank < y.rank end
    if x.first ~= y.first then return x.first < y.first end
    return x.seq < y.seq
  end)
  local out = {}
  for k = 1, math.min(n, #list) do out[k] = list[k] end
  return out
end

return tally
