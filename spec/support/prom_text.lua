-- A strict reader of Prometheus' text format 0.0.4, for the specs: every
-- line a HELP, a TYPE or a sample; names and labels by the grammar; a
-- family's TYPE once, before its samples; a histogram's buckets cumulative,
-- ending in +Inf equal to _count. parse(text) -> { families, samples } or
-- raises with the line at fault.
local M = {}

local NAME = "^[a-zA-Z_:][a-zA-Z0-9_:]*$"

local function fail(n, line, why) error(string.format("line %d %q: %s", n, line, why), 0) end

-- The labels of a sample from position i (after "{"): a table, and the position after "}".
local function labels(line, i, n)
  local out = {}
  while true do
    if line:sub(i, i) == "}" then return out, i + 1 end
    local name_end = line:find("=", i, true) or fail(n, line, "a label without =")
    local lname = line:sub(i, name_end - 1)
    if not lname:match("^[a-zA-Z_][a-zA-Z0-9_]*$") then fail(n, line, "bad label name " .. lname) end
    if line:sub(name_end + 1, name_end + 1) ~= '"' then fail(n, line, "an unquoted label value") end
    local j, buf = name_end + 2, {}
    while true do
      local c = line:sub(j, j)
      if c == "" then fail(n, line, "an unterminated label value") end
      if c == '"' then break end
      if c == "\\" then
        local e = line:sub(j + 1, j + 1)
        buf[#buf + 1] = ({ ["\\"] = "\\", ['"'] = '"', n = "\n" })[e] or fail(n, line, "a bad escape \\" .. e)
        j = j + 2
      else
        buf[#buf + 1] = c
        j = j + 1
      end
    end
    if out[lname] then fail(n, line, "label " .. lname .. " twice") end
    out[lname] = table.concat(buf)
    i = j + 1
    local c = line:sub(i, i)
    if c == "," then i = i + 1 elseif c ~= "}" then fail(n, line, "expected , or }") end
  end
end

local function value(s, n, line)
  if s == "+Inf" then return math.huge elseif s == "-Inf" then return -math.huge end
  if s == "NaN" then return 0 / 0 end
  return tonumber(s) or fail(n, line, "bad value " .. s)
end

local SUFFIX = { histogram = { "_bucket", "_sum", "_count" } }

local function family_of(families, name)
  if families[name] then return name end
  for _, sfx in ipairs(SUFFIX.histogram) do
    local base = name:sub(1, #name - #sfx)
    if name:sub(-#sfx) == sfx and families[base] and families[base].type == "histogram" then return base end
  end
  return nil
end

function M.parse(text)
  assert(text:sub(-1) == "\n", "the text must end in a line feed")
  local families, samples, n = {}, {}, 0
  for line in text:gmatch("([^\n]*)\n") do
    n = n + 1
    local kind, fname, rest = line:match("^# (%u+) (%S+) ?(.*)$")
    if kind == "HELP" then
      if not fname:match(NAME) then fail(n, line, "bad name") end
      families[fname] = families[fname] or { samples = {} }
      families[fname].help = rest
    elseif kind == "TYPE" then
      if not fname:match(NAME) then fail(n, line, "bad name") end
      local f = families[fname] or { samples = {} }
      families[fname] = f
      if f.type then fail(n, line, "TYPE twice") end
      if #f.samples > 0 then fail(n, line, "TYPE after samples") end
      if not ({ counter = true, gauge = true, histogram = true, summary = true, untyped = true })[rest] then
        fail(n, line, "bad type")
      end
      f.type = rest
    elseif line:sub(1, 1) == "#" or line == "" then
      fail(n, line, "a line that is neither HELP, TYPE nor a sample")
    else
      local name, i = line:match("^([a-zA-Z_:][a-zA-Z0-9_:]*)()")
      if not name then fail(n, line, "bad sample name") end
      local lbl = {}
      if line:sub(i, i) == "{" then lbl, i = labels(line, i + 1, n) end
      local v = line:sub(i):match("^ (%S+)$") or fail(n, line, "expected one value after a space")
      local base = family_of(families, name) or fail(n, line, "a sample without TYPE")
      local s = { name = name, labels = lbl, value = value(v, n, line) }
      table.insert(families[base].samples, s)
      samples[#samples + 1] = s
    end
  end
  for name, f in pairs(families) do
    if f.type == "histogram" then
      local last, count, inf = -1, nil, nil
      for _, s in ipairs(f.samples) do
        if s.name == name .. "_bucket" then
          assert(s.value >= last, name .. ": buckets not cumulative")
          last = s.value
          if s.labels.le == "+Inf" then inf = s.value end
        elseif s.name == name .. "_count" then
          count = s.value
        end
      end
      assert(inf ~= nil and inf == count, name .. ": +Inf bucket missing or not equal to _count")
    end
  end
  return { families = families, samples = samples }
end

-- The value of the sample `name` whose labels include `want` (nil: none).
function M.value(parsed, name, want)
  for _, s in ipairs(parsed.samples) do
    if s.name == name then
      local all = true
      for k, v in pairs(want or {}) do
        if s.labels[k] ~= v then all = false end
      end
      if all then return s.value end
    end
  end
  return nil
end

return M
