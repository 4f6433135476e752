-- The engine's first stage: the distinct targets of the items, looked up to
-- the entity ids that registrations want, many per aliased document, and
-- kept in the client's entity cache (ion.upload.targets). An item whose
-- target is known goes on to the next stage (the URLs), or, in a run that
-- stops after the lookups (client:plan), is planned.
local errors = require("ion.upload.errors")
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

-- The entity id of a target found (by its cache key), or nil.
function Lookups:entity_id(key)
  local t = self.targets[key]
  return t and t.state == "ok" and t.entity_id or nil
end

function Lookups:pass(item)
  if self.next then return self.next:queue(item) end
  item.state = "planned" -- where upload_many would ask its URL
end

--- The item waits for its target: known (cache, entity_id), asked, or failed.
function Lookups:join(item)
  item.state = "resolving"
  local t = self.targets[item.target_key]
  if t and t.state == "failed" and t.err and t.err.retryable then
    -- a transient failure (ION was down) is no answer about the target: an
    -- item added later (an open job, a watched folder) asks again
    t = nil
  end
  if not t then
    t = { key = item.target_key, kind = item.kind, id = item.id, items = {} }
    self.targets[item.target_key] = t
    local cached = self.ctx.entities.get(item.kind, item.id)
    if cached then
      t.state, t.entity_id = "ok", cached
    else
      t.state = "pending"
      self.queue[#self.queue + 1] = t
    end
  end
  if t.state == "pending" then
    t.items[#t.items + 1] = item -- until the lookup answers (target_resolved lets them go)
  elseif t.state == "ok" then
    self:pass(item)
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
  local waiting = target.items
  target.items = {}
  for _, item in ipairs(waiting) do
    if not FINAL[item.state] then
      local e = errors.copy(err)
      if not as_is then e.message = item.path .. ": " .. e.message end
      self.out:fail(item, e)
    end
  end
end

function Lookups:target_resolved(target, entity_id)
  target.state, target.entity_id = "ok", entity_id
  self.ctx.entities.put(target.kind, target.id, entity_id)
  local waiting = target.items
  target.items = {}
  for _, item in ipairs(waiting) do
    if item.state == "resolving" then self:pass(item) end
  end
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
  local eid, err = targets.lookup_result(target.kind, target.id, out)
  if not eid then return self:target_failed(target, err) end
  self:target_resolved(target, eid)
end

-- Sends the lookups waiting, a window of targets per document.
function Lookups:start()
  while #self.queue > 0 and self.docs:room() and self.out:may_start() do
    local chunk, entries = {}, {}
    while #chunk < self.W and #self.queue > 0 do
      local t = table.remove(self.queue, 1)
      chunk[#chunk + 1] = t
      entries[#entries + 1] = { field = targets.by_key[t.kind].field, value = t.id }
    end
    self.docs:send_query("entity", "ResolveTargets", entries, function(outs)
      for i, t in ipairs(chunk) do self:answer(t, outs[i]) end
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
