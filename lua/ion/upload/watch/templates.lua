-- The %N of a watch rule's target and filename: %0 (the whole match) and
-- %1..%9 replaced by the captures, in a string or in every string inside a
-- target table that finds its object by name. Part of ion.upload.watch.rules.
local literal = require("ion.upload.graphql.literal")

local templates = {}

-- %0 (the whole match) and %1..%9 in a template, from the captures.
function templates.substitute(rule, template, cap, whole)
  local missing
  local out = template:gsub("%%(%d)", function(d)
    local v = d == "0" and whole or cap[tonumber(d)]
    if v == nil then missing = missing or d end
    return v ~= nil and tostring(v) or ""
  end)
  if missing then
    return nil, "refers to capture %" .. missing .. ", but the pattern " .. rule.match .. " captured " .. #cap
  end
  return out
end

-- A copy of a lookup table with %N substituted in every string inside it,
-- at any depth (keys are field names: left as they are; enum values kept).
function templates.substitute_all(rule, t, cap, whole, where, depth)
  depth = depth or 1
  if depth > literal.max_depth + 4 then return nil, where .. " nests too deep (a table inside itself?)" end
  local out = {}
  for k, v in pairs(t) do
    local at, err = where .. "." .. tostring(k)
    if type(v) == "string" then
      v, err = templates.substitute(rule, v, cap, whole)
      if not v then return nil, at .. " " .. err end
    elseif type(v) == "table" and not literal.is_enum(v) then
      v, err = templates.substitute_all(rule, v, cap, whole, at, depth + 1)
      if not v then return nil, err end
    end
    out[k] = v
  end
  return out
end

return templates
