-- Where each item starts: the journal's word on it (attached: skipped; in
-- storage: registered only), else its target is looked up first (once per
-- target and client: the entity cache).
local files = require("ion.upload.files")
local items_mod = require("ion.upload.engine.items")
local journal_mod = require("ion.upload.journal.file")
local targets = require("ion.upload.targets")

local M = {}

local Plan = {}
Plan.__index = Plan

--- svc: the run's shared services (core, outcomes); journal: the run's
-- (or nil); lookups: the stage where an item waits for its target;
-- keep_all: every item is kept (client:plan answers about each).
function M.new(svc, journal, lookups, keep_all)
  local self = setmetatable({ core = svc.core, out = svc.outcomes, journal = journal, lookups = lookups,
    all = keep_all and {} or nil }, Plan)
  lookups:on_found(function(item) self:found(item) end)
  return self
end

-- Every item planned, by index (kept only when asked: new(..., keep_all)).
function Plan:items()
  return self.all
end

-- The journal's state of a checked item (nil without a journal); false, err
-- when its key cannot be made.
local function journal_state(self, item)
  if not self.journal then return nil end
  local key, kerr = items_mod.journal_key(self.core, journal_mod, item)
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

-- What the journal says of an item: failed, skipped, or on (`go`: to the
-- lookups, or past them for an item whose target was found by name).
local function decide(self, item, state, go)
  if state and state.attached then
    return self.out:succeed(item, attachment_from_journal(state.attached), true)
  end
  if item.read_unchecked and not self.core.readable(item.path) then
    -- items.check leaves this to files that may be read (not those skipped)
    return self.out:fail(item, select(2, files.unreadable(item.path)))
  end
  if state and state.put then
    item.put = { s3Key = state.put.s3Key, etag = state.put.etag, md5 = state.put.md5, size = item.size,
      sha256 = state.put.sha256 }
    item.from_journal = true
    item.in_doubt_before = (state.in_doubt or state.registering) or nil
  end
  go(item)
end

--- Sorts the checked items by what the journal says: failed, skipped, or
-- on to their target's lookup. An item whose target is found by name asks
-- the journal once the lookup found it (Plan:found): its key names the
-- object found, and a name may point elsewhere tomorrow.
function Plan:plan(records)
  local join = function(item) self.lookups:join(item) end
  for _, item in ipairs(records) do
    item.attempts = 0
    item.state = "new"
    self.out:track(item) -- until its result is final
    if self.all then self.all[item.index] = item end
    local state, serr
    if not item.err and type(item.id) ~= "table" then state, serr = journal_state(self, item) end
    if item.err or state == false then
      self.out:fail(item, item.err or serr)
    elseif type(item.id) == "table" then
      join(item)
    else
      decide(self, item, state, join)
    end
  end
end

-- An item whose target was found by name (item.found_id): the journal's
-- word under the key of the object found, then on past the lookups.
function Plan:found(item)
  item.journal_target = targets.cache_key(item.kind, item.found_id)
  local state, serr = journal_state(self, item)
  if state == false then return self.out:fail(item, serr) end
  decide(self, item, state, function(it) self.lookups:pass(it) end)
end

return M
