-- A `where` filter written as a GraphQL input literal: the one place where
-- query text is built from a caller's values. ION names its filter input
-- types irregularly (RunsInputFilters, StepsFilters, …), so a filter can't
-- travel as a typed variable without guessing a type name; as a literal it
-- needs none. Keys must be GraphQL names and every string is escaped, so no
-- caller text ever becomes GraphQL syntax. The text is canonical (keys
-- sorted), so it doubles as the filter's cache key.
local errors = require("ion.upload.errors")

local literal = {}

-- A string longer than this is no title or serial number; a deeper or wider
-- filter is no filter a station writes.
literal.max_string = 1000
literal.max_depth = 6
literal.max_values = 100

local Enum = { __name = "ion.upload.enum" }
Enum.__index = Enum
function Enum.__tostring(e) return e.name end

local NAME = "^[_A-Za-z][_0-9A-Za-z]*$"
local RESERVED = { ["true"] = true, ["false"] = true, ["null"] = true }

local function bad(message, hint)
  return nil, errors.new("bad_input", message, { hint = hint or "Write where as { field = { eq = value } }, "
    .. "with GraphQL field names, and strings, numbers, booleans or upload.enum(\"NAME\") as values" })
end

--- upload.enum("IN_PROGRESS"): an enum value in a where filter (a string
-- would be sent quoted, which GraphQL refuses for an enum field).
function literal.enum(name)
  if type(name) ~= "string" or not name:find(NAME) or RESERVED[name] then
    error("upload.enum expects a GraphQL enum name such as \"IN_PROGRESS\", got " .. tostring(name), 2)
  end
  return setmetatable({ name = name }, Enum)
end

function literal.is_enum(v)
  return getmetatable(v) == Enum
end

-- Valid UTF-8 only: the document travels in a JSON body, and a server would
-- refuse (or mangle) a string that isn't text.
local function utf8_valid(s)
  local i, n = 1, #s
  while i <= n do
    local c = s:byte(i)
    local extra, min
    if c < 0x80 then extra, min = 0, 0
    elseif c >= 0xC2 and c <= 0xDF then extra, min = 1, 0x80
    elseif c >= 0xE0 and c <= 0xEF then extra, min = 2, 0x800
    elseif c >= 0xF0 and c <= 0xF4 then extra, min = 3, 0x10000
    else return false end
    local cp = extra == 0 and c or c % (2 ^ (6 - extra))
    for k = 1, extra do
      local b = s:byte(i + k)
      if not b or b < 0x80 or b > 0xBF then return false end
      cp = cp * 64 + b % 64
    end
    if cp < min or cp > 0x10FFFF or (cp >= 0xD800 and cp <= 0xDFFF) then return false end
    i = i + extra + 1
  end
  return true
end

-- GraphQL's string escapes: the quote, the backslash, and every control
-- character as \uXXXX (a raw newline would end a GraphQL string).
local function quote(s)
  return '"' .. s:gsub('[%c"\\]', function(ch)
    if ch == '"' then return '\\"' elseif ch == "\\" then return "\\\\" end
    return string.format("\\u%04X", ch:byte())
  end) .. '"'
end

local function number_text(v)
  if v ~= v or v == math.huge or v == -math.huge then return nil end
  if v == math.floor(v) and math.abs(v) < 2 ^ 53 then return string.format("%d", v) end
  return string.format("%.17g", v)
end

-- Whether t is a non-empty sequence 1..n and nothing else.
local function is_list(t)
  local n = #t
  if n == 0 then return false end
  local count = 0
  for _ in pairs(t) do count = count + 1 end
  return count == n
end

local write -- forward: values and objects nest

local function write_value(v, depth, budget, where)
  local tv = type(v)
  if tv == "string" then
    if #v > literal.max_string then
      return bad(where .. " is " .. #v .. " bytes long; at most " .. literal.max_string .. " are allowed")
    end
    if not utf8_valid(v) then return bad(where .. " is not valid UTF-8") end
    return quote(v)
  elseif tv == "number" then
    local s = number_text(v)
    if not s then return bad(where .. " is not a finite number") end
    return s
  elseif tv == "boolean" then
    return tostring(v)
  elseif literal.is_enum(v) then
    return v.name
  elseif tv == "table" then
    return write(v, depth + 1, budget, where)
  end
  return bad(where .. " is a " .. tv .. "; a filter holds strings, numbers, booleans and upload.enum values")
end

function write(t, depth, budget, where)
  if depth > literal.max_depth then return bad(where .. " nests deeper than " .. literal.max_depth .. " levels") end
  budget.left = budget.left - 1
  if budget.left < 0 then return bad("the filter holds more than " .. literal.max_values .. " values") end
  if next(t) == nil then
    return bad(where .. " is empty: it would match everything", "Name at least one field and operator, "
      .. "e.g. { title = { eq = \"…\" } }")
  end
  local parts = {}
  if is_list(t) then
    for i = 1, #t do
      local s, err = write_value(t[i], depth, budget, where .. "[" .. i .. "]")
      if not s then return nil, err end
      parts[i] = s
    end
    return "[" .. table.concat(parts, ", ") .. "]"
  end
  local keys = {}
  for k in pairs(t) do
    if type(k) ~= "string" or not k:find(NAME) then
      local shown = type(k) == "string" and ("'" .. k:sub(1, 40):gsub("%c", "?") .. "'") or tostring(k)
      return bad(where .. " has the key " .. shown .. ", which is not a GraphQL name",
        "Keys are field and operator names such as title, partNumber, eq, neq, in")
    end
    keys[#keys + 1] = k
  end
  table.sort(keys)
  for i, k in ipairs(keys) do
    local s, err = write_value(t[k], depth, budget, where .. "." .. k)
    if not s then return nil, err end
    parts[i] = k .. ": " .. s
  end
  return "{" .. table.concat(parts, ", ") .. "}"
end

--- The literal of a where filter: text | nil, err (bad_input). `name` names
-- the filter in messages ("where", "run.where").
function literal.where(t, name)
  name = name or "where"
  if type(t) ~= "table" or literal.is_enum(t) then
    return bad(name .. " must be a table such as { title = { eq = \"…\" } }, got a " .. type(t))
  end
  if is_list(t) then return bad(name .. " is a list; it must map field names to operators") end
  return write(t, 1, { left = literal.max_values }, name)
end

return literal
