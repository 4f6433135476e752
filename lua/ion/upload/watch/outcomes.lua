-- The files taken into the engine and what each outcome means for the
-- watch: done (after-actions), transient (queued, retried with the client's
-- backoff, ion.upload.retry, capped at `retry_cap`), permanent (held until
-- the file or the rules change) or in doubt (left to the journal: the next
-- run registers it again).
local candidates_mod = require("ion.upload.watch.candidates")
local rules_mod = require("ion.upload.watch.rules")
local retry = require("ion.upload.retry")

local Outcomes = {}
Outcomes.__index = Outcomes

local PERMANENT = { not_found = true, permission_denied = true, bad_input = true }

--- Outcomes.new(parts) -> outcomes. parts: core, random, root, o (the
-- watch's checked options: target, rules, once, retry_cap, target_wait),
-- emit, add (item -> index: the open engine job's add), and the other parts
-- it tells: queue, candidates, outage, after; counts (status/stats.lua: the
-- watch's own figures of job:stats()).
function Outcomes.new(p)
  return setmetatable({
    core = p.core, random = p.random, root = p.root, emit = p.emit, add = p.add,
    queue = p.queue, candidates = p.candidates, outage = p.outage, after = p.after, counts = p.counts,
    target = p.o.target, rules = p.o.rules, once = p.o.once, retry_cap = p.o.retry_cap,
    target_wait = p.o.target_wait,
    list = {},      -- engine events to act on after the step
    adding = nil,   -- the rel inside add: an item skipped or refused at once has its event there
    final_in_add = false,
    stopped = false,
    last_done = nil, -- when the last upload was confirmed (epoch seconds)
  }, Outcomes)
end

-- Rules reloaded: the files taken from now on are matched by these.
function Outcomes:use_rules(set)
  self.rules = set
end

-- The graceful stop or the cancel: a failure is final from now on.
function Outcomes:stop()
  self.stopped = true
end

-- Whether engine outcomes wait to be acted on.
function Outcomes:pending()
  return #self.list > 0
end

-- When the last upload was confirmed by ION (epoch seconds; not one the
-- journal showed done), or nil.
function Outcomes:last_success()
  return self.last_done
end

-- An engine event: its rel (and for a `done`, the target it was given)
-- added, and a final outcome kept for handle(); passed on to the host but
-- for an attempt the watch retries (its `waiting` event tells it).
function Outcomes:engine_event(ev)
  local rel = self.queue:rel_of(ev.index) or self.adding
  if rel then ev.rel = rel end
  local f = rel and self.queue:in_flight(rel)
  if ev.type == "done" and f then ev.target = f.target end -- (for receipts)
  if ev.type == "done" or ev.type == "error" then
    self.list[#self.list + 1] = ev
    if not self.queue:rel_of(ev.index) and self.adding then self.final_in_add = true end
    if ev.type == "error" and self:retries(ev) then
      ev.held_back = true
      return
    end
  end
  self.emit(ev)
end

function Outcomes:target_for(rel, info)
  if self.target then return { target = self.target } end
  return rules_mod.match(self.rules, rel, info)
end

-- A settled file goes into the engine (or is reported unmatched / bad) and
-- is announced `taken`: once per version, so not again for a retry
-- (c.announced), and not at all when its outcome came within add (the
-- journal shows it attached, or it was refused at once): then its `done` or
-- `error` says it all, and a `taken` after it would read as a new upload.
function Outcomes:take(rel, c)
  local key = c.key
  local m, merr = self:target_for(rel, c.info)
  if not m then
    self.queue:hold(rel, key)
    if merr then
      self.counts:failed_with(merr.code)
      self.emit({ type = "failed", rel = rel, path = self.root .. "/" .. rel, err = merr, permanent = true })
    else
      self.emit({ type = "unmatched", rel = rel, path = self.root .. "/" .. rel })
    end
    return
  end
  local rewritten = self.queue:uploaded_before(rel)
  self.adding, self.final_in_add = rel, false
  local index = self.add({ path = self.root .. "/" .. rel, target = m.target, filename = m.filename,
    shard_key = rel })
  self.adding = nil
  local announced = c.announced or not self.final_in_add
  self.queue:add(rel, { key = key, index = index, announced = announced, target = m.target,
    settled = c.settled or self.core.now() }) -- (job:stats(): the time from settled to attached)
  if announced and not c.announced then
    self.emit({ type = "taken", rel = rel, path = self.root .. "/" .. rel, index = index,
      rewritten = rewritten or nil, size = c.info.size })
  end
end

function Outcomes:on_done(rel, f, ev, now)
  self.queue:done(rel, f.key)
  if not ev.skipped then
    self.counts:attached(f.settled and now - f.settled)
    self.last_done = os.time()
    self.outage:ends(now)
  end
  self.after:success(rel, f.key)
end

function Outcomes:on_transient(rel, f, ev, now)
  local wt = self.queue:waiting_of(rel)
  local attempt = (wt and wt.key == f.key) and (wt.attempt + 1) or 1
  -- the client's backoff policy (ion.upload.retry), with the watch's longer cap
  local delay = retry.delay(attempt, self.random, ev.err and ev.err.retry_after, self.retry_cap)
  self.queue:wait(rel, { key = f.key, due = now + delay, attempt = attempt, announced = f.announced,
    settled = f.settled })
  self.counts:retried()
  self.outage:begins(ev.err, now)
  self.emit({ type = "waiting", rel = rel, path = ev.path, since = self.outage:since(), reason = self.outage:reason(),
    retry_in = delay, err = ev.err, message = self.outage:message() })
end

-- Whether a failed attempt is the lookup of a target found by name ({ run =
-- { where = … } }, not an id) that matched nothing, within `target_wait`
-- seconds of the first such answer for this version of the file: a station
-- may write its file before ION has the run, so the watch waits for it.
-- f: the file's in-flight record (handle has taken it out already).
function Outcomes:waits_for_target(ev, f)
  f = f or (ev.rel and self.queue:in_flight(ev.rel))
  if (ev.err or {}).code ~= "not_found" or not f or type(f.target) ~= "table" then return false end
  local _, value = next(f.target)
  if type(value) ~= "table" or self.target_wait <= 0 then return false end
  local wt = self.queue:waiting_of(ev.rel)
  local since = wt and wt.key == f.key and wt.target_since
  return not since or self.core.now() - since < self.target_wait
end

-- Whether a failed attempt is retried by the watch (a transient failure, or
-- a target not there yet, while it runs on), rather than final.
function Outcomes:retries(ev, f)
  local e = ev.err or {}
  if self.once or self.stopped then return false end
  return (e.retryable and not e.in_doubt and not ev.was_in_doubt) or self:waits_for_target(ev, f)
end

-- A target not there yet: the file is taken again (its target looked up
-- again: a lookup that found nothing is not cached) with the backoff, until
-- target_wait seconds have passed since the first "not found". Said once.
function Outcomes:on_target_wait(rel, f, ev, now)
  local wt = self.queue:waiting_of(rel)
  local same = wt and wt.key == f.key and wt.target_since
  local since, attempt = same and wt.target_since or now, same and (wt.attempt + 1) or 1
  local delay = math.max(0, math.min(self.retry_cap, 2 ^ (attempt - 1), since + self.target_wait - now))
  self.queue:wait(rel, { key = f.key, due = now + delay, attempt = attempt, announced = f.announced,
    target_since = since, settled = f.settled })
  self.counts:retried()
  if attempt == 1 then
    local why = tostring((ev.err or {}).message)
    if ev.path and why:sub(1, #ev.path + 2) == ev.path .. ": " then why = why:sub(#ev.path + 3) end -- said once
    self.emit({ type = "waiting_for_target", rel = rel, path = ev.path, err = ev.err, retry_in = delay,
      wait = self.target_wait, message = "waiting for the target: " .. why })
  end
end

function Outcomes:on_failed(rel, f, ev, now)
  local e = ev.err or {}
  if self:retries(ev, f) then
    if e.code == "not_found" then return self:on_target_wait(rel, f, ev, now) end
    return self:on_transient(rel, f, ev, now)
  end
  self.queue:unwait(rel) -- final: no retry is due
  self.counts:failed_with(e.code)
  if ev.held_back then -- held back as a retry, final after all (the watch stopped since)
    ev.held_back = nil
    self.emit(ev)
  end
  if e.in_doubt or ev.was_in_doubt then
    -- the journal marks it: the next run registers it again; never moved or
    -- deleted, nor taken again by this run (a rules reload included)
    self.queue:hold_in_doubt(rel, f.key)
  else
    self.queue:hold(rel, f.key)
    if PERMANENT[e.code] then self.after:failure(rel) end
  end
end

-- Acts on the engine's outcomes gathered since the last call.
function Outcomes:handle(now)
  local list = self.list
  self.list = {}
  for _, ev in ipairs(list) do
    local rel, f = self.queue:land(ev.index)
    if rel then
      if ev.type == "done" then
        self:on_done(rel, f, ev, now)
      else
        self:on_failed(rel, f, ev, now)
      end
      -- changed while it was uploading: look again
      if not self.stopped then self.candidates:saw(rel) end
    end
  end
end

-- Files whose retry is due go to the engine again (unless they changed).
function Outcomes:retry_due(now)
  local rels, recs = self.queue:due(now)
  for i, rel in ipairs(rels) do
    local wt = recs[i]
    local info = self.core.stat(self.root .. "/" .. rel)
    if info and info.type == "file" and candidates_mod.key_of(info) == wt.key then
      self.queue:retrying(rel) -- re-armed by the next outcome
      self:take(rel, { key = wt.key, info = info, announced = wt.announced, settled = wt.settled })
    else
      self.queue:unwait(rel)
      if info then self.candidates:saw(rel, info) end
    end
  end
end

return Outcomes
