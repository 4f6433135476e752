-- What the watch specs share: stepping a watch to a condition (the deadline
-- only bounds a failure), and counting in the sandbox's attachments and in
-- the CLI's output.
local sandbox = require("support.sandbox")
local core = require("ion.upload.core")
local cjson = require("cjson")

local M = {}

-- Steps w until pred() or `limit` seconds (default 20): an error then.
function M.step_until(w, pred, limit)
  local deadline = core.now() + (limit or 20)
  while not pred() do
    if core.now() > deadline then error("timed out waiting", 2) end
    if w:step(0.2) then break end
  end
end

-- How many of the events (a list) are of type t.
function M.count(events, t)
  local n = 0
  for _, ev in ipairs(events) do
    if ev.type == t then n = n + 1 end
  end
  return n
end

-- The attachments the sandbox holds named `name`.
function M.count_filename(name)
  local n = 0
  for _, a in ipairs(sandbox.attachments()) do
    if a.filename == name then n = n + 1 end
  end
  return n
end

-- How often `plain` occurs in text.
function M.occurrences(text, plain)
  local n, at = 0, 1
  while true do
    local i, j = text:find(plain, at, true)
    if not i then return n end
    n, at = n + 1, j + 1
  end
end

-- The events of --json output, decoded.
function M.json_events(text)
  local out = {}
  for line in text:gmatch("[^\n]+") do out[#out + 1] = cjson.decode(line) end
  return out
end

return M
