-- The engine's first stage: the distinct targets of the items, looked up to
-- the entity ids that registrations want, many per aliased document, and
-- kept in the client's entity cache (ion.upload.targets).
local errors = require("ion.upload.errors")
local targets = require("ion.upload.targets")

local FINAL = { done = true, failed = true, skipped = true }

local M = {}

-- err names the target, so each file's message names the file too; not
-- when `as_is` (the job was stopped: the message is the caller's reason).
function M.target_failed(self, target, err, as_is)
  target.state, target.err = "failed", err
  local waiting = target.items
  target.items = {}
  for _, item in ipairs(waiting) do
    if not FINAL[item.state] then
      local e = errors.copy(err)
      if not as_is then e.message = item.path .. ": " .. e.message end
      self:fail(item, e)
    end
  end
end

function M.target_resolved(self, target, entity_id)
  target.state, target.entity_id = "ok", entity_id
  self.ctx.entities.put(target.kind, target.id, entity_id)
  local waiting = target.items
  target.items = {}
  for _, item in ipairs(waiting) do
    if item.state == "resolving" then self:queue_item(item) end
  end
end

function M.resolve_answer(self, target, out)
  if out.resend then
    target.resends = (target.resends or 0) + 1
    if target.resends > self.ctx.cfg.retries + 1 then
      return self:target_failed(target, errors.new("protocol", "the lookup of " .. target.key .. " never ran"))
    end
    self.target_queue[#self.target_queue + 1] = target
    return
  end
  if out.err and out.err.code == "aborted" and self.abort_err then
    return self:target_failed(target, out.err, true) -- the stop's reason, as at every stage
  end
  local eid, err = targets.lookup_result(target.kind, target.id, out)
  if not eid then return self:target_failed(target, err) end
  self:target_resolved(target, eid)
end

function M.send_lookups(self)
  while #self.target_queue > 0 and self.gql_out < self.C and not (self.abort_err or self.drain_err) do
    local chunk, entries = {}, {}
    while #chunk < self.W and #self.target_queue > 0 do
      local t = table.remove(self.target_queue, 1)
      chunk[#chunk + 1] = t
      entries[#entries + 1] = { field = targets.by_key[t.kind].field, value = t.id }
    end
    self:send_query("entity", "ResolveTargets", entries, function(outs)
      for i, t in ipairs(chunk) do self:resolve_answer(t, outs[i]) end
    end)
  end
end

return M
