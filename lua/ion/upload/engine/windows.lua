-- The windows of a run: the items of one URL document are a window, and a
-- window's finished files may wait (within the linger) for its other PUTs,
-- so that they share a registration document. A window counts its items whose
-- PUT has not ended. The URL stage opens windows, the PUT stage and a
-- failure close an item's part in one, the registration stage asks.
local M = {}

local Windows = {}
Windows.__index = Windows

function M.new()
  return setmetatable({ pending = {}, opened = 0 }, Windows)
end

-- A new window for the items of one URL document (an item asking again
-- keeps the window it had).
function Windows:open(chunk)
  self.opened = self.opened + 1
  local w = self.opened
  for _, item in ipairs(chunk) do
    if not item.window then
      item.window = w
      self.pending[w] = (self.pending[w] or 0) + 1
    end
  end
end

-- An item no longer holds up its window's registrations (PUT done, or failed).
function Windows:leave(item)
  if item.window and not item.left_window then
    item.left_window = true
    local left = self.pending[item.window] - 1
    self.pending[item.window] = left > 0 and left or nil -- a month-long job keeps no count of 0
  end
end

-- Window w (nil: none) still has a PUT to end.
function Windows:waiting(w)
  return w ~= nil and (self.pending[w] or 0) > 0
end

return M
