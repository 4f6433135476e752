-- `ion-upload watch`'s status line while ION is unreachable: "waiting for
-- ION since 08:12:03 (network), 3 files queued". On a terminal one line,
-- redrawn in place as the count changes, with other lines printed above it;
-- off a terminal a plain line when the wait starts and one when it ends,
-- with no control sequences (a log file reads them as they are). On a
-- terminal, while files upload, it reads "uploading NAME 45% (3 queued)".
local output = require("ion.upload.cli.output")

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

--- The engine's start, progress, done and error events (others are
-- ignored), on a terminal only: the line names the file that moved last;
-- queued: the watch's w:queued(). The wait for ION keeps its line.
function Status:transfer(ev, queued)
  local t = ev.type
  if not self.tty or not (t == "start" or t == "progress" or t == "done" or t == "error") then return end
  self.moving = self.moving or {}
  if t == "done" or t == "error" then
    self.moving[ev.index] = nil
    if self.last == ev.index then self.last = next(self.moving) end
  else
    self.moving[ev.index] = { name = ev.rel or ev.path, bytes = ev.bytes or 0, total = ev.total or 0 }
    self.last = ev.index
  end
  if self.active then return end
  local f = self.last and self.moving[self.last]
  if not f then
    if self.shown then self.out:write(CLEAR) end
    self.shown, self.text = false, nil
    return
  end
  local text = string.format("uploading %s %d%%", output.printable(f.name),
    f.total > 0 and math.floor(100 * f.bytes / f.total) or 0)
  if queued > 1 then text = text .. " (" .. (queued - 1) .. " queued)" end
  if text ~= self.text then
    self.text = text
    self:draw()
  end
end

--- At exit: a status line still drawn keeps its text and ends its line
-- (an upload's line goes).
function Status:close()
  if self.shown then self.out:write(self.active and "\n" or CLEAR) end
  self.shown = false
end

return status
