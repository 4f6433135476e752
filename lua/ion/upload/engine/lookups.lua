-- The engine's first stage: the distinct targets of the items, looked up to
-- the entity ids that registrations want, many per aliased document, and
-- kept in the client's entity cache (ion.upload.targets). A target found by
-- name (ion.upload.targets.by_name) is a list query, or a run's steps; a run step of
-- a run found by a filter waits for that run's own lookup (the next window).
-- An item whose target is known goes on to the next stage (the URLs), or, in
-- a run that stops after the lookups (client:plan), is planned; an item
-- found by name sees the journal first (its key names the object found).
local errors = require("ion.upload.errors")
local lookup = require("ion.upload.targets.by_name")
local answer = require("ion.upload.graphql.lookups")
local targets = require("ion.upload.targets")
local FINAL = require("ion.upload.engine.outcomes").FINAL

local M = {}

local Lookups = {}
Lookups.__index = Lookups

--- svc: the run's shared services (ctx, outcomes, docs); opts: window (W).
function M.new(svc, opts)
  return setmetatable({ ctx = svc.ctx, out = svc.outcomes, docs = svc.docs, W = opts.window,
    targets = {}, queue = {} }, Lookups)
end

-- The stage items go on to once their target is known (nil: none, the run
-- stops after the lookups).
function Lookups:link(stages)
  self.next = stages.urls
end

-- fn(item) hears of an item whose target was found by name, before it goes
-- on (engine/resume.lua: the journal's word, then Lookups:pass).
function Lookups:on_found(fn)
  self.found = fn
end

-- The entity id of a target found (by its cache key), or nil.
function Lookups:entity_id(key)
  local t = self.targets[key]
  return t and t.state == "ok" and t.entity_id or nil
end

--- The item goes on: to the next stage, or planned.
function Lookups:pass(item)
  if self.next then return self.next:queue(item) end
  item.state = "planned" -- where upload_many would ask its URL
end

local function release(self, item, t)
  if t.form then
    item.found_id = t.found_id
    if self.found then return self.found(item) end
  end
  self:pass(item)
end

-- Another look at a target that failed for a reason that may pass: ION was
-- down, or nothing matched a name yet (the run may be created later).
local function ask_again(t)
  local err = t.err
  return err and (err.retryable or (t.form and err.code == "not_found"))
end

-- How target t is asked, once what it needs is known: t.ask = { entry,
-- akey (one alias per akey in a window), read(value) -> id, eid | nil, err }.
local function ask(self, t, run_id, run_label)
  local form = t.form
  local entry, akey, read
  if not form then
    entry, akey = { field = targets.by_key[t.kind].field, value = t.id }, t.key
  elseif form.list then
    entry, akey = answer.list_entry(form)
    read = function(v) return answer.one(form, v) end
  elseif run_id then
    entry, akey = answer.run_entry(run_id)
    read = function(v) return answer.from_run(form, run_label, v) end
  else -- a run step field of a run step given by its id
    entry, akey = answer.run_step_entry(form.run_step)
    read = function(v) return answer.from_run_step(form, v) end
  end
  t.state, t.ask = "pending", { entry = entry, akey = akey, read = read }
  self.queue[#self.queue + 1] = t
end

-- The target of key (kind, id), made and asked when new.
function Lookups:target(key, kind, id)
  local t = self.targets[key]
  if t and t.state == "failed" and ask_again(t) then t = nil end
  if t then return t end
  local form = type(id) == "table" and id or nil
  t = { key = key, kind = kind, id = id, form = form, items = {}, deps = {} }
  self.targets[key] = t
  local cached, found = self.ctx.entities.get(kind, id)
  if cached then
    t.state, t.entity_id, t.found_id = "ok", cached, found or id
    return t
  end
  local run = form and lookup.run_of(form)
  if type(run) ~= "table" then
    ask(self, t, run, run and ("run " .. run))
    return t
  end
  local parent = self:target(run.key, "run", run) -- the run first, found by its filter
  t.state = "pending"
  if parent.state == "pending" then
    parent.deps[#parent.deps + 1] = t
  else
    self:parent_done(t, parent)
  end
  return t
end

-- Target t's run was found (or not): t is asked about its steps, or fails.
function Lookups:parent_done(t, parent)
  if parent.state == "failed" then return self:target_failed(t, errors.copy(parent.err)) end
  ask(self, t, parent.found_id, "run " .. parent.found_id .. " (" .. lookup.describe_where(parent.form.where) .. ")")
end

--- The item waits for its target: known (cache, entity_id), asked, or failed.
function Lookups:join(item)
  item.state = "resolving"
  local t = self:target(item.target_key, item.kind, item.id)
  if t.state == "pending" then
    t.items[#t.items + 1] = item -- until the lookup answers (target_resolved lets them go)
  elseif t.state == "ok" then
    release(self, item, t)
  elseif t.state == "failed" then -- an item added after its target failed
    local e = errors.copy(t.err)
    e.message = item.path .. ": " .. e.message
    self.out:fail(item, e)
  end
end

-- err names the target, so each file's message names the file too; not
-- when `as_is` (the job was stopped: the message is the caller's reason).
function Lookups:target_failed(target, err, as_is)
  target.state, target.err = "failed", err
  local waiting, deps = target.items, target.deps
  target.items, target.deps = {}, {}
  for _, item in ipairs(waiting) do
    if not FINAL[item.state] then
      local e = errors.copy(err)
      if not as_is then e.message = item.path .. ": " .. e.message end
      self.out:fail(item, e)
    end
  end
  for _, dep in ipairs(deps) do self:target_failed(dep, errors.copy(err), as_is) end
end

function Lookups:target_resolved(target, entity_id, found_id)
  target.state, target.entity_id, target.found_id = "ok", entity_id, found_id
  self.ctx.entities.put(target.kind, target.id, entity_id, target.form and found_id)
  if target.form then self.ctx.entities.put(target.kind, found_id, entity_id) end
  local waiting, deps = target.items, target.deps
  target.items, target.deps = {}, {}
  for _, item in ipairs(waiting) do
    if item.state == "resolving" then release(self, item, target) end
  end
  for _, dep in ipairs(deps) do self:parent_done(dep, target) end
end

function Lookups:answer(target, out)
  if out.resend then
    target.resends = (target.resends or 0) + 1
    if target.resends > self.ctx.cfg.retries + 1 then
      return self:target_failed(target, errors.new("protocol", "the lookup of " .. target.key .. " never ran"))
    end
    self.queue[#self.queue + 1] = target
    return
  end
  if out.err and out.err.code == "aborted" and self.out:stopped() then
    return self:target_failed(target, out.err, true) -- the stop's reason, as at every stage
  end
  local read = target.ask.read
  if not read then
    local eid, err = targets.lookup_result(target.kind, target.id, out)
    if not eid then return self:target_failed(target, err) end
    return self:target_resolved(target, eid, target.id)
  end
  if out.err then return self:target_failed(target, out.err) end
  local id, eid = read(out.value)
  if not id then return self:target_failed(target, eid) end
  self:target_resolved(target, eid, id)
end

-- A document refused as a whole (HTTP 400: it did not validate, e.g. a
-- filter naming a field ION does not have) says nothing of which target was
-- wrong: each is asked again in a document of its own, so only that one fails.
local function refused_whole(outs, n)
  local err = n > 1 and outs[1] and outs[1].err
  return err and err.status == 400
end

-- Sends the lookups waiting, a window of distinct fields per document (the
-- targets asking the same field share its alias).
function Lookups:start()
  while #self.queue > 0 and self.docs:room() and self.out:may_start() do
    local chunk, entries, index, at, solo = {}, {}, {}, {}, false
    while #self.queue > 0 do
      local t = self.queue[1]
      local i = index[t.ask.akey]
      if not i then
        if solo or #entries >= self.W or (t.alone and #entries > 0) then break end
        solo = t.alone == true
        i = #entries + 1
        entries[i], index[t.ask.akey] = t.ask.entry, i
      end
      table.remove(self.queue, 1)
      chunk[#chunk + 1], at[#chunk + 1] = t, i
    end
    local n = #entries
    self.docs:send_query("entity", "ResolveTargets", entries, function(outs)
      if refused_whole(outs, n) then
        for _, t in ipairs(chunk) do
          t.alone = true
          self.queue[#self.queue + 1] = t
        end
        return
      end
      for k, t in ipairs(chunk) do self:answer(t, outs[at[k]]) end
    end)
  end
end

-- Nothing of this stage waits for a time.
function Lookups.next_due()
  return nil
end

-- The run drains: no lookup is sent (the items waiting for one fail).
function Lookups:drain()
  self.queue = {}
end

return M
