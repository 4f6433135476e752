-- What the status page shows beyond job:stats(), gathered from the watch's
-- events as they pass (status/init.lua taps on_event): the queue with each
-- file's progress, the last files with their outcome, the last errors with
-- their hints, and files and bytes per minute over the last hour. Bounded:
-- the queue is the watch's own (files taken), the rest are rings.
local M = {}

M.keep_files = 50
M.keep_errors = 20
M.minutes = 60

local Recent = {}
Recent.__index = Recent

function M.new(clock)
  return setmetatable({ clock = clock or os.time, queue = {}, files = {}, errors = {}, per_minute = {} }, Recent)
end

local function push(ring, v, cap)
  ring[#ring + 1] = v
  if #ring > cap then table.remove(ring, 1) end -- (cap is small: 50)
end

-- The bucket of this minute (files, bytes), old ones let go.
function Recent:minute(t)
  local m = math.floor(t / 60)
  local b = self.per_minute[m]
  if not b then
    b = { files = 0, bytes = 0 }
    self.per_minute[m] = b
    for k in pairs(self.per_minute) do
      if k <= m - M.minutes then self.per_minute[k] = nil end
    end
  end
  return b
end

-- A target in words: "run_step 12", or "run (found by name)".
local function describe(target)
  if type(target) ~= "table" then return "" end
  local kind, v = next(target)
  if kind == nil then return "" end
  return tostring(kind) .. (type(v) == "table" and " (found by name)" or " " .. tostring(v))
end

function Recent:on_taken(ev)
  self.queue[ev.rel] = { rel = ev.rel, size = ev.size, bytes = 0, state = "queued" }
end

function Recent:on_start(ev)
  local q = self.queue[ev.rel]
  if q then q.state, q.size = "uploading", ev.total or q.size end
end

function Recent:on_progress(ev)
  local q = self.queue[ev.rel]
  if q then q.state, q.bytes, q.size = "uploading", ev.bytes or q.bytes, ev.total or q.size end
end

function Recent:on_waiting(ev)
  local q = self.queue[ev.rel]
  if q then q.state, q.bytes = "waiting for ION", 0 end
  if ev.err then self:error(ev) end
end
function Recent:on_waiting_for_target(ev)
  local q = self.queue[ev.rel]
  if q then q.state = "waiting for its target" end
  if ev.err then self:error(ev) end
end

function Recent:on_done(ev)
  local now = self.clock()
  self.queue[ev.rel] = nil
  local att = ev.attachment or {}
  push(self.files, { rel = ev.rel, target = describe(ev.target), id = att.id, size = ev.total or ev.bytes,
    time = now, outcome = ev.skipped and "skipped (done before)" or "attached" }, M.keep_files)
  if not ev.skipped then
    local b = self:minute(now)
    b.files, b.bytes = b.files + 1, b.bytes + (ev.total or 0)
  end
end

function Recent:on_error(ev)
  self.queue[ev.rel] = nil
  local e = ev.err or {}
  push(self.files, { rel = ev.rel, time = self.clock(), outcome = "failed: " .. tostring(e.code) }, M.keep_files)
  self:error(ev)
end

-- The events noted, and the method of each.
local HANDLED = { taken = "on_taken", start = "on_start", progress = "on_progress", waiting = "on_waiting",
  waiting_for_target = "on_waiting_for_target", done = "on_done", error = "on_error", failed = "on_error" }

-- (A file retried through an outage fails the same way each time: one line, counted.)
function Recent:error(ev)
  local e = ev.err or {}
  local last = self.errors[#self.errors]
  if last and last.rel == ev.rel and last.code == e.code and last.message == e.message then
    last.time, last.times = self.clock(), last.times + 1
    return
  end
  push(self.errors, { rel = ev.rel, time = self.clock(), code = e.code, message = e.message, hint = e.hint,
    times = 1 },
    M.keep_errors)
end

--- Notes one event of the watch (a copy of nothing: the fields are read).
function Recent:observe(ev)
  local name = ev.rel and HANDLED[ev.type]
  if name then self[name](self, ev) end
end

--- The queue, in name order.
function Recent:queued()
  local list = {}
  for _, q in pairs(self.queue) do list[#list + 1] = q end
  table.sort(list, function(a, b) return a.rel < b.rel end)
  return list
end

--- { { minute = unix seconds, files, bytes }, ... } for the last M.minutes
-- minutes, oldest first (zeros included).
function Recent:series(now)
  local m, out = math.floor((now or self.clock()) / 60), {}
  for k = m - M.minutes + 1, m do
    local b = self.per_minute[k]
    out[#out + 1] = { minute = k * 60, files = b and b.files or 0, bytes = b and b.bytes or 0 }
  end
  return out
end

return M
