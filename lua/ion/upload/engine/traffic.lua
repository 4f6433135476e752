-- A run's transfers (on the client's one session) and timers: what its
-- stages and documents started and wait for. The scheduler fires the timers
-- that are due at each step, and asks when the next one is.
local M = {}

local Traffic = {}
Traffic.__index = Traffic

function M.new(transport, core)
  return setmetatable({ transport = transport, core = core, transfers = {}, timers = {} }, Traffic)
end

-- Starts a transfer on the client's session; on_done(res, err) when it ends
-- (at once when the core refuses it: nothing was sent). kind: whose it is
-- ("put", "url", "reg", ...): a stop cancels all but the registrations.
function Traffic:add(kind, what, req, on_done)
  local id
  id = self.transport:add(what, req, function(res, cerr)
    if id then self.transfers[id] = nil end
    on_done(res, cerr)
  end)
  if id then self.transfers[id] = kind end
  return id
end

-- Runs fn at the first step `delay` seconds from now. A resend (a document
-- sent again after a 429, a 503, a lost connection) is not in flight while
-- it waits: a stop makes it due at once.
function Traffic:later(delay, fn, resend)
  self.timers[#self.timers + 1] = { at = self.core.now() + delay, fn = fn, resend = resend }
end

-- A transfer of the run is in flight.
function Traffic:busy()
  return next(self.transfers) ~= nil
end

function Traffic:fire_due()
  local now = self.core.now()
  local due, keep = {}, {}
  for _, t in ipairs(self.timers) do
    if t.at <= now then due[#due + 1] = t else keep[#keep + 1] = t end
  end
  self.timers = keep
  for _, t in ipairs(due) do t.fn() end
end

-- When the next timer is due (the clock's time), or nil.
function Traffic:next_at()
  local at
  for _, t in ipairs(self.timers) do
    if not at or t.at < at then at = t.at end
  end
  return at
end

-- The run stops: resends are due at once (they end with the stop), PUTs and
-- queries in flight are cancelled (nothing of theirs is recorded yet);
-- registrations are let finish, so that the journal records what they did.
function Traffic:cancel()
  local now = self.core.now()
  for _, t in ipairs(self.timers) do
    if t.resend then t.at = math.min(t.at, now) end
  end
  for id, kind in pairs(self.transfers) do
    if kind ~= "reg" then self.transport:cancel(id) end
  end
end

-- Lets go of every transfer (the session is the client's: it stays open).
function Traffic:close()
  for id in pairs(self.transfers) do self.transport:drop(id) end
  self.transfers = {}
end

return M
