-- The token without blocking, for the jobs of the engine: one fetch at a
-- time per client, shared by every job that waits for it and owned by none
-- of them. Each provider (ion.upload.auth.credentials) owns one and hands its jobs'
-- calls to it; it uses the provider's ready (a token at hand), fetch (one
-- fetch of a token, written once for both ways of waiting) and keep (caches
-- a fetched token).
local errors = require("ion.upload.errors")

local M = {}

local Shared = {}
Shared.__index = Shared

function M.new(provider)
  return setmetatable({ provider = provider }, Shared)
end

-- The token without blocking (a job). on_token(token | nil, err) is called
-- at once when no request is needed (nil is returned), else when the fetch
-- ends: then a wait is returned, for leave. One fetch at a time, the
-- client's: whoever asks meanwhile waits for the same one. Its request is a
-- transfer of the client's session, its retry wait this object's own timer
-- (fired by fire_due from any waiting job's step), so the job that asked
-- first does not own it: closing that job stalls no other.
function Shared:token(ctx, on_token)
  local p = self.provider
  local token, err = p:ready(ctx)
  if token or err then
    on_token(token, err)
    return nil
  end
  local f = self.pending
  local w = { fetch = f, on_token = on_token }
  if f then
    f.waiters[#f.waiters + 1] = w
    return w
  end
  f = { waiters = { w } }
  w.fetch, self.pending = f, f
  local function send(req, on_answer)
    local id = ctx.transport:add("request", req, function(res, cerr)
      f.transfer = nil
      on_answer(res, cerr)
    end)
    if id then f.transfer = id end -- nil: refused, on_answer has run
  end
  local function later(delay, fn) f.timer = { at = ctx.core().now() + delay, fn = fn } end
  p:fetch(ctx, send, later, function(t, ferr)
    if self.pending == f then self.pending = nil end
    if t then p:keep(ctx, t) end
    for _, x in ipairs(f.waiters) do
      if not x.left then
        x.done = true
        if t then x.on_token(t.token) else x.on_token(nil, errors.copy(ferr)) end
      end
    end
  end)
  if not w.done then return w end
end

-- A waiter goes away (its job closed or cancelled): it is not answered. The
-- last one to leave ends the fetch: its request is dropped, its retry timer
-- forgotten, and the next ask starts afresh. True when w was still waiting.
function Shared:leave(ctx, w)
  if w.done or w.left then return false end
  w.left = true
  local f = w.fetch
  if self.pending ~= f then return true end -- the fetch is ending: its loop skips w
  for i, x in ipairs(f.waiters) do
    if x == w then table.remove(f.waiters, i) break end
  end
  if #f.waiters == 0 then
    self.pending, f.timer = nil, nil
    if f.transfer then ctx.transport:drop(f.transfer) end
    f.transfer = nil
  end
  return true
end

-- When the fetch's retry is due (the clock's time), or nil.
function Shared:retry_at()
  local f = self.pending
  return f and f.timer and f.timer.at
end

-- Sends the fetch's retry once it is due.
function Shared:fire_due(now)
  local f = self.pending
  local t = f and f.timer
  if t and t.at <= now then
    f.timer = nil
    t.fn()
  end
end

-- A fetch in flight (a job that waits for it is not idle).
function Shared:fetching()
  return self.pending ~= nil
end

return M
