-- What happens to a file once its outcome is final: `after` (keep, move to
-- a folder keeping the relative path, delete) for a confirmed attachment,
-- and the `failed` folder for a permanent failure. Only ever called for
-- those two: a file in doubt is never moved or deleted.
local After = {}
After.__index = After

--- After.new(core, root, o, queue, emit) -> after: o, the watch's checked
-- options (after, move_to, failed); queue forgets a file moved or deleted.
function After.new(core, root, o, queue, emit)
  return setmetatable({ core = core, root = root, delete = o.after == "delete", move_to = o.move_to,
    failed = o.failed, queue = queue, emit = emit }, After)
end

-- The folders of rel under base (base itself must exist): true | nil, why.
local function make_parents(core, base, rel)
  local path = base
  for part in rel:gmatch("([^/]+)/") do
    path = path .. "/" .. part
    local ok, err = core.mkdir(path)
    if not ok then return nil, err.message end
  end
  return true
end

-- Moves rel to base/rel: ok, dest, why.
function After:move_under(base, rel)
  local dest = base .. "/" .. rel
  local ok, why = make_parents(self.core, base, rel)
  if ok then ok, why = os.rename(self.root .. "/" .. rel, dest) end
  return ok, dest, why
end

-- A confirmed attachment (its journal record written): keep, move or delete.
function After:success(rel, key)
  local abs = self.root .. "/" .. rel
  if self.delete then
    local ok, why = os.remove(abs)
    if ok then self.queue:forget(rel, key) end
    self.emit({ type = ok and "deleted" or "after_error", rel = rel, path = abs, message = (not ok) and why or nil })
  elseif self.move_to then
    local ok, dest, why = self:move_under(self.move_to, rel)
    if ok then self.queue:forget(rel, key) end
    self.emit({ type = ok and "moved" or "after_error", rel = rel, path = abs, to = dest,
      message = (not ok) and why or nil })
  end
end

-- A permanent failure, with a `failed` folder: moved there.
function After:failure(rel)
  if not self.failed then return end
  local ok, dest, why = self:move_under(self.failed, rel)
  self.emit({ type = ok and "moved" or "after_error", rel = rel, path = self.root .. "/" .. rel, to = dest,
    failed = true, message = (not ok) and why or nil })
end

return After
