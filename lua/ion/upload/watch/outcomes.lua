-- The engine's outcomes of the files taken, and what each means for the
-- watch: done (after-actions), transient (queued, retried with the client's
-- backoff, ion.upload.retry, capped at `retry_cap`), permanent (held until
-- the file or the rules change) or in doubt (left to the journal: the next
-- run registers it again). Methods of the watch job (self), mixed in by ion.upload.watch.watcher.
local candidates = require("ion.upload.watch.candidates")
local retry = require("ion.upload.retry")

local M = {}

local PERMANENT = { not_found = true, permission_denied = true, bad_input = true }

function M:on_done(rel, f, ev, now)
  self.uploaded.versions:add(rel .. "\0" .. f.key)
  self.uploaded.paths:add(rel)
  self.waiting[rel] = nil
  if not ev.skipped then
    self.counts:attached(f.settled and now - f.settled)
    self:outage_ends(now)
  end
  self:after_success(rel, f.key)
end

function M:on_transient(rel, f, ev, now)
  local wt = self.waiting[rel]
  local attempt = (wt and wt.key == f.key) and (wt.attempt + 1) or 1
  -- the client's backoff policy (ion.upload.retry), with the watch's longer cap
  local delay = retry.delay(attempt, self.random, ev.err and ev.err.retry_after, self.o.retry_cap)
  self.waiting[rel] = { key = f.key, due = now + delay, attempt = attempt, announced = f.announced,
    settled = f.settled }
  self.counts:retried()
  self:outage_begins(ev.err, now)
  self.emit({ type = "waiting", rel = rel, path = ev.path, since = self.down.since, reason = self.down.reason,
    retry_in = delay, err = ev.err, message = self:waiting_message() })
end

-- Whether a failed attempt is the lookup of a target found by name ({ run =
-- { where = … } }, not an id) that matched nothing, within `target_wait`
-- seconds of the first such answer for this version of the file: a station
-- may write its file before ION has the run, so the watch waits for it.
-- f: the file's in-flight record (handle_outcomes has taken it out already).
function M:waits_for_target(ev, f)
  f = f or (ev.rel and self.inflight[ev.rel])
  if (ev.err or {}).code ~= "not_found" or not f or type(f.target) ~= "table" then return false end
  local _, value = next(f.target)
  if type(value) ~= "table" or self.o.target_wait <= 0 then return false end
  local wt = self.waiting[ev.rel]
  local since = wt and wt.key == f.key and wt.target_since
  return not since or self.core.now() - since < self.o.target_wait
end

-- Whether a failed attempt is retried by the watch (a transient failure, or
-- a target not there yet, while it runs on), rather than final.
function M:retries(ev, f)
  local e = ev.err or {}
  if self.o.once or self.stopping then return false end
  return (e.retryable and not e.in_doubt and not ev.was_in_doubt) or self:waits_for_target(ev, f)
end

-- A target not there yet: the file is taken again (its target looked up
-- again: a lookup that found nothing is not cached) with the backoff, until
-- target_wait seconds have passed since the first "not found". Said once.
function M:on_target_wait(rel, f, ev, now)
  local wt = self.waiting[rel]
  local same = wt and wt.key == f.key and wt.target_since
  local since, attempt = same and wt.target_since or now, same and (wt.attempt + 1) or 1
  local delay = math.max(0, math.min(self.o.retry_cap, 2 ^ (attempt - 1), since + self.o.target_wait - now))
  self.waiting[rel] = { key = f.key, due = now + delay, attempt = attempt, announced = f.announced,
    target_since = since, settled = f.settled }
  self.counts:retried()
  if attempt == 1 then
    local why = tostring((ev.err or {}).message)
    if ev.path and why:sub(1, #ev.path + 2) == ev.path .. ": " then why = why:sub(#ev.path + 3) end -- said once
    self.emit({ type = "waiting_for_target", rel = rel, path = ev.path, err = ev.err, retry_in = delay,
      wait = self.o.target_wait, message = "waiting for the target: " .. why })
  end
end

function M:on_failed(rel, f, ev, now)
  local e = ev.err or {}
  if self:retries(ev, f) then
    if e.code == "not_found" then return self:on_target_wait(rel, f, ev, now) end
    return self:on_transient(rel, f, ev, now)
  end
  self.waiting[rel] = nil -- final: no retry is due
  self.counts:failed_with(e.code)
  if ev.held_back then -- held back as a retry, final after all (the watch stopped since)
    ev.held_back = nil
    self.emit(ev)
  end
  if e.in_doubt or ev.was_in_doubt then
    -- the journal marks it: the next run registers it again; never moved or
    -- deleted, nor taken again by this run (a rules reload included)
    self.held[rel] = f.key .. "#doubt"
  else
    self.held[rel] = f.key .. "#" .. self.gen
    if PERMANENT[e.code] then self:after_failure(rel) end
  end
end

-- Acts on the engine's outcomes gathered since the last call.
function M:handle_outcomes(now)
  local list = self.outcomes
  self.outcomes = {}
  for _, ev in ipairs(list) do
    local rel = self.by_index[ev.index]
    local f = rel and self.inflight[rel]
    if f and f.index == ev.index then
      self.inflight[rel] = nil
      self.by_index[ev.index] = nil
      if ev.type == "done" then
        self:on_done(rel, f, ev, now)
      else
        self:on_failed(rel, f, ev, now)
      end
      -- changed while it was uploading: look again
      if not self.stopping then self:saw(rel) end
    end
  end
end

-- Files whose retry is due go to the engine again (unless they changed).
function M:retry_due(now)
  for rel, wt in pairs(self.waiting) do
    if wt.due <= now and not self.inflight[rel] then
      local info = self.core.stat(self.root .. "/" .. rel)
      if info and info.type == "file" and candidates.key_of(info) == wt.key then
        wt.due = math.huge -- re-armed by the next outcome
        self:take(rel, { key = wt.key, info = info, announced = wt.announced, settled = wt.settled })
      else
        self.waiting[rel] = nil
        if info then self:saw(rel, info) end
      end
    end
  end
end

return M
