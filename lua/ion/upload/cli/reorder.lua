-- Results as they complete, handed on in input order (ion-upload --json) or
-- in completion order, through a buffer whose size has a bound.
--
-- The bound: an input is let in (admit) only while fewer than `limit` are
-- let in and not yet handed on. A result that completes before those ahead
-- of it waits here, so at most limit - 1 results wait. The CLI sets limit
-- = 2 x (window + concurrency): a window registering while the next one
-- uploads, and the PUTs running; a slow file at the head holds back the
-- output and the intake, never the memory.
local reorder = {}

local Buffer = { __name = "ion.upload.cli.reorder" }
Buffer.__index = Buffer

--- limit: how many inputs may be in at once; in_order: hand results on in
-- input order (else as they complete); emit(i, value) hands one on.
function reorder.new(limit, in_order, emit)
  assert(type(limit) == "number" and limit >= 1, "reorder.new: limit must be 1 or more")
  return setmetatable({ limit = limit, in_order = in_order, emit = emit, admitted = 0, released = 0,
    next_i = 1, waiting = {}, held = 0, peak = 0 }, Buffer)
end

--- Whether another input may come in now.
function Buffer:room()
  return self.admitted - self.released < self.limit
end

--- Lets the next input in: its index (1, 2, ...).
function Buffer:admit()
  if not self:room() then error("reorder: no room (check room() first)", 2) end
  self.admitted = self.admitted + 1
  return self.admitted
end

--- Input i has its result.
function Buffer:done(i, value)
  if not self.in_order then
    self.released = self.released + 1
    self.emit(i, value)
    return
  end
  if i ~= self.next_i then -- an earlier one is still out: wait for it
    self.waiting[i] = value
    self.held = self.held + 1
    if self.held > self.peak then self.peak = self.held end
    return
  end
  self.waiting[i] = value
  self.held = self.held + 1
  while self.waiting[self.next_i] ~= nil do
    local k = self.next_i
    local v = self.waiting[k]
    self.waiting[k] = nil
    self.held = self.held - 1
    self.next_i = k + 1
    self.released = self.released + 1
    self.emit(k, v)
  end
end

--- Inputs let in and not yet handed on.
function Buffer:outstanding()
  return self.admitted - self.released
end

return reorder
