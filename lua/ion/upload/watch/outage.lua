-- "Waiting for ION since …": the job-level view of store-and-forward. The
-- first transient failure (ION or storage unreachable, 5xx, 429) starts a
-- wait, announced once (`waiting_for_ion`); the next confirmed upload ends
-- it (`resumed`, and the older `back`), and the files still backing off
-- are tried at once. Per-file retries stay `waiting` events. Methods of
-- the watch job (self), mixed in by ion.upload.watch.watcher.
local M = {}

-- Files queued for ION: taken and not finished, or held for a retry.
function M:queued()
  local n = 0
  for _ in pairs(self.inflight) do n = n + 1 end
  for rel in pairs(self.waiting) do
    if not self.inflight[rel] then n = n + 1 end
  end
  return n
end

-- What a person reads: "waiting for ION since 08:12:03 (network), 3 files queued".
function M:waiting_message()
  local d = self.down
  if not d then return nil end
  local n = self:queued()
  return string.format("waiting for ION since %s (%s), %d file%s queued", os.date("%H:%M:%S", d.since),
    d.reason, n, n == 1 and "" or "s")
end

-- A transient failure: starts the wait unless one is on.
function M:outage_begins(err, now)
  if self.down then return end
  local reason = err and err.code or "unreachable"
  if err and err.status then reason = reason .. " " .. tostring(err.status) end
  self.down = { since = os.time(), at = now, reason = reason }
  self.emit({ type = "waiting_for_ion", since = self.down.since, reason = reason, queued = self:queued(),
    message = self:waiting_message() })
end

-- A confirmed upload: ends the wait when one is on.
function M:outage_ends(now)
  local d = self.down
  if not d then return end
  self.down = nil
  -- ION answers again: what waits for its backoff (up to retry_cap) goes now
  for _, wt in pairs(self.waiting) do
    if wt.due > now and wt.due ~= math.huge then wt.due = now end
  end
  local waited = math.max(0, now - d.at)
  self.emit({ type = "resumed", since = d.since, waited = waited, reason = d.reason, queued = self:queued() })
  self.emit({ type = "back", since = d.since, waited = waited })
end

return M
