-- The watch's files past settling, keyed by the path relative to the folder:
-- in flight (in the engine), waiting (a retry due), held (unmatched, failed
-- or in doubt) and uploaded. The other parts of the watch read and change
-- them through these methods only.
local Queue = {}
Queue.__index = Queue

--- Queue.new(core) -> queue
function Queue.new(core)
  return setmetatable({
    gen = 1,       -- the rules generation: a permanent failure is held until the rules change
    inflight = {}, -- rel -> { key, index, announced, target }
    by_index = {}, -- engine index -> rel
    waiting = {},  -- rel -> { key, due, attempt, announced, target_since }: transient failure, to retry
    held = {},     -- rel -> key .. "#" .. gen: unmatched or permanently failed; key .. "#doubt": in doubt
    -- what was uploaded (or shown done by the journal), for as long as the
    -- watch runs: as 64-bit hashes in the core (about 20 bytes a file, where
    -- Lua strings took 110: bench/watch_soak.md). versions: rel .. "\0" ..
    -- key of each version done; paths: each rel with a version done.
    versions = core.hashset(),
    paths = core.hashset(),
  }, Queue)
end

-- Whether that version of rel needs no look: done, held, in flight or waiting.
function Queue:knows(rel, key)
  local held = self.held[rel]
  if self.versions:has(rel .. "\0" .. key) or held == key .. "#" .. self.gen or held == key .. "#doubt" then
    return true
  end
  local f, wt = self.inflight[rel], self.waiting[rel]
  return (f and f.key == key) or (wt and wt.key == key) or false
end

-- A reload of the rules: what they held is looked at again.
function Queue:next_generation()
  self.gen = self.gen + 1
end

-- Files queued for ION: taken and not finished, or held for a retry.
function Queue:queued_count()
  local n = 0
  for _ in pairs(self.inflight) do n = n + 1 end
  for rel in pairs(self.waiting) do
    if not self.inflight[rel] then n = n + 1 end
  end
  return n
end

-- Whether nothing is in flight or waits for a retry.
function Queue:empty()
  return next(self.inflight) == nil and next(self.waiting) == nil
end

-- The earliest retry due (core.now() time), or nil.
function Queue:next_due()
  local due
  for _, wt in pairs(self.waiting) do
    if not due or wt.due < due then due = wt.due end
  end
  return due
end

-- In flight: rec is { key, index, announced, target }.
function Queue:add(rel, rec)
  self.by_index[rec.index] = rel
  self.inflight[rel] = rec
end

function Queue:rel_of(index)
  return self.by_index[index]
end

function Queue:in_flight(rel)
  return self.inflight[rel]
end

-- The outcome of the engine's item index came: rel's record, out of flight,
-- or nil when it is not the attempt in flight.
function Queue:land(index)
  local rel = self.by_index[index]
  local f = rel and self.inflight[rel]
  if not (f and f.index == index) then return nil end
  self.inflight[rel] = nil
  self.by_index[index] = nil
  return rel, f
end

-- Waiting for a retry: rec is { key, due, attempt, announced, target_since }.
function Queue:wait(rel, rec)
  self.waiting[rel] = rec
end

function Queue:waiting_of(rel)
  return self.waiting[rel]
end

function Queue:unwait(rel)
  self.waiting[rel] = nil
end

-- The files whose retry is due and not in flight, with their waiting
-- records: rels, recs (each armed again by the outcome of its next attempt).
function Queue:due(now)
  local rels, recs = {}, {}
  for rel, wt in pairs(self.waiting) do
    if wt.due <= now and not self.inflight[rel] then rels[#rels + 1], recs[#recs + 1] = rel, wt end
  end
  return rels, recs
end

-- A retry taken: not due again until its outcome says when.
function Queue:retrying(rel)
  self.waiting[rel].due = math.huge
end

-- ION answers again: what waits for its backoff goes now.
function Queue:hurry(now)
  for _, wt in pairs(self.waiting) do
    if wt.due > now and wt.due ~= math.huge then wt.due = now end
  end
end

-- The stop: no retry is taken; the files that waited and are not in flight.
function Queue:drop_waiting()
  local rels = {}
  for rel in pairs(self.waiting) do
    if not self.inflight[rel] then rels[#rels + 1] = rel end
  end
  self.waiting = {}
  return rels
end

-- Held until the file changes or (but in doubt) the rules are reloaded.
function Queue:hold(rel, key)
  self.held[rel] = key .. "#" .. self.gen
end

function Queue:hold_in_doubt(rel, key)
  self.held[rel] = key .. "#doubt"
end

-- How rel is held: key .. "#" .. generation, key .. "#doubt", or nil.
function Queue:hold_of(rel)
  return self.held[rel]
end

-- Uploaded (or shown done by the journal): that version is not taken again.
function Queue:done(rel, key)
  self.versions:add(rel .. "\0" .. key)
  self.paths:add(rel)
  self.waiting[rel] = nil
end

-- Whether a version of rel was uploaded before (a new one is a rewrite).
function Queue:uploaded_before(rel)
  return self.paths:has(rel)
end

-- A file moved or deleted is gone: nothing to remember it by (the same
-- bytes dropped in again are taken, skipped by the journal, and moved).
function Queue:forget(rel, key)
  self.versions:remove(rel .. "\0" .. key)
  self.paths:remove(rel)
end

return Queue
