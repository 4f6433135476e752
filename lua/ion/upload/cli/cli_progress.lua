-- ion-upload's progress display on a terminal (stderr): one bar for the
-- batch (bytes, files, rate, ETA) and one line per file moving, redrawn in
-- place at most ten times a second. Messages (a failed file) are printed
-- above the bars. Off a terminal the CLI prints plain lines instead.
local output = require("ion.upload.cli.cli_output")

local progress = {}

local Display = {}
Display.__index = Display

local MAX_FILE_LINES = 4
local REDRAW = 0.1

-- opts: { out = file (stderr), width = columns, now = clock, files = n, bytes = total }
function progress.new(opts)
  return setmetatable({
    out = opts.out, width = math.max(40, opts.width or 80), now = opts.now,
    files = opts.files, bytes = opts.bytes,
    done_files = 0, sent = {}, sizes = {}, active = {}, order = {},
    drawn = 0, last = -1, started = opts.now(),
  }, Display)
end

local function bar(fraction, width)
  local fill = math.floor(fraction * width + 0.5)
  if fill >= width then return string.rep("=", width) end
  return string.rep("=", fill) .. ">" .. string.rep(" ", width - fill - 1)
end

local function clock(seconds)
  if not seconds or seconds ~= seconds or seconds == math.huge then return "--:--" end
  seconds = math.floor(seconds + 0.5)
  if seconds >= 3600 then
    return string.format("%d:%02d:%02d", math.floor(seconds / 3600), math.floor(seconds % 3600 / 60), seconds % 60)
  end
  return string.format("%d:%02d", math.floor(seconds / 60), seconds % 60)
end

local function fit(s, width)
  if #s <= width then return s end
  return "…" .. s:sub(-(width - 1))
end

function Display:bytes_done()
  local n = 0
  for _, v in pairs(self.sent) do n = n + v end
  return n
end

-- The lines of the display, for the terminal (and for specs).
function Display:lines()
  local elapsed = self.now() - self.started
  local done = self:bytes_done()
  local fraction = self.bytes > 0 and math.min(1, done / self.bytes) or (self.done_files / math.max(1, self.files))
  local rate = elapsed > 0 and done / elapsed or 0
  local eta = rate > 0 and (self.bytes - done) / rate or nil
  local stats = string.format(" %3d%%  %d/%d files  %s/%s  %s/s  ETA %s", math.floor(fraction * 100),
    self.done_files, self.files, output.size(done), output.size(self.bytes), output.size(rate), clock(eta))
  local bar_width = math.max(10, self.width - #stats - 3)
  local lines = { "[" .. bar(fraction, bar_width) .. "]" .. stats }
  local shown = 0
  for _, i in ipairs(self.order) do
    local a = self.active[i]
    if a and shown < MAX_FILE_LINES then
      shown = shown + 1
      local pct = a.total and a.total > 0 and math.floor(100 * (self.sent[i] or 0) / a.total) or 0
      local tail = string.format(" %3d%% of %s", pct, output.size(a.total))
      lines[#lines + 1] = "  " .. fit(a.path, self.width - #tail - 3) .. tail
    end
  end
  return lines
end

function Display:clear()
  if self.drawn > 0 then
    self.out:write(string.format("\r\27[%dA\27[J", self.drawn))
    self.drawn = 0
  end
end

function Display:draw(force)
  local now = self.now()
  if not force and now - self.last < REDRAW then return end
  self.last = now
  local lines = self:lines()
  self:clear()
  self.out:write(table.concat(lines, "\n"), "\n")
  self.out:flush()
  self.drawn = #lines
end

-- A line above the bars (a failure, a note).
function Display:message(line)
  self:clear()
  self.out:write(line, "\n")
  self:draw(true)
end

--- Feeds one upload_many event (index: the position in the display's list).
function Display:event(ev, index)
  local i = index or ev.index
  if ev.type == "start" then
    self.active[i] = { path = output.printable(ev.path), total = ev.total }
    self.order[#self.order + 1] = i
    self.sent[i] = 0
  elseif ev.type == "progress" then
    self.sent[i] = ev.bytes or 0
    if self.active[i] and ev.total then self.active[i].total = ev.total end
    -- All bytes sent: it waits for its registration, no longer moving.
    if ev.total and ev.bytes == ev.total then self:settle(i) end
  elseif ev.type == "done" or ev.type == "error" then
    self.done_files = self.done_files + 1
    self.sent[i] = self.sizes[i] or ev.total or self.sent[i] or 0
    self:settle(i)
  end
  self:draw(false)
end

function Display:settle(i)
  self.active[i] = nil
  for k, v in ipairs(self.order) do
    if v == i then
      table.remove(self.order, k)
      break
    end
  end
end

-- Sizes per index, so a finished (or failed) file counts all its bytes.
function Display:set_size(i, size)
  self.sizes[i] = size
end

function Display:finish()
  self:draw(true)
end

return progress
