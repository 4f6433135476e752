-- `ion-upload watch`'s status line while ION is unreachable: "waiting for
-- ION since 08:12:03 (network), 3 files queued". On a terminal one line,
-- redrawn in place as the count changes, with other lines printed above it;
-- off a terminal a plain line when the wait starts and one when it ends,
-- with no control sequences (a log file reads them as they are).
local status = {}

local Status = {}
Status.__index = Status

local CLEAR = "\r\27[K"

-- opts: { out = stream (stderr), tty = boolean, width = columns }
function status.new(opts)
  return setmetatable({ out = opts.out, tty = opts.tty, width = math.max(20, opts.width or 80) }, Status)
end

local function fit(s, width)
  if #s < width then return s end
  return s:sub(1, width - 2) .. "…"
end

function Status:draw()
  self.out:write("\r", fit(self.text, self.width), "\27[K")
  self.out:flush()
  self.shown = true
end

--- A line for a person: above the status line, which is drawn again below it.
function Status:print(line)
  if self.shown then self.out:write(CLEAR) end
  self.out:write(line, "\n")
  if self.shown then self:draw() end
end

--- The wait starts or its text changes (nil text: nothing to show).
function Status:waiting(text)
  if not text then return end
  if not self.tty then
    if not self.active then self.out:write(text, "\n") end
    self.active = true
    return
  end
  self.active = true
  if text ~= self.text then
    self.text = text
    self:draw()
  end
end

--- The wait ends: the status line gives way to `text`.
function Status:resumed(text)
  if self.shown then self.out:write(CLEAR) end
  self.shown, self.active, self.text = false, false, nil
  self.out:write(text, "\n")
end

--- At exit: a status line still drawn keeps its text and ends its line.
function Status:close()
  if self.shown then self.out:write("\n") end
  self.shown = false
end

return status
