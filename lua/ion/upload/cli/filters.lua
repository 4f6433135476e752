-- The text of a target found by name, as the CLI and the manifest take it:
-- equality filters `field=value[,field=value…]` (values are strings, taken
-- as written, spaces included) and the `RUN/TITLE` of a run step. A
-- backslash escapes the one character after it: \, \= \\ \/ \#; any other
-- is refused, so a typo is said rather than sent. Pure functions, linear in
-- the text (a find of the next special character, never a backtracking
-- pattern).
local literal = require("ion.upload.graphql.literal")

local filters = {}

-- A value longer than this is no title or serial number (as the library's).
filters.max_value = literal.max_string
filters.max_pairs = 20
filters.max_text = 32 * 1024

local ESCAPED = { ["\\"] = true, [","] = true, ["="] = true, ["/"] = true, ["#"] = true }
local NAME = "^[_A-Za-z][_0-9A-Za-z]*$"

local function shown(s)
  if #s > 40 then s = s:sub(1, 37) .. "..." end
  return "'" .. s:gsub("%c", "?") .. "'"
end

local function bad_escape(text, j)
  local e = text:sub(j + 1, j + 1)
  if e == "" then return "ends in a lone \\ (write \\\\ for a backslash)" end
  return "has \\" .. e:gsub("%c", "?") .. ", which is no escape (\\, \\= \\\\ \\/ \\# are; write \\\\ for a backslash)"
end

local function check_pair(key, value, seen)
  if key == "" then return "a pair has no field name before its '=' (field=value)" end
  if not key:find(NAME) then
    return "the field name " .. shown(key) .. " is not a GraphQL name (letters, digits and _, no spaces)"
  end
  if seen[key] then return "names " .. key .. " twice" end
  if value == "" then return key .. " has no value (" .. key .. "= matches nothing a station means)" end
  if #value > filters.max_value then
    return "the value of " .. key .. " is " .. #value .. " characters long; at most " .. filters.max_value
      .. " are allowed"
  end
end

--- The pairs of `field=value[,field=value…]`: { { key, value }, … } in the
-- order written | nil, message (the rule broken, to follow the flag's name).
function filters.pairs(text)
  if text == "" then return nil, "is empty: write field=value[,field=value…]" end
  if #text > filters.max_text then return nil, "is longer than " .. filters.max_text .. " characters" end
  local list, seen, buf, key = {}, {}, {}, nil
  local i = 1
  while true do
    local j = text:find("[\\,=]", i)
    buf[#buf + 1] = text:sub(i, (j or #text + 1) - 1)
    local ch = j and text:sub(j, j)
    if ch == "\\" then
      if not ESCAPED[text:sub(j + 1, j + 1)] then return nil, bad_escape(text, j) end
      buf[#buf + 1] = text:sub(j + 1, j + 1)
      i = j + 2
    elseif ch == "=" then
      if key then return nil, "the value of " .. shown(key) .. " holds an '=' (write \\= for one, and a ',' "
        .. "between pairs)" end
      key, buf, i = table.concat(buf), {}, j + 1
    else -- a comma, or the end
      local value = table.concat(buf)
      if not key then
        if value == "" then return nil, "has an empty pair (two commas, or one at an end)" end
        return nil, shown(value) .. " is no field=value pair"
      end
      local why = check_pair(key, value, seen)
      if why then return nil, why end
      seen[key] = true
      list[#list + 1] = { key, value }
      if #list > filters.max_pairs then return nil, "has more than " .. filters.max_pairs .. " pairs" end
      if not j then return list end
      key, buf, i = nil, {}, j + 1
    end
  end
end

--- The where table of `field=value[,…]`: { field = { eq = value }, … } | nil,
-- message.
function filters.where(text)
  local list, err = filters.pairs(text)
  if not list then return nil, err end
  local where = {}
  for _, kv in ipairs(list) do where[kv[1]] = { eq = kv[2] } end
  return where
end

--- The parts of text between the slashes that no backslash escapes, each as
-- written (escapes kept, for filters.pairs or filters.unescape) | nil, message.
function filters.split(text)
  local parts, start, i = {}, 1, 1
  while true do
    local j = text:find("[\\/]", i)
    if not j then
      parts[#parts + 1] = text:sub(start)
      return parts
    end
    if text:sub(j, j) == "\\" then
      if not ESCAPED[text:sub(j + 1, j + 1)] then return nil, bad_escape(text, j) end
      i = j + 2
    else
      parts[#parts + 1] = text:sub(start, j - 1)
      start, i = j + 1, j + 1
    end
  end
end

--- text with its escapes resolved | nil, message.
function filters.unescape(text)
  local buf, i = {}, 1
  while true do
    local j = text:find("\\", i, true)
    buf[#buf + 1] = text:sub(i, (j or #text + 1) - 1)
    if not j then return table.concat(buf) end
    if not ESCAPED[text:sub(j + 1, j + 1)] then return nil, bad_escape(text, j) end
    buf[#buf + 1] = text:sub(j + 1, j + 1)
    i = j + 2
  end
end

--- value escaped so that filters.pairs (and a manifest's RUN/TITLE) reads
-- it back as it is: \ , = and / get a backslash.
function filters.escape(value)
  return (value:gsub("[\\,=/]", "\\%0"))
end

--- The text of a where table made only of { field = { eq = string } }
-- (keys sorted), as filters.pairs reads it | nil when it holds anything else.
function filters.text(where)
  if type(where) ~= "table" then return nil end
  local keys = {}
  for k, v in pairs(where) do
    if type(k) ~= "string" or type(v) ~= "table" or type(v.eq) ~= "string" or next(v, next(v)) ~= nil then
      return nil
    end
    keys[#keys + 1] = k
  end
  if #keys == 0 then return nil end
  table.sort(keys)
  for i, k in ipairs(keys) do keys[i] = k .. "=" .. filters.escape(where[k].eq) end
  return table.concat(keys, ",")
end

return filters
