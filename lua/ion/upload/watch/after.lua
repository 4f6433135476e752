-- What happens to a file once its outcome is final: `after` (keep, move to
-- a folder keeping the relative path, delete) for a confirmed attachment,
-- and the `failed` folder for a permanent failure. Only ever called for
-- those two: a file in doubt is never moved or deleted. Methods of the
-- watch job (self), mixed in by ion.upload.watch.watcher.
local M = {}

-- The folders of rel under base (base itself must exist): true | nil, why.
function M:make_parents(base, rel)
  local path = base
  for part in rel:gmatch("([^/]+)/") do
    path = path .. "/" .. part
    local ok, err = self.core.mkdir(path)
    if not ok then return nil, err.message end
  end
  return true
end

-- Moves rel to base/rel: ok, dest, why.
function M:move_under(base, rel)
  local dest = base .. "/" .. rel
  local ok, why = self:make_parents(base, rel)
  if ok then ok, why = os.rename(self.root .. "/" .. rel, dest) end
  return ok, dest, why
end

-- A confirmed attachment (its journal record written): keep, move or delete.
-- A file moved or deleted is gone: nothing to remember it by (the same
-- bytes dropped in again are taken, skipped by the journal, and moved).
function M:forget(rel, key)
  self.uploaded.versions:remove(rel .. "\0" .. key)
  self.uploaded.paths:remove(rel)
end

function M:after_success(rel, key)
  local o, abs = self.o, self.root .. "/" .. rel
  if o.after == "delete" then
    local ok, why = os.remove(abs)
    if ok then self:forget(rel, key) end
    self.emit({ type = ok and "deleted" or "after_error", rel = rel, path = abs, message = (not ok) and why or nil })
  elseif o.move_to then
    local ok, dest, why = self:move_under(o.move_to, rel)
    if ok then self:forget(rel, key) end
    self.emit({ type = ok and "moved" or "after_error", rel = rel, path = abs, to = dest,
      message = (not ok) and why or nil })
  end
end

-- A permanent failure, with a `failed` folder: moved there.
function M:after_failure(rel)
  if not self.o.failed then return end
  local ok, dest, why = self:move_under(self.o.failed, rel)
  self.emit({ type = ok and "moved" or "after_error", rel = rel, path = self.root .. "/" .. rel, to = dest,
    failed = true, message = (not ok) and why or nil })
end

return M
