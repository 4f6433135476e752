-- ion-upload's progress display on a terminal (stderr): one bar for the
-- batch (bytes, files, rate, ETA) and one line per file moving, redrawn in
-- place at most ten times a second. Messages (each file's line, a note) are
-- printed above the bars. Off a terminal the CLI prints plain lines instead
-- (log_progress.lua). The counting is tally.lua's.
local output = require("ion.upload.cli.output")
local tally = require("ion.upload.cli.tally")

local progress = {}

local Display = {}
Display.__index = Display

local MAX_FILE_LINES = 4
local REDRAW = 0.1

progress.sizes = tally.sizes

-- opts: { out = file (stderr), width = columns, now = clock, files = n, bytes = total }
function progress.new(opts)
  return setmetatable({
    out = opts.out, width = math.max(40, opts.width or 80), now = opts.now,
    tally = tally.new(opts), drawn = 0, last = -1,
  }, Display)
end

local function bar(fraction, width)
  local fill = math.floor(fraction * width + 0.5)
  if fill >= width then return string.rep("=", width) end
  return string.rep("=", fill) .. ">" .. string.rep(" ", width - fill - 1)
end

local function fit(s, width)
  if #s <= width then return s end
  return "…" .. s:sub(-(width - 1))
end

-- The tail of a file's line: its share sent, or that it waits for its turn.
local function file_tail(f)
  if f.state == "waiting" then return string.format(" waiting, %s", output.size(f.total)) end
  local pct = f.total and f.total > 0 and math.floor(100 * f.sent / f.total) or 0
  return string.format(" %3d%% of %s%s", pct, output.size(f.total), f.state == "stalled" and ", stalled" or "")
end

-- The lines of the display, for the terminal (and for specs).
function Display:lines()
  local t = self.tally
  local s = t:stats()
  local stats = string.format(" %3d%%  %s  %s/%s  %s/s  ETA %s", math.floor(s.fraction * 100), t:files_text(),
    output.size(s.bytes_done), output.size(t.bytes), output.size(s.rate), tally.clock(s.eta))
  local bar_width = math.max(10, self.width - #stats - 3)
  local lines = { "[" .. bar(s.fraction, bar_width) .. "]" .. stats }
  for _, f in ipairs(t:moving(MAX_FILE_LINES)) do
    local tail = file_tail(f)
    lines[#lines + 1] = "  " .. fit(f.path, self.width - #tail - 3) .. tail
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

-- A line above the bars (a file's result, a note).
function Display:message(line)
  self:clear()
  self.out:write(line, "\n")
  self:draw(true)
end

--- Feeds one upload_many event (index: the position in the display's list).
function Display:event(ev, index)
  self.tally:event(ev, index)
  self:draw(false)
end

-- Sizes per index: a file that ends takes its size off the bytes to send.
function Display:set_size(i, size)
  self.tally:set_size(i, size)
end

-- One more file (and its size) to count, as the input streams in.
function Display:add_file(i, size)
  self.tally:add_file(i, size)
end

function Display:finish()
  self:draw(true)
end

return progress
