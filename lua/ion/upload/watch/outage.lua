-- "Waiting for ION since …": the job-level view of store-and-forward. The
-- first transient failure (ION or storage unreachable, 5xx, 429) starts a
-- wait, announced once (`waiting_for_ion`); the next confirmed upload ends
-- it (`resumed`, and the older `back`), and the files still backing off
-- are tried at once. Per-file retries stay `waiting` events.
local Outage = {}
Outage.__index = Outage

--- Outage.new(queue, emit) -> outage: queue, the watch's files (counted in
-- the messages, hurried when ION answers again); emit(ev), the watch's events.
function Outage.new(queue, emit)
  return setmetatable({ queue = queue, emit = emit, down = nil }, Outage)
end

-- Whether a wait for ION is on.
function Outage:waiting()
  return self.down ~= nil
end

-- When the wait began (epoch seconds), or nil.
function Outage:since()
  return self.down and self.down.since
end

-- When the wait began on the core's clock (core.now()), or nil.
function Outage:began_at()
  return self.down and self.down.at
end

-- Why ("network", "server_error 503"), or nil.
function Outage:reason()
  return self.down and self.down.reason
end

-- What a person reads: "waiting for ION since 08:12:03 (network), 3 files queued".
function Outage:message()
  local d = self.down
  if not d then return nil end
  local n = self.queue:queued_count()
  return string.format("waiting for ION since %s (%s), %d file%s queued", os.date("%H:%M:%S", d.since),
    d.reason, n, n == 1 and "" or "s")
end

-- A transient failure: starts the wait unless one is on.
function Outage:begins(err, now)
  if self.down then return end
  local reason = err and err.code or "unreachable"
  if err and err.status then reason = reason .. " " .. tostring(err.status) end
  self.down = { since = os.time(), at = now, reason = reason }
  self.emit({ type = "waiting_for_ion", since = self.down.since, reason = reason, queued = self.queue:queued_count(),
    message = self:message() })
end

-- A confirmed upload: ends the wait when one is on.
function Outage:ends(now)
  local d = self.down
  if not d then return end
  self.down = nil
  -- ION answers again: what waits for its backoff (up to retry_cap) goes now
  self.queue:hurry(now)
  local waited = math.max(0, now - d.at)
  local queued = self.queue:queued_count()
  self.emit({ type = "resumed", since = d.since, waited = waited, reason = d.reason, queued = queued })
  self.emit({ type = "back", since = d.since, waited = waited })
end

return Outage
