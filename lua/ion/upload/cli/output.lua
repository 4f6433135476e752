-- What ion-upload prints about each file: JSON lines (--json, stdout, in
-- input order) and plain lines for a person or a log. Never a URL's query
-- string or a token: errors are scrubbed by the library, and attachments'
-- downloadUrl is not printed at all.
local cjson = require("cjson")
local hints = require("ion.upload.cli.hints")

local output = {}

-- cjson writes "/" as "\/": valid JSON, but paths read better without it
-- (a "/" is always escaped, so every "\/" is one and the swap is exact).
local function enc(v)
  if v == nil then return nil end
  return (cjson.encode(v):gsub("\\/", "/"))
end

-- Appends "key":value to an object's parts when the value is there. The keys
-- come JSON-quoted (constants): one line per file of a million builds no
-- table per field.
local function field(parts, quoted_key, value)
  if value ~= nil then parts[#parts + 1] = quoted_key .. value end
end

local function object(parts)
  return "{" .. table.concat(parts, ",") .. "}"
end

--- The --json line of one result (keys in the order of docs/api.md, "--json").
function output.json_line(path, result)
  local parts = {}
  field(parts, '"path":', enc(path))
  if result.ok then
    local a = result.attachment or {}
    parts[#parts + 1] = '"ok":true'
    field(parts, '"id":', enc(a.id))
    field(parts, '"entityId":', enc(a.entityId))
    field(parts, '"filename":', enc(a.filename))
    field(parts, '"size":', enc(a.size))
    field(parts, '"md5":', enc(a.md5))
    if result.skipped then parts[#parts + 1] = '"skipped":true' end
    -- registered again: check for a duplicate
    if result.was_in_doubt then parts[#parts + 1] = '"was_in_doubt":true' end
    return object(parts)
  end
  local e = result.err or {}
  parts[#parts + 1] = '"ok":false'
  local err = {}
  field(err, '"code":', enc(e.code))
  field(err, '"message":', enc(e.message))
  field(err, '"hint":', enc(hints.of(e)))
  parts[#parts + 1] = '"error":' .. object(err)
  return object(parts)
end

function output.size(n)
  n = n or 0
  if n < 1024 then return string.format("%d B", math.floor(n)) end -- a rate: 119.3 B/s
  local units = { "KiB", "MiB", "GiB", "TiB" }
  local i = 0
  repeat
    n = n / 1024
    i = i + 1
  until n < 1024 or i == #units
  return string.format("%.1f %s", n, units[i])
end

-- Control characters (a CR or LF in a file name, an ANSI escape, and the C1
-- controls in UTF-8 such as U+009B, a one-character CSI) written as \ddd, so
-- that one file stays one line of a log and cannot rewrite the screen. Used
-- for every string a file name or a server gave.
local function printable(s)
  s = tostring(s):gsub("%c", function(c) return string.format("\\%03d", c:byte()) end)
  return (s:gsub("\194([\128-\159])", function(c) return string.format("\\194\\%03d", c:byte()) end))
end
output.printable = printable

--- The message of err without a leading "path: " (the line names the file
-- already); lib_path: the library's name for it, when not the same.
function output.message_without_path(err, path, lib_path)
  local m = tostring(err.message)
  for _, p in ipairs({ path, lib_path }) do
    if type(p) == "string" and m:sub(1, #p + 2) == p .. ": " then return m:sub(#p + 3) end
  end
  return m
end

--- The plain line of one result (lib_path: see message_without_path).
function output.plain_line(path, result, lib_path)
  local e = result.err
  local shown = path
  path = printable(path)
  if result.ok then
    local a = result.attachment or {}
    if result.skipped then
      return string.format("skip  %s (already attachment %s, per the journal)", path, printable(a.id))
    end
    return string.format("ok    %s -> attachment %s on entity %s (%s)", path, printable(a.id), printable(a.entityId),
      output.size(a.size))
  end
  if type(e) == "table" and e.code ~= nil then
    e = hints.text(e, output.message_without_path(e, shown, lib_path))
  end
  return string.format("FAIL  %s: %s", path, printable(e))
end

-- Reasons to stop that are the configuration's (exit 2, as a usage error):
-- a rejected token, an endpoint that is not ION.
output.configuration = { auth = true, protocol = true }

--- The one line that says why a run stopped (hints: cli/hints.lua).
function output.stopped_line(why)
  return "ion-upload: stopped: " .. printable(hints.text(why))
end

--- Is err (a file's) the run's reason to stop (why: job:stopping()), not
-- its own? Its line is then left out and the reason said once. A file in
-- doubt keeps its line.
function output.same_failure(err, why)
  if type(err) ~= "table" or not why or err.in_doubt or err.code ~= why.code then return false end
  local m, w = tostring(err.message), tostring(why.message)
  return m:sub(-#w) == w -- the reason's message, maybe after the file's path
end

--- The -v line of one request (upload.new's on_request): "POST api.example.com
-- 200 0.123 s (graphql)"; a failure names its code instead of a status. The
-- host comes from a server's URL: escaped.
function output.request_line(info)
  local outcome = info.status and tostring(info.status) or ("failed: " .. tostring(info.error))
  return string.format("%s %s %s %.3f s (%s)", info.method, output.printable(info.host), output.printable(outcome),
    info.seconds, info.kind)
end

-- A run that selected no file: said on stderr, not a failure (exit 0: an
-- empty folder in a cron job is normal), and not under --quiet.
output.nothing_selected = "ion-upload: warning: no file selected, nothing uploaded (empty folders, or every file "
  .. "left out by --include/--exclude or as hidden)"

function output.summary_line(summary, interrupted)
  local s = string.format("ion-upload: %d attached, %d skipped, %d failed", summary.ok, summary.skipped, summary.failed)
  if summary.in_doubt > 0 then
    s = s .. string.format(" (%d in doubt from an earlier run registered again)", summary.in_doubt)
  end
  s = s .. string.format("; %s in %.1f s", output.size(summary.bytes), summary.seconds)
  if interrupted then s = s .. "; interrupted: run the same command again to finish" end
  return s
end

return output
