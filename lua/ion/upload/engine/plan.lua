-- Where each item starts: the journal's word on it (attached: skipped; in
-- storage: registered only), else its target is looked up first (once per
-- target and client: the entity cache).
local errors = require("ion.upload.errors")
local files = require("ion.upload.files")
local items_mod = require("ion.upload.engine.items")
local journal_mod = require("ion.upload.journal")

local M = {}

-- The journal's state of a checked item (nil without a journal); false, err
-- when its key cannot be made.
local function journal_state(self, item)
  if not self.journal then return nil end
  local key, kerr = items_mod.journal_key(self.clock, journal_mod, item)
  if not key then return false, kerr end
  item.key = key
  return self.journal:resume_state(key)
end

-- An attachment as the journal wrote it (JSON gave 4242.0 for 4242). The
-- table is the journal's fresh decode of its line, so it is fixed in place.
local tointeger = math.tointeger
local function attachment_from_journal(attached)
  if not tointeger then return attached end -- before 5.3 there is one number type
  for k, v in pairs(attached) do
    if type(v) == "number" then attached[k] = tointeger(v) or v end
  end
  return attached
end

-- The item waits for its target: known (cache, entity_id), asked, or failed.
function M.join_target(self, item)
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
      self.target_queue[#self.target_queue + 1] = t
    end
  end
  if t.state == "pending" then
    t.items[#t.items + 1] = item -- until the lookup answers (engine/lookups.lua lets them go)
  elseif t.state == "ok" then
    self:queue_item(item)
  elseif t.state == "failed" then -- an item added after its target failed
    local e = errors.copy(t.err)
    e.message = item.path .. ": " .. e.message
    self:fail(item, e)
  end
end

-- Sorts the checked items by what the journal says.
function M.plan(self, records)
  for _, item in ipairs(records) do
    item.attempts = 0
    item.state = "new"
    self.count = self.count + 1
    self.live[item.index] = item -- until its result is final (outcomes.lua)
    if self.all_items then self.all_items[item.index] = item end -- client:plan reads them all
    local state, serr
    if not item.err then state, serr = journal_state(self, item) end
    if item.err or state == false then
      self:fail(item, item.err or serr)
    elseif state and state.attached then
      self:succeed(item, attachment_from_journal(state.attached), true)
    elseif item.read_unchecked and not self.clock.readable(item.path) then
      -- items.check leaves this to files that may be read (not those skipped)
      self:fail(item, select(2, files.unreadable(item.path)))
    else
      if state and state.put then
        item.put = { s3Key = state.put.s3Key, etag = state.put.etag, md5 = state.put.md5, size = item.size,
          sha256 = state.put.sha256 }
        item.from_journal = true
        item.in_doubt_before = (state.in_doubt or state.registering) or nil
      end
      self:join_target(item)
    end
  end
end

return M
